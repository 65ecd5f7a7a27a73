"""Flax linen modules: scattering transforms as layers of a ``linen.Module`` model.

Each class (``Scattering1D``, ``Scattering2D``, ``HarmonicScattering3D``,
``TimeFrequencyScattering``) has the core class's arguments as dataclass fields, in the same order
and with the same defaults (generated from the core class's signature), reads the core object's
attributes (kymatio's ``N``, ``meta()``, ``output_size()``, ...) and returns the core's outputs. The
filters live in their own variable collection, ``"filters"`` (never ``"params"``): ``model.init``
returns them next to the parameters, an optimizer built on ``variables["params"]`` never sees them,
and the call applies ``jax.lax.stop_gradient`` so no gradient reaches them either.

Example:
  >>> import jax, jax.numpy as jnp
  >>> import flax.linen as nn
  >>> from scatterjax.flax.linen import Scattering1D
  >>> class Model(nn.Module):
  ...     @nn.compact
  ...     def __call__(self, x):
  ...         s = Scattering1D(J=4, shape=256, Q=4)(x)
  ...         return nn.Dense(3)(s.reshape(x.shape[0], -1))
  >>> variables = Model().init(jax.random.key(0), jnp.ones((2, 256)))
  >>> sorted(variables)
  ['filters', 'params']
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import jax

from .._adapters.common import CoreForwarding, cached_core, core_parameters, frozen, require

nn = require("flax.linen", "flax", what="scatterjax.flax.linen")

__all__ = ["HarmonicScattering3D", "Scattering1D", "Scattering2D", "TimeFrequencyScattering"]

_NOT_CORE_FIELDS = ("parent", "name")


class _Scattering(CoreForwarding, nn.Module):
    _core_name = "Scattering1D"

    def core(self):
        """The core transform object for these settings (built once, then cached)."""
        settings = {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(self)
            if field.name not in _NOT_CORE_FIELDS
        }
        return cached_core(self._core_name, **settings)

    def _core_or_none(self):
        return self.core()

    @nn.compact
    def __call__(self, x):
        """The core transform of ``x`` (shape ``(*batch, *shape)``), with the filters held constant."""
        leaves, treedef = jax.tree_util.tree_flatten(self.core())
        bank = self.variable("filters", "bank", lambda: list(leaves))
        transform = jax.tree_util.tree_unflatten(treedef, jax.tree_util.tree_leaves(bank.value))
        return frozen(transform)(x)


def _linen_class(name: str) -> type:
    """The linen module for the core class ``name``: its arguments as dataclass fields, in order."""
    parameters = core_parameters(name)
    namespace = {
        "__annotations__": {parameter.name: Any for parameter in parameters},
        "__module__": __name__,
        "__qualname__": name,
        "__doc__": f"``scatterjax.{name}`` as a linen module (same arguments, same outputs).",
        "_core_name": name,
    }
    namespace.update(
        (parameter.name, parameter.default)
        for parameter in parameters
        if parameter.default is not inspect.Parameter.empty
    )
    return type(name, (_Scattering,), namespace)


Scattering1D = _linen_class("Scattering1D")
Scattering2D = _linen_class("Scattering2D")
HarmonicScattering3D = _linen_class("HarmonicScattering3D")
TimeFrequencyScattering = _linen_class("TimeFrequencyScattering")
