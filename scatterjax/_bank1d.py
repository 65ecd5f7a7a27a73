"""The 1D filter bank: Fourier filters at every resolution they are used at, plus the static plan.

``filter_bank_1d`` runs the NumPy filter design once and packs the result into a
:class:`FilterBank1D` pytree. Its array leaves are the Fourier filters, grouped so that the
transform applies each group with one batched multiply and one batched FFT; its static fields hold
every shape-deciding number (padding, crop indices, subsampling exponents, path tables), so a jitted
transform compiles once per configuration and input shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from . import _morlet1d as design
from ._pytree import pytree_dataclass, static_field


@dataclass(frozen=True)
class Order1Group:
    """First-order wavelets sharing one subsampling exponent.

    ``n1`` indexes the first-order list (contiguous, since ``j1`` grows along the list);
    the modulus ``U1`` lives at resolution ``k1`` and its average is decimated by a further ``2**a1``.
    """

    k1: int
    a1: int
    n1: tuple[int, ...]


@dataclass(frozen=True)
class Order2Group:
    """Second-order paths ``(n1, n2)`` sharing ``(k1, k2)``.

    ``local_n1`` indexes ``n1`` within its order-1 group ``order1_group``; ``psi2_rows`` indexes the
    second-order wavelets stored at level ``k1``; ``paths`` lists the ``(n1, n2)`` pairs.
    """

    order1_group: int
    k1: int
    k2: int
    a2: int
    local_n1: tuple[int, ...]
    psi2_rows: tuple[int, ...]
    paths: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Plan1D:
    """Every shape-deciding number of a 1D scattering transform (hashable)."""

    N: int
    N_padded: int
    pad_left: int
    pad_right: int
    ind_start: tuple[int, ...]
    ind_end: tuple[int, ...]
    log2_T: int
    averaged: bool
    max_order: int
    oversampling: int
    k0: int
    order1: tuple[Order1Group, ...]
    order2: tuple[Order2Group, ...]
    # Position in kymatio's lexicographic (n1, n2) order of each second-order path, taken in the
    # order the groups produce them.
    order2_permutation: tuple[int, ...]
    psi2_levels: tuple[int, ...]  # the resolutions at which second-order wavelets are stored
    phi_levels: tuple[int, ...]  # the resolutions at which the low-pass is stored

    def output_length(self, level: int) -> int:
        return self.ind_end[level] - self.ind_start[level]


@pytree_dataclass
class FilterBank1D:
    """Fourier filters of a 1D scattering transform, ready for the jitted transform.

    Leaves (float32, or float64 when ``jax_enable_x64`` was on at construction):
      phi_half: per resolution ``k = plan.phi_levels[i]``, the low-pass restricted to non-negative bins and symmetrised,
        shape ``(N_padded // 2**k // 2 + 1,)``. (Symmetrising makes ``irfft`` equal kymatio's
        ``Re(ifft(.))`` exactly: only the even part of a real filter acts on a real signal's
        spectrum.)
      psi1: per first-order group, the wavelets at full resolution, shape ``(n_group, N_padded)``.
      psi2: per stored resolution ``plan.psi2_levels[i]``, every second-order wavelet at that
        resolution, shape ``(n_psi2, N_padded // 2**level)``.

    Static:
      plan: :class:`Plan1D`.
      xi1, sigma1, j1, xi2, sigma2, j2: filter parameters (for ``meta()``).
    """

    phi_half: tuple[jax.Array, ...]
    psi1: tuple[jax.Array, ...]
    psi2: tuple[jax.Array, ...]
    plan: Plan1D = static_field()
    xi1: tuple[float, ...] = static_field()
    sigma1: tuple[float, ...] = static_field()
    j1: tuple[int, ...] = static_field()
    xi2: tuple[float, ...] = static_field()
    sigma2: tuple[float, ...] = static_field()
    j2: tuple[int, ...] = static_field()


def _as_leaf(array: np.ndarray) -> jax.Array:
    # Canonical float dtype: float64 under jax_enable_x64, float32 otherwise.
    return jnp.asarray(array, dtype=jnp.result_type(float))


def _symmetric_half(filter_hat: np.ndarray) -> np.ndarray:
    length = filter_hat.shape[-1]
    mirrored = np.roll(filter_hat[::-1], 1)  # filter_hat[-k]
    return (0.5 * (filter_hat + mirrored))[: length // 2 + 1]


def filter_bank_1d(
    J: int,
    N: int,
    Q1: int,
    Q2: int,
    T: float,
    averaged: bool,
    max_order: int,
    oversampling: int,
) -> FilterBank1D:
    """Design every filter of a 1D scattering transform (arguments already validated).

    Args:
      J: log2 of the largest wavelet scale.
      N: unpadded signal length.
      Q1, Q2: wavelets per octave at orders 1 and 2.
      T: averaging scale in samples (``2**J`` when the transform is not averaged).
      averaged: whether the low-pass is applied.
      max_order: 1 or 2.
      oversampling: reduction of every subsampling exponent.
    """
    log2_T = math.floor(math.log2(T))
    support = design.temporal_support(N, T)
    N_padded = 2 ** design.padded_length_log2(N, support)
    pad_left = (N_padded - N) // 2
    pad_right = N_padded - N - pad_left
    ind_start, ind_end = design.crop_indices(pad_left, N, max(log2_T, J))

    order1_params = design.wavelet_params(J, Q1)
    order2_params = design.wavelet_params(J, Q2)

    def first_order_exponent(j1: int) -> int:
        if averaged:
            return max(min(j1, log2_T) - oversampling, 0)
        return max(j1 - oversampling, 0)

    def second_order_exponent(j2: int, k1: int) -> int:
        if averaged:
            return max(min(j2, log2_T) - k1 - oversampling, 0)
        return max(j2 - k1 - oversampling, 0)

    k0 = max(log2_T - oversampling, 0)

    # First-order groups: contiguous runs of equal k1 (j1 is non-decreasing along the list).
    k1_of = [first_order_exponent(j) for j in order1_params.j]
    order1: list[Order1Group] = []
    for n1, k1 in enumerate(k1_of):
        if order1 and order1[-1].k1 == k1:
            previous = order1[-1]
            order1[-1] = Order1Group(previous.k1, previous.a1, previous.n1 + (n1,))
        else:
            a1 = max(log2_T - k1 - oversampling, 0) if averaged else 0
            order1.append(Order1Group(k1, a1, (n1,)))

    # Second-order groups keyed by (order-1 group, k2), paths in kymatio's lexicographic order.
    order2: list[Order2Group] = []
    lexicographic_paths: list[tuple[int, int]] = []
    psi2_levels = sorted({group.k1 for group in order1}) if max_order == 2 else []
    if max_order == 2:
        for g, group in enumerate(order1):
            by_k2: dict[int, list[tuple[int, int, int]]] = {}
            for local, n1 in enumerate(group.n1):
                for n2, j2 in enumerate(order2_params.j):
                    if j2 > order1_params.j[n1]:
                        k2 = second_order_exponent(j2, group.k1)
                        by_k2.setdefault(k2, []).append((local, n1, n2))
                        lexicographic_paths.append((n1, n2))
            for k2, entries in sorted(by_k2.items()):
                a2 = max(log2_T - group.k1 - k2 - oversampling, 0) if averaged else 0
                order2.append(
                    Order2Group(
                        order1_group=g,
                        k1=group.k1,
                        k2=k2,
                        a2=a2,
                        local_n1=tuple(e[0] for e in entries),
                        psi2_rows=tuple(e[2] for e in entries),
                        paths=tuple((e[1], e[2]) for e in entries),
                    )
                )
    lexicographic_paths.sort()
    position = {path: i for i, path in enumerate(lexicographic_paths)}
    produced = [path for group in order2 for path in group.paths]
    order2_permutation = tuple(np.argsort([position[p] for p in produced], kind="stable").tolist())

    phi_levels = (
        sorted({0} | {g.k1 for g in order1} | {g.k1 + g.k2 for g in order2}) if averaged else []
    )
    plan = Plan1D(
        N=N,
        N_padded=N_padded,
        pad_left=pad_left,
        pad_right=pad_right,
        ind_start=ind_start,
        ind_end=ind_end,
        log2_T=log2_T,
        averaged=averaged,
        max_order=max_order,
        oversampling=oversampling,
        k0=k0,
        order1=tuple(order1),
        order2=tuple(order2),
        order2_permutation=order2_permutation,
        psi2_levels=tuple(psi2_levels),
        phi_levels=tuple(phi_levels),
    )

    psi1_full = [
        design.morlet_filter(N_padded, xi, sigma)
        for xi, sigma in zip(order1_params.xi, order1_params.sigma)
    ]
    psi1 = tuple(_as_leaf(np.stack([psi1_full[n] for n in group.n1])) for group in order1)

    psi2: tuple[jax.Array, ...] = ()
    if max_order == 2:
        psi2_full = [
            design.morlet_filter(N_padded, xi, sigma)
            for xi, sigma in zip(order2_params.xi, order2_params.sigma)
        ]
        psi2 = tuple(
            _as_leaf(np.stack([design.period_average(p, level) for p in psi2_full]))
            for level in psi2_levels
        )

    phi_half: tuple[jax.Array, ...] = ()
    if averaged:
        phi = design.gaussian_filter(N_padded, design.SIGMA0 / T)
        phi_half = tuple(
            _as_leaf(_symmetric_half(design.period_average(phi, level))) for level in phi_levels
        )

    return FilterBank1D(
        phi_half=phi_half,
        psi1=psi1,
        psi2=psi2,
        plan=plan,
        xi1=order1_params.xi,
        sigma1=order1_params.sigma,
        j1=order1_params.j,
        xi2=order2_params.xi if max_order == 2 else (),
        sigma2=order2_params.sigma if max_order == 2 else (),
        j2=order2_params.j if max_order == 2 else (),
    )
