"""XLA compile options for the programs that ``S(x)`` compiles itself (the eager call's chunks).

The eager call compiles one program per process and configuration (one chunk size serves every
batch size on the CPU), and a script's or notebook's first ``S(x)`` waits for it. Two options of
XLA's CPU compiler shorten that wait and keep the bits of XLA's defaults, with which a caller's
``jax.jit`` compiles the same function (checked for 1D, 2D and JTFS, float32 and float64, over
averaged, unaveraged, global, order-3, odd-length, padded-mode and large configurations):

- :data:`LIGHT_LLVM_OPTIMIZATION`: LLVM's lighter optimisation pipeline for the generated loops.
  The loops of these programs (products, sums, square roots between library FFTs) run as fast.
- :data:`OLDER_FUSION_EMITTERS`: XLA's older LLVM IR emitters for fused loops instead of its MLIR
  fusion emitters (the default in jaxlib 0.10). They compile in about half the time; they run
  chunks of small signals 5-9% slower and chunks of long ones up to 15% faster.

Measured on 2 cores, eager chunk programs, XLA compile and median run, defaults -> light
optimisation -> light optimisation and older emitters:

- 1D J=6 Q=8 N=2048, chunks of 8: 0.68 -> 0.51 -> 0.35 s; 4.40 -> 4.45 -> 4.81 ms;
- 1D J=10 Q=8 N=65536, chunks of 1: 1.40 -> 1.27 -> 0.66 s; 42.1 -> 42.7 -> 38.1 ms;
- 2D J=2 L=8 32x32, chunks of 2: 0.32 -> 0.26 -> 0.17 s; 0.72 -> 0.71 -> 0.78 ms;
- JTFS J=6 J_fr=2 Q=8 N=1024, chunks of 8: 1.45 -> 1.10 s; 11.9 -> 12.0 ms
  (older emitters: 16.7 ms);
- JTFS J=8 J_fr=3 Q=8 N=65536, chunks of 1: 2.54 -> 1.97 s; 185 -> 183 ms.

So 1D and 2D take both (a first call in about half the compile; past a few thousand small signals
in one process the older emitters' slower loops cost more than they saved), JTFS the light
optimisation only. The 3D program keeps the defaults: its powers ``|U|**q`` come out with other
bits under the older emitters and it ran 40% slower (128^3: 735 -> 1032 ms), and twice as slow
under the light optimisation. Complex input keeps them too (complex 1D input rounded differently
under the older emitters). A caller's own ``jax.jit`` compiles with the options the caller gives it.
"""

from __future__ import annotations

from functools import cache

import jax
import numpy as np

#: LLVM's lighter optimisation pipeline for XLA:CPU's generated loops (see the module docstring).
LIGHT_LLVM_OPTIMIZATION = (("xla_backend_optimization_level", 1),)
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
