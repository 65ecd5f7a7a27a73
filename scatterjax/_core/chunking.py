"""Apply a batched function to a batch in chunks (``lax.map``), sized to the CPU cache.

On CPUs the scattering transforms are memory-bound: a chunk whose intermediates fit in the cache
runs about twice as fast as the whole batch at once (measured for 1D and 2D), and chunking also
bounds peak memory whatever the batch size. Accelerators want large kernels, so there the budget
is large and chunking only bounds memory.

XLA's CPU runtime runs each FFT and fused loop on one thread, and independent operations
concurrently. Inside one program (a caller's ``jax.jit``, ``jax.grad``) the cores are used by
writing a chunk as independent computations on parts of it (:func:`in_branches`); the eager call
``S(x)`` instead dispatches chunks from one thread per core (:func:`apply_in_chunks`).
"""

from __future__ import annotations

import contextlib
import functools
import math
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import jax
import jax.numpy as jnp
import numpy as np

from .cpu_threads import cpu_threads

ACCELERATOR_CHUNK_BYTES = 2**30
# Batches of up to this many signals share one program (zero-padded): for small transforms a budget
# of cache holds thousands of signals, and padding a batch of 3 to thousands would waste more time
# than the compile it saves.
MIN_PADDED_CHUNK = 8
# Most independent branches a CPU program splits a batch into (see ``in_branches``).
MAX_BRANCHES = 4
# A byte budget no batch reaches: with ``spread``, chunks then only divide the batch among cores.
NO_LIMIT = 2**62
# A batch is divided among the cores only into chunks of at least this many bytes of intermediates:
# handing a chunk to a second thread costs about 0.3 ms, more than a small chunk saves (1D J=4
# N=256 x30, 40 KB a signal: one chunk of 32 1.3-1.5 ms, two of 16 1.6-1.8 ms; JTFS J=6 N=1024
# x30, 80 KB a signal: one chunk of 32 31 ms, two of 16 26 ms).
MIN_SPLIT_BYTES = 2**20


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


def map_in_chunks(
    fn: Callable, items: jax.Array, item_bytes: int, cpu_budget: int, *, branches: bool = True
):
    """``fn`` applied to chunks of ``items`` (leading axis), results concatenated.

    ``fn`` maps a batch ``(c, ...)`` to a pytree of arrays with leading axis ``c``; a chunk holds
    as many items of ``item_bytes`` as fit in :func:`chunk_budget` of ``cpu_budget``. The leading
    axis is zero-padded to a whole number of chunks, so the loop body is traced once. With
    ``branches``, each chunk is split among the cores (:func:`in_branches`); without, a row's bits
    do not depend on how the batch is split (XLA's CPU reductions may round differently for
    different row counts).
    """
    count = items.shape[0]
    if jax.export.is_symbolic_dim(count):  # symbolic batch size (jax.export, jax2tf): one chunk
        return fn(items)
    if count == 0:
        return fn(items)
    size = chunk_size(count, item_bytes, chunk_budget(cpu_budget))
    if branches:
        fn = in_branches(fn)
        # A chunk holds at least one item per branch, so that every branch has work (the chunks
        # then take up to branch_count() budgets of memory).
        size = max(size, min(branch_count(), count))
    if size >= count:
        return fn(items)
    chunks = math.ceil(count / size)
    padded = jnp.pad(items, [(0, chunks * size - count)] + [(0, 0)] * (items.ndim - 1))
    out = jax.lax.map(fn, padded.reshape((chunks, size) + items.shape[1:]))
    return jax.tree_util.tree_map(lambda y: y.reshape((chunks * size,) + y.shape[2:])[:count], out)


# Set while a branch, or a program that must not split, is traced (per thread: the eager path
# traces chunks from several threads).
_tracing = threading.local()


