"""The pure 2D scattering transform: ``scattering2d(x, bank)``.

The math is kymatio 0.3.0's (its ``scattering2d`` core), organised by resolution instead of path by path.
At level ``j`` (images of ``(M_padded, N_padded) / 2**j``) land the ``L`` first-order wavelets of
scale ``j`` applied to the input, and the ``L`` second-order wavelets of scale ``j`` applied to
each of the ``j L`` first-order moduli of scales ``j1 < j``. Each group is one batched
multiply-and-fold; the first-order stack, then the second-order stack, go through one ``ifft2``,
modulus and low-pass (the same low-pass for both). ``J`` such steps make the whole
transform, so the program stays small (tens of fused ops) whatever ``J`` and ``L``.

The images that wavelets filter (the padded input, the first-order moduli with second-order
children) are transformed with a complex ``fft2``; every wavelet product (not Hermitian) comes back
with a complex ``ifft2``. The other moduli (second order, and the last scale of first order) need
no spectrum but for their low-pass: in float32 with a small output (at most 64 pixels a side) they
are averaged in space, by two matrix products per image (the low-pass is a separable Gaussian),
which replace an ``rfft2`` and an ``irfft2`` and run faster evaluated and differentiated (J=3 L=8
256x256: ``S(x)`` of 24 images 480 -> 381 ms, ``jit(value_and_grad)`` of 4 images 340 -> 256 ms).
Otherwise, and always in float64 (which applies kymatio's float32 filter exactly, where the
separable form differs from it by its rounding, 1.4e-7 of the largest average), they go through
``rfft2``, the Fourier low-pass and ``irfft2``.

Memory traffic, not arithmetic, dominates on CPUs: wavelet products are folded as soon as they are
formed (sums of aligned blocks, real and imaginary parts apart, which XLA fuses into one loop);
images go through in chunks (``lax.map``) of a few MB, and the second-order stacks (most of the
work) in chunks of a few hundred KB, so each FFT's passes stay in cache. Chunking also bounds
peak memory, whatever the batch size. Inside a caller's ``jax.jit`` on a CPU the stacks' loops are
unrolled into pieces instead (:func:`scatterjax._core.chunking.map_in_pieces`): XLA's CPU executor
runs a loop on one thread, and shares out ready work only when more than 8 operations are ready.
On accelerators chunks are large (see ``_chunking.chunk_budget``).

Differentiated (``jax.grad``, ``jax.jvp``), the chunk loops are replaced by the whole batch
(:func:`scatterjax._core.remat_chunks.map_in_chunks_differentiable`): reverse mode through a loop
of small steps stacks and replays every step, measured 2.7x slower than the unchunked program
(J=3, L=8, 128x128, batch 2). On CPU the batch of images is written instead as up to
``_DERIVATIVE_PARTS`` independent copies of the transform (each part's intermediates nearer the
cache, and work for a second thread), the second-order stacks inside each as one. Two choices
keep reverse mode lean. The Fourier-domain folds differentiate as reductions
(:func:`_folded_product`), whose transpose is one tiled multiply. And a spectrum is broadcast over
the wavelets as a complex array, so the transpose's sum over the wavelets is a complex reduction,
which XLA's CPU backend runs as a plain loop. The float32 sums go to its YNNPACK library, which was
4x slower on these strided sums (J=2 L=8 32x32: 4.5 ms -> 1.0 ms per ``jit(value_and_grad)`` with
both changes).
"""

from __future__ import annotations

import functools
import math
import operator

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._core.amplitude import amplitude_exponents, from_normal_amplitude, to_normal_amplitude
from .._core.bilinear import bilinear_map
from .._core.chunking import PIECES_FOR_THE_EXECUTOR
from .._core.complex_input import join_modulus, join_spectrum_parts, stack_parts
from .._core.empty_batch import empty_batch_output, is_empty_batch
from .._core.frozen import frozen
from .._core.modulus import modulus
from .._core.padding import pad_signal
from .._core.promotion import default_promotion
from .._core.reductions import add_aligned_slices
from .._core.remat_chunks import map_in_chunks_differentiable
from .._core.validation import check_real_input
from .bank import FilterBank2D, Plan2D
from .fourier import fft2, ifft2, irfft2, rfft2

