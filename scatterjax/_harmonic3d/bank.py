"""The 3D filter bank: solid harmonic wavelets packed for the jitted transform, plus static settings.

``filter_bank_3d`` runs the NumPy design of :mod:`scatterjax._harmonic3d.design` once (kymatio 0.3.0's
complex64 wavelets, value for value) and repacks it so that the transform does as little FFT work
as the wavelets allow. Two layouts exist.

**Hermitian layout** (every side of the volume even). For a real input ``x``, the responses to
orders ``m`` and ``-m`` are conjugate up to a sign: ``Y_l^{-m} = (-1)^m conj(Y_l^m)`` and
``Y_l^m(-w) = (-1)^l Y_l^m(w)`` give ``psi_{-m}(w) = (-1)^m conj(psi_m(-w))``, hence
``x * psi_{-m} = (-1)^m conj(x * psi_m)``, and ``x * psi_0`` is real (``psi_0`` is Hermitian).
So of kymatio's ``2l + 1`` complex inverse FFTs per degree and scale, ``l`` complex ones
(orders ``m = 1..l``) and one real one (``m = 0``) suffice; the transform packs the real ones two
by two into complex inverse FFTs (``ifftn(A + iB) = ifftn(A) + i ifftn(B)`` when both are real),
about half of kymatio's FFT work. The stored ``i^l psi_{l,0}`` is made exactly even or odd
(kymatio's float32 values are so only up to rounding), which the packing needs to separate the two
responses exactly.

The identity needs the grid to be symmetric, ``w(-n) = -w(n)``. It is, except on the Nyquist
planes (index ``M/2`` on some axis holds ``-pi``, and its mirror is itself), where kymatio's
wavelets are not symmetric at all. So the stored wavelets have their Nyquist planes set to zero
("interior" wavelets), and kymatio's exact values on the three Nyquist planes are stored
separately, for every order; the transform adds their (cheap, 2D-FFT) contribution back. The
result equals kymatio's to float rounding; the one approximation is kymatio's own float32
rounding asymmetry between ``psi_m`` and ``psi_{-m}`` (about 5e-7 of the wavelet's peak, ~1e-9
on the outputs), which we do not reproduce.

**Full layout** (some side odd, or on request). Kymatio's grid puts zero frequency at index 1 on
odd axes, which breaks the symmetry everywhere, so every order's wavelet is stored whole and
applied with a complex inverse FFT, like kymatio.

Leaves are stored in JAX's canonical precision at construction time (float32/complex64; float64/
complex128 under ``jax_enable_x64``), holding kymatio's complex64 values exactly.
"""

from __future__ import annotations

import math
import numbers

import jax
import numpy as np

from .._core import validation
from .._core.pytree import device_leaf, pytree_dataclass, static_field
from .design import HarmonicGrid, frequency_grid, scale

# Nyquist-plane values smaller than this fraction of the wavelets' peak are dropped (Hermitian
# layout): wide wavelets decay like exp(-sigma^2 pi^2 / 2) there. The effect on any output is far
# below float32 rounding and below kymatio's own float32 rounding asymmetry between orders m and
# -m (~5e-7 of the peak).
NYQUIST_CUTOFF = 1e-12