def in_branches(fn: Callable) -> Callable:
    """``fn`` over a batch, written as up to :func:`branch_count` independent computations on
    consecutive parts of the batch, results concatenated along the leading axis.

    XLA's CPU runtime runs each FFT on one thread (large elementwise loops it splits across
    threads), and can run independent operations concurrently: split this way, one program inside a
    caller's ``jax.jit`` (or under ``jax.grad``) can use several cores. How many it does use is the
    runtime's choice: its executor hands ready operations to another thread only when more than 8
    are ready at once (the split threshold of XLA's CPU ``ThunkExecutor``, jaxlib 0.10); otherwise
    the concurrency comes from the split loops and from operations finishing on other threads.
    Measured on 2 cores, op time / wall time: 1.7 for the 2D forward inside jit, 2.0 for the 1D
    gradient, 1.25 for the 2D gradient (which therefore is not split). On accelerators ``fn`` is
    returned as is.
    """
    branches = branch_count()
    if branches <= 1:
        return fn

    def split(items):
        count = items.shape[0]
        if jax.export.is_symbolic_dim(count) or count <= 1 or getattr(_tracing, "in_branch", False):
            return fn(items)  # nested: the outer split already uses the cores
        parts = min(branches, count)
        bounds = [round(k * count / parts) for k in range(parts + 1)]
        with _unsplit():
            outs = [fn(items[start:stop]) for start, stop in zip(bounds, bounds[1:])]
        return jax.tree_util.tree_map(lambda *pieces: jnp.concatenate(pieces), *outs)

    return split


def without_branches(fn: Callable) -> Callable:
    """``fn``, traced with :func:`in_branches` splitting nothing.

    For programs whose calls already run one per core (cache-sized chunks of
    :func:`apply_in_chunks`), where branches would only add copies of the computation to compile
    (1D J=6 N=2048, chunks of 8 signals: 1.0 s -> 1.5 s of XLA compile).
    """

    @functools.wraps(fn)
    def unsplit(*args, **kwargs):
        with _unsplit():
            return fn(*args, **kwargs)

    return unsplit


@contextlib.contextmanager
def _unsplit():
    """While active (in this thread), :func:`in_branches` returns ``fn`` unsplit."""
    previous = getattr(_tracing, "in_branch", False)
    _tracing.in_branch = True
    try:
        yield
    finally:
        _tracing.in_branch = previous


def branch_count() -> int:
    """Independent branches a batch is split into on CPU: one per core, at most
    :data:`MAX_BRANCHES` (each branch adds a copy of the computation to the program, so to its
    compile time); 1 on accelerators."""
    if jax.default_backend() != "cpu":
        return 1
    return max(1, min(cpu_threads(), MAX_BRANCHES))


