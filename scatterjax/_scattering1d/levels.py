"""How far a 1D coefficient is from kymatio main's summed filter levels (``levels='sum'``).

kymatio 0.3.0 folds a filter to a coarser resolution by averaging its periodised copies
(``levels='mean'``, our default for its numbers); kymatio main sums them. The two conventions
differ by a power of two per path that depends only on the path's subsampling exponents (see
``Plan1D.level_scale``): a second-order coefficient of 0.3.0 is ``2**-(2 k1 + k2)`` of main's, a
first-order one ``2**-k1``. Ratios between orders (``scatterjax.normalize``) are meaningful only
in main's convention, where a coefficient does not depend on the resolution it was computed at.
"""

from __future__ import annotations

import numpy as np

from .bank import Plan1D


def sum_level_factors(plan: Plan1D, keys: list[tuple[int, ...]]) -> np.ndarray:
    """Per output channel, the factor taking this plan's coefficient to its ``levels='sum'`` value.

    Args:
      plan: the transform's plan (``S.bank.plan``).
      keys: the channels' paths in output order (``S.meta()['key']``): ``()``, ``(n1,)``,
        ``(n1, n2)`` or ``(n1, n2, n3)``.

    Returns:
      float64 array ``(C,)``: all ones when the plan already sums levels.

    Example:
      >>> import scatterjax
      >>> S = scatterjax.Scattering1D(J=4, shape=256, Q=1)
      >>> S.meta()["key"][:6], sum_level_factors(S.bank.plan, S.meta()["key"])[:6].tolist()
      ([(), (0,), (1,), (2,), (3,), (4,)], [1.0, 1.0, 1.0, 1.0, 2.0, 4.0])
    """
    if plan.sum_levels:
        return np.ones(len(keys))
    averaged = plan.averaged and not plan.global_sum
    k1_of = {n1: group.k1 for group in plan.order1 for n1 in group.n1}
    k2_of = {path: group.k2 for group in plan.order2 for path in group.paths}
    k3_of = {path: group.k3 for group in plan.order3 for path in group.paths}
    factors = []
    for key in keys:
        k = [k1_of[key[0]]] if key else []
        if len(key) >= 2:
            k.append(k2_of[key[:2]])
        if len(key) == 3:
            k.append(k3_of[key])
        # Each wavelet folded at resolution r gains 2**r, the average at the final resolution
        # (the sum of the exponents) gains it too: order m scales by 2**(sum_i (m - i) k_i).
        exponent = sum((len(k) - i) * ki for i, ki in enumerate(k)) if averaged else (
            sum((len(k) - 1 - i) * ki for i, ki in enumerate(k[:-1])) if k else 0
        )
        factors.append(2.0**exponent)
    return np.asarray(factors)
