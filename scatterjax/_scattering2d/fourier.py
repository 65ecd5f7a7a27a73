"""2D FFTs over the last two axes whose every image keeps its bits wherever it sits in the batch.

At padded sides of 300 and more XLA's CPU FFT rounded an image's real 2D transforms differently
alone and in a batch (see :mod:`scatterjax._core.fft_rows`): J=3 512x512 and J=5 256x256 gave
``jax.jit(S)(x) != S(x)``. There a 2D transform is written as its two 1D passes, each with its
transforms padded to whole SIMD groups; elsewhere it is XLA's 2D FFT, as before.
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp

from .._core.fft_rows import fft_of_last_two, is_group_sensitive
from .._core.lax_ops import fft_last_axes


def _grouped(a: jax.Array, sides) -> bool:
    """Whether images ``a`` (``(..., M, N)``) of spatial ``sides`` call for the padded passes."""
    return any(is_group_sensitive(side, math.prod(a.shape[:-2])) for side in sides)


def _rows_then_columns(row_fft, column_fft, images: jax.Array) -> jax.Array:
    """A 2D FFT as its two 1D passes, along the last axis then along the one before, each padded to
    whole SIMD groups."""
    m, n = images.shape[-2:]
    return fft_of_last_two(column_fft, fft_of_last_two(row_fft, images, -1, n), -2, m)


def rfft2(images: jax.Array) -> jax.Array:
    """``jnp.fft.rfft2(images)``: real ``(..., M, N)`` -> complex ``(..., M, N // 2 + 1)``."""
    if not _grouped(images, images.shape[-2:]):
        return fft_last_axes(images, "rfft", 2)
    return _rows_then_columns(partial(fft_last_axes, kind="rfft"), partial(jnp.fft.fft, axis=-2), images)


def irfft2(half: jax.Array, shape: tuple[int, int]) -> jax.Array:
    """``jnp.fft.irfft2(half, s=shape)`` for ``half`` of shape ``(..., shape[0], shape[1] // 2 + 1)``."""
    if not _grouped(half, shape):
        return fft_last_axes(half, "irfft", 2, n=shape[1])
    m, n = shape
    columns = fft_of_last_two(partial(jnp.fft.ifft, axis=-2), half, -2, m)
    return fft_of_last_two(partial(fft_last_axes, kind="irfft", n=n), columns, -1, n)


def ifft2(spectra: jax.Array) -> jax.Array:
    """``jnp.fft.ifft2(spectra)`` over the last two axes, complex ``(..., M, N)``."""
    if not _grouped(spectra, spectra.shape[-2:]):
        return fft_last_axes(spectra, "ifft", 2)
    return _rows_then_columns(partial(fft_last_axes, kind="ifft"), partial(jnp.fft.ifft, axis=-2), spectra)


def fft2(images: jax.Array) -> jax.Array:
    """``jnp.fft.fft2(images)`` over the last two axes of real ``(..., M, N)``, complex ``(..., M, N)``."""
    z = images.astype(jnp.result_type(images.dtype, jnp.complex64))
    if not _grouped(z, z.shape[-2:]):
        return fft_last_axes(z, "fft", 2)
    return _rows_then_columns(partial(fft_last_axes, kind="fft"), partial(jnp.fft.fft, axis=-2), z)
