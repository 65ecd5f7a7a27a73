"""Apply a batched function to a batch in chunks (``lax.map``), sized to the CPU cache.

On CPUs the scattering transforms are memory-bound: a chunk whose intermediates fit in the cache
runs about twice as fast as the whole batch at once (measured for 1D and 2D), and chunking also
bounds peak memory whatever the batch size. Accelerators want large kernels, so there the budget
is large and chunking only bounds memory.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import jax
import jax.numpy as jnp

ACCELERATOR_CHUNK_BYTES = 2**30
# A byte budget no batch reaches: with ``spread``, chunks then only divide the batch among cores.
NO_LIMIT = 2**62


def chunk_budget(cpu_budget: int) -> int:
    """Bytes of intermediates per chunk: ``cpu_budget`` on CPU, 1 GiB on accelerators."""
    return cpu_budget if jax.default_backend() == "cpu" else ACCELERATOR_CHUNK_BYTES


def chunk_size(count: int, item_bytes: int, budget: int) -> int:
    """Items per chunk: about as many as fit in ``budget`` bytes.

    A divisor of ``count`` when one is at least half the largest size (no padding to copy),
    otherwise the size that balances the chunks (the last one zero-padded).
    """
    largest = max(1, budget // max(item_bytes, 1))
    if largest >= count:
        return count
    for size in range(largest, (largest + 1) // 2 - 1, -1):
        if count % size == 0:
            return size
    chunks = math.ceil(count / largest)
    return math.ceil(count / chunks)


def map_in_chunks(fn: Callable, items: jax.Array, item_bytes: int, cpu_budget: int):
    """``fn`` applied to chunks of ``items`` (leading axis), results concatenated.

    ``fn`` maps a batch ``(c, ...)`` to a pytree of arrays with leading axis ``c``; a chunk holds
    as many items of ``item_bytes`` as fit in :func:`chunk_budget` of ``cpu_budget``. The leading
    axis is zero-padded to a whole number of chunks, so the loop body is traced once.
    """
    count = items.shape[0]
    if jax.export.is_symbolic_dim(count):  # symbolic batch size (jax.export, jax2tf): one chunk
        return fn(items)
    if count == 0:
        return fn(items)
    size = chunk_size(count, item_bytes, chunk_budget(cpu_budget))
    if size >= count:
        return fn(items)
    chunks = math.ceil(count / size)
    padded = jnp.pad(items, [(0, chunks * size - count)] + [(0, 0)] * (items.ndim - 1))
    out = jax.lax.map(fn, padded.reshape((chunks, size) + items.shape[1:]))
    return jax.tree_util.tree_map(lambda y: y.reshape((chunks * size,) + y.shape[2:])[:count], out)


def apply_in_chunks(
    apply: Callable, x: jax.Array, signal_ndim: int, item_bytes: int, cpu_budget: int, *, spread: bool = False
):
    """``apply(x)`` for a concrete batch ``x`` (``(*batch, *signal)``), one chunk of signals at a time.

    ``apply`` maps ``(c, *signal)`` to an array (or a list of arrays) with leading axis ``c``; it is
    compiled once per chunk shape, which serves every batch size and compiles about twice as fast as
    a program with the loop inside. Chunks hold as many signals of ``item_bytes`` as fit in
    :func:`chunk_budget` of ``cpu_budget`` (the last one zero-padded). On CPU the chunks are
    dispatched from one thread per core, so they run concurrently: XLA's CPU FFTs and fused loops
    use one core each. With ``spread``, chunks are also at most a core's share of the batch, so a
    batch that fits one chunk still runs on every core (for transforms that chunk again inside).
    """
    signal_shape = x.shape[x.ndim - signal_ndim :]
    batch_shape = x.shape[: x.ndim - signal_ndim]
    flat = x.reshape((-1,) + signal_shape)
    count = flat.shape[0]
    size = chunk_size(count, item_bytes, chunk_budget(cpu_budget))
    cores = os.cpu_count() or 1
    if spread and jax.default_backend() == "cpu" and cores > 1:
        size = min(size, -(-count // cores))
    if size >= count or count == 0:
        return apply(x)
    padded = -(-count // size) * size
    flat = jnp.pad(flat, [(0, padded - count)] + [(0, 0)] * signal_ndim)
    pieces = [flat[start : start + size] for start in range(0, padded, size)]
    workers = min(len(pieces), cores) if jax.default_backend() == "cpu" else 1
    if workers > 1:
        run = _in_callers_context(lambda piece: jax.block_until_ready(apply(piece)))
        with ThreadPoolExecutor(workers) as pool:
            chunks = list(pool.map(run, pieces))
    else:
        chunks = [apply(piece) for piece in pieces]

    def join(parts):
        out = jnp.concatenate(parts, axis=0)[:count]
        return out.reshape(batch_shape + out.shape[1:])

    if isinstance(chunks[0], list):
        return [join(parts) for parts in zip(*chunks)]
    return join(chunks)


def _in_callers_context(fn: Callable) -> Callable:
    """``fn`` run under the caller's thread-local JAX settings (``jax.enable_x64``,
    ``jax.default_device``, ``jax.default_matmul_precision`` contexts), which other threads do not see."""
    settings = [
        (jax.enable_x64, jax.config.jax_enable_x64),
        (jax.default_device, jax.config.jax_default_device),
        (jax.default_matmul_precision, jax.config.jax_default_matmul_precision),
    ]

    def run(*args):
        with contextlib.ExitStack() as stack:
            for state, value in settings:
                stack.enter_context(state(value))
            return fn(*args)

    return run
