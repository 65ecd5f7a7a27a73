"""2D Morlet filter design, following kymatio 0.3.0's construction exactly (NumPy, never JAX).

Everything here runs once, on the host, when a transform is built; nothing here is traced.
Coordinates: ``u`` is the row index (axis 0, ``M`` samples), ``v`` the column index (axis 1,
``N`` samples); angles are in radians, ``theta = 0`` pointing along the rows (axis 0).

kymatio's numbers depend on its dtypes, which we reproduce on purpose:

- the rotation matrix is stored in float32 (the quadratic form is then evaluated in float64);
- the filter is periodised over 5 x 5 copies of the grid, each copy evaluated in complex128 and
  accumulated into a complex64 array in row-major order of the copy offsets ``(a, b)``;
- the normalisation uses the constant ``3.1415`` (not pi) and is divided in complex64;
- a Morlet wavelet is ``gabor_xi - K gabor_0`` with ``K`` a ratio of complex64 sums;
- Fourier filters are the real part of scipy's single-precision FFT2 (float32).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.fft

# kymatio's Gaussian normalisation constant: the literal 3.1415, not math.pi.
_KYMATIO_PI = 3.1415
_COPIES = (-2, -1, 0, 1, 2)
# exp(-q) is exactly 0.0 in float64 for q above about 745.13.
_EXP_UNDERFLOW = 800.0


def padded_shape(M: int, N: int, J: int) -> tuple[int, int]:
    """Size of the padded image: ``(floor(M / 2**J) + 2) * 2**J``, likewise for ``N``."""
    scale = 2**J
    return (M // scale + 2) * scale, (N // scale + 2) * scale


def padding(M: int, N: int, J: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Padding widths ``((top, bottom), (left, right))``; the odd pixel goes last."""
    M_padded, N_padded = padded_shape(M, N, J)
    rows = ((M_padded - M) // 2, (M_padded - M + 1) // 2)
    cols = ((N_padded - N) // 2, (N_padded - N + 1) // 2)
    return rows, cols


def wavelet_sigma(j: int) -> float:
    """Spatial width of the wavelets at scale ``j`` (pixels)."""
    return 0.8 * 2**j


def wavelet_xi(j: int) -> float:
    """Centre frequency of the wavelets at scale ``j`` (radians per pixel)."""
    return 3.0 / 4.0 * np.pi / 2**j


def wavelet_slant(L: int) -> float:
    """Ratio of the wavelets' widths across and along their orientation."""
    return 4.0 / L


def wavelet_angle(l: int, L: int) -> float:
    """Angle of orientation index ``l`` among ``L``: ``(int(L - L/2 - 1) - l) pi / L`` radians.

    ``int`` truncates toward zero, as in kymatio: for ``L = 8`` the angles run from ``3 pi / 8``
    down to ``-pi / 2``.
    """
    return (int(L - L / 2 - 1) - l) * np.pi / L


def lowpass_sigma(J: int) -> float:
    """Spatial width of the low-pass filter for scale ``2**J`` (pixels)."""
    return 0.8 * 2 ** (J - 1)


def gabor_2d(
    M: int, N: int, sigma: float, theta: float, xi: float, slant: float = 1.0
) -> np.ndarray:
    """Periodised spatial Gabor filter on an ``(M, N)`` grid, complex64 (kymatio's rounding).

    ``g(u, v) = sum_{a, b} exp(-q(u + aM, v + bN) + i xi ((u + aM) cos theta + (v + bN) sin theta))
    / (2 * 3.1415 * sigma**2 / slant)`` with ``q`` the quadratic form of ``R diag(1, slant**2) R^T
    / (2 sigma**2)``.
    """
    cos_t, sin_t = np.cos(theta), np.sin(theta)
    rotation = np.array([[cos_t, -sin_t], [sin_t, cos_t]], np.float32)
    rotation_t = np.array([[cos_t, sin_t], [-sin_t, cos_t]], np.float32)
    stretch = np.array([[1.0, 0.0], [0.0, slant * slant]])
    form = np.dot(rotation, np.dot(stretch, rotation_t)) / (2 * sigma * sigma)
    cross = form[0, 1] + form[1, 0]

    # Each copy's Gaussian is alive (quadratic < _EXP_UNDERFLOW) only inside an ellipse: its
    # bounding box is where the copy is evaluated (a copy adds exact zeros elsewhere, which change
    # nothing), so a narrow filter on a large grid costs its box, not the grid (2D J=5 L=16 on
    # 1024x1024: 29 s of filter design -> 11 s).
    determinant = 4 * form[0, 0] * form[1, 1] - cross * cross
    if determinant > 0:
        u_reach = math.sqrt(4 * form[1, 1] * _EXP_UNDERFLOW / determinant) + 2
        v_reach = math.sqrt(4 * form[0, 0] * _EXP_UNDERFLOW / determinant) + 2
    else:  # not positive definite: every pixel may be alive
        u_reach = v_reach = math.inf
    accumulated = np.zeros((M, N), np.complex64)
    for a in _COPIES:
        row_range = _box(-u_reach - a * M, u_reach - a * M, M)
        if row_range is None:
            continue
        u = np.arange(*row_range, dtype=np.int64)[:, None] + a * M
        for b in _COPIES:
            col_range = _box(-v_reach - b * N, v_reach - b * N, N)
            if col_range is None:
                continue
            v = np.arange(*col_range, dtype=np.int64)[None, :] + b * N
            quadratic = form[0, 0] * (u * u) + cross * (u * v) + form[1, 1] * (v * v)
            # Where exp underflows to exactly 0 the term would change nothing: skip it.
            alive = quadratic < _EXP_UNDERFLOW
            if not alive.any():
                continue
            phase = u * xi * cos_t + v * xi * sin_t
            if alive.all():
                term = np.exp(-quadratic + 1j * phase)
            else:
                term = np.zeros(quadratic.shape, np.complex128)
                term[alive] = np.exp(-quadratic[alive] + 1j * phase[alive])
            # The sum is rounded to complex64 after each copy, as kymatio's in-place += does. Outside
            # the box the copy adds +0.0, as on the whole grid: that turns a -0.0 (a negative
            # subnormal rounded to complex64) into +0.0, so it is done too (a cheap pass).
            box = (slice(*row_range), slice(*col_range))
            inside = accumulated[box] + term
            accumulated += 0
            accumulated[box] = inside
    accumulated /= 2 * _KYMATIO_PI * sigma * sigma / slant
    return accumulated


def _box(low: float, high: float, size: int) -> tuple[int, int] | None:
    """The indices ``0 <= k < size`` with ``low <= k <= high``, as ``(start, stop)``; None if none."""
    start = 0 if low == -math.inf else max(0, math.floor(low))
    stop = size if high == math.inf else min(size, math.ceil(high) + 1)
    return (start, stop) if start < stop else None


def morlet_2d(M: int, N: int, sigma: float, theta: float, xi: float, slant: float) -> np.ndarray:
    """Zero-mean Morlet wavelet ``g_xi - K g_0`` on an ``(M, N)`` grid, complex64."""
    wave = gabor_2d(M, N, sigma, theta, xi, slant)
    envelope = gabor_2d(M, N, sigma, theta, 0.0, slant)
    ratio = np.sum(wave) / np.sum(envelope)
    return wave - ratio * envelope


def fourier_filter(spatial: np.ndarray) -> np.ndarray:
    """Real part of the single-precision FFT2 of a complex64 spatial filter (float32)."""
    return np.real(scipy.fft.fft2(spatial)).astype(np.float32, copy=False)


def crop_level(filter_hat: np.ndarray, level: int) -> np.ndarray:
    """The Fourier filter at resolution ``2**-level``: crop to ``(M / 2**level, N / 2**level)``.

    Keeps the frequencies ``-m/2 .. m/2 - 1`` of each axis (rows ``0 .. m/2 - 1`` and
    ``M - m/2 .. M - 1``): the positive Nyquist row and column are dropped, the negative kept.
    """
    if level == 0:
        return filter_hat.copy()
    M, N = filter_hat.shape
    m, n = M // 2**level, N // 2**level
    rows = np.r_[0 : m // 2, M - m // 2 : M]
    cols = np.r_[0 : n // 2, N - n // 2 : N]
    return filter_hat[np.ix_(rows, cols)]


def wavelet_hat(M: int, N: int, j: int, l: int, L: int) -> np.ndarray:
    """Fourier Morlet wavelet at scale ``j``, orientation ``l`` on the ``(M, N)`` grid, float32."""
    sigma, theta, xi = wavelet_sigma(j), wavelet_angle(l, L), wavelet_xi(j)
    return fourier_filter(morlet_2d(M, N, sigma, theta, xi, wavelet_slant(L)))


def lowpass_hat(M: int, N: int, J: int) -> np.ndarray:
    """Fourier low-pass (isotropic Gaussian of width ``0.8 * 2**(J-1)``) on ``(M, N)``, float32."""
    return fourier_filter(gabor_2d(M, N, lowpass_sigma(J), 0.0, 0.0, 1.0))


def wavelet_levels(j: int, J: int) -> int:
    """Number of resolutions kymatio stores for a wavelet of scale ``j``."""
    return min(j + 1, max(J - 1, 1))


def kymatio_filter_bank(M_padded: int, N_padded: int, J: int, L: int) -> dict:
    """The filters in kymatio's own layout (for tests and inspection).

    Returns ``{'phi': {'levels': [...], 'j': J}, 'psi': [{'levels': [...], 'j': j, 'theta': l}]}``
    with float32 arrays, ``psi`` in ``n = j L + l`` order.
    """
    psi = []
    for j in range(J):
        for l in range(L):
            full = wavelet_hat(M_padded, N_padded, j, l, L)
            levels = [crop_level(full, r) for r in range(wavelet_levels(j, J))]
            psi.append({"levels": levels, "j": j, "theta": l})
    phi_full = lowpass_hat(M_padded, N_padded, J)
    phi = {"levels": [crop_level(phi_full, r) for r in range(J)], "j": J}
    return {"phi": phi, "psi": psi}


def symmetric_half(filter_hat: np.ndarray) -> np.ndarray:
    """Even part ``(F[k] + F[-k]) / 2`` of a real 2D Fourier filter, last axis cut to ``n//2 + 1``.

    Only the even part of a real filter acts on the spectrum of a real signal when the real part
    of the result is kept, so ``irfft2(rfft2(x) * symmetric_half(F))`` equals
    ``Re(ifft2(fft2(x) * F))``. Computed in float64 from the float32 filter.
    """
    return _even_part(filter_hat)[:, : filter_hat.shape[1] // 2 + 1]


def _even_part(filter_hat: np.ndarray) -> np.ndarray:
    """``(F[k] + F[-k]) / 2`` of a 2D Fourier filter, in float64."""
    filter_hat = np.asarray(filter_hat, np.float64)
    mirrored = np.roll(filter_hat[::-1, ::-1], (1, 1), axis=(0, 1))  # F[-k0, -k1]
    return 0.5 * (filter_hat + mirrored)


def lowpass_in_space(filter_hat: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """A low-pass at one resolution as two matrices that average and decimate real images in space.

    For a real image ``u`` of shape ``(m, n)`` (the filter's), ``rows @ u @ columns`` is
    ``Re(ifft2(fft2(u) * F))`` sampled every ``factor`` pixels on both axes, without its one-pixel
    border (kymatio's ``unpad``): output ``[p, q]`` is the circular convolution at
    ``(factor (p + 1), factor (q + 1))``.

    The filter's spatial kernel ``k`` (of its even part, see :func:`symmetric_half`) is a periodised
    isotropic Gaussian, which is separable: ``k[a, b] = r[a] c[b]`` with ``r = k[:, 0] / sqrt(k[0, 0])``
    and ``c = k[0, :] / sqrt(k[0, 0])``. kymatio's filter holds float32 values, whose rounding is
    not separable: the product differs from ``k`` by at most 1.1e-7 of its peak, and the averages by
    at most 1.4e-7 of the largest (float64, 40x56 to 544x544 grids), the size of a float32
    rounding.

    Args:
      filter_hat: the low-pass at this resolution, real ``(m, n)`` (see :func:`crop_level`).
      factor: the decimation, a power of two dividing ``m`` and ``n``.

    Returns:
      ``(rows, columns)``, float64 arrays of shapes ``(m // factor - 2, m)`` and
      ``(n, n // factor - 2)``.

    Example:
      >>> phi = crop_level(lowpass_hat(48, 48, 2), 1)
      >>> [a.shape for a in lowpass_in_space(phi, 2)]
      [(10, 24), (24, 10)]
    """
    kernel = np.fft.ifft2(_even_part(filter_hat)).real
    scale = np.sqrt(kernel[0, 0])
    r, c = kernel[:, 0] / scale, kernel[0, :] / scale
    m, n = kernel.shape
    p = factor * np.arange(1, m // factor - 1)
    q = factor * np.arange(1, n // factor - 1)
    rows = r[(p[:, None] - np.arange(m)[None, :]) % m]
    columns = c[(q[None, :] - np.arange(n)[:, None]) % n]
    return rows, columns


def output_channels(J: int, L: int, max_order: int) -> list[int]:
    """Channels per order: ``[1, J L]`` or ``[1, J L, L**2 J (J - 1) / 2]``."""
    counts = [1, J * L]
    if max_order == 2:
        counts.append(L * L * J * (J - 1) // 2)
    return counts


def max_J(M: int, N: int) -> int:
    """Largest ``J`` with ``2**J <= min(M, N)``."""
    return int(math.floor(math.log2(min(M, N))))
