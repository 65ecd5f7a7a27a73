"""``kymatio.numpy``'s place: classes that take NumPy arrays and return NumPy arrays.

``from scatterjax.numpy import Scattering1D`` gives a subclass of :class:`scatterjax.Scattering1D`
(same arguments, attributes, filters and numbers) whose call returns what kymatio's NumPy frontend
returns: a writable ``numpy.ndarray`` (inside ``'list'`` and ``'dict'`` outputs too), so code written
for kymatio's NumPy frontend runs after replacing ``kymatio`` by ``scatterjax`` in its imports
(``torch.from_numpy(Sx)``, in-place edits, ``isinstance(Sx, np.ndarray)``). ``Scattering1D(...,
frontend='numpy')`` builds these classes too. The computation is the JAX one; under ``jax.jit``,
``jax.grad`` or ``jax.vmap`` the output stays a JAX array (a traced value has no NumPy form).

NumPy float64 (and complex128) input is computed in float64, as kymatio's NumPy frontend computes
it, whether or not JAX's 64-bit mode is on: the call runs under a scoped ``jax.enable_x64`` with a
copy of the transform whose filters are float64 (built once, then cached), and returns
float64 coefficients (``HarmonicScattering3D`` too, where kymatio returns float32). float32 input is
computed in float32 (kymatio's 1D returns float64 for it). JAX arrays keep JAX's rules: without
64-bit mode they are float32.

Example:
  >>> import numpy as np
  >>> from scatterjax.numpy import Scattering1D
  >>> Sx = Scattering1D(J=4, shape=256, Q=4)(np.zeros((2, 256), np.float32))
  >>> type(Sx).__name__, Sx.shape, Sx.flags.writeable
  ('ndarray', (2, 29, 16), True)
"""

from __future__ import annotations

import jax
import numpy as np

from . import HarmonicScattering3D as _HarmonicScattering3D
from . import Scattering1D as _Scattering1D
from . import Scattering2D as _Scattering2D
from . import TimeFrequencyScattering as _TimeFrequencyScattering
from ._adapters.common import cached_core
from ._core.transform import register_transform

__all__ = ["HarmonicScattering3D", "Scattering1D", "Scattering2D", "TimeFrequencyScattering"]


def _as_numpy(value):
    """A concrete JAX array as a writable NumPy copy; traced values and non-arrays unchanged."""
    if isinstance(value, jax.Array) and not isinstance(value, jax.core.Tracer):
        return np.array(value)
    return value


def _numpy_outputs(coefficients):
    """Every array of an ``'array'``, ``'list'`` or ``'dict'`` output as NumPy."""
    if isinstance(coefficients, dict):
        return {key: _as_numpy(value) for key, value in coefficients.items()}
    if isinstance(coefficients, list):
        return [{**entry, "coef": _as_numpy(entry["coef"])} for entry in coefficients]
    return _as_numpy(coefficients)


def _computed_in_float64_here(x) -> bool:
    """Whether ``x`` is NumPy float64/complex128 input that JAX, with its 64-bit mode off, would
    compute in float32."""
    return (
        isinstance(x, np.ndarray)
        and x.dtype in (np.float64, np.complex128)
        and not jax.config.jax_enable_x64
    )


def _float64_copy(transform):
    """``transform`` built again with float64 filters (call under ``jax.enable_x64(True)``): from
    the adapters' cache of recently built transforms, keyed by settings and 64-bit mode (the torch
    classes' float64 copies come from it too), so the filters are not designed on every call."""
    return cached_core(type(transform).__name__, frontend="numpy", **transform._arguments())


class _NumPyOutputs:
    """Mixin: the call returns NumPy arrays, float64 input in float64 (see the module docstring)."""

    frontend_name = "numpy"

    def __call__(self, x):
        if _computed_in_float64_here(x):
            with jax.enable_x64(True):
                return _numpy_outputs(_float64_copy(self)(x))
        return _numpy_outputs(super().__call__(x))

    scattering = __call__


def _numpy_class(core: type) -> type:
    cls = type(
        core.__name__,
        (_NumPyOutputs, core),
        {
            "__module__": __name__,
            "__qualname__": core.__name__,
            "__doc__": (
                f":class:`scatterjax.{core.__name__}` (same arguments, attributes, filters and "
                "numbers) whose call returns writable NumPy arrays, as kymatio's NumPy frontend; "
                "under a caller's ``jit``/``grad``/``vmap``, JAX arrays."
            ),
        },
    )
    return register_transform(cls)


Scattering1D = _numpy_class(_Scattering1D)
Scattering2D = _numpy_class(_Scattering2D)
HarmonicScattering3D = _numpy_class(_HarmonicScattering3D)
TimeFrequencyScattering = _numpy_class(_TimeFrequencyScattering)
