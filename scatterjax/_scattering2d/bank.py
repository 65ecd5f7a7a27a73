"""The 2D filter bank: Fourier filters at the resolutions they are used at, plus the static plan.

``filter_bank_2d`` runs the NumPy filter design (:mod:`scatterjax._scattering2d.design`) once and packs the
result into a :class:`FilterBank2D` pytree. Its leaves are grouped so that the transform applies
all ``L`` orientations of a scale with one batched multiply, fold and FFT; its static
:class:`Plan2D` holds every shape-deciding number, so a jitted transform compiles once per
configuration and input shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import numpy as np

from .._core.padding import check_pad_mode
from .._core.pytree import device_leaf, pytree_dataclass, static_field
from .._core.validation import check_bool, check_filter_memory, check_int, check_J, check_output_memory
from . import design as design

# Largest output side (M // 2**J) at which float32 moduli are averaged in space (see
# Plan2D.lowpass_in_space).
LOWPASS_IN_SPACE_MAX_SIDE = 64


@dataclass(frozen=True)
class Plan2D:
    """Every shape-deciding number of a 2D scattering transform (hashable).

    ``pad_rows``/``pad_cols`` are the padding widths ``(before, after)``, filled as ``pad_mode``
    says (see :mod:`scatterjax._core.padding`); ``pre_pad`` means the input arrives already padded
    to ``(M_padded, N_padded)``. ``order2`` lists the second-order
    groups ``(j1, j2)`` with ``j2 > j1``, in the order their filters are stored in
    :attr:`FilterBank2D.psi2`.
    """

    M: int
    N: int
    M_padded: int
    N_padded: int
    pad_rows: tuple[int, int]
    pad_cols: tuple[int, int]
    J: int
    L: int
    max_order: int
    pre_pad: bool
    order2: tuple[tuple[int, int], ...]
    pad_mode: str = "reflect"

    @property
    def input_shape(self) -> tuple[int, int]:
        """Trailing shape the transform accepts: padded when ``pre_pad``."""
        return (self.M_padded, self.N_padded) if self.pre_pad else (self.M, self.N)

    @property
    def output_shape(self) -> tuple[int, int]:
        """Spatial shape of every coefficient: ``(M // 2**J, N // 2**J)``."""
        return self.M_padded // 2**self.J - 2, self.N_padded // 2**self.J - 2

    def level_shape(self, level: int) -> tuple[int, int]:
        return self.M_padded // 2**level, self.N_padded // 2**level

    @property
    def lowpass_in_space(self) -> bool:
        """Whether float32 moduli are averaged in space (:func:`design.lowpass_in_space`) rather
        than through ``rfft2`` and ``irfft2``: when the output is at most
        ``LOWPASS_IN_SPACE_MAX_SIDE`` pixels on each side.

        The two matrix products cost about ``q`` multiply-adds per input pixel for an output ``q``
        pixels wide, so they win for small outputs. At the limit (J=2 L=8 256x256, output 64x64,
        batch 8) ``S(x)`` ran as fast either way (94-99 ms against 100-101), forward inside jit
        130 ms against 146, ``jit(value_and_grad)`` 358 ms against 476."""
        return max(self.output_shape) <= LOWPASS_IN_SPACE_MAX_SIDE


@pytree_dataclass
class FilterBank2D:
    """Fourier filters of a 2D scattering transform, ready for the jitted transform.

    Leaves (float32, or float64 when ``jax_enable_x64`` was on at construction; the values are
    kymatio's float32 filters either way):
      psi1: per scale ``j1 = 0 .. J-1``, the ``L`` wavelets at full resolution, shape
        ``(L, M_padded, N_padded)``.
      psi2: per group ``(j1, j2) = plan.order2[i]``, the ``L`` wavelets of scale ``j2`` cropped to
        resolution ``j1``, shape ``(L, M_padded // 2**j1, N_padded // 2**j1)``.
      phi_half: per resolution ``r = 0 .. J-1``, the low-pass cropped to that resolution,
        symmetrised (even part) and cut to the non-negative half of the last axis, shape
        ``(M_padded // 2**r, N_padded // 2**r // 2 + 1)``: ``irfft2`` of a product with it
        equals kymatio's ``Re(ifft2(.))`` of the product with the full filter.
      phi_rows, phi_columns: per resolution ``r``, the same low-pass as matrices averaging and
        decimating real images in space (:func:`design.lowpass_in_space`), shapes
        ``(M_padded // 2**J - 2, M_padded // 2**r)`` and ``(N_padded // 2**r, N_padded // 2**J - 2)``;
        empty tuples unless ``plan.lowpass_in_space``.

    Static:
      plan: :class:`Plan2D`.
      angles: the ``L`` orientation angles in radians (for ``meta()``).
    """

    psi1: tuple[jax.Array, ...]
    psi2: tuple[jax.Array, ...]
    phi_half: tuple[jax.Array, ...]
    phi_rows: tuple[jax.Array, ...]
    phi_columns: tuple[jax.Array, ...]
    plan: Plan2D = static_field()
    angles: tuple[float, ...] = static_field()


def as_leaf(array: np.ndarray) -> jax.Array:
    # Canonical float dtype: float64 under jax_enable_x64, float32 otherwise.
    return device_leaf(array, float)


def check_scales(J, M: int, N: int, L, max_order) -> tuple[int, int, int]:
    """``J``, ``L`` and ``max_order`` checked for images ``(M, N)`` (ints, ``2**J`` at most the
    smaller side, filters and one image's output that fit in memory), or a ``ValueError``/
    ``TypeError`` naming them. kymatio accepts any ``L`` (its tests use L=12 on 5x3 images): the
    memory bounds limit it."""
    J = check_int("J", J, minimum=1)
    check_J(
        J, min(M, N), f"images of shape={(M, N)}",
        f"the scattering scale 2**J must be at most the smallest dimension min(M, N)={min(M, N)}",
    )
    L = check_int("L", L, minimum=1)
    M_padded, N_padded = design.padded_shape(M, N, J)
    check_filter_memory(
        8.0 * (J * L + 1) * M_padded * N_padded, f"J={J}, L={L} with shape={(M, N)}",
        "Use a smaller L or J, or smaller images.",
    )
    max_order = check_int("max_order", max_order, minimum=1, maximum=2)
    # The L**2 J (J - 1) / 2 second-order channels outgrow memory long before the filters do
    # (L=100000 on 32x32 images: 2.4 TiB a sample, from 6.5 GiB of filters, designed for minutes).
    check_output_memory(
        4.0 * sum(design.output_channels(J, L, max_order)) * (M // 2**J) * (N // 2**J),
        f"J={J}, L={L}, max_order={max_order} with shape={(M, N)}", "Use a smaller L or J, or max_order=1.",
    )
    return J, L, max_order


def filter_bank_2d(
    J: int, M: int, N: int, L: int, max_order: int, pre_pad: bool, pad_mode: str = "reflect"
) -> FilterBank2D:
    """Design every filter of a 2D scattering transform.

    Args:
      J: log2 of the scattering scale (``1 <= J``, ``2**J <= min(M, N)``).
      M, N: unpadded image shape (ints >= 1).
      L: number of orientations (>= 1).
      max_order: 1 or 2.
      pre_pad: whether the input arrives already padded.
      pad_mode: what fills the padding: ``'reflect'`` (kymatio's), ``'symmetric'``, ``'zero'`` or
        ``'periodic'`` (unused with ``pre_pad``).

    Raises:
      TypeError: ``J``, ``M``, ``N``, ``L`` or ``max_order`` is not an int, or ``pre_pad`` not a bool.
      ValueError: an argument out of its range above, an unknown ``pad_mode``, or ``L`` so large
        that the filters or one image's output would not fit in memory (as
        :class:`~scatterjax.Scattering2D` checks).
      ShapeError: (a ``ValueError``) ``2**J`` exceeds ``min(M, N)``.

    Example:
      >>> import scatterjax
      >>> bank = scatterjax.filter_bank_2d(J=2, M=32, N=32, L=4, max_order=2, pre_pad=False)
      >>> bank.psi1[0].shape, bank.plan.order2
      ((4, 40, 40), ((0, 1),))
    """
    # Scattering2D's checks, in its order (its bounds, so that every bank it builds is accepted).
    M = check_int("M", M, minimum=1)
    N = check_int("N", N, minimum=1)
    J, L, max_order = check_scales(J, M, N, L, max_order)
    M_padded, N_padded = design.padded_shape(M, N, J)
    pre_pad = check_bool("pre_pad", pre_pad)
    pad_mode = check_pad_mode(pad_mode)
    pad_rows, pad_cols = design.padding(M, N, J)
    order2 = tuple((j1, j2) for j1 in range(J) for j2 in range(j1 + 1, J)) if max_order == 2 else ()
    plan = Plan2D(
        M=M,
        N=N,
        M_padded=M_padded,
        N_padded=N_padded,
        pad_rows=pad_rows,
        pad_cols=pad_cols,
        J=J,
        L=L,
        max_order=max_order,
        pre_pad=bool(pre_pad),
        order2=order2,
        pad_mode=pad_mode,
    )
    wavelets = [
        np.stack([design.wavelet_hat(M_padded, N_padded, j, l, L) for l in range(L)])
        for j in range(J)
    ]
    psi1 = tuple(as_leaf(w) for w in wavelets)
    psi2 = tuple(
        as_leaf(np.stack([design.crop_level(w, j1) for w in wavelets[j2]])) for j1, j2 in order2
    )
    phi = design.lowpass_hat(M_padded, N_padded, J)
    phi_levels = [design.crop_level(phi, r) for r in range(J)]
    phi_half = tuple(as_leaf(design.symmetric_half(level)) for level in phi_levels)
    in_space = []
    if plan.lowpass_in_space:
        in_space = [design.lowpass_in_space(level, 2 ** (J - r)) for r, level in enumerate(phi_levels)]
    angles = tuple(float(design.wavelet_angle(l, L)) for l in range(L))
    return FilterBank2D(
        psi1=psi1,
        psi2=psi2,
        phi_half=phi_half,
        phi_rows=tuple(as_leaf(rows) for rows, _ in in_space),
        phi_columns=tuple(as_leaf(columns) for _, columns in in_space),
        plan=plan,
        angles=angles,
    )
