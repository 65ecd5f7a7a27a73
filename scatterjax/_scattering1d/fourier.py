"""Fourier-domain helpers shared by the 1D transform.

Kymatio subsamples in the Fourier domain by periodisation: ``D_s(X)[m] = mean_i X[m + i L/s]``,
which is exactly the spectrum of the signal decimated by ``s``. We use real FFTs for real signals and
keep only the non-negative half of their spectra; these helpers fold such half spectra.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_derivatives import SymbolicZero

from .._core.cpu_threads import cpu_threads
from .._core.fft_rows import grouped_rows, is_group_sensitive
from .._core.lax_ops import fft_last_axes, pad_zeros, take_last_axis
from .._core.promotion import default_promotion
from .._core.pytree import pytree_dataclass, static_field


def inverse_fft(spectrum: jax.Array) -> jax.Array:
    """``jnp.fft.ifft(spectrum, axis=-1)``, each row with the same bits wherever it sits.

    XLA's CPU FFT (DUCC) transforms a batch of complex rows in SIMD groups plus a scalar
    remainder that rounds differently (lengths 512-2048: ~1e-7 relative), and splits the batch
    across threads or not depending on which thread XLA runs it from. So a row's bits depended on
    its place in the batch and even changed from call to call. At those lengths the rows are
    padded with zeros to a count where every row is in a full group under every split
    (:func:`scatterjax._core.fft_rows.grouped_rows`); the padding costs at most a few groups of
    rows. Other backends and lengths run the FFT as is. Under ``jax.vmap`` the padding is sized
    for one example, not for the mapped batch, so there rows agree to rounding only.

    Args:
      spectrum: complex array ``(..., L)``.

    Returns:
      complex array ``(..., L)``.
    """
    length = spectrum.shape[-1]
    lead = spectrum.shape[:-1]
    count = math.prod(lead)
    # A symbolic batch (jax.export, the TensorFlow adapter's jax2tf) has no row count to pad to.
    if not is_group_sensitive(length, count) or count == 0:
        return fft_last_axes(spectrum, "ifft")
    itemsize = spectrum.real.dtype.itemsize
    rows = grouped_rows(count, length, itemsize, cpu_threads())
    flat = spectrum.reshape(count, length)
    if rows != count:
        flat = pad_zeros(flat, ((0, rows - count), (0, 0)))
    return fft_last_axes(flat, "ifft")[:count].reshape(spectrum.shape)


def inverse_fft_parts(spectrum: jax.Array) -> tuple[jax.Array, jax.Array]:
    """:func:`inverse_fft` as its real and imaginary parts (real arrays ``(..., L)``)."""
    out = inverse_fft(spectrum)
    return out.real, out.imag


@pytree_dataclass
class SparseFold:
    """A filter product followed by Fourier-domain subsampling, as a gather table (see ``_windows``).

    Leaves of shape ``(P, n_terms, M)``: ``index`` (int32) into a half spectrum (flattened over
    source rows when applied with :func:`fold_rows`), and real weights for the real and imaginary
    parts of each gathered bin.

    Static: ``length``, the output's bins when the tables stop short of it (``M < length``): the
    output bins from ``M`` on have zero weight in every filter, so the tables leave them out and the
    fold writes zeros there (0: the output has the tables' ``M`` bins).
    """

    index: jax.Array
    weight_real: jax.Array
    weight_imag: jax.Array
    length: int = static_field(default=0)


def _weighted_sum(values: jax.Array, fold: SparseFold) -> jax.Array:
    """``sum_t values[..., t, :] * weight[..., t, :]`` over the fold's few terms (axis -2), real and
    imaginary parts weighted apart; ``(..., T, M) -> (..., M)``.

    The terms are added one by one (a static handful: aliases of a subsampled filter's support), so
    the gather, the products and the sum are one elementwise loop. As a reduction, XLA:CPU compiled
    each two-term fold into a gather, two part extractions, two library reductions and a join (1D
    J=6 N=2048, eager chunk program: 69 -> 34 kernels, XLA compile about 30% shorter).
    """
    dtype = values.real.dtype
    weight_real = fold.weight_real.astype(dtype)
    weight_imag = fold.weight_imag.astype(dtype)
    real = values[..., 0, :].real * weight_real[..., 0, :]
    imag = values[..., 0, :].imag * weight_imag[..., 0, :]
    for term in range(1, values.shape[-2]):
        real = real + values[..., term, :].real * weight_real[..., term, :]
        imag = imag + values[..., term, :].imag * weight_imag[..., term, :]
    out = jax.lax.complex(real, imag)
    missing = fold.length - out.shape[-1]
    return pad_zeros(out, [(0, 0)] * (out.ndim - 1) + [(0, missing)]) if missing > 0 else out


def fold_rows(half_spectra: jax.Array, fold: SparseFold) -> jax.Array:
    """Apply ``fold`` to half spectra ``(B, R, H)`` (rows chosen by its indices); returns ``(B, P, M)``.

    The fold's indices are positions in the flattened spectra by construction (the tables of
    :mod:`scatterjax._scattering1d.windows` reduce every bin modulo the spectrum's length), so the
    gather promises them in bounds: no clipping, and no clamped copy of them in the gradient's
    scatter-add."""
    flat = half_spectra.reshape(half_spectra.shape[0], -1)
    return _weighted_sum(take_last_axis(flat, fold.index, in_bounds=True), fold)


def fold_each(half_spectra: jax.Array, fold: SparseFold) -> jax.Array:
    """Apply a one-filter ``fold`` (P = 1) to every row of ``(B, R, H)``; returns ``(B, R, M)``
    (indices in bounds, as in :func:`fold_rows`)."""
    return _weighted_sum(take_last_axis(half_spectra, fold.index[0], in_bounds=True), fold)


@pytree_dataclass
class SparseFolds:
    """Several ``fold_rows`` tables that read the same half spectra, their indices joined in one array.

    Leaves: ``index`` (int32, 1D): every fold's :class:`SparseFold` index, flattened, one fold after
    another; ``weight_real`` and ``weight_imag``: per fold, ``(P, T, M)`` (the shape of its index).
    Static: ``lengths``, per fold, its output length (:attr:`SparseFold.length`; empty: every fold's
    ``M``).
    The joined index is what the derivative of :func:`fold_together` gathers with: stored once in
    the bank, it is not concatenated again on every call (``jit(value_and_grad)``, 1D J=6 Q=8
    N=2048: XLA temporaries 3.17 -> 2.65 MB, about 5-10% less time; J=10 Q=8 N=65536 x4: 295 ->
    272 MB). The forward program is the same (the slices are read inside the gathers).
    """

    index: jax.Array
    weight_real: tuple[jax.Array, ...]
    weight_imag: tuple[jax.Array, ...]
    lengths: tuple[int, ...] = static_field(default=())

    def __len__(self) -> int:
        return len(self.weight_real)

    def split(self, joined: jax.Array) -> list[jax.Array]:
        """An array whose last axis runs along the joined index, as one ``(..., P, T, M)`` piece per
        fold (static slices)."""
        pieces, start = [], 0
        for weight in self.weight_real:
            stop = start + weight.size
            pieces.append(joined[..., start:stop].reshape(joined.shape[:-1] + weight.shape))
            start = stop
        return pieces

    def folds(self) -> list[SparseFold]:
        """The folds, their indices read from the joined array."""
        lengths = self.lengths or (0,) * len(self)
        return [
            SparseFold(index, weight_real, weight_imag, length)
            for index, weight_real, weight_imag, length in zip(
                self.split(self.index), self.weight_real, self.weight_imag, lengths, strict=True
            )
        ]


def join_folds(indices: Sequence[np.ndarray]) -> np.ndarray:
    """The joined index of :class:`SparseFolds` from its folds' NumPy index tables."""
    return np.concatenate([np.asarray(index, np.int32).reshape(-1) for index in indices])


def fold_together(half_spectra: jax.Array, folds: SparseFolds) -> list[jax.Array]:
    """Every fold of ``folds`` applied to the half spectra ``(B, R, H)``: the numbers of
    ``[fold_rows(half_spectra, fold) for fold in folds.folds()]``.

    Evaluated, every fold is its own gather, product and sum (one elementwise loop each, as alone).
    Differentiated with respect to the spectra, the folds are one linear map, a single gather of
    every fold's bins (with the joined index), which reverse mode turns into one scatter-add into
    one zeroed cotangent. Separate folds each scattered into a zeroed copy of the whole spectra, and
    the copies were then added (1D J=10 Q=8 N=65536 x4, ``jit(value_and_grad)``: 428 -> 297 fused
    kernels, XLA compile about a third shorter, the same run time).

    Args:
      half_spectra: complex ``(B, R, H)``.
      folds: :class:`SparseFolds` whose tables index the flattened ``(R * H)`` spectra.

    Returns:
      one complex array ``(B, P, length)`` per fold (``length``: its output length, ``M`` or more).
    """
    return _fold_together(half_spectra, folds)


@jax.custom_jvp
def _fold_together(half_spectra, folds: SparseFolds):
    return [fold_rows(half_spectra, fold) for fold in folds.folds()]


def _one_gather(half_spectra: jax.Array, folds: SparseFolds) -> list[jax.Array]:
    """:func:`fold_together` as one gather from the flattened spectra (linear in them)."""
    batch = half_spectra.shape[0]
    flat = half_spectra.reshape(batch, -1)
    # The tables hold valid bins by construction: no clamped copy of the indices in the transpose.
    gathered = take_last_axis(flat, folds.index, in_bounds=True)
    return [_weighted_sum(values, fold) for values, fold in zip(folds.split(gathered), folds.folds(), strict=True)]


def _fold_together_jvp(primals, tangents):
    (half_spectra, folds), (d_spectra, d_folds) = primals, tangents
    out = _fold_together(half_spectra, folds)
    if isinstance(d_spectra, SymbolicZero):
        d_out = [jnp.zeros(o.shape, o.dtype) for o in out]
    else:
        d_out = _one_gather(d_spectra, folds)
    for i, (fold, d_real, d_imag) in enumerate(zip(folds.folds(), d_folds.weight_real, d_folds.weight_imag)):
        if isinstance(d_real, SymbolicZero) and isinstance(d_imag, SymbolicZero):
            continue  # the filters are constants (stop_gradient) in the transforms
        d_real, d_imag = (
            jnp.zeros(w.shape, w.dtype) if isinstance(d, SymbolicZero) else d
            for d, w in zip((d_real, d_imag), (fold.weight_real, fold.weight_imag))
        )
        d_out[i] = d_out[i] + fold_rows(half_spectra, SparseFold(fold.index, d_real, d_imag, fold.length))
    return out, d_out


_fold_together.defjvp(default_promotion(_fold_together_jvp), symbolic_zeros=True)
