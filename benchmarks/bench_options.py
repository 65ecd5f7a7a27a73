"""What each option beyond kymatio costs, relative to the default transform on the same input.

For each workload the default transform and every option run in one process, on the same input,
alternating after warm-up; the table gives medians and each option's time divided by the default's,
in three modes: the eager call ``S(x)``, the forward inside a caller's ``jax.jit`` and
``jax.jit(jax.value_and_grad(loss))`` of ``loss(x) = sum(S(x)**2)``.

Options (the extra work each one does, which is what its ratio should reflect):

- ``pad_mode`` 'symmetric' / 'zero' / 'periodic': none (a different padding, same sizes);
- complex input: the linear first stage runs on the real and imaginary parts (about 2× the
  first-order FFTs; the rest unchanged);
- ``max_order=3``: the third-order paths (more channels);
- ``prune_paths=True``: fewer second-order paths (should be faster; with ``Q2=1`` at ``J <= 8``
  it drops none, hence the 1D workload's ``Q=(8, 2)``);
- ``S.scalogram(x)`` / ``S.wavelet_transform(x)``: first order only, at full rate (no averaging);
- ``scatterjax.normalize(S(x), S, log=True)``: one division and log per channel on top of ``S(x)``.

    python benchmarks/bench_options.py                 # 1D and 2D, every mode
    python benchmarks/bench_options.py --dim 1 --mode grad --repeats 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402


def _options_1d(scatterjax):
    base = dict(J=8, shape=8192, Q=(8, 2))  # Q2=2: prune_paths drops 94 of 411 second-order paths
    default = scatterjax.Scattering1D(**base)
    return base, default, {
        "pad_mode='symmetric'": (scatterjax.Scattering1D(**base, pad_mode="symmetric"), None),
        "pad_mode='zero'": (scatterjax.Scattering1D(**base, pad_mode="zero"), None),
        "pad_mode='periodic'": (scatterjax.Scattering1D(**base, pad_mode="periodic"), None),
        "complex input": (default, "complex"),
        "max_order=3": (scatterjax.Scattering1D(**base, max_order=3), None),
        "prune_paths=True": (scatterjax.Scattering1D(**base, prune_paths=True), None),
        "S.scalogram(x)": (default, "scalogram"),
        "S.wavelet_transform(x)": (default, "wavelet_transform"),
        "normalize(S(x), S, log=True)": (default, "normalize"),
    }


def _options_2d(scatterjax):
    base = dict(J=3, shape=(128, 128), L=8)
    default = scatterjax.Scattering2D(**base)
    return base, default, {
        "pad_mode='symmetric'": (scatterjax.Scattering2D(**base, pad_mode="symmetric"), None),
        "pad_mode='zero'": (scatterjax.Scattering2D(**base, pad_mode="zero"), None),
        "pad_mode='periodic'": (scatterjax.Scattering2D(**base, pad_mode="periodic"), None),
        "complex input": (default, "complex"),
        "normalize(S(x), S, log=True)": (default, "normalize"),
    }


def _forward(scatterjax, S, how):
    """``x -> output`` (a JAX array) for one option."""
    if how == "scalogram":
        return lambda x: S.scalogram(x)
    if how == "wavelet_transform":
        return lambda x: jax_abs(S.wavelet_transform(x))
    if how == "normalize":
        return lambda x: scatterjax.normalize(S(x), S, log=True)
    return lambda x: S(x)


def jax_abs(z):
    import jax.numpy as jnp

    return jnp.abs(z)


def _program(scatterjax, S, how, mode):
    """A function ``x -> numpy result`` for ``mode`` in eager / jit / grad, blocking until done."""
    import jax
    import jax.numpy as jnp

    forward = _forward(scatterjax, S, how)
    if mode == "eager":
        return lambda x: np.asarray(jax.block_until_ready(forward(x)))
    if mode == "jit":
        program = jax.jit(lambda S_, x: _forward(scatterjax, S_, how)(x))
        return lambda x: np.asarray(jax.block_until_ready(program(S, x)))

    def loss(x, S_):
        return jnp.sum(_forward(scatterjax, S_, how)(x) ** 2)

    program = jax.jit(jax.value_and_grad(loss))
    return lambda x: np.asarray(jax.block_until_ready(program(x, S))[1])


def _input(shape, how):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    if how == "complex":
        x = (x + 1j * rng.standard_normal(shape)).astype(np.complex64)
    return x


def bench(dim: int, modes: list[str], repeats: int) -> None:
    import scatterjax

    base, default, options = (_options_1d if dim == 1 else _options_2d)(scatterjax)
    shape = (8, *default.shape)
    for mode in modes:
        print(f"== {dim}D {base}, batch {shape[0]}, mode {mode}: time ÷ default's")
        entries = {"default": (default, None), **options}
        programs, inputs, firsts = {}, {}, {}
        for name, (S, how) in entries.items():
            inputs[name] = _input(shape, how)
            programs[name] = _program(scatterjax, S, how, mode)
            start = time.perf_counter()
            programs[name](inputs[name])
            firsts[name] = time.perf_counter() - start
        times = {name: [] for name in entries}
        for _ in range(repeats):
            for name in entries:
                start = time.perf_counter()
                programs[name](inputs[name])
                times[name].append(time.perf_counter() - start)
        medians = {name: statistics.median(ts) for name, ts in times.items()}
        print(f"   {'option':<30} {'first call s':>12} {'median s':>10} {'÷ default':>10}")
        for name in entries:
            print(f"   {name:<30} {firsts[name]:12.3f} {medians[name]:10.4f} "
                  f"{medians[name] / medians['default']:10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", choices=("1", "2", "all"), default="all")
    parser.add_argument("--mode", choices=("eager", "jit", "grad", "all"), default="all")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    modes = ["eager", "jit", "grad"] if args.mode == "all" else [args.mode]
    for dim in (1, 2) if args.dim == "all" else (int(args.dim),):
        bench(dim, modes, args.repeats)


if __name__ == "__main__":
    main()
