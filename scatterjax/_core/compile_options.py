"""XLA options for the programs that the eager call ``S(x)`` compiles for itself.

On CPU, XLA compiles each fused loop with one of two code generators. The newer one (MLIR
"fusion emitters", XLA's default in jaxlib 0.10) takes longer to compile our 1D and 2D programs
than the older LLVM IR emitters, and the programs it emits run no faster.

Measured on a 2-core x86-64 CPU with jaxlib 0.10.2, alternating fresh processes. "First call" is
the first ``S(x)`` of a process, compile included; "warm call" is the median of 5-15 later calls.

| transform, batch | first call: new / old emitters | warm call: new / old |
|---|---|---|
| 1D J=10 Q=8 T=N=65536, x16 | 1.86-1.88 / 1.30-1.32 s | 0.29-0.30 / 0.29-0.30 s |
| 1D J=8 Q=(8, 2) N=8192, x64 | 1.05-1.06 / 0.86-0.88 s | 0.16-0.17 / 0.16-0.17 s |
| 1D J=6 Q=8 N=2048, x256 | 0.63-0.68 / 0.48-0.53 s | 0.072-0.074 / 0.073-0.075 s |
| 2D J=3 L=8 256x256, x24 | 1.44-1.84 / 1.25-1.40 s | 0.32-0.34 / 0.33-0.35 s |
| 2D J=2 L=8 32x32, x256 | 0.67-0.71 / 0.55-0.59 s | 0.039-0.043 / 0.040-0.041 s |

In every 1D and 2D configuration the tests run, the bits are the same under both emitters, so
``S(x)`` still gives the bits of ``jax.jit(S)(x)``; the determinism tests check this.

The option applies only where we compile the program: a concrete batch on the CPU. Inside a
caller's ``jax.jit`` or ``jax.grad`` the caller's program is compiled with the caller's options.
Two transforms opt out (``_fast_eager_compile = False``).
:class:`~scatterjax.HarmonicScattering3D`: its float32 volume sums round differently under the old
emitters, and it compiles no faster with them. :class:`~scatterjax.TimeFrequencyScattering`: it
compiles in half the time, but its calls then run 20% longer. An XLA that lacks the option gets the
plain program.
"""

from __future__ import annotations

from functools import cache

import jax
import numpy as np

# Compile each fused loop with XLA:CPU's LLVM IR emitters instead of the MLIR fusion emitters.
FAST_CPU_COMPILE = (("xla_cpu_use_fusion_emitters", False),)


def eager_compile_options() -> tuple[tuple[str, object], ...]:
    """Options for a program that ``S(x)`` compiles for a concrete batch on the default backend.

    Returns :data:`FAST_CPU_COMPILE` on CPU. It returns ``()`` elsewhere, and also when this XLA
    rejects the option (checked once per process with a one-line program). The result is a tuple of
    ``(name, value)`` pairs, so it can be a cache key.
    """
    if jax.default_backend() != "cpu" or not _cpu_accepts(FAST_CPU_COMPILE):
        return ()
    return FAST_CPU_COMPILE


@cache
def _cpu_accepts(options: tuple[tuple[str, object], ...]) -> bool:
    # XLA raises "No such compile option" at compile time, not at jax.jit.
    try:
        jax.jit(lambda v: v + 1, compiler_options=dict(options)).lower(np.float32(0)).compile()
    except Exception:  # noqa: BLE001 - any refusal means: compile without the options
        return False
    return True
