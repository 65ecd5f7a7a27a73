"""Apply a batched function to a batch in chunks (``lax.map``), sized to the CPU cache.

On CPUs the scattering transforms are memory-bound: a chunk whose intermediates fit in the cache
runs about twice as fast as the whole batch at once (measured for 1D and 2D), and chunking also
bounds peak memory whatever the batch size. Accelerators want large kernels, so there the budget
is large and chunking only bounds memory.

XLA's CPU runtime runs each FFT and fused loop on one thread, and independent operations
concurrently. (An FFT is split across the cores only when the runtime calls it from the thread that
started the program: DUCC, XLA's FFT library, runs single-threaded when called from one of XLA's
pool threads, and after the first fused loop that XLA splits across the pool, the program goes on
from a pool thread. In the 2D gradient all 34 FFTs ran on pool threads. This is XLA's bug
openxla/xla#46345, present in jaxlib 0.10.2.) Inside one program (a
caller's ``jax.jit``, ``jax.grad``) the cores are used by writing a chunk as independent
computations on parts of it (:func:`in_branches`); the eager call ``S(x)`` instead dispatches
chunks from one thread per core (:func:`apply_in_chunks`).
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
# Eager chunks that fit the cache hold at least this many signals, and chunks of transforms that
# chunk again inside at most this many: for small signals a budget of cache holds thousands, and
# padding a batch of 3 to thousands would waste more time than a bigger chunk saves.
MIN_PADDED_CHUNK = 8
# Most independent branches a CPU program splits a batch into (see ``in_branches``).
MAX_BRANCHES = 4
# A byte budget no batch reaches (transforms that chunk again inside, ``spread``).
NO_LIMIT = 2**62
# The smallest chunk of intermediates worth a call of its own: a call costs about 0.3 ms of
# dispatch, more than a chunk this small takes to compute (1D J=4 N=256 x30: one chunk of 32
# signals 1.3-1.5 ms, two of 16 1.6-1.8 ms). Eager chunks hold at least this many bytes when the
# budget allows (at least MIN_PADDED_CHUNK signals for cache-sized chunks).
MIN_CHUNK_BYTES = 2**18


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
    fn: Callable,
    items: jax.Array,
    item_bytes: int,
    cpu_budget: int,
    *,
    branches: bool = True,
    unrolled_pieces: int | None = None,
):
    """``fn`` applied to chunks of ``items`` (leading axis), results concatenated.

    ``fn`` maps a batch ``(c, ...)`` to a pytree of arrays with leading axis ``c``; a chunk holds
    as many items of ``item_bytes`` as fit in :func:`chunk_budget` of ``cpu_budget``. The leading
    axis is zero-padded to a whole number of chunks, so the loop body is traced once. With
    ``branches``, each chunk is split among the cores (:func:`in_branches`); without, a row's bits
    do not depend on how the batch is split (XLA's CPU reductions may round differently for
    different row counts). With ``unrolled_pieces``, a batch of several chunks is instead cut into
    up to that many pieces, each its own operations (:func:`map_in_pieces`), in CPU programs other
    than the eager call's chunk programs; ``fn``'s rows must then not depend on the other rows of
    their call.
    """
    count = items.shape[0]
    if jax.export.is_symbolic_dim(count):  # symbolic batch size (jax.export, jax2tf): one chunk
        return fn(items)
    if count == 0:
        return fn(items)
    size = chunk_size(count, item_bytes, chunk_budget(cpu_budget))
    chunks = -(-count // size)
    if unrolled_pieces and chunks > 1 and _pieces_run_concurrently():
        return map_in_pieces(fn, items, min(unrolled_pieces, chunks))
    if branches:
        fn = in_branches(fn)
        # A chunk holds at least one item per branch, so that every branch has work (the chunks
        # then take up to branch_count() budgets of memory).
        size = max(size, min(branch_count(), count))
    if size >= count:
        return fn(items)
    return map_padded_chunks(fn, items, size)


# Pieces a loop of small steps is unrolled into (map_in_pieces): more than the 8 ready operations
# XLA's CPU executor holds before it hands some to another thread (jaxlib 0.10).
PIECES_FOR_THE_EXECUTOR = 16


def map_in_pieces(fn: Callable, items: jax.Array, pieces: int):
    """``fn`` applied to up to ``pieces`` consecutive parts of ``items`` (cut by one ``lax.split``),
    each written as its own operations, results concatenated along the leading axis.

    A loop (``lax.map``) of small steps runs on one thread: XLA's CPU executor runs a loop's steps
    in turn, and hands ready operations to another thread only when more than 8 are ready at once
    (the split threshold of its ``ThunkExecutor``), so two or three loops that become ready together
    also run one after the other on one thread. Unrolled into :data:`PIECES_FOR_THE_EXECUTOR`
    pieces that become ready together, the same work is shared among the threads. Measured on 2
    cores, 2D J=3 L=8 256x256 x24 inside ``jax.jit`` (second-order stacks in 16 pieces instead of
    their loops; one process, 15 alternating rounds): median 517 -> 435 ms (12 pieces: 445, 20:
    436), the same bits, XLA compile 1.4 -> 2.1 s.
    """
    count = items.shape[0]
    used = min(pieces, count)
    bounds = [round(k * count / used) for k in range(used + 1)]
    parts = jax.lax.split(items, [stop - start for start, stop in zip(bounds, bounds[1:])])
    outs = [fn(part) for part in parts]
    return jax.tree_util.tree_map(lambda *joined: jnp.concatenate(joined), *outs)


def _pieces_run_concurrently() -> bool:
    """Whether :func:`map_in_pieces` is worth its compile here: in a CPU program other than the
    eager call's chunk programs (:func:`without_branches`), which already run one per core."""
    return jax.default_backend() == "cpu" and not getattr(_tracing, "one_per_core", False)