# Chunk budgets, in bytes of the largest complex intermediate of one chunk. On CPU, memory
# traffic rather than arithmetic bounds the speed, so chunks are sized to stay in cache: images go
# through the transform a few MB at a time, and the second-order moduli (most of the work) are
# transformed a few hundred KB at a time, which keeps each FFT's passes in L2. An accelerator
# wants large kernels instead, so chunking there only bounds peak memory.
_CHUNK_BYTES = 4 * 2**20
_SECOND_ORDER_CHUNK_BYTES = 2**18


# Differentiated, the batch of images is written as up to this many independent computations
# (consecutive images each, cut by one lax.split), and the second-order stacks inside as one.
# J=3 L=8 256x256 batch 4, jit(value_and_grad) on 2 cores, median / first call: whole batch
# 268 ms / 1.6 s; 2 parts 207 ms / 2.0 s; 4 parts 185 ms / 2.8 s; 4 parts and the second-order
# stacks in 8 parts too, 176 ms / 4.1 s. Each part's intermediates are a quarter of the batch's
# (nearer the cache), and independent parts give XLA's runtime work for a second thread.
_DERIVATIVE_PARTS = 4

# Folds with at most this many blocks are written as one sum of aligned slices; more, as passes of
# at most this many slices each.
_MAX_UNROLLED_BLOCKS = 16


def _split_blocks(a: jax.Array, row_factor: int, col_factor: int) -> jax.Array:
    """``(..., M, N)`` viewed as ``(..., row_factor, M / row_factor, col_factor, N / col_factor)``."""
    rows, cols = a.shape[-2] // row_factor, a.shape[-1] // col_factor
    return a.reshape(a.shape[:-2] + (row_factor, rows, col_factor, cols))


def _folded_product_by_reduction(array, weights, row_factor: int, col_factor: int):
    return (_split_blocks(array, row_factor, col_factor) * _split_blocks(weights, row_factor, col_factor)).sum(
        axis=(-4, -2)
    )


def _sum_of_blocks(blocks: list[jax.Array]) -> jax.Array:
    """``blocks[0] + blocks[1] + ...``, in that order."""
    return functools.reduce(operator.add, blocks)


def _fold_axis(a: jax.Array, axis: int, factor: int) -> jax.Array:
    """Sum of the ``factor`` aligned blocks of ``a`` along ``axis``, in passes of at most
    ``_MAX_UNROLLED_BLOCKS`` slices (``factor`` a power of two)."""
    while factor > 1:
        count = min(factor, _MAX_UNROLLED_BLOCKS)
        a = add_aligned_slices(a, count, axis=axis)
        factor //= count
    return a


