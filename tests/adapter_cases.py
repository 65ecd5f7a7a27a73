"""Configurations shared by the adapter tests: one small transform per core class (two for JTFS)."""

import functools

import jax
import jax.numpy as jnp
import numpy as np

import scatterjax

# case -> (core class name, constructor arguments, input shape with a batch of 2)
CONFIGS = {
    "1d": ("Scattering1D", dict(J=4, shape=256, Q=4), (2, 256)),
    "2d": ("Scattering2D", dict(J=2, shape=(16, 16), L=4), (2, 16, 16)),
    "3d": ("HarmonicScattering3D", dict(J=1, shape=(12, 12, 12), L=1), (2, 12, 12, 12)),
    # Joint time-frequency scattering: (2, 23, 8) in 'time' format, (2, 8, 12, 8) in 'joint'.
    "jtfs": ("TimeFrequencyScattering", dict(J=3, J_fr=1, Q=2, shape=64), (2, 64)),
    "jtfs_joint": ("TimeFrequencyScattering", dict(J=3, J_fr=1, Q=2, shape=64, format="joint"), (2, 64)),
}


def core_class(name):
    """The core transform class of that name (``scatterjax.Scattering1D``, ...)."""
    return getattr(scatterjax, name)


@functools.cache
def reference(case):
    """``(core, x, core(x), d sum(core(x)**2) / dx)`` for ``CONFIGS[case]``, with ``x`` float32 from
    ``default_rng(0)``, computed once per test process (every adapter test file compares with them)."""
    name, kwargs, input_shape = CONFIGS[case]
    core = core_class(name)(**kwargs)
    x = np.random.default_rng(0).standard_normal(input_shape).astype(np.float32)
    y = np.asarray(core(x))
    grad = np.asarray(jax.grad(lambda x: jnp.sum(core(x) ** 2))(x))
    assert np.all(np.isfinite(y)) and np.linalg.norm(y) > 0
    assert np.all(np.isfinite(grad)) and np.linalg.norm(grad) > 0
    return core, x, y, grad