def map_padded_chunks(fn: Callable, items: jax.Array, size: int):
    """``fn`` applied in a ``lax.map`` to chunks of ``size`` items of ``items`` (leading axis, a
    concrete or symbolic count), the last one zero-padded; results joined and the padding dropped.

    ``fn`` maps ``(size, ...)`` to a pytree of arrays with leading axis ``size``, so its body is
    traced once, for a concrete batch size whatever the count.
    """
    count = items.shape[0]
    chunks = (count + size - 1) // size
    padding = jnp.zeros((chunks * size - count,) + items.shape[1:], items.dtype)
    padded = jnp.concatenate([items, padding]).reshape((chunks, size) + items.shape[1:])
    out = jax.lax.map(fn, padded)
    return jax.tree_util.tree_map(lambda y: y.reshape((chunks * size,) + y.shape[2:])[:count], out)


# Set while a branch, or a program that must not split, is traced (per thread: the eager path
# traces chunks from several threads).
_tracing = threading.local()


def in_branches(fn: Callable, parts: int | None = None) -> Callable:
    """``fn`` over a batch, written as up to ``parts`` (default :func:`branch_count`) independent
    computations on consecutive parts of the batch, results concatenated along the leading axis
    (``parts=1``: ``fn`` as one computation, with nothing nested in it split).

    XLA's CPU runtime runs each FFT on one thread (see the module docstring; large elementwise
    loops it splits across threads), and can run independent operations concurrently: split this
    way, one program inside a caller's ``jax.jit`` (or under ``jax.grad``) can use several cores.
    How many it does use is the runtime's choice: its executor hands ready operations to another
    thread only when more than 8 are ready at once (the split threshold of XLA's CPU
    ``ThunkExecutor``, jaxlib 0.10); otherwise the concurrency comes from the split loops and from
    operations finishing on other threads. Measured on 2 cores, op time / wall time: 1.7 for the 2D
    forward inside jit; 1.3 for the 2D gradient (J=3 L=8 256x256, batch 4, four parts). The 1D and
    JTFS gradients ran as fast in one part as in two (op time / wall time 1.5 either way), so they
    take :func:`scatterjax._core.remat_chunks.map_in_chunks_differentiable`'s default of one. On
    accelerators ``fn`` is returned as is.

    The batch is cut with one ``lax.split``, whose transpose (reverse mode) is one concatenation
    of the parts' cotangents; a slice per part would be transposed into a zero-padded copy of the
    whole batch per part.
    """
    if jax.default_backend() != "cpu":
        return fn
    branches = branch_count() if parts is None else parts
    if branches <= 1:  # one computation, and none nested in it splits either
        return without_branches(fn)

    def split(items):
        count = items.shape[0]
        if jax.export.is_symbolic_dim(count) or count <= 1 or getattr(_tracing, "in_branch", False):
            return fn(items)  # nested: the outer split already uses the cores
        with _unsplit():
            return map_in_pieces(fn, items, branches)

    return split


