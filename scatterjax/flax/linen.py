"""Flax linen modules: scattering transforms as layers of a ``linen.Module`` model.

Each class (``Scattering1D``, ``Scattering2D``, ``HarmonicScattering3D``,
``TimeFrequencyScattering``) has the core class's arguments as dataclass fields, in the same order
and with the same defaults, and returns the core's outputs. The filters live in their own variable
collection, ``"filters"`` (never ``"params"``): ``model.init`` returns them next to the parameters,
an optimizer built on ``variables["params"]`` never sees them, and the call applies
``jax.lax.stop_gradient`` so no gradient reaches them either.

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
from typing import Any

import jax

from .._adapters.common import cached_core, frozen, require

nn = require("flax.linen", "flax", what="scatterjax.flax.linen")

__all__ = ["HarmonicScattering3D", "Scattering1D", "Scattering2D", "TimeFrequencyScattering"]

_NOT_CORE_FIELDS = ("parent", "name")


class _Scattering(nn.Module):
    _core_name = "Scattering1D"

    def core(self):
        """The core transform object for these settings (built once, then cached)."""
        settings = {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(self)
            if field.name not in _NOT_CORE_FIELDS
        }
        return cached_core(self._core_name, **settings)

    @nn.compact
    def __call__(self, x):
        """The core transform of ``x`` (shape ``(*batch, *shape)``), with the filters held constant."""
        leaves, treedef = jax.tree_util.tree_flatten(self.core())
        bank = self.variable("filters", "bank", lambda: list(leaves))
        transform = jax.tree_util.tree_unflatten(treedef, jax.tree_util.tree_leaves(bank.value))
        return frozen(transform)(x)


class Scattering1D(_Scattering):
    """``scatterjax.Scattering1D`` as a linen module (same arguments, same outputs)."""

    _core_name = "Scattering1D"
    J: int
    shape: Any
    Q: Any = 1
    T: Any = None
    max_order: int = 2
    oversampling: int = 0
    out_type: str = "array"


class Scattering2D(_Scattering):
    """``scatterjax.Scattering2D`` as a linen module (same arguments, same outputs)."""

    _core_name = "Scattering2D"
    J: int
    shape: Any
    L: int = 8
    max_order: int = 2
    pre_pad: bool = False
    out_type: str = "array"


class HarmonicScattering3D(_Scattering):
    """``scatterjax.HarmonicScattering3D`` as a linen module (same arguments, same outputs)."""

    _core_name = "HarmonicScattering3D"
    J: int
    shape: Any
    L: int = 3
    sigma_0: Any = 1
    max_order: int = 2
    rotation_covariant: bool = True
    method: str = "integral"
    points: Any = None
    integral_powers: Any = (0.5, 1.0, 2.0)
    out_type: str = "array"


class TimeFrequencyScattering(_Scattering):
    """``scatterjax.TimeFrequencyScattering`` as a linen module (same arguments, same outputs)."""

    _core_name = "TimeFrequencyScattering"
    J: int
    J_fr: int
    Q: Any
    shape: Any
    T: Any = None
    stride: Any = None
    Q_fr: Any = 1
    F: Any = None
    stride_fr: Any = None
    out_type: str = "array"
    format: str = "time"
