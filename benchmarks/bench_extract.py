"""End-to-end extraction throughput: ``scatterjax extract`` on .npy files vs the transform in memory.

For each device count (``--devices 1,2,4``; each in a fresh subprocess with
``XLA_FLAGS=--xla_force_host_platform_device_count=D``) the worker

1. warms up: one extraction into a scratch output (compiles the sharded program),
2. alternates, ``--repeats`` times: (a) the extractor on the files (``--overwrite``: read, check,
   place, compute, write the memory map and the sidecar after every batch) and (b) the same batches,
   already in memory as one NumPy array, through ``sharded_apply`` (placement + compute + fetch),
3. reports medians: items/s of each and the extractor's overhead ``(a - b) / b``, also without the
   filter design each extraction run pays once (``w/o filters``), which long runs amortise.

The default workload is small enough for a loaded 2-core machine (32 files of 16384 samples, J=8,
Q=8, T=16384); ``--standard`` runs the standard 1D workload (64 files of 65536 samples, J=10, Q=8,
T=65536). On CPU the forced "devices" share the same cores, so items/s across device counts shows
the scaling overhead, not a speed-up; on a multi-GPU host it shows the speed-up.

    python benchmarks/bench_extract.py                 # quick
    python benchmarks/bench_extract.py --standard      # the standard 1D workload
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def write_files(folder: Path, files: int, length: int) -> None:
    rng = np.random.default_rng(0)
    for i in range(files):
        np.save(folder / f"signal{i:04d}.npy", rng.standard_normal(length).astype(np.float32))


def worker(args) -> dict:
    import jax

    import scatterjax
    from scatterjax._applications.extract import main as extract_main
    from scatterjax._core.sharding import make_batch_mesh, replicate, shard_batch, sharded_apply

    folder = Path(args.folder)
    files = sorted(folder.glob("*.npy"))
    signals = np.stack([np.load(path) for path in files])
    devices = jax.local_device_count()
    command = [str(folder), "--J", str(args.J), "--Q", str(args.Q), "--T", str(args.T)]
    command += ["--batch-size", str(args.batch_size), "--quiet", "--overwrite"]
    scratch = Path(args.scratch)

    def run_extract(name: str) -> float:
        start = time.perf_counter()
        code = extract_main([*command, "--out", str(scratch / f"{name}{devices}.npy")])
        elapsed = time.perf_counter() - start
        assert code == 0, code
        return elapsed

    mesh = make_batch_mesh()
    S = replicate(scatterjax.Scattering1D(J=args.J, shape=args.length, Q=args.Q, T=args.T), mesh)

    def run_memory() -> float:
        start = time.perf_counter()
        outputs = []
        for begin in range(0, len(signals), args.batch_size):
            x, n_valid = shard_batch(signals[begin : begin + args.batch_size], mesh, pad_to=args.batch_size)
            outputs.append(np.asarray(sharded_apply(S, x, mesh))[:n_valid])
        return time.perf_counter() - start

    first = run_extract("warmup")
    run_memory()
    start = time.perf_counter()
    scatterjax.Scattering1D(J=args.J, shape=args.length, Q=args.Q, T=args.T)
    construction = time.perf_counter() - start  # filter design: the extractor pays it once per run
    extract_times, memory_times = [], []
    for _ in range(args.repeats):
        extract_times.append(run_extract("timed"))
        memory_times.append(run_memory())
    features = np.load(scratch / f"timed{devices}.npy", mmap_mode="r")
    reference = np.asarray(S(signals[: args.batch_size]))
    error = float(np.linalg.norm(features[: args.batch_size] - reference) / np.linalg.norm(reference))
    extract_median, memory_median = statistics.median(extract_times), statistics.median(memory_times)
    return {
        "devices": devices,
        "items": len(signals),
        "first_run_s": first,
        "extract_items_per_s": len(signals) / extract_median,
        "memory_items_per_s": len(signals) / memory_median,
        "overhead_percent": 100 * (extract_median - memory_median) / memory_median,
        "overhead_without_construction_percent": 100 * (extract_median - construction - memory_median) / memory_median,
        "construction_s": construction,
        "rel_error": error,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--standard", action="store_true", help="64 files x 65536 samples, J=10, Q=8, T=65536")
    parser.add_argument("--files", type=int, default=32)
    parser.add_argument("--length", type=int, default=16384)
    parser.add_argument("--J", type=int, default=8)
    parser.add_argument("--Q", type=int, default=8)
    parser.add_argument("--T", type=int, default=None, help="default: the signal length")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--devices", default="1,2,4", help="device counts to run, comma-separated")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--scratch", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.standard:
        args.files, args.length, args.J, args.Q, args.T, args.batch_size = 64, 65536, 10, 8, 65536, 16
    if args.T is None:
        args.T = args.length
    if args.worker:
        print("RESULT" + json.dumps(worker(args)), flush=True)
        return 0

    print(
        f"workload: {args.files} .npy files x {args.length} samples, J={args.J}, Q={args.Q}, T={args.T}, "
        f"batch {args.batch_size}, {args.repeats} alternating repeats after warm-up"
    )
    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryDirectory() as scratch:
        write_files(Path(folder), args.files, args.length)
        header = ("devices", "extract items/s", "in-memory items/s", "overhead", "w/o filters", "first run s")
        print("{:>7} {:>16} {:>18} {:>9} {:>11} {:>12}".format(*header))
        for devices in [int(d) for d in args.devices.split(",")]:
            env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}", JAX_PLATFORMS="cpu")
            command = [sys.executable, __file__, "--worker", "--folder", folder, "--scratch", scratch]
            command += ["--files", str(args.files), "--length", str(args.length), "--J", str(args.J)]
            command += ["--Q", str(args.Q), "--T", str(args.T), "--batch-size", str(args.batch_size)]
            command += ["--repeats", str(args.repeats)]
            done = subprocess.run(command, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                print(f"{devices:>7} failed:\n{done.stderr[-2000:]}")
                continue
            result = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("RESULT"))[6:])
            assert result["rel_error"] <= 1e-5, result
            print(
                f"{result['devices']:>7} {result['extract_items_per_s']:>16.2f} {result['memory_items_per_s']:>18.2f} "
                f"{result['overhead_percent']:>8.1f}% {result['overhead_without_construction_percent']:>10.1f}% "
                f"{result['first_run_s']:>12.1f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
