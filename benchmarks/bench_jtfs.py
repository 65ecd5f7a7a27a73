"""JTFS benchmark: scatterjax's TimeFrequencyScattering on kymatio main's reference workload.

Workload (issue 7): J=8, J_fr=3, Q=8, N=65536, batch 4, float32. Kymatio main
(0.4.0.dev0) is unreleased and cannot be installed here (no network, no wheel), so it cannot run in
this process; its times on a 2-core AMD EPYC machine are printed beside ours, and the
ratio to them is labelled as a cross-run comparison. As an in-process calibration of this machine
against the one those figures came from, the script also times kymatio 0.3.0's jax frontend
(``jax.jit``) on the time part alone (``Scattering1D(J=8, Q=8)`` on the same input), and checks our
float32 output against our float64 output.

    python benchmarks/bench_jtfs.py                 # the reference workload
    python benchmarks/bench_jtfs.py --batch 64      # e.g. on a GPU
    python benchmarks/bench_jtfs.py --memory        # plus peak RSS, measured in a fresh process
    python benchmarks/bench_jtfs.py --mode jit      # our forward inside a caller's jax.jit
    python benchmarks/bench_jtfs.py --quick         # 2 calls; the gradient: bench_grad.py --workload jtfs
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from benchmarks._harness import kymatio_shim, peak_rss_mb, relative_l2  # noqa: E402

# Kymatio main's JAX frontend under jax.jit and its NumPy frontend on this workload.
KYMATIO_MAIN_SECONDS = {"kymatio-main-jax-jit": (5.0, 5.4), "kymatio-main-numpy": (29.0, 31.0)}
KYMATIO_MAIN_FIRST_CALL = 12.1


def _time(fn, x, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _ours(kwargs, dtype="float32", mode="eager"):
    import jax

    if dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    import scatterjax

    start = time.perf_counter()
    S = scatterjax.TimeFrequencyScattering(**kwargs)
    build = time.perf_counter() - start
    if mode == "jit":  # inside a caller's jit, the transform (its filters) passed as an argument
        program = jax.jit(lambda S, x: S(x))
        return (lambda x: np.asarray(jax.block_until_ready(program(S, x.astype(dtype))))), build, S
    return (lambda x: np.asarray(jax.block_until_ready(S(x.astype(dtype))))), build, S


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--J", type=int, default=8)
    parser.add_argument("--J_fr", type=int, default=3)
    parser.add_argument("--Q", type=int, default=8)
    parser.add_argument("--N", type=int, default=65536)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=None, help="timed calls (default 5; 2 with --quick)")
    parser.add_argument("--quick", action="store_true", help="2 timed calls: a run of a few minutes")
    parser.add_argument("--mode", choices=("eager", "jit"), default="eager",
                        help="eager: S(x); jit: our forward inside a caller's jax.jit")
    parser.add_argument("--memory", action="store_true", help="peak RSS of our transform, in a fresh process")
    parser.add_argument("--no-calibration", action="store_true", help="skip kymatio 0.3.0's time part")
    parser.add_argument("--measure-memory", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--float64", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.repeats is None:
        args.repeats = 2 if args.quick else 5
    kwargs = dict(J=args.J, J_fr=args.J_fr, Q=args.Q, shape=args.N)
    x = np.random.default_rng(0).standard_normal((args.batch, args.N)).astype(np.float32)

    if args.measure_memory or args.float64:
        run, _, _ = _ours(kwargs, "float64" if args.float64 else "float32", args.mode)
        out = run(x)
        if args.float64:
            np.save(sys.stdout.buffer, out)
        else:
            print(f"PEAK_RSS_MB {peak_rss_mb():.1f}")
        return

    import jax

    print(f"== TimeFrequencyScattering {kwargs}: input {x.shape} float32 on {jax.devices()[0].platform}, "
          f"{args.mode} mode")
    run, build, S = _ours(kwargs, mode=args.mode)
    start = time.perf_counter()
    out = run(x)
    first = time.perf_counter() - start
    median = _time(run, x, args.repeats)
    print(f"   output {out.shape}, {S.output_size()} channels; filter design {build:.2f} s")
    print(f"   {'scatterjax':<28} first call {first:7.2f} s   median {median:7.3f} s over {args.repeats} calls")

    exact = subprocess.run([sys.executable, __file__, "--float64", *sys.argv[1:]], capture_output=True, check=True)
    import io

    reference = np.load(io.BytesIO(exact.stdout))
    print(f"   float32 vs float64 (same transform): relative L2 {relative_l2(out, reference):.2e}")

    if args.memory:
        result = subprocess.run([sys.executable, __file__, "--measure-memory", *sys.argv[1:]],
                                capture_output=True, text=True, check=True)
        peak = [ln for ln in result.stdout.splitlines() if ln.startswith("PEAK_RSS_MB")][-1].split()[1]
        print(f"   peak RSS (fresh process, interpreter and libraries included): {float(peak):.0f} MB")

    print("   kymatio main, same workload, 2-core AMD EPYC ( cross-run, not this process):")
    for name, (low, high) in KYMATIO_MAIN_SECONDS.items():
        print(f"   {name:<28} {low:.1f}-{high:.1f} s per call   ÷ ours {low / median:5.2f}-{high / median:5.2f}")
    print(f"   kymatio-main-jax-jit first call {KYMATIO_MAIN_FIRST_CALL:.1f} s   ÷ ours "
          f"{KYMATIO_MAIN_FIRST_CALL / first:5.2f}")

    if not args.no_calibration and args.J <= 12:
        kymatio_shim()
        import kymatio.jax

        time_part = kymatio.jax.Scattering1D(J=args.J, shape=args.N, Q=args.Q)
        f = jax.jit(lambda x: time_part(x))
        start = time.perf_counter()
        jax.block_until_ready(f(x))
        calibration_first = time.perf_counter() - start
        calibration = _time(lambda x: jax.block_until_ready(f(x)), x, args.repeats)
        print(f"   calibration: kymatio 0.3.0 jax-jit Scattering1D(J={args.J}, Q={args.Q}) on this input, "
              f"first {calibration_first:.2f} s, median {calibration:.3f} s (the time part of JTFS only)")


if __name__ == "__main__":
    main()
