"""Configurations shared by the adapter tests: one small transform per dimension."""

import scatterjax

# dimension -> (core class name, constructor arguments, input shape with a batch of 2)
CONFIGS = {
    "1d": ("Scattering1D", dict(J=4, shape=256, Q=4), (2, 256)),
    "2d": ("Scattering2D", dict(J=2, shape=(16, 16), L=4), (2, 16, 16)),
    "3d": ("HarmonicScattering3D", dict(J=1, shape=(12, 12, 12), L=1), (2, 12, 12, 12)),
}


def core_class(name):
    """The core transform class of that name (``scatterjax.Scattering1D``, ...)."""
    return getattr(scatterjax, name)
