"""FFTs whose every transform keeps its bits wherever it sits in the batch (XLA's CPU FFT).

XLA's CPU FFT (DUCC) runs a batch of 1D transforms in SIMD groups of ``vlen`` transforms plus a
scalar remainder that rounds differently (about 1e-7 relative), at some lengths: measured on x86-64
for complex transforms of powers of two (exactly 512, 1024 and 2048) and for 2D real transforms
(320, 384, 512, 1000 bad; 136, 160, 272, 288 fine). It also splits the batch into contiguous
shares, one per thread, depending on the batch size and on which thread XLA calls it from. So a
transform's bits could depend on how many others shared its call: an image alone and in a batch,
``S(x)`` (small chunks) and ``jax.jit(S)(x)`` (the whole batch).

At those lengths the transforms are padded with zero transforms to a count where every share is
whole SIMD groups under every split (:func:`grouped_rows`); the padding costs at most a few groups.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp

from .cpu_threads import cpu_threads
from .lax_ops import pad_zeros

# Transform lengths at which the padding is applied (the measured lengths, with a margin).
GROUP_SENSITIVE_LENGTHS = range(300, 4000)
# Transforms per SIMD group: DUCC's vectors are 256 bits (AVX) on x86-64 builds of jaxlib.
SIMD_BYTES = 32


def grouped_rows(count: int, length: int, itemsize: int, threads: int) -> int:
    """Transforms to give one FFT call (``count`` or more) so that every one is in a full SIMD group.

    DUCC splits ``R`` transforms into contiguous shares, one per thread: ``t = min(R // vlen (// 4
    when length < 1000), pool)`` threads when XLA calls it from the caller's thread, one thread
    when from a pool thread (XLA decides at run time). Transforms past the last full group of
    ``vlen`` in a share take the scalar path. With ``R`` a multiple of ``t * vlen`` every share is
    whole groups under both splits, so a transform's bits depend on nothing but itself.

    Args:
      count: transforms needed; length: their length; itemsize: bytes of one real component
        (4 for float32 and complex64); threads: XLA's CPU threads.
    """
    vlen = max(SIMD_BYTES // itemsize, 1)
    rows = -(-count // vlen) * vlen
    while True:
        parallel = rows // vlen // (4 if length < 1000 else 1)
        split = max(1, min(parallel, threads))
        if rows % (split * vlen) == 0:
            return rows
        rows += vlen


def is_group_sensitive(length: int, count) -> bool:
    """Whether transforms of ``length`` need the padding: on the CPU, a concrete count, a sensitive
    length."""
    return (
        length in GROUP_SENSITIVE_LENGTHS
        and not jax.export.is_symbolic_dim(count)
        and jax.default_backend() == "cpu"
    )


def fft_of_last_two(fft_1d: Callable, z: jax.Array, axis: int, length: int) -> jax.Array:
    """``fft_1d(z)``, a 1D FFT along ``axis`` (-1 or -2) of ``(..., M, N)``, every transform in a full
    SIMD group.

    The transforms are the lines along ``axis``; at a sensitive ``length`` (the transform's length,
    the real length for real FFTs) the other of the last two axes is zero-padded so that their
    number passes :func:`grouped_rows`, and the padding is cut from the result.
    """
    other = -2 if axis == -1 else -1
    per_item = z.shape[other]
    items = math.prod(z.shape[:-2])
    if not is_group_sensitive(length, items) or items == 0:
        return fft_1d(z)
    itemsize = jnp.finfo(z.dtype).bits // 8
    padded = per_item
    while grouped_rows(items * padded, length, itemsize, cpu_threads()) != items * padded:
        padded += 1
    if padded == per_item:
        return fft_1d(z)
    widths = [(0, 0)] * z.ndim
    widths[other] = (0, padded - per_item)
    out = fft_1d(pad_zeros(z, widths))
    return jax.lax.slice_in_dim(out, 0, per_item, axis=other)
