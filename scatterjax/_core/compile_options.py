"""XLA compile options for the programs that ``S(x)`` compiles itself (the eager call's chunks).

XLA's CPU compiler writes each fused loop with one of two code generators: its MLIR fusion emitters
(the default in jaxlib 0.10) or its older LLVM IR emitters (``xla_cpu_use_fusion_emitters=False``).
For the 1D, 2D and joint time-frequency programs, made of FFTs, products, sums and square roots,
the older emitters compile in half to two thirds of the time and give the same bits. Measured on 2
cores, eager chunk programs, XLA compile and median run, default -> older emitters
(``benchmarks/bench_batch_sizes.py`` shows the effect on a loop over batch sizes):

- 1D J=6 Q=8 N=2048, chunks of 8: 0.64-0.76 -> 0.37-0.43 s; 4.2-4.4 -> 4.5-4.7 ms;
- 1D J=10 Q=8 N=65536, chunks of 1: 2.01 -> 0.99 s; 48.6 -> 39.7 ms;
- 2D J=2 L=8 32x32, chunks of 2: 0.41 -> 0.27 s; 0.69 -> 0.69 ms;
- 2D J=3 L=8 256x256, chunks of 1: 0.80 -> 0.53 s; 23.4 -> 24.5 ms;
- JTFS J=6 J_fr=2 Q=8 N=1024: 1.18 -> 0.74 s; 2.32 -> 2.40 ms;
- JTFS J=8 J_fr=3 Q=8 N=65536: 3.30 -> 1.37 s; 179 -> 174 ms.

The eager call compiles once per process and configuration (one chunk size serves every batch
size on the CPU), so this halves what a script's first ``S(x)`` waits. The 3D program keeps the
default: its powers ``|U|**q`` come out with other bits and it ran 40% slower (128^3: 735 ->
1032 ms). A caller's own ``jax.jit`` compiles with the options the caller gives it.
"""

from __future__ import annotations

from functools import cache

import jax
import numpy as np

#: XLA:CPU's older LLVM IR emitters for fused loops (see the module docstring).
OLDER_FUSION_EMITTERS = (("xla_cpu_use_fusion_emitters", False),)


def eager_compile_options(options: tuple[tuple[str, object], ...]) -> dict | None:
    """``options`` as ``jax.jit``'s ``compiler_options``, or ``None`` (XLA's defaults) where the
    default backend is not the CPU or where this jaxlib does not know one of them."""
    if not options or jax.default_backend() != "cpu":
        return None
    return dict(options) if _accepted(options) else None


@cache
def _accepted(options: tuple[tuple[str, object], ...]) -> bool:
    """Whether XLA accepts ``options`` (a jaxlib that renamed or dropped a flag refuses it by name);
    one trivial compile per process and set of options, about 10 ms."""
    try:
        jax.jit(_compile_options_probe, compiler_options=dict(options)).lower(np.float32(0)).compile()
    except jax.errors.JaxRuntimeError:
        return False
    return True


def _compile_options_probe(x):
    return x + 1
