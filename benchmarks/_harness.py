"""Shared benchmark protocol: one process, same input, alternating runs after warm-up, ratios.

Each benchmark script defines its implementations as :class:`Impl` (a name and a ``build``
function returning ``fn(x) -> numpy array``, which must block until the result is ready) and calls
:func:`main`. The harness

1. builds every implementation and times its first call (compile + run for JAX),
2. checks every output against the reference implementation (relative L2 error),
3. times ``--repeats`` rounds, each round calling every implementation once in turn, so that
   machine noise hits all of them alike, and prints medians and ratios to scatterjax,
4. with ``--memory``, re-runs each implementation alone in a fresh subprocess and reports its peak
   resident memory (``ru_maxrss``, which includes the interpreter and libraries).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


def kymatio_shim() -> None:
    """kymatio 0.3.0 imports ``scipy.special.sph_harm``, removed in SciPy 1.15; map it to sph_harm_y."""
    import scipy.special

    if not hasattr(scipy.special, "sph_harm"):
        scipy.special.sph_harm = lambda m, n, az, pol: scipy.special.sph_harm_y(n, m, pol, az)


@dataclass
class Impl:
    name: str
    build: Callable[[], Callable[[np.ndarray], np.ndarray]]


def relative_l2(a: np.ndarray, b: np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def _peak_rss_mb() -> float:
    """This process's peak resident memory. ``VmHWM`` is reset at exec, unlike ``ru_maxrss``, which
    Linux carries over from the forking parent (the benchmark process, already large)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _timed(fn, x) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    out = fn(x)
    return time.perf_counter() - start, out


def run(title: str, impls: list[Impl], x: np.ndarray, *, ours: str, reference: str, repeats: int,
        memory: bool, script: str, extra_args: list[str]) -> dict:
    print(f"== {title}: input {x.shape} {x.dtype}")
    fns, firsts, outputs = {}, {}, {}
    for impl in impls:
        build_start = time.perf_counter()
        fn = impl.build()
        build_s = time.perf_counter() - build_start
        first_s, out = _timed(fn, x)
        fns[impl.name], firsts[impl.name], outputs[impl.name] = fn, first_s, np.asarray(out)
        print(f"   built {impl.name:<28} build {build_s:7.2f} s   first call {first_s:7.2f} s",
              flush=True)
    ref = outputs[reference]
    times = {impl.name: [] for impl in impls}
    for _ in range(repeats):
        for impl in impls:
            elapsed, _ = _timed(fns[impl.name], x)
            times[impl.name].append(elapsed)
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    peak = {}
    if memory:
        for impl in impls:
            result = subprocess.run(
                [sys.executable, script, "--only", impl.name, "--measure-memory", *extra_args],
                capture_output=True, text=True, check=False,
            )
            lines = [ln for ln in result.stdout.splitlines() if ln.startswith("PEAK_RSS_MB")]
            peak[impl.name] = float(lines[-1].split()[1]) if lines else float("nan")
    header = (f"   {'implementation':<28} {'first call s':>12} {'median s':>10} {'÷ ours':>8} "
              f"{'rel L2 vs ' + reference:>24}")
    if memory:
        header += f" {'peak RSS MB':>12}"
    print(header)
    for impl in impls:
        name = impl.name
        row = (f"   {name:<28} {firsts[name]:12.3f} {medians[name]:10.3f} "
               f"{medians[name] / medians[ours]:8.2f} {relative_l2(outputs[name], ref):24.2e}")
        if memory:
            row += f" {peak[name]:12.0f}"
        print(row)
    return {"first": firsts, "median": medians, "peak": peak}


def _strip_options(argv: list[str], with_value: tuple[str, ...], flags: tuple[str, ...]) -> list[str]:
    """``argv`` without the given options (and their values), to pass on to a child run."""
    kept, skip_next = [], False
    for arg in argv:
        if skip_next:
            skip_next = False
        elif arg in with_value:
            skip_next = True
        elif arg in flags or arg.startswith(tuple(f"{name}=" for name in with_value)):
            continue
        else:
            kept.append(arg)
    return kept


def main(title: str, make_impls: Callable[[argparse.Namespace], list[Impl]],
         make_input: Callable[[argparse.Namespace], np.ndarray], *, ours: str, reference: str,
         add_arguments: Callable[[argparse.ArgumentParser], None] | None = None) -> None:
    parser = argparse.ArgumentParser(description=title)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--memory", action="store_true", help="also measure peak RSS per implementation")
    parser.add_argument("--only", help="run one implementation (comma-separated names)")
    parser.add_argument("--measure-memory", action="store_true", help=argparse.SUPPRESS)
    if add_arguments:
        add_arguments(parser)
    args, _ = parser.parse_known_args()
    impls = make_impls(args)
    if args.only:
        wanted = args.only.split(",")
        impls = [impl for impl in impls if impl.name in wanted]
    x = make_input(args)
    if args.measure_memory:
        (impl,) = impls
        np.asarray(impl.build()(x))
        print(f"PEAK_RSS_MB {_peak_rss_mb():.1f}")
        return
    passthrough = _strip_options(sys.argv[1:], with_value=("--only", "--repeats"), flags=("--memory",))
    run(title, impls, x, ours=ours, reference=reference if any(i.name == reference for i in impls)
        else impls[0].name, repeats=args.repeats, memory=args.memory, script=sys.argv[0],
        extra_args=passthrough)
