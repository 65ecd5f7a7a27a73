"""3D solid harmonic wavelet design, reproducing kymatio 0.3.0's filters value for value (NumPy).

Everything here runs once, on the host, when a transform is built; nothing here is traced and
nothing imports jax.

The wavelet of degree ``l``, order ``m`` (``-l <= m <= l``) and scale ``sigma`` is, in Fourier,

    psi_hat(w) = c_l (2 pi)^(3/2) (-i)^l (sigma |w|)^l exp(-sigma^2 |w|^2 / 2) Y_l^m(theta, phi)

(``l = 0``: the bare Gaussian ``exp(-sigma^2 |w|^2 / 2)``, equal to 1 at zero frequency), with
``Y_l^m`` SciPy's orthonormal complex spherical harmonic (Condon-Shortley phase), the azimuth
``phi = atan2(w_1, w_2)`` and ``theta = atan2(w_0, sqrt(w_1^2 + w_2^2)) + pi / 2``, which is pi minus
the usual polar angle (kymatio's convention, kept so that the numbers match).

Kymatio's dtype path is reproduced exactly, because the stored references depend on it:

- the frequency grid is float32: per axis of size ``M`` the integers ``floor(-M/2) ...`` of length
  ``M``, ``ifftshift``-ed, times ``2 pi / M``. For odd ``M`` this puts zero frequency at index 1,
  not 0 (``floor(-M/2) = -ceil(M/2)``), a quirk we keep;
- ``|w|^2``, the Gaussian, ``|w|^l`` and the angles are float32; the spherical harmonic is
  complex128 (SciPy's output), its product with the complex64 radial part is stored in complex64;
- the constant ``c_l (2 pi)^(3/2) (-i)^l`` multiplies in complex128 and the result is rounded back
  to complex64.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.special


def frequency_axis(size: int) -> np.ndarray:
    """Angular frequencies (radians per sample) of the DFT bins of one axis, kymatio's layout.

    Returns: float32 array of shape ``(size,)``; bin ``k`` holds ``2 pi q / size`` with ``q`` the
    ``k``-th entry of ``ifftshift(arange(floor(-size/2), floor(-size/2) + size))``.
    """
    start = (-size) // 2
    integers = np.fft.ifftshift(np.arange(start, start + size)).astype(np.float32)
    return integers * np.float32(2 * np.pi / size)


def frequency_grid(shape: tuple[int, int, int]) -> np.ndarray:
    """The three frequency coordinates ``(w_0, w_1, w_2)`` on the DFT grid of ``shape``.

    Returns: float32 array of shape ``(3, M, N, O)``.
    """
    axes = [frequency_axis(size) for size in shape]
    return np.stack(np.meshgrid(*axes, indexing="ij"))


def harmonic_constant(l: int) -> complex:
    """``c_l (2 pi)^(3/2) (-i)^l``: the factor that makes the wavelet of degree ``l`` unit-sized.

    ``c_l = 1 / (2 pi sqrt(l + 1/2) (l + 1)!!)`` for even ``l`` and
    ``1 / (2^((l + 3) / 2) sqrt(pi (2 l + 1)) ((l + 1) / 2)!)`` for odd ``l``.
    """
    if l % 2 == 0:
        double_factorial = math.prod(range(l + 1, 0, -2))
        c_l = 1.0 / (2 * np.pi * np.sqrt(l + 0.5) * double_factorial)
    else:
        c_l = 1.0 / (
            2 ** (0.5 * (l + 3)) * np.sqrt(np.pi * (2 * l + 1)) * scipy.special.factorial((l + 1) / 2)
        )
    # Associated as kymatio does: c_l * ((2 pi)^1.5 * (-i)^l).
    return complex(c_l * ((2 * np.pi) ** 1.5 * (-1j) ** l))


class HarmonicGrid:
    """The quantities shared by every wavelet at some frequencies: ``|w|^2``, the angles, ``Y_l^m``.

    Built on the whole DFT grid (:meth:`from_shape`) or on any subset of it (e.g. the Nyquist
    planes) from the float32 coordinates ``(w_0, w_1, w_2)``; every quantity is computed
    elementwise, so a subset gets exactly the values of the whole grid there. The spherical
    harmonics do not depend on the scale, so they are computed once per ``(l, m)`` and cached.
    """

    def __init__(self, coordinates: np.ndarray):
        w0, w1, w2 = coordinates
        self.radius_squared = w0**2 + w1**2 + w2**2  # float32, summed in axis order
        self.azimuth = np.arctan2(w1, w2)
        self.polar = np.arctan2(w0, np.sqrt(w2**2 + w1**2)) + np.float32(np.pi / 2)
        self._harmonics: dict[tuple[int, int], np.ndarray] = {}
        # The radial part is shared by the 2l + 1 orders of a degree, designed one after another.
        self._last_radial: tuple[tuple[int, float], np.ndarray] | None = None

    @classmethod
    def from_shape(cls, shape: tuple[int, int, int]) -> HarmonicGrid:
        """The whole DFT grid of ``shape``: every array is ``(M, N, O)``."""
        return cls(frequency_grid(tuple(shape)))

    def spherical_harmonic(self, l: int, m: int) -> np.ndarray:
        """SciPy's ``Y_l^m`` at the grid's angles (complex128)."""
        key = (l, m)
        if key not in self._harmonics:
            self._harmonics[key] = scipy.special.sph_harm_y(l, m, self.polar, self.azimuth)
        return self._harmonics[key]

    def gaussian(self, sigma: float) -> np.ndarray:
        """``exp(-sigma^2 |w|^2 / 2)`` in float32 (kymatio divides by ``(1 / sigma)^2``)."""
        inverse_sigma = 1.0 / sigma
        return np.exp(np.float32(-0.5) * self.radius_squared / np.float32(inverse_sigma**2))

    def radial(self, l: int, sigma: float) -> np.ndarray:
        """``|w|^l sigma^l exp(-sigma^2 |w|^2 / 2)`` as kymatio rounds it: complex64, grid-shaped,
        read-only (the last one is kept for the other orders of its degree).

        ``|w|^l`` is ``sqrt(|w|^(2 l))`` in float32, so it overflows to inf from the degree where
        ``max |w|^(2 l)`` passes float32's largest value (27 on any grid: ``max |w|^2 = 3 pi^2``);
        the overflow is left for the caller to report, without NumPy's warnings.
        """
        key = (l, sigma)
        if self._last_radial is not None and self._last_radial[0] == key:
            return self._last_radial[1]
        gaussian = self.gaussian(sigma).astype(np.complex64)
        if l == 0:
            radial = gaussian
        else:
            with np.errstate(over="ignore", invalid="ignore"):
                inverse_sigma = 1.0 / sigma
                radius_power = np.sqrt(self.radius_squared**l)
                radial = radius_power * gaussian / np.complex64(inverse_sigma**l)
        radial.flags.writeable = False  # shared with the next callers: a caller's edit would spread
        self._last_radial = (key, radial)
        return radial

    def solid_harmonic(self, l: int, sigma: float, m: int) -> np.ndarray:
        """The wavelet ``psi_hat`` of degree ``l``, order ``m`` and scale ``sigma``.

        Returns: complex64 array of the grid's shape (``(M, N, O)`` for the whole grid, zero
        frequency at kymatio's index).
        """
        radial = self.radial(l, sigma)
        if l == 0:
            return radial.copy()
        with np.errstate(over="ignore", invalid="ignore"):
            wavelet = (self.spherical_harmonic(l, m) * radial).astype(np.complex64)
            return (wavelet * np.complex128(harmonic_constant(l))).astype(np.complex64)

    def first_overflowing_degree(self, L: int, sigma: float, orders_of_degree) -> int | None:
        """The smallest degree ``l <= L`` one of whose wavelets at ``sigma`` is not finite, or None.

        Exact, yet designs hardly any wavelet: a degree whose radial part is not finite fails for
        every order (``Y * inf`` and ``0 * inf`` are not finite); one whose radial part ``R`` is
        finite can only overflow when ``max |R| |Y| |c|`` nears float32's largest value, with
        ``|Y_l^m| <= sqrt((2 l + 1) / (4 pi))`` (Unsold's theorem) and ``c`` the degree's
        constant. Only then are its orders, ``orders_of_degree(l)``, designed and checked.
        """
        largest = float(np.finfo(np.float32).max)
        for l in range(L + 1):
            radial = self.radial(l, sigma)
            if not np.isfinite(radial).all():
                return l
            if l == 0:
                continue  # the Gaussian itself, at most 1
            bound = float(np.abs(radial).max()) * math.sqrt((2 * l + 1) / (4 * math.pi))
            bound *= max(1.0, abs(harmonic_constant(l)))
            if bound < largest / 2:
                continue
            if any(not np.isfinite(self.solid_harmonic(l, sigma, m)).all() for m in orders_of_degree(l)):
                return l
        return None

    def solid_harmonics(self, l: int, sigma: float) -> np.ndarray:
        """Every order ``m = -l ... l`` of degree ``l``: complex64 of shape ``(2l + 1, *grid)``."""
        return np.stack([self.solid_harmonic(l, sigma, m) for m in range(-l, l + 1)])


def scale(sigma_0: float, j: int) -> float:
    """Width of the wavelets at scale ``j``: ``sigma_0 2^j`` (in samples)."""
    return sigma_0 * 2**j
