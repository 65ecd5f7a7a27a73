"""``kymatio.jax``'s place: ``from scatterjax.jax import Scattering2D`` is
:class:`scatterjax.Scattering2D` (the same class: JAX arrays out), so code written for kymatio's JAX
frontend runs after replacing ``kymatio`` by ``scatterjax`` in its imports.

Example:
  >>> import jax.numpy as jnp
  >>> from scatterjax.jax import Scattering2D
  >>> Scattering2D(J=2, shape=(32, 32), L=4)(jnp.zeros((3, 32, 32))).shape
  (3, 25, 8, 8)
"""

from __future__ import annotations

from . import HarmonicScattering3D, Scattering1D, Scattering2D, TimeFrequencyScattering

__all__ = ["HarmonicScattering3D", "Scattering1D", "Scattering2D", "TimeFrequencyScattering"]
