"""Gradient benchmark: ``jax.jit(jax.value_and_grad(loss))`` of ``loss(x) = ||S(x) - target||^2``.

What gradient-based reconstruction runs. Peers, in the same process, on the same input and target,
alternating after warm-up (see ``_harness.py``): kymatio 0.3.0's jax frontend under the same
``jax.jit(jax.value_and_grad(.))`` (its filters are constants of the program), and its torch
frontend on the CPU (``loss.backward()``, the gradient read from ``x.grad``). Each implementation
returns the gradient, which is checked against kymatio-jax's (relative L2). Kymatio 0.3.0 has no
joint time-frequency scattering, so the JTFS workload times ours alone.

Workloads:

    1d-small  Scattering1D J=6 Q=8 N=2048, batch 1
    1d        Scattering1D J=10 Q=8 T=N=65536, batch 4
    2d-small  Scattering2D J=2 L=8 32x32, batch 1
    2d        Scattering2D J=3 L=8 256x256, batch 4
    3d        HarmonicScattering3D J=2 L=2 integral_powers=(1, 2) 64^3, batch 1
    jtfs      TimeFrequencyScattering J=8 J_fr=3 Q=8 N=65536, batch 1

    python benchmarks/bench_grad.py                          # every workload
    python benchmarks/bench_grad.py --workload 2d,3d --quick # two workloads, 2 rounds
    python benchmarks/bench_grad.py --workload 2d --memory   # plus memory, each alone in a fresh process
    python benchmarks/bench_grad.py --workload 2d --batch 128,3  # input (128, 3, 256, 256), e.g. on a GPU

Where PyTorch sees a CUDA GPU, kymatio's torch frontend also runs there (``kymatio-torch-cuda``, the
input moved to the GPU and the gradient back, as for the JAX implementations).

The table gives the first call (compile + run for JAX), the median of the timed rounds and its
ratio to ours; with ``--memory``, the peak resident memory of a fresh process running one
implementation (interpreter, libraries and compilation included) and the peak of one warm
gradient call above the memory held before it ("call peak": the backward's working memory), and
for the JAX implementations XLA's temporary buffers of the compiled gradient program.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from benchmarks._harness import (  # noqa: E402
    Impl,
    add_common_arguments,
    apply_common_arguments,
    kymatio_shim,
    measure_call_memory,
    names_to_skip,
    run,
    torch_cuda_available,
    workload_names,
)

WORKLOADS = {
    "1d-small": ("Scattering1D", dict(J=6, shape=2048, Q=8), (1, 2048)),
    "1d": ("Scattering1D", dict(J=10, shape=65536, Q=8, T=65536), (4, 65536)),
    "2d-small": ("Scattering2D", dict(J=2, shape=(32, 32), L=8), (1, 32, 32)),
    "2d": ("Scattering2D", dict(J=3, shape=(256, 256), L=8), (4, 256, 256)),
    "3d": ("HarmonicScattering3D", dict(J=2, shape=(64, 64, 64), L=2, integral_powers=(1.0, 2.0)),
           (1, 64, 64, 64)),
    "jtfs": ("TimeFrequencyScattering", dict(J=8, J_fr=3, Q=8, shape=65536), (1, 65536)),
}
# kymatio 0.3.0 has these classes in its jax and torch frontends.
KYMATIO_CLASSES = {"Scattering1D", "Scattering2D", "HarmonicScattering3D"}


def make_input(shape) -> np.ndarray:
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


def make_target(class_name: str, kwargs: dict, shape) -> np.ndarray:
    """Our coefficients of another random input: the loss and its gradient are far from zero."""
    import scatterjax

    other = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    return np.asarray(getattr(scatterjax, class_name)(**kwargs)(other))


# The implementations this script can run (kymatio-torch-cuda only where PyTorch sees a GPU).
NAMES = ("scatterjax", "kymatio-jax-jit", "kymatio-torch-cpu", "kymatio-torch-cuda")


def make_impls(class_name: str, kwargs: dict, shape, target: np.ndarray, left_out: set[str],
               xla_memory: bool = False) -> list[Impl]:
    """Our gradient program and kymatio's jax and torch ones, less those named in ``left_out``; with
    ``xla_memory``, the JAX ones print ``XLA_TEMP_MB`` (an extra compilation, so only in the
    ``--memory`` subprocesses)."""

    def report_xla(program, *args):
        if xla_memory:
            analysis = program.lower(*args).compile().memory_analysis()
            print(f"XLA_TEMP_MB {getattr(analysis, 'temp_size_in_bytes', float('nan')) / 2**20:.1f}")

    def ours():
        import jax
        import jax.numpy as jnp

        import scatterjax

        S = getattr(scatterjax, class_name)(**kwargs)
        program = jax.jit(jax.value_and_grad(lambda x, S: jnp.sum((S(x) - target) ** 2)))
        report_xla(program, np.zeros(shape, np.float32), S)
        return lambda x: np.asarray(jax.block_until_ready(program(x, S))[1])

    def kymatio_jax():
        import jax
        import jax.numpy as jnp
        import kymatio.jax

        S = getattr(kymatio.jax, class_name)(**kwargs)
        program = jax.jit(jax.value_and_grad(lambda x: jnp.sum((S(x) - target) ** 2)))
        report_xla(program, np.zeros(shape, np.float32))
        return lambda x: np.asarray(jax.block_until_ready(program(x))[1])

    def kymatio_torch(device):
        import kymatio.torch
        import torch

        S = getattr(kymatio.torch, class_name)(**kwargs).to(device)
        target_tensor = torch.tensor(target, device=device)  # a copy: target (from JAX) is read-only

        def call(x):
            x = torch.from_numpy(x).to(device).requires_grad_(True)
            loss = ((S(x) - target_tensor) ** 2).sum()
            loss.backward()
            return x.grad.cpu().numpy()  # .cpu() waits for the GPU

        return call

    impls = [Impl("scatterjax", ours)]
    if class_name in KYMATIO_CLASSES:
        impls += [Impl("kymatio-jax-jit", kymatio_jax), Impl("kymatio-torch-cpu", lambda: kymatio_torch("cpu"))]
        if "kymatio-torch-cuda" not in left_out and torch_cuda_available():
            impls.append(Impl("kymatio-torch-cuda", lambda: kymatio_torch("cuda")))
    return [impl for impl in impls if impl.name not in left_out]


def _leading_dims(value: str) -> tuple[int, ...]:
    dims = tuple(int(part) for part in value.split(","))
    if not dims or min(dims) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers such as 64 or 128,3, got {value!r}")
    return dims


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="all", help=f"comma-separated, from {', '.join(WORKLOADS)}")
    parser.add_argument("--skip", default="", help="comma-separated implementations to leave out")
    parser.add_argument("--batch", type=_leading_dims, default=None,
                        help="leading dimensions replacing each workload's batch, comma-separated (e.g. 64 or 128,3)")
    parser.add_argument("--only", help=argparse.SUPPRESS)
    parser.add_argument("--measure-memory", action="store_true", help=argparse.SUPPRESS)
    add_common_arguments(parser, modes=False)
    args = parser.parse_args()
    apply_common_arguments(args)
    left_out = names_to_skip(args.skip, NAMES)
    names = workload_names(parser, args.workload, WORKLOADS)
    kymatio_shim()
    for name in names:
        class_name, kwargs, shape = WORKLOADS[name]
        if args.batch is not None:
            shape = args.batch + shape[1:]
        x = make_input(shape)
        target = make_target(class_name, kwargs, shape)
        impls = make_impls(class_name, kwargs, shape, target, left_out, xla_memory=args.measure_memory)
        if args.only:
            impls = [impl for impl in impls if impl.name in args.only.split(",")]
        if args.measure_memory:
            (impl,) = impls
            measure_call_memory(impl.build(), x)
            continue
        reference = "kymatio-jax-jit" if any(i.name == "kymatio-jax-jit" for i in impls) else impls[0].name
        run(f"jit(value_and_grad) of ||S(x) - t||^2, {name}: {class_name}({kwargs})", impls, x,
            ours="scatterjax", reference=reference, repeats=args.repeats, memory=args.memory,
            script=__file__, extra_args=["--workload", name]
            + (["--batch", ",".join(map(str, args.batch))] if args.batch else []))


if __name__ == "__main__":
    main()
