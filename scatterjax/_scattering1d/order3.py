"""The third-order step of the 1D transform (``max_order=3``): ``S3 = |||x ⋆ ψ1| ⋆ ψ2| ⋆ ψ3| ⋆ φ``.

Called by ``core.scattering1d_paths`` with the second-order moduli, one block per resolution
``k1 + k2`` (the rows the plan's :class:`~.order3_bank.Order3Group` entries name). Each block with
third-order children goes through one real FFT; every group's wavelet products are one gather from
those half spectra; and every group landing at the same resolution ``k1 + k2 + k3`` shares one
inverse FFT, modulus and average, as the second order does.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from .._core.lax_ops import fft_last_axes
from .._core.modulus import modulus_of_parts
from .bank import FilterBank1D
from .fourier import fold_rows, inverse_fft_parts


def third_order(
    u2_by_level: dict[int, jax.Array],
    bank: FilterBank1D,
    finish: Callable[[jax.Array, jax.Array | None, int, int], jax.Array],
) -> list[jax.Array]:
    """Third-order coefficients, one block per resolution, in the order the plan produces them.

    Args:
      u2_by_level: second-order moduli by resolution ``k1 + k2``: real ``(B, P_level, L_level)``.
      bank: the filter bank (``bank.plan.order3`` and ``bank.psi3``).
      finish: ``finish(u, u_half, level, a)``: the average (or crop, or sum) of a block of moduli
        at resolution ``level``, decimated by a further ``2**a``.

    Returns:
      blocks ``(B, P, N_out)`` by increasing ``k1 + k2 + k3``; ``plan.order3_permutation`` takes
      their concatenation to lexicographic ``(n1, n2, n3)`` order.
    """
    plan = bank.plan
    halves = {
        level: fft_last_axes(u2_by_level[level], "rfft") for level in sorted({g.level2 for g in plan.order3})
    }
    parts: dict[int, list[jax.Array]] = {}
    scales: dict[int, list[float]] = {}
    decimation: dict[int, int] = {}
    for index, group in enumerate(plan.order3):
        level = group.level2 + group.k3
        parts.setdefault(level, []).append(fold_rows(halves[group.level2], bank.psi3[index]))
        scales.setdefault(level, []).extend(group.scale)
        decimation[level] = group.a3
    blocks = []
    for level in sorted(parts):
        u3 = modulus_of_parts(*inverse_fft_parts(jnp.concatenate(parts[level], axis=1)))
        out = finish(u3, None, level, decimation[level])
        if any(scale != 1.0 for scale in scales[level]):  # levels='sum' only
            out = out * jnp.asarray(scales[level], dtype=out.dtype)[:, None]
        blocks.append(out)
    return blocks
