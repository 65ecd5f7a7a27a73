"""Eager calls with varying batch sizes: what the first pass pays in compilation.

A training or extraction loop calls ``S(x)`` with whatever batch it has (the last batch of an
epoch is short). ``S(x)`` runs a concrete batch in chunks of a few fixed sizes, so a handful of
compiled programs serve every batch size. This script calls ``S(x)`` for every batch size in
``--sizes`` (default 1 to 30) twice over, in a fresh process per workload (no compiled program to
start from), and prints the time of each pass, their ratio and the number of XLA compilations. With
``--kymatio``, kymatio 0.3.0's jax frontend under ``jax.jit`` runs the same loop (one compilation
per batch size).

Workloads (small, where compilation weighs most):

    1d    Scattering1D J=6 Q=8 N=2048
    2d    Scattering2D J=2 L=8 32x32
    3d    HarmonicScattering3D J=2 L=2 32^3
    jtfs  TimeFrequencyScattering J=6 J_fr=2 Q=8 N=1024

    python benchmarks/bench_batch_sizes.py                        # every workload, ours
    python benchmarks/bench_batch_sizes.py --workload 2d,3d --kymatio
    python benchmarks/bench_batch_sizes.py --sizes 1,7,64,100
    python benchmarks/bench_batch_sizes.py --loop 500 --kymatio   # 500 calls of one signal each

``--loop N`` times instead a loop over ``N`` single signals, one per call (a loop over files): its
total, the median call after the first 50, and the compilations. Ours runs a lone signal padded to a
chunk until a streak of one-signal calls earns it an unpadded program (``OneSignalCalls``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from benchmarks._harness import kymatio_shim, standard_impls, workload_names  # noqa: E402

WORKLOADS = {
    "1d": ("Scattering1D", dict(J=6, shape=2048, Q=8)),
    "2d": ("Scattering2D", dict(J=2, shape=(32, 32), L=8)),
    "3d": ("HarmonicScattering3D", dict(J=2, shape=(32, 32, 32), L=2)),
    "jtfs": ("TimeFrequencyScattering", dict(J=6, J_fr=2, Q=8, shape=1024)),
}
KYMATIO_CLASSES = {"Scattering1D", "Scattering2D", "HarmonicScattering3D"}


def build(workload: str, implementation: str):
    """``S`` as a function of a NumPy batch, built as every benchmark builds it
    (:func:`benchmarks._harness.standard_impls`: ours eager, kymatio's jax frontend under ``jax.jit``)."""
    class_name, kwargs = WORKLOADS[workload]
    if implementation != "scatterjax":
        kymatio_shim()
    impls = {impl.name: impl for impl in standard_impls(class_name, kwargs, make_input=None)}
    return impls[implementation].build()


def _prepared(workload: str, implementation: str, sizes: list[int]):
    """``(call, batches, compilations)``: ``S`` built as :func:`build` builds it, one random batch per
    size in ``sizes``, and a one-element list counting XLA compilations from now on."""
    import jax

    compilations = [0]
    jax.monitoring.register_event_duration_secs_listener(
        lambda event, duration, **kwargs: compilations.__setitem__(
            0, compilations[0] + event.endswith("backend_compile_duration")
        )
    )
    call = build(workload, implementation)
    signal_shape = WORKLOADS[workload][1]["shape"]
    signal_shape = signal_shape if isinstance(signal_shape, tuple) else (signal_shape,)
    rng = np.random.default_rng(0)
    batches = [rng.standard_normal((size,) + signal_shape).astype(np.float32) for size in sizes]
    compilations[0] = 0  # building converts the filters: count what the calls compile
    return call, batches, compilations


def one_run(workload: str, implementation: str, sizes: list[int]) -> None:
    """Two passes over ``sizes`` in this (fresh) process; prints one result line."""
    call, batches, compilations = _prepared(workload, implementation, sizes)
    passes = []
    for _ in range(2):
        compilations[0] = 0
        start = time.perf_counter()
        for x in batches:
            call(x)
        passes.append((time.perf_counter() - start, compilations[0]))
    (first, first_compiles), (second, second_compiles) = passes
    print(f"   {implementation:<18} first pass {first:7.2f} s ({first_compiles:2d} compiled)   "
          f"second pass {second:6.2f} s ({second_compiles} compiled)   first / second {first / second:5.1f}",
          flush=True)


def one_loop(workload: str, implementation: str, calls: int) -> None:
    """``calls`` one-signal calls in this (fresh) process; prints one result line."""
    call, signals, compilations = _prepared(workload, implementation, [1] * calls)
    times = []
    start = time.perf_counter()
    for x in signals:
        begin = time.perf_counter()
        call(x)
        times.append(time.perf_counter() - begin)
    total = time.perf_counter() - start
    settled = times[50:] if len(times) > 100 else times[len(times) // 2 :]
    print(f"   {implementation:<18} {calls} one-signal calls {total:7.2f} s ({compilations[0]} compiled)   "
          f"median call after warm-up {1e3 * np.median(settled):6.2f} ms", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default=",".join(WORKLOADS), help="comma-separated: " + ", ".join(WORKLOADS))
    parser.add_argument("--sizes", default="1-30", help="batch sizes: 'a-b' or a comma-separated list")
    parser.add_argument("--kymatio", action="store_true", help="also kymatio 0.3.0's jax frontend (jit)")
    parser.add_argument("--loop", type=int, metavar="N", help="instead: a loop of N one-signal calls")
    parser.add_argument("--one", nargs=2, metavar=("WORKLOAD", "IMPLEMENTATION"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if "-" in args.sizes:
        low, high = (int(v) for v in args.sizes.split("-"))
        sizes = list(range(low, high + 1))
    else:
        sizes = [int(v) for v in args.sizes.split(",")]
    if args.one:
        if args.loop:
            one_loop(*args.one, args.loop)
        else:
            one_run(*args.one, sizes)
        return
    for workload in workload_names(parser, args.workload, WORKLOADS):
        class_name, kwargs = WORKLOADS[workload]
        what = f"{args.loop} one-signal calls" if args.loop else f"batch sizes {args.sizes}"
        print(f"== {workload}: {class_name}({kwargs}), {what}, float32", flush=True)
        implementations = ["scatterjax"]
        if args.kymatio and class_name in KYMATIO_CLASSES:
            implementations.append("kymatio-jax-jit")
        for implementation in implementations:
            loop = ["--loop", str(args.loop)] if args.loop else []
            subprocess.run([sys.executable, __file__, "--one", workload, implementation, "--sizes", args.sizes, *loop],
                           check=True)


if __name__ == "__main__":
    main()
