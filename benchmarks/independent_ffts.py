"""Whether XLA:CPU runs independent FFTs side by side inside one program: a reproducer.

One ``jax.jit`` program holds ``k`` independent chains, each ``steps`` rounds of
``fft(|ifft(z)|)`` on its own complex64 batch of ``rows`` x ``length``. Nothing links the chains,
so a runtime that used every core would take about ``k / cores`` times as long as one chain. On
the 2-core machine of ``docs/benchmarks.md`` (jaxlib 0.10.2, 2026-12-07, several runs), chains of
4 x 4096-point FFTs (tens of microseconds each) ran mostly one after another: 0.3-0.8 ms a chain
for every ``k`` from 1 to 32, the process's CPU time 1.0-1.4 times the wall time ("cores busy").
Chains of 16 x 16384-point FFTs (``--rows 16 --length 16384 --calls 25``) overlapped in part:
7.6-10.0 ms for one chain, 5.3-7.5 ms a chain from ``k = 4``, 1.6-1.7 cores busy.
The scattering programs inside a caller's ``jax.jit`` and ``jax.grad`` are such programs: their
first-order groups of wavelets, for one, depend on the input's spectrum only.

    python benchmarks/independent_ffts.py
    python benchmarks/independent_ffts.py --chains 1,2,4,8,16 --rows 4 --length 4096 --steps 4
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks.fft_threads import time_calls  # noqa: E402


def chains_program(count: int, steps: int):
    """``count`` independent chains of ``steps`` rounds of ``fft(|ifft(z)|)``, as one program."""

    def chain(z):
        for _ in range(steps):
            z = jnp.fft.fft(jnp.abs(jnp.fft.ifft(z)).astype(z.dtype))
        return z

    return jax.jit(lambda batches: [chain(z) for z in batches])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", default="1,2,4,8,9,12,16", help="numbers of chains, comma-separated")
    parser.add_argument("--rows", type=int, default=4, help="rows of each chain's batch")
    parser.add_argument("--length", type=int, default=4096, help="FFT length")
    parser.add_argument("--steps", type=int, default=4, help="rounds of fft(|ifft(z)|) in a chain")
    parser.add_argument("--calls", type=int, default=150, help="timed calls of each program")
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
        seconds, busy = time_calls(chains_program(count, args.steps), batches, args.calls)
        print(f"   {count:6d} {seconds * 1e3:11.3f} {seconds / count * 1e3:13.3f} {busy:11.2f}")


if __name__ == "__main__":
    main()