def apply_in_chunks(
    apply: Callable, x: jax.Array, signal_ndim: int, item_bytes: int, cpu_budget: int, *, spread: bool = False
):
    """``apply(x)`` for a concrete batch ``x`` (``(*batch, *signal)``), one chunk of signals at a time.

    ``apply`` maps ``(c, *signal)`` to an array (or a list of arrays) with leading axis ``c``. Every
    chunk holds the same number of signals: the largest power of two whose intermediates
    (``item_bytes`` each) fit in :func:`chunk_budget` of ``cpu_budget``, or, when the batch is
    smaller, the batch size (on the CPU, a core's share of it) rounded up to a power of two (at
    least :data:`MIN_PADDED_CHUNK`, and a share only if its chunk holds :data:`MIN_SPLIT_BYTES`). A
    short batch or a last chunk is zero-padded (the padding rows are dropped from the output). So a
    handful of compiled programs serve every batch size (one for the usual 1D workloads, whose
    chunks hold at most 8 signals), and the last batch of an epoch costs no new compile. It also compiles
    about twice as fast as a program with the loop inside. On CPU the chunks are dispatched from one
    thread per core, so they run concurrently: XLA's CPU FFTs and fused loops use one core each.
    With ``spread`` (transforms that chunk again inside, whose budget is unlimited here), a chunk on
    the CPU holds the largest power of four of signals no larger than a core's share of the batch
    (on accelerators, the batch rounded up to a power of two): chunks of 1 and 4 signals serve every
    batch of up to 15 signals per core, and every batch runs on every core.
    """
    signal_shape = x.shape[x.ndim - signal_ndim :]
    batch_shape = x.shape[: x.ndim - signal_ndim]
    cores = cpu_threads()
    on_cpu = jax.default_backend() == "cpu"
    # On the CPU, reshapes, padding and joins run in NumPy on the same memory: as JAX operations
    # each would compile a small program for every new batch size.
    xp = np if on_cpu else jnp
    flat = (np.asarray(x) if on_cpu else x).reshape((-1,) + signal_shape)
    count = flat.shape[0]
    largest = max(1, chunk_budget(cpu_budget) // max(item_bytes, 1))
    size = _floor_power_of_two(largest)
    if spread and on_cpu:
        # A power of four no larger than a core's share, the chunks dispatched over the cores: two
        # programs (chunks of 1 and 4) serve every batch of up to 15 signals per core, and the cost per
        # signal barely depends on the chunk size there (3D 32^3: 5.4, 5.4, 4.9 ms for chunks of 1, 2,
        # 4 signals, 7.0 for 8; 2D 32x32: 0.34, 0.29, 0.26, 0.25 ms for 1, 2, 4, 8).
        size = min(size, _floor_power_of_four(-(-count // cores)))
    elif spread:
        size = min(size, _ceil_power_of_two(count))
    else:
        # On the CPU at most a core's share (rounded up to a power of two), unless that share is
        # small (MIN_SPLIT_BYTES): a batch of 30 in one chunk of 32 would leave every core but one idle.
        share = -(-count // cores) if on_cpu else count
        smallest = max(MIN_PADDED_CHUNK, _ceil_power_of_two(-(-MIN_SPLIT_BYTES // max(item_bytes, 1))))
        whole = max(_ceil_power_of_two(count), MIN_PADDED_CHUNK)
        size = min(size, whole, max(_ceil_power_of_two(share), smallest))
    pieces = [_pad_rows(xp, flat[start : start + size], size) for start in range(0, count, size)]
    workers = min(len(pieces), cores) if on_cpu else 1
    if workers > 1:
        run = _in_callers_context(lambda piece: jax.block_until_ready(apply(piece)))
        with ThreadPoolExecutor(workers) as pool:
            chunks = list(pool.map(run, pieces))
    else:
        chunks = [apply(piece) for piece in pieces]

    def join(parts):
        if len(parts) == 1 and parts[0].shape[0] == count:
            out = parts[0]
            return out if out.ndim and batch_shape == (count,) else out.reshape(batch_shape + out.shape[1:])
        out = xp.concatenate([xp.asarray(part) for part in parts], axis=0)[:count]
        out = out.reshape(batch_shape + out.shape[1:])
        return jax.device_put(out) if on_cpu else out

    if isinstance(chunks[0], list):
        return [join(parts) for parts in zip(*chunks)]
    return join(chunks)


def _floor_power_of_two(n: int) -> int:
    return 1 << (max(n, 1).bit_length() - 1)


def _floor_power_of_four(n: int) -> int:
    return 1 << (2 * ((max(n, 1).bit_length() - 1) // 2))


def _ceil_power_of_two(n: int) -> int:
    return 1 << max(n - 1, 0).bit_length()


def _pad_rows(xp, rows, length: int):
    """``rows`` zero-padded along axis 0 to ``length`` (padded rows are sliced off the output)."""
    if rows.shape[0] == length:
        return rows
    return xp.pad(rows, [(0, length - rows.shape[0])] + [(0, 0)] * (rows.ndim - 1))


def _in_callers_context(fn: Callable) -> Callable:
    """``fn`` run under the caller's thread-local JAX settings (``jax.enable_x64``,
    ``jax.default_device``, ``jax.default_matmul_precision``, ``jax.log_compiles`` contexts), which
    other threads do not see."""
    settings = [
        (jax.enable_x64, jax.config.jax_enable_x64),
        (jax.default_device, jax.config.jax_default_device),
        (jax.default_matmul_precision, jax.config.jax_default_matmul_precision),
        (jax.log_compiles, jax.config.jax_log_compiles),
    ]

    def run(*args):
        with contextlib.ExitStack() as stack:
            for state, value in settings:
                stack.enter_context(state(value))
            return fn(*args)

    return run
