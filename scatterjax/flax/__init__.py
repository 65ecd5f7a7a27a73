"""Flax NNX modules: scattering transforms as layers of an ``nnx.Module`` model.

Each class (``Scattering1D``, ``Scattering2D``, ``HarmonicScattering3D``,
``TimeFrequencyScattering``) takes exactly the arguments of the core class of the same name (same
names, defaults and order), reads its attributes (kymatio's ``J``, ``Q``, ``shape``, ...,
``meta()``, ``output_size()``; read-only: build a new module to change one) and returns the same
outputs, e.g. ``(*batch, C_joint, R, N_out)`` for a ``format='joint'`` JTFS. The filters
live in :class:`ScatteringFilters` variables, a subclass of ``nnx.Variable`` that is not
``nnx.Param``: an ``nnx.Optimizer(model, tx, wrt=nnx.Param)`` never holds state for them or updates
them (weight decay included), and the call applies ``jax.lax.stop_gradient`` so no gradient reaches
them either. Linen modules are in :mod:`scatterjax.flax.linen`.

Example:
  >>> import jax.numpy as jnp, optax
  >>> from flax import nnx
  >>> from scatterjax.flax import Scattering1D
  >>> class Model(nnx.Module):
  ...     def __init__(self, rngs):
  ...         self.scattering = Scattering1D(J=4, shape=256, Q=4)
  ...         self.head = nnx.Linear(29 * 16, 3, rngs=rngs)
  ...     def __call__(self, x):
  ...         return self.head(self.scattering(x).reshape(x.shape[0], -1))
  >>> model = Model(nnx.Rngs(0))
  >>> optimizer = nnx.Optimizer(model, optax.adamw(1e-2, weight_decay=0.1), wrt=nnx.Param)
  >>> model(jnp.ones((2, 256))).shape
  (2, 3)
"""

from __future__ import annotations

import jax

from .._adapters.common import (
    CoreForwarding,
    ReadOnlySettings,
    bind_settings,
    build_core,
    frozen,
    make_adapters,
    require,
)

nnx = require("flax.nnx", "flax", what="scatterjax.flax")

__all__ = [
    "HarmonicScattering3D", "Scattering1D", "Scattering2D", "ScatteringFilters",
    "TimeFrequencyScattering",
]


class ScatteringFilters(nnx.Variable):
    """A frozen scattering filter (one array of a filter bank); never an ``nnx.Param``."""


class _Scattering(CoreForwarding, ReadOnlySettings, nnx.Module):
    _core_name = "Scattering1D"

    def __init__(self, *args, **kwargs):
        settings = bind_settings(type(self).__name__, self._core_name, args, kwargs)
        leaves, treedef = jax.tree_util.tree_flatten(build_core(self._core_name, kwargs=settings))
        self.filters = nnx.List([ScatteringFilters(leaf) for leaf in leaves])
        self.treedef = treedef  # static: the transform's settings and the bank's layout

    @property
    def transform(self):
        """The core transform object, built on the current filter values."""
        return jax.tree_util.tree_unflatten(self.treedef, [f[...] for f in self.filters])

    def _core_or_none(self):
        if "treedef" not in self.__dict__ or "filters" not in self.__dict__:
            return None
        return self.transform

    def __call__(self, x):
        """The core transform of ``x`` (shape ``(*batch, *shape)``), with the filters held constant."""
        return frozen(self.transform)(x)


_classes = make_adapters(_Scattering, __name__, "a Flax NNX module")
Scattering1D = _classes["Scattering1D"]
Scattering2D = _classes["Scattering2D"]
HarmonicScattering3D = _classes["HarmonicScattering3D"]
TimeFrequencyScattering = _classes["TimeFrequencyScattering"]
