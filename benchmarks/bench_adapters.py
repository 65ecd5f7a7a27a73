"""Adapter overhead: scatterjax.torch and scatterjax.tensorflow against the core, same workload.

Standard 1D workload: J=10, Q=8, T=65536, N=65536, batch 16, float32. Each adapter
takes the NumPy input the way its users would hand it over (``torch.from_numpy``,
``tf.constant``) and returns NumPy, so the ratios include every conversion. With ``--grad`` each
implementation computes the gradient of ``sum(S(x))`` with respect to ``x`` instead (forward plus
backward through its autodiff: ``jax.grad``, ``loss.backward()``, ``tf.GradientTape``).

    python benchmarks/bench_adapters.py            # forward
    python benchmarks/bench_adapters.py --grad     # forward + backward
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from benchmarks import bench_1d  # noqa: E402
from benchmarks._harness import Impl, main, names_to_skip  # noqa: E402


def add_arguments(parser):
    bench_1d.add_arguments(parser)  # the 1D workload's options (--J, --Q, --N, --T, --batch, --skip)
    parser.add_argument("--grad", action="store_true", help="time the input gradient instead")


make_input = bench_1d.make_input


def make_impls(args) -> list[Impl]:
    kwargs = dict(J=args.J, shape=args.N, Q=args.Q, T=args.T)

    def core():
        import jax
        import jax.numpy as jnp

        import scatterjax

        S = scatterjax.Scattering1D(**kwargs)
        if args.grad:
            grad = jax.jit(jax.grad(lambda S, x: jnp.sum(S(x)), argnums=1))
            return lambda x: np.asarray(jax.block_until_ready(grad(S, x)))
        return lambda x: np.asarray(jax.block_until_ready(S(x)))

    def torch_adapter():
        import torch

        import scatterjax.torch

        S = scatterjax.torch.Scattering1D(**kwargs)
        if args.grad:
            def grad(x):
                x = torch.from_numpy(x).requires_grad_(True)
                S(x).sum().backward()
                return x.grad.numpy()
            return grad
        return lambda x: S(torch.from_numpy(x)).numpy()

    def tf_adapter(graph: bool):
        def build():
            import tensorflow as tf

            import scatterjax.tensorflow

            S = scatterjax.tensorflow.Scattering1D(**kwargs)

            def grad(x):
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    loss = tf.reduce_sum(S(x))
                return tape.gradient(loss, x)

            fn = grad if args.grad else S
            if graph:
                fn = tf.function(fn, input_signature=[tf.TensorSpec([None, args.N], tf.float32)])
            return lambda x: fn(tf.constant(x)).numpy()

        return build

    impls = [
        Impl("scatterjax (core)", core),
        Impl("scatterjax.torch", torch_adapter),
        Impl("scatterjax.tensorflow eager", tf_adapter(graph=False)),
        Impl("scatterjax.tensorflow tf.function", tf_adapter(graph=True)),
    ]
    left_out = names_to_skip(args.skip, [impl.name for impl in impls])
    return [impl for impl in impls if impl.name not in left_out]


if __name__ == "__main__":
    main("Scattering1D adapters", make_impls, make_input, ours="scatterjax (core)",
         reference="scatterjax (core)", add_arguments=add_arguments)
