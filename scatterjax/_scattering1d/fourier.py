"""Fourier-domain helpers shared by the 1D transform.

Kymatio subsamples in the Fourier domain by periodisation: ``D_s(X)[m] = mean_i X[m + i L/s]``,
which is exactly the spectrum of the signal decimated by ``s``. We use real FFTs for real signals and
keep only the non-negative half of their spectra; these helpers fold such half spectra.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .._core.pytree import pytree_dataclass


def hermitian_extend(half_spectrum: jax.Array, length: int) -> jax.Array:
    """Rebuild the full spectrum (last axis, ``length`` bins) of a real signal from its rfft."""
    negative = jnp.conj(half_spectrum[..., 1 : length - length // 2][..., ::-1])
    return jnp.concatenate([half_spectrum, negative], axis=-1)


def inverse_fft_parts(spectrum: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``ifft(spectrum)`` along the last axis, as its real and imaginary parts, from two real FFTs.

    Why not ``jnp.fft.ifft``: XLA's CPU FFT (DUCC) runs a complex transform of several rows either
    on the calling thread with the intra-op pool or, when XLA schedules it from a pool thread, on
    one thread; the rows then fall differently into SIMD groups and a scalar remainder, which round
    differently (lengths 512-2048 in float32: ~1e-7 relative). So the same input gave different
    bits from call to call, batch size to batch size, jit to eager. Real FFTs give every row the
    same bits wherever it sits, and for ``x`` real ``ifft(x) = conj(fft(x)) / L``, so
    ``ifft(a + ib) = (conj(A) + i conj(B)) / L`` with ``A, B`` the full spectra of ``a, b``
    (Hermitian extensions of their rfft). Same arithmetic and memory traffic as one complex FFT.

    Args:
      spectrum: complex array ``(..., L)``.

    Returns:
      ``(real, imag)``: real arrays ``(..., L)`` of the spectrum's precision.
    """
    length = spectrum.shape[-1]
    full_real = hermitian_extend(jnp.fft.rfft(spectrum.real, axis=-1), length)
    full_imag = hermitian_extend(jnp.fft.rfft(spectrum.imag, axis=-1), length)
    scale = 1.0 / length
    return (full_real.real + full_imag.imag) * scale, (full_imag.real - full_real.imag) * scale


def inverse_fft(spectrum: jax.Array) -> jax.Array:
    """``jnp.fft.ifft(spectrum, axis=-1)`` with the same bits for a row wherever it sits (see
    :func:`inverse_fft_parts`); complex, of the spectrum's precision."""
    return jax.lax.complex(*inverse_fft_parts(spectrum))



@pytree_dataclass
class SparseFold:
    """A filter product followed by Fourier-domain subsampling, as a gather table (see ``_windows``).

    Leaves of shape ``(P, n_terms, M)``: ``index`` (int32) into a half spectrum (flattened over
    source rows when applied with :func:`fold_rows`), and real weights for the real and imaginary
    parts of each gathered bin.
    """

    index: jax.Array
    weight_real: jax.Array
    weight_imag: jax.Array


def _weighted_sum(values: jax.Array, fold: SparseFold) -> jax.Array:
    dtype = values.real.dtype
    real = (values.real * fold.weight_real.astype(dtype)).sum(axis=-2)
    imag = (values.imag * fold.weight_imag.astype(dtype)).sum(axis=-2)
    return jax.lax.complex(real, imag)


def fold_rows(half_spectra: jax.Array, fold: SparseFold) -> jax.Array:
    """Apply ``fold`` to half spectra ``(B, R, H)`` (rows chosen by its indices); returns ``(B, P, M)``."""
    flat = half_spectra.reshape(half_spectra.shape[0], -1)
    return _weighted_sum(jnp.take(flat, fold.index, axis=-1, mode="clip"), fold)


def fold_each(half_spectra: jax.Array, fold: SparseFold) -> jax.Array:
    """Apply a one-filter ``fold`` (P = 1) to every row of ``(B, R, H)``; returns ``(B, R, M)``."""
    return _weighted_sum(jnp.take(half_spectra, fold.index[0], axis=-1, mode="clip"), fold)
