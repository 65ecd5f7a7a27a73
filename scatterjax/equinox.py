"""Equinox modules: scattering transforms as layers of an ``eqx.Module`` model.

Each class (``Scattering1D``, ``Scattering2D``, ``HarmonicScattering3D``,
``TimeFrequencyScattering``) takes exactly the arguments of the core class of the same name (same
names, defaults and order), returns its outputs, reads its attributes (kymatio's ``J``, ``Q``,
``shape``, ..., ``meta()``, ``output_size()``; immutable, like every Equinox module), and holds the
core object as its only field, so the filters are ordinary array leaves of the model. They stay
frozen twice over: the call applies ``jax.lax.stop_gradient`` to them, and :func:`trainable_spec`
leaves them out of the trainable partition, so an optimizer with weight decay never sees them.

Example:
  >>> import equinox as eqx, jax, jax.numpy as jnp, optax
  >>> from scatterjax.equinox import Scattering1D, trainable_spec
  >>> model = (Scattering1D(J=4, shape=256, Q=4), eqx.nn.Lambda(jnp.ravel),
  ...          eqx.nn.Linear(29 * 16, 3, key=jax.random.key(0)))
  >>> params, static = eqx.partition(model, trainable_spec(model))
  >>> opt_state = optax.adamw(1e-2, weight_decay=0.1).init(params)  # no filters in it
"""

from __future__ import annotations

import jax

from ._adapters.common import CoreForwarding, apply_frozen, bind_settings, build_core, make_adapters, require
from ._core.transform import ScatteringTransform

eqx = require("equinox", "equinox", what="scatterjax.equinox")

__all__ = [
    "HarmonicScattering3D", "Scattering1D", "Scattering2D", "TimeFrequencyScattering", "trainable_spec",
]


class _Scattering(CoreForwarding, eqx.Module):
    transform: ScatteringTransform
    _core_name = "Scattering1D"

    def __init__(self, *args, **kwargs):
        settings = bind_settings(type(self).__name__, self._core_name, args, kwargs)
        self.transform = build_core(self._core_name, kwargs=settings)

    def _core_or_none(self):
        return self.__dict__.get("transform")

    def __call__(self, x):
        """The core transform of ``x`` (shape ``(*batch, *shape)``), with the filters held constant."""
        return apply_frozen(self.transform, x)


_classes = make_adapters(_Scattering, __name__, "an Equinox module")
Scattering1D = _classes["Scattering1D"]
Scattering2D = _classes["Scattering2D"]
HarmonicScattering3D = _classes["HarmonicScattering3D"]
TimeFrequencyScattering = _classes["TimeFrequencyScattering"]


def _is_transform(node) -> bool:
    return isinstance(node, ScatteringTransform)


def trainable_spec(model):
    """Filter spec for ``eqx.partition``: every inexact array is trainable except scattering filters.

    Returns a pytree of bools shaped like ``model`` (a prefix of it at each scattering transform,
    which maps to ``False``), so ``eqx.partition(model, trainable_spec(model))`` puts the filters of
    every scattering layer, wrapped or bare core object, in the static half.
    """
    return jax.tree_util.tree_map(
        lambda node: False if _is_transform(node) else eqx.is_inexact_array(node),
        model,
        is_leaf=_is_transform,
    )
