"""2D benchmark: scatterjax against kymatio 0.3.0's numpy, torch (CPU) and jax (jit) frontends.

Standard workload: J=3, L=8, 256x256 images, batch 8x3 (input (8, 3, 256, 256)
float32; kymatio's published setting is batch 128x3).

    python benchmarks/bench_2d.py --repeats 3            # standard workload
    python benchmarks/bench_2d.py --batch 2 --skip kymatio-numpy,kymatio-torch-cpu
    python benchmarks/bench_2d.py --memory               # plus peak RSS of each, alone
    python benchmarks/bench_2d.py --mode jit             # our forward inside a caller's jax.jit
    python benchmarks/bench_2d.py --quick                # 2 rounds, no kymatio-numpy
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from benchmarks._harness import Impl, kymatio_shim, main, standard_impls  # noqa: E402


def add_arguments(parser):
    parser.add_argument("--J", type=int, default=3)
    parser.add_argument("--L", type=int, default=8)
    parser.add_argument("--size", type=int, default=256, help="images are size x size")
    parser.add_argument("--batch", type=int, default=8, help="leading batch; the second is 3")
    parser.add_argument("--skip", default="", help="comma-separated implementations to leave out")


def make_input(args) -> np.ndarray:
    shape = (args.batch, 3, args.size, args.size)
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


def make_impls(args) -> list[Impl]:
    kymatio_shim()
    kwargs = dict(J=args.J, shape=(args.size, args.size), L=args.L)
    return standard_impls("Scattering2D", kwargs, lambda: make_input(args), skip=args.skip,
                          mode=args.mode)


if __name__ == "__main__":
    main("Scattering2D", make_impls, make_input, ours="scatterjax", reference="kymatio-numpy",
         add_arguments=add_arguments)
