"""Keras 3 layers: scattering transforms whose input shape is read in ``build``, as in kymatio.

Each class (``Scattering1D``, ``Scattering2D``, ``HarmonicScattering3D``,
``TimeFrequencyScattering``) takes the core class's arguments except ``shape`` (same names,
defaults and order; the input's trailing dimensions give the shape, as in kymatio's Keras layers;
``out_type`` must be ``'array'``), plus Keras's layer keyword arguments (``name``, ...). A list
where the core takes an int or a tuple (``Q=[8]``) is refused as kymatio refuses it (a saved
config's lists are turned back into tuples by ``from_config``). kymatio's attributes (``J``,
``Q``, ``max_order``, ...; after ``build`` everything the core object exposes, ``meta()`` and
``output_size()``) are readable, not assignable, and after ``build`` ``layer.scattering(x)`` is
the transform on the backend's tensors, as in kymatio. The output is ``(batch, C, N_out)``, or
``(batch, C_joint, R, N_out)`` for a ``format='joint'`` JTFS (``compute_output_shape`` gives
either). The layers have no trainable weights, and work with the TensorFlow backend (through
:mod:`scatterjax.tensorflow`), the JAX backend (the core transform, its filters held as
non-trainable weights so they enter compiled steps as arguments) and the torch backend (through
:mod:`scatterjax.torch`). After ``build``, ``Scattering1D`` also has the core's first-order methods
``scalogram(x, stride=1)`` and ``wavelet_transform(x, stride=1)`` on the backend's tensors
(computed, and differentiated, by that backend's module; see :mod:`scatterjax.tensorflow`).

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
import inspect

import jax
import numpy as np

from ._adapters.common import (
    CoreForwarding,
    ReadOnlySettings,
    apply_frozen,
    bind_settings,
    build_core,
    core_parameters,
    core_settings,
    make_adapters,
    output_shape,
    require,
    require_array_output,
)

keras = require("keras", "tf", what="scatterjax.keras")

__all__ = ["HarmonicScattering3D", "Scattering1D", "Scattering2D", "TimeFrequencyScattering"]

_BACKEND_ADAPTERS = {"tensorflow": "scatterjax.tensorflow", "torch": "scatterjax.torch"}


# Settings that are sequences in the core (a saved config holds them as lists). Every other
# setting rejects a list, as kymatio does for Q=[8]: a tuple (Q1, Q2) is not a list.
_SEQUENCE_SETTINGS = ("integral_powers", "points")
_OWN_BACKENDS = ("keras", "tensorflow")
_NDIM = {"Scattering1D": 1, "Scattering2D": 2, "HarmonicScattering3D": 3, "TimeFrequencyScattering": 1}


class _Scattering(CoreForwarding, ReadOnlySettings, keras.layers.Layer):
    _core_name = "Scattering1D"
    frontend_name = "keras"

    def __init__(self, *args, **kwargs):
        names = {parameter.name for parameter in core_parameters(self._core_name)}
        layer_kwargs = {key: kwargs.pop(key) for key in list(kwargs) if key not in names}
        settings = bind_settings(type(self).__name__, self._core_name, args, kwargs, drop=("shape",))
        for name, value in settings.items():
            if isinstance(value, list) and name not in _SEQUENCE_SETTINGS:
                raise ValueError(
                    f"{name} must be an integer or a tuple, not a list; got {name}={value!r}. Pass "
                    f"e.g. {name}={tuple(value)!r}."
                )
        keras.layers.Layer.__init__(self, **layer_kwargs)
        self._settings = settings
        self.core = None

    @property
    def _ndim(self) -> int:
        return _NDIM[self._core_name]

    def _core_or_none(self):
        return self.__dict__.get("core")

    def __getattr__(self, name: str):
        # Before build, kymatio's settings (J, Q, ...) are the constructor's arguments.
        settings = self.__dict__.get("_settings", {})
        if name in settings and self.__dict__.get("core") is None:
            return settings[name]
        return super().__getattr__(name)

    @classmethod
    def from_config(cls, config):
        # A saved config turns tuples (Q=(Q1, Q2)) into lists; they were tuples when saved.
        return cls(**{key: tuple(value) if isinstance(value, list) else value for key, value in config.items()})

    def _core_kwargs(self, shape: tuple) -> dict:
        return core_settings({**self._settings, "shape": shape}, _OWN_BACKENDS)

    def build(self, input_shape):
        shape = tuple(input_shape[-self._ndim :])
        if len(input_shape) < self._ndim or None in shape:
            raise ValueError(
                f"{type(self).__name__} needs inputs of known shape (batch, ...) with the last "
                f"{self._ndim} dimension(s) fixed; got input_shape={tuple(input_shape)}."
            )
        backend = keras.backend.backend()
        if backend == "jax":
            core = build_core(self._core_name, kwargs=self._core_kwargs(shape))
            require_array_output(core, "Keras")
            self.core = core
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
            scattering = getattr(adapter, self._core_name)(**self._core_kwargs(shape))
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

    def scattering(self, x):
        """The transform of ``x`` on this backend's tensors (a TensorFlow, JAX or torch tensor out),
        after ``build``, as kymatio's Keras layers have it: the layer's computation without Keras's
        call machinery (no build on first use, no masking). Before ``build`` it raises, saying so.
        """
        self._scattering_core()  # raises, saying to build first, before build
        return self.call(x)

    def _first_order(self, method: str, x, stride):
        """``core.<method>(x, stride)`` on this backend's tensors, after ``build``: the core's own
        method on the JAX backend, the TensorFlow or torch module's on theirs (same gradients)."""
        core = self._scattering_core()  # raises, saying to build first, before build
        if keras.backend.backend() == "jax":
            return getattr(core, method)(x, stride)
        scattering = self._scattering
        scattering = getattr(scattering, "module", scattering)  # a torch module, as Keras wrapped it
        return getattr(scattering, method)(x, stride)

    def compute_output_shape(self, input_shape):
        core = self.core
        if core is None:  # not built yet: design the filters for this shape
            sample_shape = tuple(input_shape[-self._ndim :])
            core = build_core(self._core_name, kwargs=self._core_kwargs(sample_shape))
        batch = tuple(input_shape[: len(input_shape) - self._ndim])
        sample = output_shape(core, (1, *core.shape), np.float32)[1:]
        return batch + sample

    def get_config(self):
        return {**super().get_config(), **self._settings}


_classes = make_adapters(
    _Scattering,
    __name__,
    "a Keras layer (the input's trailing dimensions give ``shape``)",
    drop=("shape",),
    extra=(inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD),),
)
_register = keras.saving.register_keras_serializable(package="scatterjax")
Scattering1D = _register(_classes["Scattering1D"])
Scattering2D = _register(_classes["Scattering2D"])
HarmonicScattering3D = _register(_classes["HarmonicScattering3D"])
TimeFrequencyScattering = _register(_classes["TimeFrequencyScattering"])