def without_branches(fn: Callable) -> Callable:
    """``fn``, traced with :func:`in_branches` splitting nothing and no loop unrolled into pieces
    (:func:`map_in_chunks`).

    For programs whose calls already run one per core (cache-sized chunks of
    :func:`apply_in_chunks`), where branches would only add copies of the computation to compile
    (1D J=6 N=2048, chunks of 8 signals: 1.0 s -> 1.5 s of XLA compile).
    """

    @functools.wraps(fn)
    def unsplit(*args, **kwargs):
        # Nor are loops unrolled into pieces (map_in_pieces).
        with _tracing_flag("one_per_core"), _unsplit():
            return fn(*args, **kwargs)

    return unsplit


@contextlib.contextmanager
def _tracing_flag(name: str):
    """While active (in this thread), the flag ``name`` of ``_tracing`` is set."""
    previous = getattr(_tracing, name, False)
    setattr(_tracing, name, True)
    try:
        yield
    finally:
        setattr(_tracing, name, previous)


def _unsplit():
    """While active (in this thread), :func:`in_branches` returns ``fn`` unsplit."""
    return _tracing_flag("in_branch")


def branch_count() -> int:
    """Independent branches a batch is split into on CPU: one per core, at most
    :data:`MAX_BRANCHES` (each branch adds a copy of the computation to the program, so to its
    compile time); 1 on accelerators."""
    if jax.default_backend() != "cpu":
        return 1
    return max(1, min(cpu_threads(), MAX_BRANCHES))


def apply_in_chunks(
    apply: Callable,
    x: jax.Array,
    signal_ndim: int,
    item_bytes: int,
    cpu_budget: int,
    *,
    spread: bool = False,
    program_key=None,
):
    """``apply(x)`` for a concrete batch ``x`` (``(*batch, *signal)``), one chunk of signals at a time.

    ``apply`` maps ``(c, *signal)`` to an array (or a list of arrays) with leading axis ``c``. Every
    chunk holds the same number of signals (:func:`eager_chunk_size`); a short batch or a last chunk
    is zero-padded (the padding rows are dropped from the output). On the CPU that number does not
    depend on the batch: one compiled program serves every batch size, and the last batch of an
    epoch costs no new compile. On CPU the chunks are dispatched from one thread per core, so they
    run concurrently: XLA's CPU FFTs and fused loops use one core each.

    One exception, for loops over single signals (one file or example per call): given a hashable
    ``program_key`` naming what ``apply`` computes (transform, settings, signal shape, dtype), a run
    of :data:`ONE_SIGNAL_STREAK` consecutive one-signal calls makes one signal run unpadded from
    then on, in a second program, where a chunk holds at least :data:`ONE_SIGNAL_MIN_CHUNK`
    signals (:class:`OneSignalCalls`). ``apply``'s rows must not depend on the
    other rows of their chunk, so the outputs are the same bits either way.
    """
    signal_shape = x.shape[x.ndim - signal_ndim :]
    batch_shape = x.shape[: x.ndim - signal_ndim]
    cores = cpu_threads()
    on_cpu = jax.default_backend() == "cpu"
    # On the CPU, reshapes, padding and joins run in NumPy on the same memory: as JAX operations
    # each would compile a small program for every new batch size. The moves between NumPy and
    # JAX are explicit (device_get, device_put), so they pass a caller's
    # ``jax.transfer_guard("disallow")``, which refuses only implicit transfers.
    xp = np if on_cpu else jnp
    # The chunks and the output go where a committed input is (jax.device_put(x, device)), as jax.numpy
    # operations and a jitted call keep it; other inputs go to the default device.
    device = _committed_device(x) if on_cpu else None
    flat = (jax.device_get(x) if on_cpu else x).reshape((-1,) + signal_shape)
    count = flat.shape[0]
    size = eager_chunk_size(count, item_bytes, cpu_budget, spread=spread, on_cpu=on_cpu)
    if on_cpu and size >= ONE_SIGNAL_MIN_CHUNK and program_key is not None and ONE_SIGNAL_CALLS.runs_alone(
        program_key, count
    ):
        size = 1
    pieces = [_pad_rows(xp, flat[start : start + size], size) for start in range(0, count, size)]
    if on_cpu:
        pieces = [jax.device_put(piece, device) for piece in pieces]
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
        out = xp.concatenate(jax.device_get(parts) if on_cpu else parts, axis=0)[:count]
        out = out.reshape(batch_shape + out.shape[1:])
        return jax.device_put(out, device) if on_cpu else out

    if isinstance(chunks[0], list):
        return [join(parts) for parts in zip(*chunks)]
    return join(chunks)


def _committed_device(x):
    """The one device a committed JAX array ``x`` is on, else ``None`` (the default device)."""
    if isinstance(x, jax.Array) and not isinstance(x, jax.core.Tracer) and x.committed:
        devices = x.devices()
        if len(devices) == 1:
            return next(iter(devices))
    return None


