"""First-order wavelet coefficients before averaging: ``x ⋆ ψ_n1`` and the scalogram ``|x ⋆ ψ_n1|``.

The transform computes ``U1 = |x ⋆ ψ_n1|`` group by group, each group at its own rate ``2**k1``,
and averages it at once. These pure functions return the first-order coefficients of every
wavelet at one common rate (a time stride ``2**s``, cropped to the unpadded signal), for plotting
or for building other representations on them:

- :func:`wavelet_transform_1d`: the complex coefficients ``(x ⋆ ψ_n1)[stride * t]``;
- :func:`scalogram_1d`: their moduli, the transform's ``U1`` (equal to it at ``stride = 2**k1``).

Subsampling in time after a convolution is a periodisation of its spectrum (see ``fourier.py``), so
the tables here are the transform's own sparse folds (``windows.py``), built at the requested
stride for every wavelet at once, with one difference: the transform demodulates each window (a
phase the modulus removes), while here output bin ``m`` holds the true periodised bin ``m``, so the
complex coefficients keep their phase. The values at any stride are exact samples of the
full-rate coefficients; the stride only decides how many samples there are.
"""

from __future__ import annotations

import functools
import numbers

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Complex, Float

from .._core.amplitude import amplitude_exponents, from_normal_amplitude, to_normal_amplitude
from .._core.complex_input import join_spectra, stack_parts
from .._core.frozen import frozen
from .._core.lax_ops import fft_last_axes
from .._core.modulus import modulus_of_parts
from .._core.padding import pad_signal
from .._core.promotion import default_promotion
from .._core.pytree import pytree_dataclass, static_field
from .._core.validation import check_real_input
from . import design as design
from .bank import FilterBank1D, sparse_fold_leaf
from .fourier import SparseFold, fold_rows, inverse_fft, inverse_fft_parts
from .windows import sparse_fold, wavelet_terms


@pytree_dataclass
class ScalogramFilters:
    """First-order wavelets as one gather table at one stride, ready for the jitted functions.

    Leaves (weights float32, or float64 when ``jax_enable_x64`` was on when they were built):
      psi: a :class:`SparseFold` of every first-order wavelet (``P = N1``, in ``n1`` order) reading
        the half spectrum of the padded input and periodising by ``stride``, phases kept.

    Static:
      N: unpadded signal length; pad_left, pad_right, pad_mode: the transform's padding;
      stride_log2: log2 of the time stride; start, end: the unpadded signal at that stride.
    """

    psi: SparseFold
    N: int = static_field()
    pad_left: int = static_field()
    pad_right: int = static_field()
    pad_mode: str = static_field()
    stride_log2: int = static_field()
    start: int = static_field()
    end: int = static_field()


def check_stride(stride, max_log2: int) -> int:
    """log2 of a scalogram stride: a power-of-two int in ``[1, 2**max_log2]``, else a TypeError or ValueError."""
    if isinstance(stride, (np.integer, np.ndarray, jax.Array)) and np.ndim(stride) == 0:
        stride = np.asarray(stride).item()
    if isinstance(stride, bool) or not isinstance(stride, numbers.Integral):
        raise TypeError(
            f"stride must be a power-of-two int (1, 2, 4, ...); got {stride!r} of type "
            f"{type(stride).__name__}. Pass e.g. stride=1 (full rate)."
        )
    stride = int(stride)
    if stride < 1 or stride & (stride - 1) or stride > 2**max_log2:
        raise ValueError(
            f"stride must be a power of two from 1 (full rate) to 2**{max_log2} = {2**max_log2} "
            f"(the coarsest resolution of this transform); got stride={stride}. Use stride=1 for "
            "the full rate, or 2**j for a wavelet's own rate (j from S.meta()['j'])."
        )
    return stride.bit_length() - 1


