"""1D benchmark: scatterjax against kymatio 0.3.0's numpy, torch (CPU) and jax (jit) frontends.

Standard workload (DESIGN.md): J=10, Q=8, T=65536, N=65536, batch 16. Second workload: J=8, Q=8,
T=None (``--J 8 --T none``). Also times the bare FFTs of our plan (the same sizes and counts,
nothing else): the floor this FFT plan can reach with XLA's FFT.

    python benchmarks/bench_1d.py                      # standard workload
    python benchmarks/bench_1d.py --J 8 --T none       # J=8, Q=8, T=2**J
    python benchmarks/bench_1d.py --memory             # plus peak RSS of each, alone
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from benchmarks._harness import Impl, kymatio_shim, main  # noqa: E402


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


def fft_floor(transform, x: np.ndarray):
    """A jitted function running exactly the FFTs of our transform (found in its jaxpr) on random
    data of the same shapes, and nothing else; returns ``(function, inputs, number of FFT calls)``.

    FFTs inside a loop over batch chunks (``lax.map``) run inside a loop of the same length, so the
    floor sees the same sizes, counts and cache behaviour as the transform."""
    import jax
    import jax.extend
    import jax.numpy as jnp

    groups: dict[int, list] = {}  # loop length -> FFT calls in that loop body (1: not in a loop)

    def walk(jaxpr, length):
        for eqn in jaxpr.eqns:
            if eqn.primitive.name == "fft":
                aval = eqn.invars[0].aval
                groups.setdefault(length, []).append(
                    (eqn.params["fft_type"], tuple(eqn.params["fft_lengths"]), aval.shape, aval.dtype))
            inner = length * eqn.params["length"] if eqn.primitive.name == "scan" else length
            for sub in jax.extend.core.jaxprs_in_params(eqn.params):
                walk(sub, inner)

    walk(jax.make_jaxpr(transform)(x).jaxpr, 1)
    rng = np.random.default_rng(1)

    def random(shape, dtype):
        data = rng.standard_normal(shape)
        if jnp.issubdtype(dtype, jnp.complexfloating):
            data = data + 1j * rng.standard_normal(shape)
        return jnp.asarray(data, dtype)

    inputs = {length: [random((length,) + shape, dtype) for _, _, shape, dtype in calls]
              for length, calls in groups.items()}
    specs = {length: tuple((fft_type, lengths) for fft_type, lengths, _, _ in calls)
             for length, calls in groups.items()}

    @jax.jit
    def run(arrays):
        out = {}
        for length, stacked in arrays.items():
            def body(chunk, length=length):
                return [jax.lax.fft(a, t, n) for (t, n), a in zip(specs[length], chunk)]
            out[length] = jax.lax.map(body, stacked)
        return out

    return run, inputs, sum(length * len(calls) for length, calls in groups.items())


def make_impls(args) -> list[Impl]:
    kymatio_shim()
    skip = set(filter(None, args.skip.split(",")))
    kwargs = dict(J=args.J, shape=args.N, Q=args.Q, T=args.T)

    def ours():
        import jax

        import scatterjax

        S = scatterjax.Scattering1D(**kwargs)
        return lambda x: np.asarray(jax.block_until_ready(S(x)))

    def floor():
        import jax

        import scatterjax

        S = scatterjax.Scattering1D(**kwargs)
        run, inputs, count = fft_floor(S, make_input(args))
        print(f"   (fft-floor: {count} batched FFT calls of our plan)")
        reference = np.asarray(S(make_input(args)))
        def call(x):
            jax.block_until_ready(run(inputs))
            return reference  # the floor computes no coefficients; report ours for the check
        return call

    def kymatio_numpy():
        from kymatio.numpy import Scattering1D

        S = Scattering1D(**kwargs)
        return lambda x: S(x)

    def kymatio_torch():
        import torch
        from kymatio.torch import Scattering1D

        S = Scattering1D(**kwargs)
        return lambda x: S(torch.from_numpy(x)).numpy()

    def kymatio_jax():
        import jax
        from kymatio.jax import Scattering1D

        S = Scattering1D(**kwargs)
        f = jax.jit(lambda x: S(x))
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
    main("Scattering1D", make_impls, make_input, ours="scatterjax", reference="kymatio-numpy",
         add_arguments=add_arguments)
