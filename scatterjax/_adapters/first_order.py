"""The core's first-order methods (``scalogram``, ``wavelet_transform``) on the framework adapters.

``Scattering1D.scalogram(x, stride)`` and ``Scattering1D.wavelet_transform(x, stride)`` run a pure
function over a table of wavelets built for that stride (:func:`scatterjax.scalogram_filters`).
:class:`FirstOrderTransform` holds that table and the function's name as a callable pytree, the same
interface as a transform object (``T(x)``, arrays as leaves), so each adapter runs it through the
machinery it already has for ``S(x)`` (torch's DLPack crossing and ``jax.vjp``, TensorFlow's
``jax2tf`` conversion with the leaves as arguments) instead of a copy per method.

:func:`first_order_methods` writes the adapter's ``scalogram``/``wavelet_transform`` methods once,
with the core method's signature, for every adapter class whose core class has them and whose base
class defines ``_first_order(method, x, stride)``. Adapters that return JAX arrays (Equinox, Flax)
need neither: they reach the core's methods through :class:`~scatterjax._adapters.common.CoreForwarding`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from .._core.pytree import pytree_dataclass, static_field
from .._scattering1d.scalogram import ScalogramFilters, scalogram_1d, wavelet_transform_1d

# Core method name -> the pure function it runs, ``function(x, filters)``.
_FUNCTIONS = {"scalogram": scalogram_1d, "wavelet_transform": wavelet_transform_1d}
METHODS = tuple(_FUNCTIONS)


@pytree_dataclass
class FirstOrderTransform:
    """``core.<method>(x, stride)`` as a callable pytree: ``T(x)`` gives the same numbers.

    Leaves: ``filters``, the :class:`ScalogramFilters` of that stride (a jit argument, never a
    constant). Static: ``method``, ``'scalogram'`` (real output) or ``'wavelet_transform'``
    (complex output), both of shape ``(*batch, N1, ceil(N / stride))`` for ``x`` of ``(*batch, N)``.
    """

    filters: ScalogramFilters
    method: str = static_field()

    def __call__(self, x):
        return _FUNCTIONS[self.method](x, self.filters)


def first_order_transform(core, method: str, stride) -> FirstOrderTransform:
    """``core.<method>(·, stride)`` as a :class:`FirstOrderTransform`, its table built in JAX's
    current float dtype (float64 under ``jax.enable_x64``) and cached on ``core``.

    Raises the core's ``TypeError``/``ValueError`` for a bad ``stride``.
    """
    return FirstOrderTransform(core.scalogram_filters(stride), method)


def checked_stride(core, stride) -> int:
    """``stride`` as a plain int, for a cache key (``2.0`` hashes as ``2``), after the core's checks:
    its ``TypeError``/``ValueError`` for anything but a power-of-two int in range."""
    return 2 ** core.scalogram_filters(stride).stride_log2


def first_order_methods(core_class: type, base: type, describe: str) -> dict[str, Callable]:
    """``{name: method}`` for each of :data:`METHODS` that ``core_class`` has, if ``base`` defines
    ``_first_order``; each method calls ``self._first_order(name, x, stride)``."""
    if not hasattr(base, "_first_order"):
        return {}
    return {
        name: _method(core_class, name, describe) for name in METHODS if hasattr(core_class, name)
    }


def _method(core_class: type, name: str, describe: str) -> Callable:
    core_method = getattr(core_class, name)

    def method(self, x, stride=1):
        return self._first_order(name, x, stride)

    method.__name__ = name
    method.__qualname__ = f"{core_class.__name__}.{name}"
    method.__signature__ = inspect.signature(core_method)
    method.__doc__ = (
        f"``scatterjax.{core_class.__name__}.{name}`` on {describe}: the same arguments, numbers, "
        f"shapes and dtypes, with this framework's tensors in and out (see the module docstring "
        f"for gradients).\n\n{inspect.getdoc(core_method)}"
    )
    return method