@pytree_dataclass
class FilterBank3D:
    """Solid harmonic wavelets of a 3D scattering transform, ready for the jitted transform.

    ``S = J + 1`` scales; ``(M, N, O)`` the shape. The order lists (static, see the properties)
    say which wavelet each stacked entry is.

    Leaves:
      psi_real: Hermitian layout only (else None): real ``(S, len(real_degrees), M, N, O)``: for
        each degree ``l`` in :attr:`real_degrees`, ``i^l psi_{l,0}`` (real) with its Nyquist
        planes zeroed. (``psi_{l,0} = (-i)^l`` times a real array.)
      psi_complex: complex ``(S, len(complex_orders), M, N, O)``: the wavelets ``psi_{l,m}`` of
        :attr:`complex_orders`; in the Hermitian layout with their Nyquist planes zeroed.
      psi_nyquist: Hermitian layout only (else None): three complex arrays, the wavelets'
        values on the Nyquist planes for every ``(l, m)`` of :attr:`orders`: ``n0 = M/2``
        ``(S_n, R, N, O)``; ``n1 = N/2`` ``(S_n, R, M, O)`` with row ``n0 = M/2`` zeroed;
        ``n2 = O/2`` ``(S_n, R, M, N)`` with row ``n0 = M/2`` and column ``n1 = N/2`` zeroed (so
        each frequency is counted once). Only the ``S_n = nyquist_scales`` narrowest scales are
        kept (the others fall below ``NYQUIST_CUTOFF`` of the peak). None when ``S_n = 0``.

    Static: ``shape``, ``J``, ``L``, ``sigma_0``, ``max_order``, ``rotation_covariant``,
    ``integral_powers`` (tuple of floats), ``hermitian`` (the layout), ``nyquist_scales``.
    """

    psi_real: jax.Array | None
    psi_complex: jax.Array
    psi_nyquist: tuple[jax.Array, jax.Array, jax.Array] | None
    shape: tuple[int, int, int] = static_field()
    J: int = static_field()
    L: int = static_field()
    sigma_0: float = static_field()
    max_order: int = static_field()
    rotation_covariant: bool = static_field()
    integral_powers: tuple[float, ...] = static_field()
    hermitian: bool = static_field()
    nyquist_scales: int = static_field()

    @property
    def orders(self) -> tuple[tuple[int, int], ...]:
        """Every ``(l, m)`` the modulus uses: ``m = -l..l`` per ``l`` (or ``m = -l`` only)."""
        return _orders(self.L, self.rotation_covariant)

    @property
    def real_degrees(self) -> tuple[int, ...]:
        """Degrees whose order-0 wavelet is stored in ``psi_real`` (Hermitian layout)."""
        return _real_degrees(self.L, self.rotation_covariant) if self.hermitian else ()

    @property
    def complex_orders(self) -> tuple[tuple[int, int], ...]:
        """The ``(l, m)`` stored in ``psi_complex``."""
        if not self.hermitian:
            return self.orders
        return _positive_orders(self.L, self.rotation_covariant)

    @property
    def order2_pairs(self) -> tuple[tuple[int, int], ...]:
        """Second-order scale pairs ``(j1, j2)``, ``j1 < j2``, in kymatio's (lexicographic) order."""
        if self.max_order < 2:
            return ()
        return tuple((j1, j2) for j1 in range(self.J + 1) for j2 in range(j1 + 1, self.J + 1))

    def wavelets(self, l: int) -> np.ndarray:
        """The wavelets of degree ``l`` rebuilt whole, in kymatio's layout (for inspection).

        Returns: NumPy complex array ``(J + 1, R_l, M, N, O)``, orders ``m = -l..l`` when
        ``rotation_covariant`` (else ``m = -l`` only), equal to kymatio's ``filters[l][j, m + l]``
        up to float32 rounding (Hermitian layout: orders ``m < 0`` are rebuilt by symmetry and
        dropped Nyquist values are zero). The transform never forms these arrays.
        """
        wanted = [(ll, m) for ll, m in self.orders if ll == l]
        if not self.hermitian:
            complex_orders = self.complex_orders
            stacked = np.asarray(self.psi_complex)
            return np.stack([stacked[:, complex_orders.index(o)] for o in wanted], axis=1)
        M, N, O = self.shape
        interior = {}
        if l in self.real_degrees:
            real = np.asarray(self.psi_real)[:, self.real_degrees.index(l)]
            interior[0] = (-1j) ** l * real
        stacked = np.asarray(self.psi_complex)
        for index, (ll, m) in enumerate(self.complex_orders):
            if ll == l:
                interior[m] = stacked[:, index]
        for m in list(interior):
            if m > 0:
                interior[-m] = (-1) ** m * np.conj(_negate_all(interior[m]))
        wavelets = np.stack([interior[m] for _, m in wanted], axis=1)
        if self.nyquist_scales:
            rows = [self.orders.index(o) for o in wanted]
            planes = [np.asarray(p)[:, rows] for p in self.psi_nyquist]
            kept = self.nyquist_scales
            wavelets[:kept, :, M // 2, :, :] += planes[0]
            wavelets[:kept, :, :, N // 2, :] += planes[1]
            wavelets[:kept, :, :, :, O // 2] += planes[2]
        return wavelets


def _orders(L: int, covariant: bool) -> tuple[tuple[int, int], ...]:
    if covariant:
        return tuple((l, m) for l in range(L + 1) for m in range(-l, l + 1))
    return tuple((l, -l) for l in range(L + 1))


def _real_degrees(L: int, covariant: bool) -> tuple[int, ...]:
    # Order 0 is used by every degree when covariant, else only by l = 0 (m = -l = 0).
    return tuple(range(L + 1)) if covariant else (0,)


def _positive_orders(L: int, covariant: bool) -> tuple[tuple[int, int], ...]:
    # Orders m > 0 stand for the pair (m, -m); without covariance only m = l stands for -l.
    if covariant:
        return tuple((l, m) for l in range(1, L + 1) for m in range(1, l + 1))
    return tuple((l, l) for l in range(1, L + 1))


def _designed_orders_of_degree(l: int, covariant: bool, hermitian: bool) -> tuple[int, ...]:
    """The orders ``m`` of degree ``l`` designed on the whole grid, ascending."""
    if not hermitian:
        return tuple(range(-l, l + 1)) if covariant else (-l,)
    # Hermitian layout: the real order 0 of every degree (of l = 0 only without covariance) and
    # the positive orders standing for their pairs.
    if covariant:
        return tuple(range(l + 1))
    return (0,) if l == 0 else (l,)


def _negate(a: np.ndarray, axis: int) -> np.ndarray:
    """``a[..., (-k) mod n, ...]`` along ``axis``."""
    return np.roll(np.flip(a, axis=axis), 1, axis=axis)


def _negate_all(a: np.ndarray) -> np.ndarray:
    """``a(-n)`` over the last three axes."""
    return _negate(_negate(_negate(a, -3), -2), -1)


def _zero_nyquist(a: np.ndarray, shape) -> np.ndarray:
    M, N, O = shape
    a = a.copy()
    a[..., M // 2, :, :] = 0
    a[..., :, N // 2, :] = 0
    a[..., :, :, O // 2] = 0
    return a


def _disjoint_planes(plane0, plane1, plane2, shape) -> tuple[np.ndarray, ...]:
    """Values on the Nyquist planes ``n0 = M/2``, ``n1 = N/2``, ``n2 = O/2``, each frequency in
    one plane only: the lines shared with an earlier plane are zeroed in the later one."""
    M, N, O = shape
    plane1 = plane1.copy()
    plane1[..., M // 2, :] = 0
    plane2 = plane2.copy()
    plane2[..., M // 2, :] = 0
    plane2[..., :, N // 2] = 0
    return plane0, plane1, plane2


def _real_leaf(array: np.ndarray) -> jax.Array:
    return device_leaf(array, float)


def _complex_leaf(array: np.ndarray) -> jax.Array:
    return device_leaf(array, complex)


def check_sigma_0(sigma_0) -> float:
    """``sigma_0`` as a positive finite number, or a ``ValueError`` (as kymatio's users expect)."""
    sigma_0 = validation.as_setting(sigma_0)
    if (
        isinstance(sigma_0, bool)
        or not isinstance(sigma_0, numbers.Real)
        or not math.isfinite(sigma_0)
        or sigma_0 <= 0
    ):
        raise ValueError(
            f"sigma_0 must be a positive finite number (the scale-0 wavelet width in samples); "
            f"got {sigma_0!r}."
        )
    return sigma_0


def check_integral_powers(integral_powers) -> tuple[float, ...]:
    """``integral_powers`` as a non-empty tuple of positive finite floats, or a ``ValueError``."""
    if isinstance(integral_powers, numbers.Real) and not isinstance(integral_powers, bool):
        raise ValueError(
            f"integral_powers must be a sequence of positive numbers, e.g. (1.0, 2.0); got the "
            f"single number {integral_powers!r}. Wrap it: ({integral_powers!r},)."
        )
    try:
        powers = [p for p in np.asarray(integral_powers, dtype=object).ravel()]
    except TypeError as error:  # pragma: no cover - np.asarray accepts almost anything
        raise ValueError(f"integral_powers must be a sequence; got {integral_powers!r}.") from error
    if len(powers) == 0:
        raise ValueError("integral_powers must not be empty; e.g. (0.5, 1.0, 2.0).")
    checked = []
    for p in powers:
        if isinstance(p, (bool, np.bool_)) or not isinstance(p, (numbers.Real, np.number)):
            raise ValueError(f"integral_powers must hold real numbers; got {p!r}.")
        p = float(p)
        if not math.isfinite(p) or p <= 0:
            raise ValueError(
                f"integral_powers must be positive and finite (sum U^p is undefined at U = 0 "
                f"for p <= 0); got {p!r} in {tuple(powers)!r}."
            )
        checked.append(p)
    return tuple(checked)


def check_scales_and_grid(J, shape, L) -> tuple[int, tuple[int, int, int], int]:
    """``J``, ``shape`` and ``L`` checked (as ints, a grid of three sides, filters that fit in
    memory), or a ``ValueError``/``TypeError`` naming them.

    kymatio accepts any ``J >= 0`` and any ``L >= 0``, so do we: wavelets wider than the volume
    (``2**J > max(shape)``) are nearly constant over it, and their numbers are kymatio's. The memory
    bound limits ``J`` and ``L``, and :func:`filter_bank_3d` refuses the scales whose wavelets
    overflow float32."""
    J = validation.check_int("J", J, minimum=0)
    shape = validation.check_shape("shape", shape, 3)
    L = validation.check_int("L", L, minimum=0)
    validation.check_filter_memory(
        4.0 * (J + 1) * (L + 1) ** 2 * math.prod(shape), f"J={J}, L={L} with shape={shape}",
        "Use a smaller L or J, or a smaller volume.",
    )
    return J, shape, L


def filter_bank_3d(
    J: int,
    shape: tuple[int, int, int],
    L: int,
    sigma_0: float,
    max_order: int,
    rotation_covariant: bool,
    integral_powers: tuple[float, ...],
    hermitian: bool | None = None,
) -> FilterBank3D:
    """Design every wavelet of a 3D solid harmonic scattering transform.

    Args:
      J: largest scale index; scales ``j = 0..J`` have width ``sigma_0 2^j``.
      shape: ``(M, N, O)``.
      L: largest degree; degrees ``l = 0..L``.
      sigma_0: width of the scale-0 wavelets, in samples.
      max_order: 1 or 2.
      rotation_covariant: whether the modulus pools all orders ``m`` (else only ``m = -l``).
      integral_powers: the exponents ``p`` of the integrals ``sum U^p``.
      hermitian: the layout: None (default) picks the Hermitian layout when every side is even;
        False forces the full layout (kymatio's exact complex64 wavelets for every order, twice
        the inverse-FFT work; float64 results then match kymatio's float64 ones to ~1e-15 rather
        than ~1e-9); True requires every side to be even.

    Returns:
      a :class:`FilterBank3D`.

    Raises:
      TypeError: ``J``, ``L`` or ``max_order`` is not an int, or a flag not a bool.
      ValueError: ``J < 0``, ``L < 0``, ``max_order`` not 1 or 2, ``sigma_0`` not a positive finite
        number, ``integral_powers`` not a non-empty sequence of positive finite numbers, ``shape`` not three ints >= 1,
        ``hermitian=True`` with an odd side, filters that would not fit in memory, or an ``L``
        or ``J`` whose wavelets overflow float32 (as :class:`~scatterjax.HarmonicScattering3D` checks).

    Example:
      >>> bank = filter_bank_3d(1, (8, 8, 8), 1, 1.0, 2, True, (1.0, 2.0))
      >>> bank.psi_real.shape, bank.psi_complex.shape
      ((2, 2, 8, 8, 8), (2, 1, 8, 8, 8))
    """
    # HarmonicScattering3D's checks (its bounds, so that every bank it builds is accepted).
    J, shape, L = check_scales_and_grid(J, shape, L)
    sigma_0 = check_sigma_0(sigma_0)
    max_order = validation.check_int("max_order", max_order, minimum=1, maximum=2)
    rotation_covariant = validation.check_bool("rotation_covariant", rotation_covariant)
    integral_powers = check_integral_powers(integral_powers)
    if hermitian is not None:
        hermitian = validation.check_bool("hermitian", hermitian)
    all_even = all(size % 2 == 0 for size in shape)
    if hermitian is None:
        hermitian = all_even
    elif hermitian and not all_even:
        raise ValueError(
            f"hermitian=True: the Hermitian layout needs every side even; got shape={shape}. Pass "
            "hermitian=None (the layout that fits) or False."
        )
    M, N, O = shape
    coordinates = frequency_grid(shape)
    grid = HarmonicGrid(coordinates)
    # Checked before any wavelet is designed: a refused L (say 300) fails in milliseconds rather
    # than after designing every order of the degrees below the first that overflows.
    def designed_orders(l: int) -> tuple[int, ...]:
        return _designed_orders_of_degree(l, rotation_covariant, hermitian)

    for j in range(J + 1):
        with np.errstate(all="ignore"):  # overflow is what is being looked for, and reported below
            degree = grid.first_overflowing_degree(L, scale(sigma_0, j), designed_orders)
        if degree == 0:  # the Gaussian itself: the scale, not the degree, is too large
            raise ValueError(
                f"J={J} is too large for sigma_0={sigma_0}: the wavelets of scale j={j} (width "
                f"sigma_0 * 2**j) overflow float32 (kymatio's are NaN there); use J <= {j - 1}."
            )
        if degree is not None:
            # |w|^l and sigma^l are float32, as in kymatio, whose filters are then NaN as well.
            raise ValueError(
                f"L={L} is too large for shape={shape} and sigma_0={sigma_0}: the degree-{degree} "
                f"wavelets (|w|^l sigma^l) overflow float32 at scale j={j}; use L < {degree}."
            )
    orders = _orders(L, rotation_covariant)
    real_degrees = _real_degrees(L, rotation_covariant) if hermitian else ()
    complex_orders = _positive_orders(L, rotation_covariant) if hermitian else orders
    # Hermitian layout: every order is needed on the Nyquist planes, orders m < 0 only there.
    plane_coordinates = [
        coordinates[:, M // 2], coordinates[:, :, N // 2], coordinates[:, :, :, O // 2]
    ]
    plane_sizes = [p[0].size for p in plane_coordinates]
    plane_grid = HarmonicGrid(np.concatenate([p.reshape(3, -1) for p in plane_coordinates], 1))
    # The wavelets designed on the whole grid, by degree (as the check above reads them).
    designed = [(l, m) for l in range(L + 1) for m in designed_orders(l)]
    real_scales, complex_scales, nyquist = [], [], []
    for j in range(J + 1):
        sigma = scale(sigma_0, j)
        psi = {order: grid.solid_harmonic(order[0], sigma, order[1]) for order in designed}
        stacked = np.stack([psi[o] for o in complex_orders]) if complex_orders else None
        if not hermitian:
            complex_scales.append(stacked)
            continue
        # i^l psi_{l,0} is real: multiplying by i^l only swaps and negates parts (exact).
        real = [((1j) ** l * psi[(l, 0)].astype(np.complex128)).real for l in real_degrees]
        # i^l psi_{l,0} has parity (-1)^l, but kymatio's float32 values break it by ~2e-7 of the
        # peak for l > 0. The transform separates two degrees packed into one complex inverse FFT
        # (A + iB) only if both products are exactly Hermitian: with the asymmetry, ~2e-7 of one
        # degree's response leaks into the other's (3e-8 on float64 outputs; 4e-6 on the power-0.5
        # integrals of a sparse volume, which amplify tiny values). The parity is restored exactly.
        real = [0.5 * (r + (-1) ** l * _negate_all(r)) for r, l in zip(real, real_degrees)]
        real_scales.append(_zero_nyquist(np.stack(real), shape))
        if complex_orders:
            complex_scales.append(_zero_nyquist(stacked, shape))
        on_planes = np.stack([plane_grid.solid_harmonic(l, sigma, m) for l, m in orders])
        plane0, plane1, plane2 = np.split(on_planes, np.cumsum(plane_sizes)[:2], axis=1)
        planes = _disjoint_planes(
            plane0.reshape(-1, N, O), plane1.reshape(-1, M, O), plane2.reshape(-1, M, N), shape
        )
        peak = max(np.abs(p).max() for p in psi.values())
        # Nyquist values shrink as the scale grows, so the kept scales are j = 0..S_n - 1.
        if len(nyquist) == j and max(np.abs(p).max() for p in planes) > NYQUIST_CUTOFF * peak:
            nyquist.append(planes)
    n_complex = len(complex_orders)
    psi_complex = (
        np.stack(complex_scales)
        if n_complex
        else np.zeros((J + 1, 0) + shape, np.complex64)
    )
    psi_nyquist = None
    if nyquist:
        psi_nyquist = tuple(_complex_leaf(np.stack([p[k] for p in nyquist])) for k in range(3))
    return FilterBank3D(
        psi_real=_real_leaf(np.stack(real_scales)) if hermitian else None,
        psi_complex=_complex_leaf(psi_complex),
        psi_nyquist=psi_nyquist,
        shape=shape,
        J=J,
        L=L,
        sigma_0=sigma_0,
        max_order=max_order,
        rotation_covariant=rotation_covariant,
        integral_powers=tuple(float(p) for p in integral_powers),
        hermitian=hermitian,
        nyquist_scales=len(nyquist),
    )