@functools.lru_cache(maxsize=4)
def _design(
    N_padded: int, xi: tuple[float, ...], sigma: tuple[float, ...], stride_log2: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The gather table ``(index, weight_real, weight_imag)``, NumPy float64 (cached: flax NNX
    modules rebuild their transform object on every attribute read)."""
    factor = 2**stride_log2
    filters = design.morlet_filters(N_padded, xi, sigma)
    # keep_phase: output bin m holds the true periodised bin m, which keeps the phase of x ⋆ ψ.
    terms = [wavelet_terms(filter_hat, factor, keep_phase=True) for filter_hat in filters]
    return sparse_fold(filters, terms, factor)


def scalogram_filters(bank: FilterBank1D, stride: int = 1) -> ScalogramFilters:
    """Design the first-order wavelets of ``bank`` as one table at time stride ``stride``.

    Reads only the bank's static fields (its plan and wavelet parameters), so ``bank`` may hold
    traced arrays. The leaves are built in JAX's canonical float dtype at the time of the call.

    Args:
      bank: a :class:`FilterBank1D`, e.g. ``Scattering1D(...).bank``.
      stride: a power of two from 1 to ``2**max(log2_T, J)``.

    Returns:
      a :class:`ScalogramFilters` to pass to :func:`scalogram_1d` / :func:`wavelet_transform_1d`.
    """
    plan = bank.plan
    stride_log2 = check_stride(stride, len(plan.ind_start) - 1)
    index, weight_real, weight_imag = _design(plan.N_padded, bank.xi1, bank.sigma1, stride_log2)
    # Concrete arrays even when called under a trace (a cached tracer would leak out of it).
    with jax.ensure_compile_time_eval():
        psi = sparse_fold_leaf(index, weight_real, weight_imag)
    return ScalogramFilters(
        psi=psi,
        N=plan.N,
        pad_left=plan.pad_left,
        pad_right=plan.pad_right,
        pad_mode=plan.pad_mode,
        stride_log2=stride_log2,
        start=plan.ind_start[stride_log2],
        end=plan.ind_end[stride_log2],
    )


def _spectra(x, filters: ScalogramFilters) -> tuple[jax.Array, tuple[int, ...]]:
    """Periodised spectra ``(B, N1, N_padded / stride)`` of every ``x ⋆ ψ_n1``, and the batch shape.

    Complex ``x = a + i b`` goes through the real route as ``a`` and ``b`` stacked along the batch,
    joined after the fold (see ``scatterjax._core.complex_input``), as in the transform.
    """
    x = check_real_input(x, (filters.N,), complex_ok=True)
    filters = frozen(filters)
    flat = x.reshape((-1, filters.N))
    if flat.shape[0] == 0:  # an empty batch: fold_rows cannot reshape zero rows to (0, -1)
        flat = jnp.zeros((1, filters.N), x.dtype)
        return _spectra(flat, filters)[0][:0], x.shape[:-1]
    complex_input = jnp.iscomplexobj(flat)
    if complex_input:
        flat = stack_parts(flat)
    padded = pad_signal(flat, ((0, 0), (filters.pad_left, filters.pad_right)), filters.pad_mode)
    spectra = fold_rows(fft_last_axes(padded, "rfft")[:, None], filters.psi)
    return (join_spectra(spectra) if complex_input else spectra), x.shape[:-1]


@default_promotion
def wavelet_transform_1d(
    x: Float[ArrayLike, "*batch n"], filters: ScalogramFilters
) -> Complex[Array, "*batch n1 time"]:
    """Complex first-order wavelet coefficients ``(x ⋆ ψ_n1)[stride * t]``, cropped to the signal.

    Args:
      x: float32/float64 (or complex64/complex128) array of shape ``(*batch, N)``.
      filters: :func:`scalogram_filters` (or ``Scattering1D.scalogram_filters(stride)``).

    Returns:
      complex64 (complex128 for float64 input under x64) array ``(*batch, N1, N_out)``, ``N1``
      wavelets in ``n1`` order, ``N_out = ceil(N / stride)`` samples (kymatio's crop indices);
      sample ``t`` is at input time ``stride * t`` (circular convolution of the padded signal).

    Example:
      >>> import jax, jax.numpy as jnp, scatterjax
      >>> S = scatterjax.Scattering1D(J=4, shape=256, Q=4)
      >>> filters = scatterjax.scalogram_filters(S.bank, stride=4)
      >>> jax.jit(scatterjax.wavelet_transform_1d)(jnp.ones((2, 256)), filters).shape
      (2, 14, 64)
    """
    spectra, batch_shape = _spectra(x, filters)
    out = inverse_fft(spectra)[..., filters.start : filters.end]
    return out.reshape(batch_shape + out.shape[1:])


@default_promotion
def scalogram_1d(
    x: Float[ArrayLike, "*batch n"], filters: ScalogramFilters
) -> Float[Array, "*batch n1 time"]:
    """First-order moduli ``|x ⋆ ψ_n1|[stride * t]`` (the transform's ``U1``), cropped to the signal.

    Args:
      x: float32/float64 (or complex64/complex128) array of shape ``(*batch, N)``.
      filters: :func:`scalogram_filters` (or ``Scattering1D.scalogram_filters(stride)``).

    Returns:
      real array ``(*batch, N1, N_out)`` of ``x``'s precision, as :func:`wavelet_transform_1d`;
      the gradient of the modulus is taken as zero where the coefficient is zero.

    Example:
      >>> import jax, jax.numpy as jnp, scatterjax
      >>> S = scatterjax.Scattering1D(J=4, shape=256, Q=4)
      >>> filters = scatterjax.scalogram_filters(S.bank)
      >>> jax.jit(scatterjax.scalogram_1d)(jnp.ones((2, 256)), filters).shape
      (2, 14, 256)
    """
    x = check_real_input(x, (filters.N,), complex_ok=True)
    flat = x.reshape((-1, filters.N))
    shift = amplitude_exponents(flat, 1)  # tiny or huge signals: see scatterjax._core.amplitude
    spectra, _ = _spectra(to_normal_amplitude(flat, shift), filters)
    out = modulus_of_parts(*inverse_fft_parts(spectra))[..., filters.start : filters.end]
    return from_normal_amplitude(out, shift).reshape(x.shape[:-1] + out.shape[1:])


def cached_scalogram_filters(cache: dict, bank: FilterBank1D, stride) -> ScalogramFilters:
    """:func:`scalogram_filters`, memoised in ``cache`` by stride and float dtype."""
    stride_log2 = check_stride(stride, len(bank.plan.ind_start) - 1)
    key = (stride_log2, jnp.result_type(float).name)
    if key not in cache:
        cache[key] = scalogram_filters(bank, 2**stride_log2)
    return cache[key]