# Consecutive one-signal calls of a program after which one signal runs unpadded, for chunks of at
# least ONE_SIGNAL_MIN_CHUNK signals (see OneSignalCalls).
ONE_SIGNAL_STREAK = 16
ONE_SIGNAL_MIN_CHUNK = 4


class OneSignalCalls:
    """Which programs run a batch of one signal alone: those called with one signal
    :data:`ONE_SIGNAL_STREAK` times in a row.

    A chunk of the CPU's eager path holds several signals (8 for 1D J=6 N=2048), so a lone signal
    padded to a chunk costs the whole chunk: 4-5 ms there, against about 1 ms for the same signal
    alone (kymatio's jitted call: about 2 ms). A loop over files, one signal per call, therefore
    gets a one-signal program once the streak is long enough to suggest a long loop (one more
    compile, about 0.7 s there, once per process; it pays back after a few hundred calls), and every
    later one-signal call uses it. Short streaks (a few calls in a notebook), an isolated one-signal
    batch (the last batch of an epoch) and a sweep over batch sizes keep the chunk program and cost
    no compile. Chunks of fewer than :data:`ONE_SIGNAL_MIN_CHUNK` signals (2D, 3D) gain too little
    from it to pay the compile.

    >>> calls = OneSignalCalls(streak=3)
    >>> [calls.runs_alone("S", count) for count in (1, 1, 4, 1, 1, 1, 1, 4)]
    [False, False, False, False, False, True, True, False]
    """

    def __init__(self, streak: int = ONE_SIGNAL_STREAK) -> None:
        self._streak = streak
        self._streaks: dict = {}
        self._alone: set = set()
        self._lock = threading.Lock()

    def runs_alone(self, key, count: int) -> bool:
        """Whether this call, of ``count`` signals to the program ``key``, runs its one signal alone
        (counting it in the streak)."""
        with self._lock:
            if key in self._alone:
                return count == 1
            if count != 1:
                self._streaks.pop(key, None)
                return False
            streak = self._streaks.get(key, 0) + 1
            if streak < self._streak:
                self._streaks[key] = streak
                return False
            self._streaks.pop(key, None)
            self._alone.add(key)
            return True


ONE_SIGNAL_CALLS = OneSignalCalls()


def eager_chunk_size(count: int, item_bytes: int, cpu_budget: int, *, spread: bool, on_cpu: bool) -> int:
    """Signals per chunk of :func:`apply_in_chunks` for a batch of ``count`` signals whose largest
    intermediates take ``item_bytes`` each.

    On the CPU, independent of ``count`` (one program for every batch size):

    - cache-sized chunks (``spread=False``): the largest power of two of signals that fit in
      ``cpu_budget``, but no more than needed to hold :data:`MIN_CHUNK_BYTES` or
      :data:`MIN_PADDED_CHUNK` signals (beyond that a signal costs no less, and a batch of one
      would be padded further);
    - transforms that chunk again inside (``spread=True``, unlimited budget): the power of two of
      signals that holds :data:`MIN_CHUNK_BYTES`, one signal for large ones, at most
      :data:`MIN_PADDED_CHUNK`.

    On accelerators, the batch rounded up to a power of two (at least :data:`MIN_PADDED_CHUNK`
    unless ``spread``), at most what fits in :func:`chunk_budget`: a handful of programs, large
    kernels.

    >>> eager_chunk_size(30, 80 * 2**10, 4 * 2**20, spread=False, on_cpu=True)
    8
    >>> eager_chunk_size(1, 80 * 2**10, 4 * 2**20, spread=False, on_cpu=True)
    8
    >>> eager_chunk_size(30, 100 * 2**10, 2**62, spread=True, on_cpu=True)
    4
    >>> eager_chunk_size(30, 8 * 2**20, 2**62, spread=True, on_cpu=True)
    1
    """
    item_bytes = max(item_bytes, 1)
    fitting = _floor_power_of_two(chunk_budget(cpu_budget) // item_bytes)
    if not on_cpu:
        return min(fitting, _ceil_power_of_two(count) if spread else max(_ceil_power_of_two(count), MIN_PADDED_CHUNK))
    worth_a_call = _ceil_power_of_two(-(-MIN_CHUNK_BYTES // item_bytes))
    if spread:
        return min(worth_a_call, MIN_PADDED_CHUNK)
    return min(fitting, max(worth_a_call, MIN_PADDED_CHUNK))


def _floor_power_of_two(n: int) -> int:
    return 1 << (max(n, 1).bit_length() - 1)


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
