"""3D benchmark: scatterjax against kymatio 0.3.0's numpy, torch (CPU) and jax (jit) frontends.

Standard workload: J=2, L=2, integral_powers=(1, 2), 128^3, batch 2, float32
(kymatio's published setting, batch cut from 8). Also times the bare FFTs of our plan (same sizes
and counts, nothing else): the floor this plan can reach with XLA's FFT.

    python benchmarks/bench_3d.py                       # standard workload
    python benchmarks/bench_3d.py --size 64 --batch 4   # smaller volumes
    python benchmarks/bench_3d.py --memory              # plus peak RSS of each, alone
    python benchmarks/bench_3d.py --mode jit            # our forward inside a caller's jax.jit
    python benchmarks/bench_3d.py --quick               # 2 rounds, no kymatio-numpy
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from benchmarks._harness import Impl, fft_floor, kymatio_shim, main, standard_impls  # noqa: E402


def add_arguments(parser):
    parser.add_argument("--J", type=int, default=2)
    parser.add_argument("--L", type=int, default=2)
    parser.add_argument("--size", type=int, default=128, help="side of the cubic volume")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--powers", default="1,2", help="comma-separated integral powers")
    parser.add_argument("--skip", default="", help="comma-separated implementations to leave out")


def _settings(args) -> dict:
    powers = tuple(float(p) for p in args.powers.split(","))
    return dict(J=args.J, shape=(args.size,) * 3, L=args.L, integral_powers=powers)


def make_input(args) -> np.ndarray:
    shape = (args.batch,) + (args.size,) * 3
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


def make_impls(args) -> list[Impl]:
    kymatio_shim()
    return standard_impls("HarmonicScattering3D", _settings(args), lambda: make_input(args), floor=fft_floor,
                          skip=args.skip,
                          mode=args.mode)


if __name__ == "__main__":
    main("HarmonicScattering3D", make_impls, make_input, ours="scatterjax",
         reference="kymatio-numpy", add_arguments=add_arguments)
