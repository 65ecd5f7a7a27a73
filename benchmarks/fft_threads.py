"""Where one XLA program's FFTs run on the CPU, and how fast: a reproducer of what bounds our CPU
figures inside ``jax.jit`` and ``jax.grad``.

XLA's CPU FFTs call DUCC, which splits a batch of transforms across XLA's thread pool, but runs
single-threaded when it is called from one of that pool's own threads. XLA's runtime carries on with
a program on whichever thread finished the last piece of a loop that it split across the pool, so
after such a loop an FFT may run on a pool thread, on one core (in the 2D J=3 L=8 256x256 gradient
of ``benchmarks/bench_grad.py``, all 34 FFTs did). The eager call ``S(x)`` is not affected (its
chunks are started from one thread per core); one program inside a caller's ``jax.jit`` or
``jax.grad`` is. Reported upstream as openxla/xla#46345 (jax-ml/jax#39081), with a proposed fix in
openxla/xla#46347; rerun this script to see whether an installed jaxlib has it.

This script times three programs on the same complex64 batch, in one process:

    ifft2                  the FFT alone: XLA calls it from the thread that started the program
    multiply               an elementwise multiply alone (a loop XLA splits across the pool)
    multiply, then ifft2   the FFT after that loop

and, from a profiler trace, on which threads each program's FFT ran (the runtime's thread that
started the program, or a pool thread) and for how long. On the 2-core machine of
``docs/benchmarks.md`` (jaxlib 0.10.2), the FFT of the default shape took 21 ms on the starting
thread and 41 ms on a pool thread; after the multiply it ran on a pool thread in 5 or 6 of 20 calls.

    python benchmarks/fft_threads.py                       # 256 x 136 x 136, 20 calls a program
    python benchmarks/fft_threads.py --shape 64,272,272 --calls 10
"""

from __future__ import annotations

import argparse
import collections
import glob
import gzip
import json
import os
import resource
import statistics
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np

PROGRAMS = {
    "ifft2": jnp.fft.ifft2,
    "multiply": lambda z: z * 2.0,
    "multiply, then ifft2": lambda z: jnp.fft.ifft2(z * 2.0),
}


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def time_calls(fn, z: jax.Array, calls: int) -> tuple[float, float]:
    """``(median seconds a call, process CPU time over wall time)`` of ``calls`` calls after one warm-up."""
    jax.block_until_ready(fn(z))
    times = []
    cpu, wall = _cpu_seconds(), time.perf_counter()
    for _ in range(calls):
        start = time.perf_counter()
        jax.block_until_ready(fn(z))
        times.append(time.perf_counter() - start)
    return statistics.median(times), (_cpu_seconds() - cpu) / (time.perf_counter() - wall)


def fft_threads(fn, z: jax.Array, calls: int) -> dict[str, list[float]] | None:
    """Milliseconds of each FFT operation in ``calls`` traced calls, by the kind of thread that ran it
    (``starting thread``: XLA's client thread, which started the program; ``pool thread``: one of
    XLA's intra-op pool); None when the profiler wrote no readable trace."""
    with tempfile.TemporaryDirectory() as folder:
        with jax.profiler.trace(folder):
            for _ in range(calls):
                jax.block_until_ready(fn(z))
        files = glob.glob(f"{folder}/**/*.trace.json.gz", recursive=True)
        if not files:
            return None
        with gzip.open(files[0]) as trace:
            events = json.load(trace)["traceEvents"]
    thread_names = {
        e["tid"]: e["args"]["name"] for e in events if e.get("ph") == "M" and e.get("name") == "thread_name"
    }
    by_thread = collections.defaultdict(list)
    for event in events:
        if event.get("ph") == "X" and event["name"].startswith("fft"):
            name = thread_names.get(event["tid"], "")
            # XLA's intra-op pool threads are named tf_XLAEigen.
            kind = "pool thread" if "Eigen" in name else "starting thread"
            by_thread[kind].append(event["dur"] / 1e3)
    return by_thread


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="256,136,136", help="batch, rows, columns of the complex64 input")
    parser.add_argument("--calls", type=int, default=20, help="timed calls a program (default 20)")
    args = parser.parse_args()
    shape = tuple(int(v) for v in args.shape.split(","))
    rng = np.random.default_rng(0)
    # On the CPU whatever the default backend: the programs follow their committed input.
    cpu = jax.devices("cpu")[0]
    z = jax.device_put((rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64), cpu)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"== complex64 {shape}, {args.calls} calls a program, JAX {jax.__version__} on the CPU, "
          f"{cores} cores")
    print(f"   {'program':<22} {'median ms':>10} {'CPU/wall':>9}   FFT ms by thread (median, calls)")
    for name, program in PROGRAMS.items():
        fn = jax.jit(program)
        seconds, cpu_per_wall = time_calls(fn, z, args.calls)
        if "ifft2" not in name:
            where = "-"
        else:
            threads = fft_threads(fn, z, args.calls)
            if threads is None:
                where = "(no profiler trace to read)"
            else:
                where = "   ".join(
                    f"{kind} {statistics.median(ms):.1f} ({len(ms)})" for kind, ms in sorted(threads.items())
                ) or "(no FFT in the profiler trace)"
        print(f"   {name:<22} {1e3 * seconds:10.1f} {cpu_per_wall:9.2f}   {where}", flush=True)


if __name__ == "__main__":
    main()
