"""What every framework adapter shares: importing the framework, and building the core transform.

An adapter is a thin wrapper: it builds one core transform object (``scatterjax.Scattering1D``,
``Scattering2D``, ``HarmonicScattering3D`` or ``TimeFrequencyScattering``), keeps its filter bank
where its framework keeps frozen state, and calls the core. The core classes are named here by
string and imported on first use, so one adapter module serves every transform and importing an
adapter never imports more of the core than it uses.
"""

from __future__ import annotations

import functools
import importlib
from types import ModuleType

import jax

from .._core.transform import ScatteringTransform

# Public class name -> the module that defines the core class.
CORE_MODULES = {
    "Scattering1D": "scatterjax._scattering1d.frontend",
    "Scattering2D": "scatterjax._scattering2d.frontend",
    "HarmonicScattering3D": "scatterjax._harmonic3d.frontend",
    "TimeFrequencyScattering": "scatterjax._jtfs.frontend",
}


def require(module: str, extra: str, *, what: str | None = None) -> ModuleType:
    """Import ``module``, or raise an ImportError that says which scatterjax extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"{what or 'This scatterjax adapter'} needs {module.split('.')[0]!r}, which is not "
            f'installed. Install it with: pip install "scatterjax[{extra}]"'
        ) from error


def core_class(name: str) -> type[ScatteringTransform]:
    """The core transform class called ``name`` (``'Scattering1D'``, ``'Scattering2D'``, ...)."""
    return getattr(importlib.import_module(CORE_MODULES[name]), name)


def build_core(name: str, args: tuple = (), kwargs: dict | None = None) -> ScatteringTransform:
    """Build the core transform ``name(*args, **kwargs)``; its constructor validates the arguments."""
    return core_class(name)(*args, **(kwargs or {}))


@functools.lru_cache(maxsize=4)
def _cached_core(name: str, items: tuple) -> ScatteringTransform:
    return build_core(name, kwargs=dict(items))


def _hashable(value):
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


def cached_core(name: str, **kwargs) -> ScatteringTransform:
    """Like :func:`build_core`, but reuses the last few objects built with the same arguments.

    For adapters whose framework re-runs construction code on every call (linen ``__call__``,
    scikit-learn ``transform``): the filter design is NumPy work worth doing once. Sharing is safe
    because transform objects are immutable.
    """
    items = tuple(sorted((key, _hashable(value)) for key, value in kwargs.items()))
    try:
        hash(items)
    except TypeError:
        return build_core(name, kwargs=kwargs)
    return _cached_core(name, items)


def require_array_output(core: ScatteringTransform, framework: str) -> None:
    """Adapters outside JAX return one tensor; reject ``out_type='list'``/``'dict'`` up front."""
    out_type = getattr(core, "out_type", "array")
    if out_type != "array":
        raise ValueError(
            f"out_type={out_type!r} is not supported by the {framework} adapter, which returns one "
            "tensor: use out_type='array', or the JAX, Flax or Equinox classes for lists and dicts."
        )


def frozen(transform: ScatteringTransform) -> ScatteringTransform:
    """``transform`` with ``jax.lax.stop_gradient`` on every filter: no gradient reaches the bank."""
    return jax.tree_util.tree_map(jax.lax.stop_gradient, transform)


def apply_frozen(transform: ScatteringTransform, x):
    """``transform(x)`` with the filters held constant (the function the adapters jit or convert)."""
    return frozen(transform)(x)


def output_shape(core: ScatteringTransform, input_shape: tuple, dtype) -> tuple:
    """Shape of ``core(x)`` for ``x`` of ``input_shape``, found by tracing (no computation)."""
    import numpy as np

    spec = jax.ShapeDtypeStruct(tuple(input_shape), np.dtype(dtype))
    return tuple(jax.eval_shape(core, spec).shape)
