"""TensorFlow modules: scattering transforms as ``tf.Module`` objects, computed by JAX's XLA program.

Each class (``Scattering1D``, ``Scattering2D``, ``HarmonicScattering3D``,
``TimeFrequencyScattering``) takes the same arguments as the core class of the same name
(``out_type='array'`` only) and returns the core's array, e.g. ``(*batch, C, N_out)`` or, for a
``format='joint'`` JTFS, ``(*batch, C_joint, R, N_out)``. The transform is converted once with
``jax.experimental.jax2tf.convert`` (native serialization: the StableHLO that ``jax.jit`` would run,
inside one TF op), with a symbolic batch size and the filters passed as arguments, not baked-in
constants. So it runs eagerly and inside ``tf.function`` (any batch size, one trace), differentiates
under ``tf.GradientTape`` (the JAX ``vjp``, converted the same way) and saves in a SavedModel. The
filters are non-trainable ``tf.Variable`` objects: no optimizer sees them, and the call stops their
gradient.

Leading batch dimensions are flattened into one before the call and restored after it. Precision
follows JAX: float64 input is computed in float64 when ``jax_enable_x64`` is on (build the module
with it on) and in float32 otherwise.

Example:
  >>> import tensorflow as tf
  >>> from scatterjax.tensorflow import Scattering1D
  >>> scattering = Scattering1D(J=4, shape=256, Q=4)
  >>> scattering(tf.random.normal([2, 256])).shape
  TensorShape([2, 29, 16])
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from ._adapters.common import apply_frozen, build_core, require, require_array_output

tf = require("tensorflow", "tf", what="scatterjax.tensorflow")
from jax.experimental import jax2tf  # noqa: E402  (imports TensorFlow)

__all__ = ["HarmonicScattering3D", "Scattering1D", "Scattering2D", "TimeFrequencyScattering"]


def _platforms() -> tuple[str, ...]:
    return ("cpu", "cuda") if tf.config.list_physical_devices("GPU") else ("cpu",)


def _apply_leaves(treedef, leaves, x):
    return apply_frozen(jax.tree_util.tree_unflatten(treedef, leaves), x)


class _Scattering(tf.Module):
    _core_name = "Scattering1D"

    def __init__(self, *args, name: str | None = None, **kwargs):
        super().__init__(name=name)
        core = build_core(self._core_name, args, kwargs)
        require_array_output(core, "TensorFlow")
        leaves, treedef = jax.tree_util.tree_flatten(core)
        self._core = core
        self.filters = [
            tf.Variable(np.asarray(leaf), trainable=False, name=f"filter_{i}")
            for i, leaf in enumerate(leaves)
        ]
        sample_dims = ", ".join("_" for _ in core.shape)
        self._converted = jax2tf.convert(
            functools.partial(_apply_leaves, treedef),
            polymorphic_shapes=[None, f"(batch, {sample_dims})"],
            with_gradient=True,
            # Lowered for every device TensorFlow may place the op on (the op checks).
            native_serialization_platforms=_platforms(),
        )
        self._functions = {}

    @property
    def core(self):
        """The core (JAX) transform object."""
        return self._core

    def _function(self, dtype: tf.DType):
        """The converted transform for inputs of shape ``(batch, *shape)`` and ``dtype``, traced once."""
        if dtype.name not in self._functions:  # string keys: tf.Module tracks this dict
            self._functions[dtype.name] = tf.function(
                lambda x: self._converted(self.filters, x),
                input_signature=[tf.TensorSpec([None, *self._core.shape], dtype)],
                autograph=False,
            )
        return self._functions[dtype.name]

    def __call__(self, x):
        """Scattering coefficients of ``x`` (shape ``(*batch, *shape)``), as a ``tf.Tensor``."""
        x = tf.convert_to_tensor(x)
        sample_shape = tuple(self._core.shape)
        ndim = len(sample_shape)
        static = x.shape
        if static.rank is not None and (
            static.rank < ndim or tuple(static[static.rank - ndim :]) != sample_shape
        ):
            raise ValueError(
                f"x must have shape (..., {', '.join(map(str, sample_shape))}) to match the "
                f"transform's shape={sample_shape}; got {tuple(static)}."
            )
        if not (x.dtype.is_floating and x.dtype.size >= 4):
            raise TypeError(f"x must be a float32 or float64 tensor; got dtype {x.dtype.name}.")
        if x.dtype == tf.float64 and not jax.config.jax_enable_x64:
            x = tf.cast(x, tf.float32)  # JAX's rule without x64, as the core does
        batch_shape = tf.shape(x)[: tf.rank(x) - ndim]
        y_flat = self._function(x.dtype)(tf.reshape(x, (-1, *sample_shape)))
        y = tf.reshape(y_flat, tf.concat([batch_shape, tf.shape(y_flat)[1:]], axis=0))
        if static.rank is not None:  # keep the static shape that tf.reshape loses in graphs
            y = tf.ensure_shape(y, static[: static.rank - ndim].concatenate(y_flat.shape[1:]))
        return y

    scattering = __call__

    def meta(self):
        return self._core.meta()

    def output_size(self, *args, **kwargs):
        return self._core.output_size(*args, **kwargs)


class Scattering1D(_Scattering):
    """``scatterjax.Scattering1D`` as a ``tf.Module`` (same arguments, same outputs)."""

    _core_name = "Scattering1D"


class Scattering2D(_Scattering):
    """``scatterjax.Scattering2D`` as a ``tf.Module`` (same arguments, same outputs)."""

    _core_name = "Scattering2D"


class HarmonicScattering3D(_Scattering):
    """``scatterjax.HarmonicScattering3D`` as a ``tf.Module`` (same arguments, same outputs)."""

    _core_name = "HarmonicScattering3D"


class TimeFrequencyScattering(_Scattering):
    """``scatterjax.TimeFrequencyScattering`` as a ``tf.Module`` (same arguments, same outputs)."""

    _core_name = "TimeFrequencyScattering"