@bilinear_map(_folded_product_by_reduction, nondiff_argnums=(2, 3))
def _folded_product(array: jax.Array, weights: jax.Array, row_factor: int, col_factor: int):
    """Sum over aligned blocks of ``array * weights`` (last two axes cut into ``row_factor`` x
    ``col_factor`` blocks, powers of two; broadcasting over the leading axes).

    Evaluated, the blocks' products are formed where they are summed, as sums of aligned slices
    (elementwise adds in a fixed order), so XLA fuses them into one loop that reads ``array`` and
    ``weights`` once and never materialises the full-size product. Up to
    ``_MAX_UNROLLED_BLOCKS`` blocks are summed at once; more (``J >= 4``) in passes of at most that
    many, rows first, which keeps the program small. Not as a reduction: the passes run faster
    (J=5 L=8 256x256 batch 8, alternating runs: eager 0.50-0.54 -> 0.27-0.32 s, inside jit
    0.49-0.50 -> 0.38-0.41 s), and each output element of a sum of slices depends on its own image
    by construction, where XLA's float32 reductions may round a row by the number of rows in the
    call (seen in 3D, though not from these folds).

    The derivative is written as a reduction over the blocks whatever their number: reverse mode
    transposes it into one broadcast multiply (the cotangent tiled over the blocks, times the
    weights), where the transpose of the slices is a sum of ``row_factor * col_factor`` zero-padded
    full-size arrays, each element of which costs one select per block (2D J=3 L=8 256x256 batch 4,
    ``jit(value_and_grad)``: that sum took 175 ms of 530).
    """
    rows, cols = array.shape[-2] // row_factor, array.shape[-1] // col_factor
    if row_factor * col_factor <= _MAX_UNROLLED_BLOCKS:
        products = []
        for a in range(row_factor):
            for b in range(col_factor):
                block = (..., slice(a * rows, (a + 1) * rows), slice(b * cols, (b + 1) * cols))
                products.append(array[block] * weights[block])
        return _sum_of_blocks(products)
    # The first pass forms the products: a row fold if there is one, else a column fold.
    axis, factor = (-2, row_factor) if row_factor > 1 else (-1, col_factor)
    count = min(factor, _MAX_UNROLLED_BLOCKS)
    size = array.shape[axis] // count
    total = _sum_of_blocks([
        jax.lax.slice_in_dim(array, k * size, (k + 1) * size, axis=axis)
        * jax.lax.slice_in_dim(weights, k * size, (k + 1) * size, axis=axis)
        for k in range(count)
    ])
    if axis == -2:
        return _fold_axis(_fold_axis(total, -2, row_factor // count), -1, col_factor)
    return _fold_axis(total, -1, col_factor // count)


def _spectra_of_real(images: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(rfft2(images), real part, imaginary part of fft2(images))`` for real images.

    Both come from one complex ``fft2`` (the half spectrum is its first ``N // 2 + 1`` columns).
    Rebuilding the full spectrum from ``rfft2`` by Hermitian symmetry instead (mirrored, reversed,
    concatenated halves) ran no faster and took six more fused loops to compile (J=2 L=8 32x32,
    eager chunk program: 0.26 -> 0.20 s of XLA compile; J=3 L=8 256x256, one image: 23.4-24.5 ->
    22.1-23.4 ms). Reverse mode then transposes one FFT too (J=3, L=8, 128x128, batch 2,
    ``jit(value_and_grad)``: 5% faster and compiled 12% faster than through the transposes of
    ``rfft2`` and of the mirrored halves).
    """
    full = fft2(images)
    return full[..., : images.shape[-1] // 2 + 1], jnp.real(full), jnp.imag(full)


def _lowpass(
    u_half: jax.Array, phi_half: jax.Array, shape: tuple[int, int], factor: int
) -> jax.Array:
    """Average real images (given by their rfft2, spatial ``shape``), subsample by ``factor``,
    drop the one-pixel border (kymatio's ``unpad``).

    kymatio subsamples in the Fourier domain (mean of the aligned blocks of the spectrum, on both
    axes), which is exactly decimation in space. The rows (a full axis of the rfft2) are folded
    while multiplying by the filter; the columns (a half axis) are decimated after the inverse
    transform, which costs a slightly larger ``irfft2`` but no Hermitian bookkeeping.
    """
    m, n = shape
    if factor == 1:
        rows_folded = u_half * phi_half
    else:
        rows_folded = _folded_product(u_half, phi_half, factor, 1) * (1.0 / factor)
    averaged = irfft2(rows_folded, (m // factor, n))[..., ::factor]
    return averaged[..., 1:-1, 1:-1]


def _lowpass_in_space(u: jax.Array, rows: jax.Array, columns: jax.Array) -> jax.Array:
    """Average and decimate real images ``u`` ``(..., m, n)`` in space: ``rows @ u @ columns``,
    ``(..., p, q)`` (see :func:`scatterjax._scattering2d.design.lowpass_in_space`).

    Each image is its own product in a batched matrix product (the matrices broadcast to the
    batch): a product over the stacked rows of every image rounded an image's outputs by the
    number of images in the call (XLA's CPU GEMM), and ``S(x)`` must give each image the bits of
    ``jax.jit(S)(x)``, whatever the batch. The products are float32 throughout
    (``Precision.HIGHEST``): by default GPUs multiply float32 matrices in TF32 and TPUs in
    bfloat16, which would cost the coefficients their float32 accuracy.
    """
    lead = u.shape[:-2]
    images = u.reshape((-1,) + u.shape[-2:])
    count = images.shape[0]

    def batched_product(a, b):
        return jax.lax.dot_general(
            a, b, (((2,), (1,)), ((0,), (0,))), precision=jax.lax.Precision.HIGHEST
        )

    averaged = batched_product(images, jnp.broadcast_to(columns, (count,) + columns.shape))
    averaged = batched_product(jnp.broadcast_to(rows, (count,) + rows.shape), averaged)
    return averaged.reshape(lead + averaged.shape[-2:])


def _wavelet_product(spectrum: jax.Array, filters: jax.Array, factor: int) -> jax.Array:
    """``D_factor(spectrum * filters)`` over the last two axes (broadcasting), complex.

    ``D_factor`` is Fourier-domain subsampling: the mean of the ``factor**2`` aligned blocks, i.e.
    the spectrum of the image decimated by ``factor`` on both axes. ``spectrum`` is a full (not
    half) complex spectrum; ``filters`` is real. The spectrum is broadcast to the filters' stack
    while complex, then split into real and imaginary parts: reverse mode then sums the cotangents
    over the filters in complex arithmetic (see the module docstring).
    """
    spectrum = jnp.broadcast_to(spectrum, jnp.broadcast_shapes(spectrum.shape, filters.shape))
    real, imag = jnp.real(spectrum), jnp.imag(spectrum)
    if factor == 1:
        return jax.lax.complex(real * filters, imag * filters)
    scale = 1.0 / factor**2
    return jax.lax.complex(
        _folded_product(real, filters, factor, factor) * scale,
        _folded_product(imag, filters, factor, factor) * scale,
    )


def image_bytes(plan: Plan2D, itemsize: int) -> int:
    """Largest complex intermediate of one image: its first-order wavelet products at level 0,
    or one level's second-order wavelet products."""
    sizes = [plan.L * plan.M_padded * plan.N_padded]
    if plan.max_order == 2:
        sizes += [level * plan.L**2 * math.prod(plan.level_shape(level)) for level in range(plan.J)]
    return max(sizes) * 2 * itemsize


def _transform_chunk(images: jax.Array, bank: FilterBank2D) -> jax.Array:
    """All coefficients of a chunk of padded images ``(c, M_padded, N_padded)``, kymatio's order.

    The work is organised by resolution. At level ``j`` (images of ``(M_padded, N_padded) / 2**j``)
    land the ``L`` first-order wavelets of scale ``j`` applied to the input, and the ``L``
    second-order wavelets of scale ``j`` applied to each first-order modulus of a scale ``j1 < j``:
    all of them share the modulus and the low-pass of that level.
    """
    plan = bank.plan
    complex_input = jnp.iscomplexobj(images)  # static: real input runs exactly as before
    if complex_input:  # the real first stage on the real and imaginary parts, stacked
        images = stack_parts(images)
    dtype = images.dtype
    J, L = plan.J, plan.L
    x_half, real, imag = _spectra_of_real(images)
    if complex_input:
        real, imag = join_spectrum_parts(real, imag)
    count = real.shape[0]
    x_full = jax.lax.complex(real, imag)[:, None]

    order0 = _lowpass(x_half, bank.phi_half[0].astype(dtype), plan.level_shape(0), 2**J)[:, None]
    if complex_input:  # order 0 of a complex image is the modulus |x ⋆ φ|
        order0 = join_modulus(order0)
    # float32 moduli are averaged in space when the output is small (Plan2D.lowpass_in_space);
    # float64 ones always through the FFT, which applies kymatio's filter exactly.
    in_space = plan.lowpass_in_space and dtype == jnp.float32
    order1, order2 = [], {}
    u1_full = {}  # level j1 -> full spectrum of the first-order moduli, complex (c, L, 1, m1, n1)
    for j in range(J):
        shape, factor = plan.level_shape(j), 2 ** (J - j)
        phi = bank.phi_half[j].astype(dtype)
        # The low-pass of the moduli that need no spectrum of their own.
        moduli_lowpass = (bank.phi_rows[j].astype(dtype), bank.phi_columns[j].astype(dtype)) if in_space else phi

        def modulus_and_lowpass(spectra, lowpass, shape=shape, factor=factor):
            u = modulus(ifft2(spectra))
            if in_space:
                return _lowpass_in_space(u, *lowpass)
            return _lowpass(rfft2(u), lowpass, shape, factor)

        first = _wavelet_product(x_full, bank.psi1[j].astype(dtype), 2**j)  # (c, L, m, n)
        if plan.max_order == 2 and j < J - 1:
            u_half, real, imag = _spectra_of_real(modulus(ifft2(first)))
            order1.append(_lowpass(u_half, phi, shape, factor))
            u1_full[j] = jax.lax.complex(real, imag)[:, :, None]
        else:
            order1.append(modulus_and_lowpass(first, moduli_lowpass))
        if plan.max_order < 2 or j == 0:
            continue
        # Second order: the products of every first-order modulus of a scale j1 < j with the
        # wavelets of scale j, folded to level j, as one stack of (m, n) spectra.
        products = []
        for j1 in range(j):
            psi2 = bank.psi2[plan.order2.index((j1, j))].astype(dtype)
            product = _wavelet_product(u1_full[j1], psi2, 2 ** (j - j1))  # (c, L1, L2, m, n)
            products.append(product.reshape((count * L * L,) + shape))
        averaged = map_in_chunks_differentiable(
            modulus_and_lowpass,
            jnp.concatenate(products),
            moduli_lowpass,
            math.prod(shape) * 2 * dtype.itemsize,
            _SECOND_ORDER_CHUNK_BYTES,
            evaluation_pieces=PIECES_FOR_THE_EXECUTOR,
        )
        averaged = averaged.reshape((j, count, L * L) + averaged.shape[-2:])
        for j1 in range(j):
            order2[(j1, j)] = averaged[j1]
    parts = [order0, *order1]
    out_shape = order0.shape[-2:]
    for j1 in range(J - 1 if plan.max_order == 2 else 0):
        # kymatio's order: n1 = (j1, l1) outer, then n2 = (j2, l2).
        blocks = [order2[(j1, j2)].reshape((count, L, L) + out_shape) for j2 in range(j1 + 1, J)]
        parts.append(jnp.concatenate(blocks, axis=2).reshape((count, -1) + out_shape))
    return jnp.concatenate(parts, axis=1)


@default_promotion
def scattering2d(
    x: Float[ArrayLike, "*batch m n"], bank: FilterBank2D
) -> Float[Array, "*batch channels m_out n_out"]:
    """2D scattering transform of a batch of real or complex images.

    Args:
      x: float32/float64 or complex64/complex128 array of shape ``(*batch, M, N)``, or
        ``(*batch, M_padded, N_padded)`` when the bank was built with ``pre_pad=True``. Complex
        ``x``: the wavelet products use its full spectrum and order 0 is the modulus
        ``|x ⋆ φ|`` (real ``x``: the signed ``x ⋆ φ``); see :mod:`scatterjax._core.complex_input`.
      bank: a :class:`FilterBank2D` from :func:`filter_bank_2d` (or ``Scattering2D.bank``).

    Returns:
      array of shape ``(*batch, C, M // 2**J, N // 2**J)`` in the input's precision, channels in
      kymatio's order: order 0; order 1 by ``n1 = j1 L + l1``; order 2 by ``(n1, n2)`` with
      ``j2 > j1``. ``C = 1 + J L (+ L**2 J (J - 1) / 2 with max_order=2)``.

    Example:
      >>> import jax, scatterjax
      >>> S = scatterjax.Scattering2D(J=2, shape=(32, 32), L=4)
      >>> jax.jit(scatterjax.scattering2d)(jax.numpy.ones((3, 32, 32)), S.bank).shape
      (3, 25, 8, 8)
    """
    plan: Plan2D = bank.plan
    what = "x (padded, since the bank has pre_pad=True)" if plan.pre_pad else "x"
    x = check_real_input(x, plan.input_shape, what=what, complex_ok=True)
    if is_empty_batch(x, 2):
        return empty_batch_output(scattering2d, x, bank, 2)
    bank = frozen(bank)
    batch_shape = x.shape[:-2]
    images = x.reshape((-1, *plan.input_shape))
    # Tiny or huge images go through at a normal amplitude (see scatterjax._core.amplitude).
    shift = amplitude_exponents(images, 2)
    images = to_normal_amplitude(images, shift)
    if not plan.pre_pad:
        images = pad_signal(images, ((0, 0), plan.pad_rows, plan.pad_cols), plan.pad_mode)
    item_bytes = image_bytes(plan, images.dtype.itemsize)
    out = map_in_chunks_differentiable(
        _transform_chunk, images, bank, item_bytes, _CHUNK_BYTES, derivative_parts=_DERIVATIVE_PARTS
    )
    out = from_normal_amplitude(out, shift)
    return out.reshape(batch_shape + out.shape[1:])
