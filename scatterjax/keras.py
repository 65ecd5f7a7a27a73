"""Keras 3 layers: scattering transforms whose input shape is read in ``build``, as in kymatio.

The constructors are kymatio 0.3.0's Keras ones (no ``shape``; ``out_type`` is ``'array'``):
``Scattering1D(J, Q=1, T=None, max_order=2, oversampling=0)``,
``Scattering2D(J, L=8, max_order=2, pre_pad=False)``, and, beyond kymatio,
``HarmonicScattering3D(J, L=3, sigma_0=1, max_order=2, rotation_covariant=True, method='integral',
points=None, integral_powers=(0.5, 1.0, 2.0))`` and kymatio main's
``TimeFrequencyScattering(J, J_fr, Q, T=None, stride=None, Q_fr=1, F=None, stride_fr=None,
format='time')``, whose output is ``(batch, C, N_out)``, or ``(batch, C_joint, R, N_out)`` with
``format='joint'`` (``compute_output_shape`` gives either). The layers have no trainable weights,
and work with the TensorFlow backend (through :mod:`scatterjax.tensorflow`), the JAX backend (the
core transform, its filters held as non-trainable weights so they enter compiled steps as
arguments) and the torch backend (through :mod:`scatterjax.torch`).

Example:
  >>> import keras
  >>> from scatterjax.keras import Scattering1D
  >>> model = keras.Sequential([keras.Input((256,)), Scattering1D(J=4, Q=4),
  ...                           keras.layers.Flatten(), keras.layers.Dense(3)])
  >>> model.output_shape
  (None, 3)
"""

from __future__ import annotations

import importlib

import jax
import numpy as np

from ._adapters.common import apply_frozen, build_core, output_shape, require

keras = require("keras", "tf", what="scatterjax.keras")

__all__ = ["HarmonicScattering3D", "Scattering1D", "Scattering2D", "TimeFrequencyScattering"]

_BACKEND_ADAPTERS = {"tensorflow": "scatterjax.tensorflow", "torch": "scatterjax.torch"}


class _Scattering(keras.layers.Layer):
    _core_name = "Scattering1D"
    _ndim = 1
    _setting_names: tuple[str, ...] = ()

    def __init__(self, **kwargs):
        settings = {name: kwargs.pop(name) for name in self._setting_names}
        if isinstance(settings.get("Q"), list):  # a saved model's config turns the tuple (Q1, Q2) into a list
            settings["Q"] = tuple(settings["Q"])
        super().__init__(**kwargs)
        self._settings = settings
        self.core = None

    def build(self, input_shape):
        shape = tuple(input_shape[-self._ndim :])
        if len(input_shape) < self._ndim or None in shape:
            raise ValueError(
                f"{type(self).__name__} needs inputs of known shape (batch, ...) with the last "
                f"{self._ndim} dimension(s) fixed; got input_shape={tuple(input_shape)}."
            )
        backend = keras.backend.backend()
        if backend == "jax":
            self.core = build_core(self._core_name, kwargs={**self._settings, "shape": shape})
            leaves, self._treedef = jax.tree_util.tree_flatten(self.core)
            self.filters = [
                self.add_weight(
                    shape=leaf.shape,
                    dtype=str(leaf.dtype),
                    initializer=keras.initializers.Constant(np.asarray(leaf)),
                    trainable=False,
                    name=f"filter_{i}",
                )
                for i, leaf in enumerate(leaves)
            ]
        elif backend in _BACKEND_ADAPTERS:
            adapter = importlib.import_module(_BACKEND_ADAPTERS[backend])
            scattering = getattr(adapter, self._core_name)(**self._settings, shape=shape)
            self.core = scattering.core
            self._scattering = scattering  # (Keras wraps torch modules on assignment)
        else:
            raise ValueError(
                f"scatterjax.keras supports the tensorflow, jax and torch backends; the active "
                f"Keras backend is {backend!r}."
            )
        super().build(input_shape)

    def call(self, x):
        if keras.backend.backend() == "jax":
            transform = jax.tree_util.tree_unflatten(self._treedef, [w.value for w in self.filters])
            return apply_frozen(transform, x)
        return self._scattering(x)

    def compute_output_shape(self, input_shape):
        core = self.core
        if core is None:  # not built yet: design the filters for this shape
            sample_shape = tuple(input_shape[-self._ndim :])
            core = build_core(self._core_name, kwargs={**self._settings, "shape": sample_shape})
        batch = tuple(input_shape[: len(input_shape) - self._ndim])
        sample = output_shape(core, (1, *core.shape), np.float32)[1:]
        return batch + sample

    def get_config(self):
        return {**super().get_config(), **self._settings}


@keras.saving.register_keras_serializable(package="scatterjax")
class Scattering1D(_Scattering):
    """``scatterjax.Scattering1D`` as a Keras layer; the signal length comes from the input."""

    _core_name = "Scattering1D"
    _ndim = 1
    _setting_names = ("J", "Q", "T", "max_order", "oversampling")

    def __init__(self, J, Q=1, T=None, max_order=2, oversampling=0, **kwargs):
        super().__init__(J=J, Q=Q, T=T, max_order=max_order, oversampling=oversampling, **kwargs)


@keras.saving.register_keras_serializable(package="scatterjax")
class Scattering2D(_Scattering):
    """``scatterjax.Scattering2D`` as a Keras layer; the image shape comes from the input."""

    _core_name = "Scattering2D"
    _ndim = 2
    _setting_names = ("J", "L", "max_order", "pre_pad")

    def __init__(self, J, L=8, max_order=2, pre_pad=False, **kwargs):
        super().__init__(J=J, L=L, max_order=max_order, pre_pad=pre_pad, **kwargs)


@keras.saving.register_keras_serializable(package="scatterjax")
class HarmonicScattering3D(_Scattering):
    """``scatterjax.HarmonicScattering3D`` as a Keras layer; the volume shape comes from the input."""

    _core_name = "HarmonicScattering3D"
    _ndim = 3
    _setting_names = (
        "J", "L", "sigma_0", "max_order", "rotation_covariant", "method", "points",
        "integral_powers",
    )

    def __init__(
        self,
        J,
        L=3,
        sigma_0=1,
        max_order=2,
        rotation_covariant=True,
        method="integral",
        points=None,
        integral_powers=(0.5, 1.0, 2.0),
        **kwargs,
    ):
        super().__init__(
            J=J,
            L=L,
            sigma_0=sigma_0,
            max_order=max_order,
            rotation_covariant=rotation_covariant,
            method=method,
            points=points,
            integral_powers=integral_powers,
            **kwargs,
        )


@keras.saving.register_keras_serializable(package="scatterjax")
class TimeFrequencyScattering(_Scattering):
    """``scatterjax.TimeFrequencyScattering`` as a Keras layer; the signal length comes from the input."""

    _core_name = "TimeFrequencyScattering"
    _ndim = 1
    _setting_names = ("J", "J_fr", "Q", "T", "stride", "Q_fr", "F", "stride_fr", "format")

    def __init__(
        self, J, J_fr, Q, T=None, stride=None, Q_fr=1, F=None, stride_fr=None, format="time", **kwargs
    ):
        super().__init__(
            J=J, J_fr=J_fr, Q=Q, T=T, stride=stride, Q_fr=Q_fr, F=F, stride_fr=stride_fr,
            format=format, **kwargs,
        )
