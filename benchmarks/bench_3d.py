"""3D benchmark: scatterjax against kymatio 0.3.0's numpy, torch (CPU) and jax (jit) frontends.

Standard workload (DESIGN.md): J=2, L=2, integral_powers=(1, 2), 128^3, batch 2, float32
(kymatio's published setting, batch cut from 8). Also times the bare FFTs of our plan (same sizes
and counts, nothing else): the floor this plan can reach with XLA's FFT.

    python benchmarks/bench_3d.py                       # standard workload
    python benchmarks/bench_3d.py --size 64 --batch 4   # smaller volumes
    python benchmarks/bench_3d.py --memory              # plus peak RSS of each, alone
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from benchmarks._harness import Impl, kymatio_shim, main  # noqa: E402


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


def fft_floor(transform, x: np.ndarray):
    """A jitted function running exactly the FFTs of ``transform`` (found in its jaxpr, counted as
    many times as the enclosing loops run) on random data of the same shapes, and nothing else;
    returns ``(function, inputs, number of FFT calls)``."""
    import jax
    import jax.extend
    import jax.numpy as jnp

    calls = []

    def walk(jaxpr, repeats):
        for eqn in jaxpr.eqns:
            if eqn.primitive.name == "fft":
                aval = eqn.invars[0].aval
                calls.extend([(eqn.params["fft_type"], tuple(eqn.params["fft_lengths"]),
                               aval.shape, aval.dtype)] * repeats)
            inner = repeats * eqn.params.get("length", 1) if eqn.primitive.name == "scan" else repeats
            for sub in jax.extend.core.jaxprs_in_params(eqn.params):
                walk(sub, inner)

    walk(jax.make_jaxpr(transform)(x).jaxpr, 1)
    rng = np.random.default_rng(1)
    inputs = []
    for _, _, shape, dtype in calls:
        data = rng.standard_normal(shape)
        if jnp.issubdtype(dtype, jnp.complexfloating):
            data = data + 1j * rng.standard_normal(shape)
        inputs.append(jnp.asarray(data, dtype))
    specs = tuple((fft_type, lengths) for fft_type, lengths, _, _ in calls)

    @jax.jit
    def run(arrays):
        return [jax.lax.fft(a, fft_type, lengths) for (fft_type, lengths), a in zip(specs, arrays)]

    return run, inputs, len(calls)


def make_impls(args) -> list[Impl]:
    kymatio_shim()
    skip = set(filter(None, args.skip.split(",")))
    settings = _settings(args)

    def ours():
        import jax

        from scatterjax._frontend3d import HarmonicScattering3D

        S = HarmonicScattering3D(**settings)
        return lambda x: np.asarray(jax.block_until_ready(S(x)))

    def floor():
        import jax

        from scatterjax._frontend3d import HarmonicScattering3D

        S = HarmonicScattering3D(**settings)
        run, inputs, count = fft_floor(S, make_input(args))
        print(f"   (fft-floor: {count} FFT calls of our plan)")
        reference = np.asarray(S(make_input(args)))

        def call(x):
            jax.block_until_ready(run(inputs))
            return reference  # the floor computes no coefficients; report ours for the check

        return call

    def kymatio_numpy():
        from kymatio.numpy import HarmonicScattering3D

        S = HarmonicScattering3D(**settings)
        return lambda x: S(x)

    def kymatio_torch():
        import torch
        from kymatio.torch import HarmonicScattering3D

        S = HarmonicScattering3D(**settings)
        return lambda x: S(torch.from_numpy(x)).numpy()

    def kymatio_jax():
        import jax
        from kymatio.jax import HarmonicScattering3D

        S = HarmonicScattering3D(**settings)
        f = jax.jit(S.scattering)  # kymatio's jax frontend jits as is (filters become constants)
        return lambda x: np.asarray(jax.block_until_ready(f(x)))

    impls = [
        Impl("scatterjax", ours),
        Impl("fft-floor (our plan)", floor),
        Impl("kymatio-jax-jit", kymatio_jax),
        Impl("kymatio-torch-cpu", kymatio_torch),
        Impl("kymatio-numpy", kymatio_numpy),
    ]
    return [impl for impl in impls if impl.name not in skip]


if __name__ == "__main__":
    main("HarmonicScattering3D", make_impls, make_input, ours="scatterjax",
         reference="kymatio-numpy", add_arguments=add_arguments)
