"""1D Morlet filter design, following kymatio 0.3.0's construction exactly (NumPy, float64).

Everything here runs once, on the host, when a transform is built; nothing here is traced.
Frequencies are in cycles per sample; a spectrum of length ``L`` has bin ``k`` at ``k / L`` folded
into ``[-1/2, 1/2)``.

The conventions (shared with kymatio 0.3.0 so that the numbers match):

- ``R_PSI = sqrt(0.5)``: neighbouring wavelets cross at half their peak amplitude.
- ``SIGMA0 = 0.1``: bandwidth of the low-pass at scale 1; the low-pass for scale ``T`` has
  ``sigma = SIGMA0 / T``.
- ``ALPHA = 5``: a wavelet is considered negligible beyond ``xi + ALPHA * sigma``; this sets the
  largest subsampling it tolerates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.fft

R_PSI = math.sqrt(0.5)
SIGMA0 = 0.1
ALPHA = 5.0
SUPPORT_CRITERION = 1e-3
_MAX_PERIODS = 5
_PERIOD_EPS = 1e-7


def _n_periods(sigma: float) -> int:
    """Number of spectral periods summed by the periodised Gaussian (at least 2, at most 5)."""
    return min(math.ceil(math.sqrt(-2.0 * sigma**2 * math.log(_PERIOD_EPS)) + 1), _MAX_PERIODS)


# exp(-z) is exactly 0.0 in float64 for z above about 745.13 (below half the smallest subnormal).
_EXP_ZERO_BEYOND = 746.0


def _periodized_gaussian(length: int, center: float, sigma: float, n_periods: int) -> np.ndarray:
    """Mean over ``2 n_periods - 1`` periods of ``exp(-(f - center)^2 / (2 sigma^2))`` at bins ``f``.

    Each period's Gaussian is evaluated only on the bins where it is not exactly 0.0 in float64
    (within ``sqrt(2 * 746) sigma`` of ``center``, plus a bin each side) and added, period by
    period, into zeros: the same values, summed in the same order, as evaluating every period on
    every bin and averaging (adding 0.0 changes nothing), at a small fraction of the cost for the
    narrow filters of long signals (1D J=12, N=2**18, Q=(32, 4): 18 s of a 44 s build).
    """
    total = np.zeros(length)
    reach = math.sqrt(2.0 * _EXP_ZERO_BEYOND) * sigma
    for period in range(1 - n_periods, n_periods):
        # bins k of this period, at frequency f = (period * length + k) / length
        first = max(math.floor((center - reach - period) * length) - 1, 0)
        stop = min(math.ceil((center + reach - period) * length) + 2, length)
        if first >= stop:
            continue
        frequencies = np.arange(period * length + first, period * length + stop, dtype=np.float64) / length
        total[first:stop] += np.exp(-((frequencies - center) ** 2) / (2.0 * sigma**2))
    return total / (2 * n_periods - 1)


def _l1_normalize(filter_hat: np.ndarray) -> np.ndarray:
    """Divide each Fourier filter (along the last axis) by the L1 norm of its time-domain response.

    A stack of filters is transformed at once, on every core (SciPy's ``workers``); each row's
    transform and sum are the ones it gets alone (checked bit for bit in the tests). A filter that
    is zero on every bin (a Morlet wavelet on a one-sample signal: its only bin is the DC bin, which
    its zero mean cancels) has no norm to divide by and stays zero, where the division would make
    it NaN.
    """
    responses = scipy.fft.ifft(filter_hat, axis=-1, workers=-1)
    norms = np.abs(responses).sum(axis=-1, keepdims=True)
    return np.divide(filter_hat, norms, out=np.zeros_like(filter_hat), where=norms > 0)


def gaussian_filter(length: int, sigma: float) -> np.ndarray:
    """Low-pass filter ``phi_hat``: periodised Gaussian at 0, L1-normalised in time.

    Returns: float64 array of shape ``(length,)``.
    """
    return _l1_normalize(_periodized_gaussian(length, 0.0, sigma, _n_periods(sigma)))


def morlet_filter(length: int, xi: float, sigma: float) -> np.ndarray:
    """Morlet wavelet ``psi_hat`` centred at ``xi`` with zero mean, L1-normalised in time.

    The Gaussian at ``xi`` minus the multiple of the Gaussian at 0 that cancels the DC bin.

    Returns: float64 array of shape ``(length,)``.
    """
    return _l1_normalize(_zero_mean_band(length, xi, sigma))


def morlet_filters(length: int, xis, sigmas) -> list[np.ndarray]:
    """``[morlet_filter(length, xi, sigma) for xi, sigma in zip(xis, sigmas)]``, the same arrays.

    The L1 normalisation runs on a batch of filters at a time: for long signals its FFTs are most
    of the filter design, and a batch spreads them over every core.
    """
    bands = [_zero_mean_band(length, xi, sigma) for xi, sigma in zip(xis, sigmas)]
    batch = max(1, _NORMALIZE_BATCH_BYTES // (16 * length))
    filters = []
    for start in range(0, len(bands), batch):
        filters += list(_l1_normalize(np.stack(bands[start : start + batch])))
    return filters


# Bytes of complex time-domain responses computed at once by morlet_filters.
_NORMALIZE_BATCH_BYTES = 2**26


def _zero_mean_band(length: int, xi: float, sigma: float) -> np.ndarray:
    """The Gaussian at ``xi`` minus the multiple of the Gaussian at 0 that cancels the DC bin."""
    n_periods = _n_periods(sigma)
    band = _periodized_gaussian(length, xi, sigma, n_periods)
    low = _periodized_gaussian(length, 0.0, sigma, n_periods)
    return band - (band[0] / low[0]) * low


def period_average(filter_hat: np.ndarray, level: int) -> np.ndarray:
    """Spectrum of the filter decimated by ``2**level``: the mean over ``2**level`` periods."""
    factor = 2**level
    return filter_hat.reshape(factor, filter_hat.shape[-1] // factor).mean(axis=0)


def max_dyadic_subsampling(xi: float, sigma: float) -> int:
    """Largest ``j`` such that the band ``[0, xi + ALPHA sigma]`` survives decimation by ``2**j``."""
    upper = min(xi + ALPHA * sigma, 0.5)
    return int(math.floor(-math.log2(upper))) - 1


@dataclass(frozen=True)
class WaveletParams:
    """Centre frequencies, bandwidths and maximal subsamplings of one order's wavelets.

    Listed in decreasing ``xi``: index ``n = 0`` is the highest-frequency wavelet.
    """

    xi: tuple[float, ...]
    sigma: tuple[float, ...]
    j: tuple[int, ...]


def _bandwidth(xi: float, Q: int) -> float:
    """Width of a wavelet at ``xi`` such that neighbours ``2**(1/Q)`` apart cross at ``R_PSI``."""
    ratio = 1.0 / 2.0 ** (1.0 / Q)
    return xi * ((1.0 - ratio) / (1.0 + ratio)) * (1.0 / math.sqrt(2.0 * math.log(1.0 / R_PSI)))


def wavelet_params(J: int, Q: int, repeated_subtraction: bool = False) -> WaveletParams:
    """The constant-Q (geometric) then constant-bandwidth (linear) schedule of kymatio 0.3.0.

    ``repeated_subtraction``: kymatio main's linear part, ``xi -= elbow / Q`` step by step, which
    differs from 0.3.0's ``elbow - q / Q * elbow`` in the last bits (about 1e-17).
    """
    xi_max = max(1.0 / (1.0 + 2.0 ** (3.0 / Q)), 0.35)
    sigma_max = _bandwidth(xi_max, Q)
    sigma_min = SIGMA0 / 2.0**J
    step = 2.0 ** (1.0 / Q)

    xis: list[float] = []
    sigmas: list[float] = []
    if sigma_max <= sigma_min:
        elbow_xi = sigma_max  # kymatio's rule when there is no geometric part
    else:
        xis.append(xi_max)
        sigmas.append(sigma_max)
        # Repeated division (not a closed-form power) so the last bits match kymatio.
        while sigmas[-1] > sigma_min * step:
            xis.append(xis[-1] / step)
            sigmas.append(sigmas[-1] / step)
        elbow_xi = xis[-1]
    xi = elbow_xi
    for q in range(1, Q):
        xi = xi - elbow_xi / Q if repeated_subtraction else elbow_xi - q / Q * elbow_xi
        xis.append(xi)
        sigmas.append(sigma_min)
    js = tuple(max_dyadic_subsampling(xi, sigma) for xi, sigma in zip(xis, sigmas))
    return WaveletParams(xi=tuple(xis), sigma=tuple(sigmas), j=js)


def temporal_support(length: int, T: float) -> int:
    """Half-support (in samples) of the low-pass of scale ``T`` built at ``length`` samples.

    The smallest ``s`` such that the time-domain L1 mass beyond ``s - 1`` (over the first half of
    the periodic filter) is at most ``SUPPORT_CRITERION``; ``length // 2`` if there is none.
    """
    phi = np.abs(scipy.fft.ifft(gaussian_filter(length, SIGMA0 / T)))
    half = phi[: length // 2]
    tail_mass = np.cumsum(half[::-1])[::-1]
    below = np.flatnonzero(tail_mass <= SUPPORT_CRITERION)
    if below.size == 0:
        return length // 2
    return int(below[0]) + 1


def padded_length_log2(length: int, support: int) -> int:
    """log2 of the padded length: room for 3 supports each side, but each pad shorter than ``length``."""
    return min(math.ceil(math.log2(length + 6 * support)), math.floor(math.log2(3 * length - 2)))


def crop_indices(pad_left: int, length: int, max_level: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Start and end of the unpadded signal at resolutions ``0..max_level`` (halving, rounding up)."""
    starts, ends = [pad_left], [pad_left + length]
    for _ in range(max_level):
        starts.append(-(-starts[-1] // 2))
        ends.append(-(-ends[-1] // 2))
    return tuple(starts), tuple(ends)


def lowpass_samples(T, J: int) -> float:
    """The low-pass width in samples of a ``Scattering1D`` whose ``T`` reads back as ``T``.

    ``S.T`` is a number (``2**J`` for ``T=None`` and ``T=0``) or ``'global'``, whose low-pass is
    the ``2**J`` one.

    >>> lowpass_samples(100, 6), lowpass_samples("global", 6)
    (100.0, 64.0)
    """
    return float(2**J) if isinstance(T, str) else float(T)
