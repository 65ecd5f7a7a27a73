"""Third-order paths of the 1D transform: their plan and their sparse Fourier folds (NumPy, host side).

A third-order path ``(n1, n2, n3)`` filters the second-order modulus ``U2[n1, n2]`` with the
second-order wavelet ``psi2[n3]`` (kymatio's ``psi2`` list serves every order past the first),
kept when ``j3 > j2``, the rule kymatio applies to ``(n1, n2)``. The rates extend the second
order's: ``U2`` lives at resolution ``k1 + k2`` and ``U3`` at ``k1 + k2 + k3`` with
``k3 = max(min(j3, log2_T) - k1 - k2 - oversampling, 0)`` (kymatio main's stride rates:
``max(min(j3, s) - k1 - k2, 0)``).

The transform computes the second-order moduli one block per resolution ``k1 + k2`` (groups in
plan order, each group's paths in order); a third-order fold reads the half spectra of that block
flattened over its rows, so each :class:`Order3Group` names its parents by their rows there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from . import design as design
from .windows import sparse_fold, wavelet_terms


@dataclass(frozen=True)
class Order3Group:
    """Third-order paths sharing the parents' resolution ``level2 = k1 + k2`` and the exponent ``k3``.

    ``rows`` indexes each path's parent ``U2`` in the second-order block at ``level2``; ``U3``
    lives at resolution ``level2 + k3`` and its average is decimated by a further ``2**a3``.
    ``scale``: per path, the factor from mean to summed filter levels (see :func:`level_scale3`).
    """

    level2: int
    k3: int
    a3: int
    rows: tuple[int, ...]
    paths: tuple[tuple[int, int, int], ...]
    scale: tuple[float, ...]


def level_scale3(k1: int, k2: int, k3: int, sum_levels: bool, averaged: bool) -> float:
    """Factor from 0.3.0's mean levels to kymatio main's sum levels for a third-order output.

    The second-order rule extended one order: with sum levels ``U2`` gains ``2**k1``, ``U3`` gains
    ``2**(2 k1 + k2)`` (its wavelet is summed at resolution ``k1 + k2``) and the average at
    ``k1 + k2 + k3`` a further ``2**(k1 + k2 + k3)``: S3 scales by ``2**(3 k1 + 2 k2 + k3)``.
    ``averaged``: whether the path is averaged (not T='global' or T=0).
    """
    if not sum_levels:
        return 1.0
    return float(2 ** (3 * k1 + 2 * k2 + k3)) if averaged else float(2 ** (2 * k1 + k2))


def third_order_plan(
    order2: Sequence,
    order2_params: design.WaveletParams,
    N_padded: int,
    exponent: Callable[[int, int], int],
    final_decimation: Callable[[int], int],
    keep: Callable[[int, int], bool],
    *,
    sum_levels: bool = False,
    averaged: bool = True,
) -> tuple[tuple[Order3Group, ...], list[tuple[np.ndarray, np.ndarray, np.ndarray]], tuple[int, ...]]:
    """Plan and gather tables of every third-order path.

    Args:
      order2: the plan's second-order groups (``Order2Group``: ``k1``, ``k2``, ``paths``).
      order2_params: the second-order wavelets (also the third-order ones).
      N_padded: padded signal length.
      exponent: ``exponent(j3, k1 + k2)``, the subsampling exponent ``k3``.
      final_decimation: ``final_decimation(level)``, the average's further decimation exponent.
      keep: ``keep(n2, n3)``, the path selection (``prune_paths``) on top of ``j3 > j2``.
      sum_levels, averaged: for :func:`level_scale3`.

    Returns:
      ``(groups, folds, permutation)``: the :class:`Order3Group` list in plan order; per group
      ``(index, weight_real, weight_imag)`` arrays of shape ``(P, n_terms, M)`` reading the
      flattened half spectra of the parents' block; the position in lexicographic ``(n1, n2, n3)``
      order of each path, taken in the order the transform produces them (by resolution, then group).
    """
    # Rows of each second-order path in its resolution's block (groups in plan order).
    rows_at_level: dict[int, int] = {}
    parents = []  # (level2, row, k1, k2, n1, n2)
    for group in order2:
        level2 = group.k1 + group.k2
        for n1, n2 in group.paths:
            row = rows_at_level.get(level2, 0)
            rows_at_level[level2] = row + 1
            parents.append((level2, row, group.k1, group.k2, n1, n2))

    psi_full = {}
    entries: dict[tuple[int, int], list] = {}
    for level2, row, k1, k2, n1, n2 in parents:
        for n3, j3 in enumerate(order2_params.j):
            if j3 > order2_params.j[n2] and keep(n2, n3):
                k3 = exponent(j3, level2)
                entries.setdefault((level2, k3), []).append((row, k1, k2, (n1, n2, n3)))

    groups: list[Order3Group] = []
    folds = []
    for (level2, k3), members in sorted(entries.items()):
        groups.append(
            Order3Group(
                level2=level2,
                k3=k3,
                a3=final_decimation(level2 + k3),
                rows=tuple(row for row, _, _, _ in members),
                paths=tuple(path for _, _, _, path in members),
                scale=tuple(level_scale3(k1, k2, k3, sum_levels, averaged) for _, k1, k2, _ in members),
            )
        )
        filters = []
        for _, _, _, (_, _, n3) in members:
            if n3 not in psi_full:
                psi_full[n3] = design.morlet_filter(N_padded, order2_params.xi[n3], order2_params.sigma[n3])
            filters.append(design.period_average(psi_full[n3], level2))
        terms = [wavelet_terms(f, 2**k3) for f in filters]
        index, weight_real, weight_imag = sparse_fold(filters, terms, 2**k3)
        half = (N_padded // 2**level2) // 2 + 1
        index = index + (np.array(groups[-1].rows, dtype=np.int32) * half)[:, None, None]
        folds.append((index, weight_real, weight_imag))

    lexicographic = sorted(path for group in groups for path in group.paths)
    position = {path: i for i, path in enumerate(lexicographic)}
    by_level = sorted(range(len(groups)), key=lambda i: (groups[i].level2 + groups[i].k3, i))
    produced = [position[path] for i in by_level for path in groups[i].paths]
    permutation = tuple(int(i) for i in np.argsort(produced, kind="stable"))
    return tuple(groups), folds, permutation
