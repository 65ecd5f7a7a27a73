"""Fourier-domain helpers shared by the 1D and 2D transforms.

Kymatio subsamples in the Fourier domain by periodisation: ``D_s(X)[m] = mean_i X[m + i L/s]``,
which is exactly the spectrum of the signal decimated by ``s``. We use real FFTs for real signals and
keep only the non-negative half of their spectra; these helpers fold such half spectra.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .._core.pytree import pytree_dataclass


def periodize(spectrum: jax.Array, factor: int, axis: int = -1) -> jax.Array:
    """Fold a full spectrum of length ``L`` into ``L / factor`` bins (mean over the periods).

    Args:
      spectrum: complex or real array with the frequency axis ``axis`` of length ``L``.
      factor: positive power of two dividing ``L``.

    Returns:
      array of the same dtype with length ``L // factor`` on ``axis``.
    """
    if factor == 1:
        return spectrum
    axis = axis % spectrum.ndim
    length = spectrum.shape[axis]
    shape = spectrum.shape[:axis] + (factor, length // factor) + spectrum.shape[axis + 1 :]
    return spectrum.reshape(shape).mean(axis=axis)


def hermitian_extend(half_spectrum: jax.Array, length: int) -> jax.Array:
    """Rebuild the full spectrum (last axis, ``length`` bins) of a real signal from its rfft."""
    negative = jnp.conj(half_spectrum[..., 1 : length - length // 2][..., ::-1])
    return jnp.concatenate([half_spectrum, negative], axis=-1)


def periodize_half(half_spectrum: jax.Array, length: int, factor: int) -> jax.Array:
    """Fold the rfft of a real signal of ``length`` samples by ``factor``; returns an rfft.

    Equal to ``rfft(irfft(half_spectrum, length)[::factor])``, computed in the Fourier domain.
    """
    if factor == 1:
        return half_spectrum
    full = hermitian_extend(half_spectrum, length)
    folded = periodize(full, factor)
    return folded[..., : length // factor // 2 + 1]



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
