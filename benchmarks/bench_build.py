"""Building a transform: the constructor's time (filter design), ours against kymatio's frontends.

A transform designs its filters once, in its constructor (NumPy, float64), before any call. This
script builds each workload with scatterjax and with kymatio 0.3.0's jax, torch and NumPy
frontends, in a fresh process per workload (so no implementation profits from another's imports or
caches), each build ``--repeats`` times in turn, and prints the median build time and kymatio's
median divided by ours.

Workloads: the forward benchmarks' standard ones, and the large configurations whose filter design
takes seconds.

    1d          Scattering1D J=10 Q=8 N=65536                (bench_1d.py)
    1d-small    Scattering1D J=6 Q=8 N=2048                  (bench_grad.py)
    2d          Scattering2D J=3 L=8 256x256                 (bench_2d.py)
    3d          HarmonicScattering3D J=2 L=2 128^3           (bench_3d.py)
    1d-long     Scattering1D J=12 Q=(32, 4) N=2**18
    2d-large    Scattering2D J=5 L=16 1024x1024

    python benchmarks/bench_build.py                          # every workload
    python benchmarks/bench_build.py --workload 1d,2d --repeats 3
    python benchmarks/bench_build.py --skip kymatio-numpy
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks._harness import kymatio_shim, names_to_skip, workload_names  # noqa: E402

WORKLOADS = {
    "1d": ("Scattering1D", dict(J=10, shape=65536, Q=8)),
    "1d-small": ("Scattering1D", dict(J=6, shape=2048, Q=8)),
    "2d": ("Scattering2D", dict(J=3, shape=(256, 256), L=8)),
    "3d": ("HarmonicScattering3D", dict(J=2, shape=(128, 128, 128), L=2)),
    "1d-long": ("Scattering1D", dict(J=12, shape=2**18, Q=(32, 4))),
    "2d-large": ("Scattering2D", dict(J=5, shape=(1024, 1024), L=16)),
}
IMPLEMENTATIONS = ("scatterjax", "kymatio-jax", "kymatio-torch", "kymatio-numpy")


def _constructor(implementation: str, class_name: str):
    if implementation == "scatterjax":
        import scatterjax

        return getattr(scatterjax, class_name)
    kymatio_shim()
    import importlib

    module = importlib.import_module("kymatio." + implementation.split("-")[1])
    return getattr(module, class_name)


def measure(workload: str, implementations: list[str], repeats: int) -> dict[str, list[float]]:
    """Build times in seconds, ``repeats`` per implementation, the implementations in turn."""
    class_name, kwargs = WORKLOADS[workload]
    constructors = {name: _constructor(name, class_name) for name in implementations}
    # One build each first: imports, JAX's backend and torch's start-up are not filter design.
    for constructor in constructors.values():
        constructor(**kwargs)
    times: dict[str, list[float]] = {name: [] for name in implementations}
    for _ in range(repeats):
        for name, constructor in constructors.items():
            start = time.perf_counter()
            constructor(**kwargs)
            times[name].append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workload", default=",".join(WORKLOADS), help="comma-separated, from: " + ", ".join(WORKLOADS)
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip", default="", help="comma-separated implementations to leave out")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    left_out = names_to_skip(args.skip, IMPLEMENTATIONS)
    implementations = [name for name in IMPLEMENTATIONS if name not in left_out]
    if args.child:  # one workload, in this fresh process
        print(json.dumps(measure(args.child, implementations, args.repeats)))
        return
    for workload in workload_names(parser, args.workload, WORKLOADS):
        command = [sys.executable, __file__, "--child", workload, "--repeats", str(args.repeats), "--skip", args.skip]
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        times = json.loads(result.stdout.strip().splitlines()[-1])
        ours = statistics.median(times["scatterjax"])
        class_name, kwargs = WORKLOADS[workload]
        settings = ", ".join(f"{key}={value}" for key, value in kwargs.items())
        print(f"{workload}: {class_name}({settings}), median of {args.repeats} builds")
        for name, values in times.items():
            median = statistics.median(values)
            ratio = "" if name == "scatterjax" else f"   ({median / ours:.1f}x ours)"
            print(f"   {name:<14} {median:8.3f} s{ratio}")


if __name__ == "__main__":
    main()
