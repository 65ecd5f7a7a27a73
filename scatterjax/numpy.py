"""``kymatio.numpy``'s place: ``from scatterjax.numpy import Scattering1D`` is
:class:`scatterjax.Scattering1D`, so code written for kymatio's NumPy frontend runs after replacing
``kymatio`` by ``scatterjax`` in its imports.

The classes take NumPy (or JAX) arrays and return JAX arrays, which ``np.asarray`` views without a
copy on CPU (kymatio's NumPy frontend returns NumPy arrays).

Example:
  >>> import numpy as np
  >>> from scatterjax.numpy import Scattering1D
  >>> np.asarray(Scattering1D(J=4, shape=256, Q=4)(np.zeros((2, 256), np.float32))).shape
  (2, 29, 16)
"""

from __future__ import annotations

from . import HarmonicScattering3D, Scattering1D, Scattering2D, TimeFrequencyScattering

__all__ = ["HarmonicScattering3D", "Scattering1D", "Scattering2D", "TimeFrequencyScattering"]
