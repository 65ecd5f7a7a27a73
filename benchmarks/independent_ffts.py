"""Whether XLA:CPU runs independent FFTs side by side inside one program: a reproducer.

One ``jax.jit`` program holds ``k`` independent chains, each ``steps`` rounds of
``fft(|ifft(z)|)`` on its own complex64 batch of ``rows`` x ``length``. Nothing links the chains,
so a runtime that used every core would take about ``k / cores`` times as long as one chain. On
the 2-core machine of ``docs/benchmarks.md`` (jaxlib 0.10.2, 2026-12-07), chains of 4 x 4096-point
FFTs (tens of microseconds each) ran one after another: 0.4-0.8 ms a chain for every ``k`` from 1
to 32, the process's CPU time 1.0-1.3 times the wall time ("cores busy"). Chains of 16 x
16384-point FFTs (``--rows 16 --length 16384 --calls 5``) overlapped in part: 10.0 ms for one
chain, 7.0-7.5 ms a chain from ``k = 4``, 1.6-1.7 cores busy.
The scattering programs inside a caller's ``jax.jit`` and ``jax.grad`` are such programs: their
first-order groups of wavelets, for one, depend on the input's spectrum only.

    python benchmarks/independent_ffts.py
    python benchmarks/independent_ffts.py --chains 1,2,4,8,16 --rows 4 --length 4096 --steps 4
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np


def chains_program(count: int, steps: int):
    """``count`` independent chains of ``steps`` rounds of ``fft(|ifft(z)|)``, as one program."""

    def chain(z):
        for _ in range(steps):
            z = jnp.fft.fft(jnp.abs(jnp.fft.ifft(z)).astype(z.dtype))
        return z

    return jax.jit(lambda batches: [chain(z) for z in batches])


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(program, batches, calls: int, rounds: int = 5) -> tuple[float, float]:
    """Median seconds per call, and the process's CPU time over the wall time of all the rounds
    (about 1: one core busy; up to the number of cores)."""
    jax.block_until_ready(program(batches))  # compile
    times = []
    cpu_start, wall_start = _cpu_seconds(), time.perf_counter()
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            jax.block_until_ready(program(batches))
        times.append((time.perf_counter() - start) / calls)
    busy = (_cpu_seconds() - cpu_start) / (time.perf_counter() - wall_start)
    return statistics.median(times), busy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", default="1,2,4,8,9,12,16", help="numbers of chains, comma-separated")
    parser.add_argument("--rows", type=int, default=4, help="rows of each chain's batch")
    parser.add_argument("--length", type=int, default=4096, help="FFT length")
    parser.add_argument("--steps", type=int, default=4, help="rounds of fft(|ifft(z)|) in a chain")
    parser.add_argument("--calls", type=int, default=30, help="calls per timed round")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"JAX {jax.__version__} on {jax.default_backend()}, {os.cpu_count()} cores; "
          f"chains of {args.steps} x fft(|ifft(z)|) on {args.rows} x {args.length} complex64")
    print(f"   {'chains':>6} {'program ms':>11} {'ms per chain':>13} {'cores busy':>11}")
    for count in (int(value) for value in args.chains.split(",")):
        batches = [
            jnp.asarray((rng.standard_normal((args.rows, args.length))
                         + 1j * rng.standard_normal((args.rows, args.length))).astype(np.complex64))
            for _ in range(count)
        ]
        seconds, busy = timed(chains_program(count, args.steps), batches, args.calls)
        print(f"   {count:6d} {seconds * 1e3:11.3f} {seconds / count * 1e3:13.3f} {busy:11.2f}")


if __name__ == "__main__":
    main()
