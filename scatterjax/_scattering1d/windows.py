"""Host-side (NumPy) sparse periodisation operators: filter, then subsample in Fourier, cheaply.

Kymatio multiplies a full spectrum by a filter and periodises the product by ``s`` (Fourier-domain
subsampling, ``D_s``). Morlet and Gaussian filters decay like Gaussians, so at every resolution they
are negligible on most bins; we precompute, for every output bin, the few input bins that reach it
with a non-negligible weight. The transform then gathers just those bins from the *half* spectrum
of a real signal (the rfft), so it never forms the full spectrum nor the full product.

Reading from the half spectrum: a real signal's spectrum has ``X[k] = conj(Xh[L - k])`` for
``k > L/2``. For a real filter value ``w`` that term is ``(a - i b) w`` with ``Xh[L-k] = a + i b``,
so each term is stored as an index into the half spectrum and two real weights: ``w`` for the real
part and ``±w`` for the imaginary part.

"Negligible" means at most ``NEGLIGIBLE = 1e-20`` times the filter's peak: dropping those terms
changes a coefficient by less than 1e-20 relative, far below float64 rounding (1.1e-16).

Demodulation: a wavelet product is followed by an inverse FFT and a modulus. Shifting the
periodised spectrum cyclically multiplies the inverse FFT by a unit-modulus phase, which the
modulus removes; so a wavelet's window may start anywhere (at its support), and its ``n`` periods
fold into the output with a shift that changes no coefficient. Low-pass windows are not followed by
a modulus and keep their true positions.
"""

from __future__ import annotations

import numpy as np

NEGLIGIBLE = 1e-20


def _cleaned(filter_hat: np.ndarray) -> np.ndarray:
    magnitude = np.abs(filter_hat)
    return np.where(magnitude > NEGLIGIBLE * magnitude.max(), filter_hat, 0.0)


def support(filter_hat: np.ndarray) -> tuple[int, int]:
    """``(start, width)``: the smallest circular run of bins holding every non-negligible value."""
    length = filter_hat.shape[-1]
    significant = np.flatnonzero(_cleaned(filter_hat))
    if significant.size == 0:
        return 0, 1
    gaps = np.diff(np.concatenate([significant, significant[:1] + length]))
    largest = int(np.argmax(gaps))
    start = int(significant[(largest + 1) % significant.size])
    return start, length - int(gaps[largest]) + 1


def _half_index(bins: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Index into the rfft of length ``length // 2 + 1`` and the sign of the imaginary part."""
    mirrored = bins > length // 2
    return np.where(mirrored, length - bins, bins), np.where(mirrored, -1.0, 1.0)


def wavelet_terms(filter_hat: np.ndarray, factor: int, *, keep_phase: bool = False) -> np.ndarray:
    """Full-spectrum bins ``(n_terms, L // factor)`` whose fold gives the (shifted) ``D_factor`` output.

    Output bin ``m`` sums bins ``start + t * M + m`` (``M = L // factor``) over ``t`` — a cyclic shift
    of the true periodisation, harmless before a modulus (see the module docstring). With
    ``keep_phase`` the columns are rolled back so that output bin ``m`` holds the true periodised
    bin ``m``, for outputs whose phase matters (no modulus next, or a further filter first).
    """
    length = filter_hat.shape[-1]
    block = length // factor
    start, width = support(filter_hat)
    n_terms = -(-width // block)
    if n_terms >= factor:  # the support needs every period: plain periodisation
        start, n_terms = 0, factor
    terms = (start + np.arange(n_terms)[:, None] * block + np.arange(block)[None, :]) % length
    return np.roll(terms, start % block, axis=1) if keep_phase else terms


def lowpass_terms(filter_hat: np.ndarray, factor: int) -> np.ndarray:
    """Full-spectrum bins ``(n_terms, M // 2 + 1)`` reaching the non-negative output bins of ``D_factor``."""
    length = filter_hat.shape[-1]
    block = length // factor
    bins = np.arange(factor)[:, None] * block + np.arange(block // 2 + 1)[None, :]
    useful = np.flatnonzero(_cleaned(filter_hat)[bins].any(axis=1))
    return bins[useful] if useful.size else bins[:1]


def sparse_fold(filters: list[np.ndarray], terms: list[np.ndarray], factor: int):
    """Stack per-filter gather tables, padding to a common number of terms with zero weights.

    Args:
      filters: real Fourier filters of length ``L``.
      terms: for each filter, full-spectrum bins ``(n_terms_i, M_out)`` (``wavelet_terms`` or
        ``lowpass_terms``).
      factor: the periodisation factor (weights are divided by it: ``D`` is a mean).

    Returns:
      ``(index, weight_real, weight_imag)``, each of shape ``(P, n_terms, M_out)``: indices into the
      half spectrum and the weights of its real and imaginary parts.
    """
    length = filters[0].shape[-1]
    n_terms = max(t.shape[0] for t in terms)
    out = terms[0].shape[1]
    index = np.zeros((len(filters), n_terms, out), dtype=np.int32)
    weight_real = np.zeros((len(filters), n_terms, out))
    weight_imag = np.zeros((len(filters), n_terms, out))
    # A filter repeated with the same bins (one wavelet on many paths) is tabulated once.
    tables: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for p, (filter_hat, bins) in enumerate(zip(filters, terms)):
        key = (id(filter_hat), id(bins))
        if key not in tables:
            half_bins, sign = _half_index(bins, length)
            weights = _cleaned(filter_hat)[bins] / factor
            tables[key] = (half_bins, weights, weights * sign)
        half_bins, weights, signed_weights = tables[key]
        index[p, : bins.shape[0]] = half_bins
        weight_real[p, : bins.shape[0]] = weights
        weight_imag[p, : bins.shape[0]] = signed_weights
    return index, weight_real, weight_imag


def without_zero_tail(index: np.ndarray, weight_real: np.ndarray, weight_imag: np.ndarray):
    """A :func:`sparse_fold` table without its trailing output bins whose weights are all zero.

    A wavelet's window starts at its support, so past the widest support of a group its output
    bins are zero in every filter; the transform writes those zeros instead of gathering and
    weighting them (first- and second-order tables of 1D J=6 Q=8 N=2048 and J=10 Q=8 N=65536: 36%
    of the entries). The kept bins are the same gathers and products, so the output is the same
    (the same bits for real input in every configuration checked; complex input to 1e-7).

    Returns:
      ``(index, weight_real, weight_imag, length)``: the tables cut to ``(P, n_terms, W)`` and the
      output length ``M`` they came from.
    """
    length = index.shape[-1]
    used = np.flatnonzero((weight_real != 0).any(axis=(0, 1)) | (weight_imag != 0).any(axis=(0, 1)))
    width = int(used[-1]) + 1 if used.size else 1
    return index[..., :width], weight_real[..., :width], weight_imag[..., :width], length
