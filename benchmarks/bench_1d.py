"""1D benchmark: scatterjax against kymatio 0.3.0's numpy, torch (CPU) and jax (jit) frontends.

Standard workload: J=10, Q=8, T=65536, N=65536, batch 16. Second workload: J=8, Q=8,
T=None (``--J 8 --T none``). Also times the bare FFTs of our plan (the same sizes and counts,
nothing else): the floor this FFT plan can reach with XLA's FFT.

    python benchmarks/bench_1d.py                      # standard workload
    python benchmarks/bench_1d.py --J 8 --T none       # J=8, Q=8, T=2**J
    python benchmarks/bench_1d.py --memory             # plus peak RSS of each, alone
    python benchmarks/bench_1d.py --mode jit           # our forward inside a caller's jax.jit
    python benchmarks/bench_1d.py --quick              # 2 rounds, no kymatio-numpy
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from benchmarks._harness import Impl, fft_floor, kymatio_shim, main, standard_impls  # noqa: E402


def _parse_T(value: str):
    return None if value.lower() == "none" else int(value)


def add_arguments(parser):
    parser.add_argument("--J", type=int, default=10)
    parser.add_argument("--Q", type=int, default=8)
    parser.add_argument("--N", type=int, default=65536)
    parser.add_argument("--T", type=_parse_T, default=65536)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--skip", default="", help="comma-separated implementations to leave out")


def make_input(args) -> np.ndarray:
    return np.random.default_rng(0).standard_normal((args.batch, args.N)).astype(np.float32)


def make_impls(args) -> list[Impl]:
    kymatio_shim()
    kwargs = dict(J=args.J, shape=args.N, Q=args.Q, T=args.T)
    return standard_impls("Scattering1D", kwargs, lambda: make_input(args), floor=fft_floor, skip=args.skip,
                          mode=args.mode)


if __name__ == "__main__":
    main("Scattering1D", make_impls, make_input, ours="scatterjax", reference="kymatio-numpy",
         add_arguments=add_arguments)
