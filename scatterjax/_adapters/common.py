"""What every framework adapter shares: the core's signature, the core object, and its attributes.

An adapter is a thin wrapper: it builds one core transform object (``scatterjax.Scattering1D``,
``Scattering2D``, ``HarmonicScattering3D`` or ``TimeFrequencyScattering``), keeps its filter bank
where its framework keeps frozen state, and calls the core. Nothing here or in an adapter redoes
the math. Three things are written once, here, so the adapters cannot drift from the core:

- :func:`make_adapters` builds each framework's four classes from the core classes' signatures
  (``inspect.signature``): same argument names, defaults and order, so an argument added to a core
  class reaches every adapter without an edit.
- :class:`CoreForwarding` gives every adapter ``meta()``, ``output_size()`` and, by delegation,
  every attribute of the core object (kymatio's ``J``, ``Q``, ``shape``, ``N_padded``, ...).
- :class:`ReadOnlySettings` turns ``adapter.J = 3`` into a clear error where the framework cannot
  rebuild the transform (the torch adapter rebuilds instead), never a silently ignored value.

The core classes are named by string and imported on first use, so importing an adapter never
imports more of the core than it uses.
"""

from __future__ import annotations

import functools
import importlib
import inspect
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
TRANSFORMS = tuple(CORE_MODULES)


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


def core_parameters(name: str, *, drop: tuple[str, ...] = ()) -> list[inspect.Parameter]:
    """The constructor parameters of the core class ``name``, in order, without those in ``drop``
    and without ``frontend`` (the core classes' kymatio entry-point argument, which picks an
    adapter: an adapter is a frontend already, as kymatio's frontend classes are)."""
    parameters = inspect.signature(core_class(name)).parameters.values()
    return [parameter for parameter in parameters if parameter.name not in (*drop, "frontend")]


def bind_settings(owner: str, name: str, args: tuple, kwargs: dict, *, drop: tuple[str, ...] = ()) -> dict:
    """The core arguments of ``owner(*args, **kwargs)`` by name, defaults filled in, in the core's order.

    Raises the ``TypeError`` Python would raise for a wrong call (missing or unknown argument),
    prefixed with ``owner`` (the adapter's class name).
    """
    signature = inspect.Signature(core_parameters(name, drop=drop))
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as error:
        raise TypeError(f"{owner}(): {error}; its arguments are {signature}.") from None
    bound.apply_defaults()
    return dict(bound.arguments)


def core_settings(settings: dict, own_backends: tuple[str, ...] = ()) -> dict:
    """``settings`` as the core class takes them.

    kymatio users pass their frontend's own backend (``backend='torch'`` to a torch module); the
    adapter is that frontend, so the core gets ``backend=None``. Any other value goes to the core,
    which accepts ``'jax'``/``'numpy'`` and names the right scatterjax module for the rest.
    """
    backend = settings.get("backend")
    name = backend if isinstance(backend, str) else getattr(backend, "name", None)
    return {**settings, "backend": None} if name in own_backends else settings


def build_core(name: str, args: tuple = (), kwargs: dict | None = None) -> ScatteringTransform:
    """Build the core transform ``name(*args, **kwargs)``; its constructor validates the arguments."""
    return core_class(name)(*args, **(kwargs or {}))


class _Settings:
    """Constructor arguments as a cache key: equal when the arguments are, types included (``Q=[8]``
    is not ``Q=(8,)``: the core refuses the list), and the arguments themselves, unchanged."""

    def __init__(self, kwargs: dict):
        self.kwargs = kwargs
        self.key = tuple((name, _hashable(value)) for name, value in kwargs.items())

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other) -> bool:
        return isinstance(other, _Settings) and self.key == other.key


def _hashable(value):
    if isinstance(value, (list, tuple)):
        return type(value), tuple(_hashable(v) for v in value)
    return type(value), value


@functools.lru_cache(maxsize=4)
def _cached_core(name: str, settings: _Settings, x64: bool) -> ScatteringTransform:
    return build_core(name, kwargs=settings.kwargs)


def cached_core(name: str, **kwargs) -> ScatteringTransform:
    """Like :func:`build_core`, but reuses the last few objects built with the same arguments.

    For adapters whose framework re-runs construction code on every call (linen ``__call__``,
    scikit-learn ``transform``): the filter design is NumPy work worth doing once. Sharing is safe
    because transform objects are immutable. The x64 setting is part of the key, since it decides
    the filters' dtype.
    """
    settings = _Settings(kwargs)
    try:
        hash(settings)
    except TypeError:  # e.g. an array of points: build it afresh
        return build_core(name, kwargs=kwargs)
    return _cached_core(name, settings, bool(jax.config.jax_enable_x64))


def require_array_output(core: ScatteringTransform, framework: str) -> None:
    """Adapters that return one tensor reject ``out_type='list'``/``'dict'`` up front."""
    out_type = getattr(core, "out_type", "array")
    if out_type != "array":
        raise ValueError(
            f"out_type={out_type!r} is not supported by the {framework} adapter, which returns one "
            "tensor: use out_type='array', or the JAX, Flax, Equinox or torch classes for lists "
            "and dicts."
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


def core_of(S) -> ScatteringTransform:
    """The core transform object behind ``S``: ``S`` itself, or the one an adapter module wraps."""
    if isinstance(S, CoreForwarding):
        return S._scattering_core()
    return S


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


class CoreForwarding:
    """Mixin: ``meta()``, ``output_size()`` and the core object's attributes, on an adapter.

    An adapter implements ``_core_or_none()``: its core transform object, or ``None`` while it has
    none (during ``__init__``, or a Keras layer before ``build``). That method must not itself
    fall back on ``__getattr__`` (read ``self.__dict__``), or a missing attribute would recurse.
    Any attribute the adapter (and its framework) lacks is then read from the core object, e.g.
    kymatio's ``J``, ``Q``, ``shape``, ``max_order``, ``N_padded``, ``ind_start``.
    """

    def _core_or_none(self) -> ScatteringTransform | None:
        raise NotImplementedError

    def _scattering_core(self) -> ScatteringTransform:
        core = self._core_or_none()
        if core is None:
            raise AttributeError(
                f"{type(self).__name__} has no transform yet (a Keras layer designs its filters in "
                "build(), from the input shape): call it on an input, or build() it, first."
            )
        return core

    def meta(self) -> dict:
        """The core's per-channel metadata, in output order (see the core class's ``meta``)."""
        return self._scattering_core().meta()

    def output_size(self, *args, **kwargs):
        """The core's number of output channels (see the core class's ``output_size``)."""
        return self._scattering_core().output_size(*args, **kwargs)

    def __getattr__(self, name: str):
        # Called only when ordinary lookup fails. The framework's own fallback comes first (torch
        # keeps submodules there, linen runs setup), then the core object.
        fallback = getattr(super(), "__getattr__", None)
        if fallback is not None:
            try:
                return fallback(name)
            except AttributeError:
                pass
        core = None if _is_dunder(name) else self._core_or_none()
        if core is not None:
            try:
                return getattr(core, name)
            except AttributeError:
                pass
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __dir__(self):
        # dir() and tab completion list what __getattr__ reads from the core (J, psi1_f, ...).
        names = set(super().__dir__())
        try:
            core = self._core_or_none()
        except Exception:  # settings that do not build (scikit-learn validates them at fit): none
            core = None
        if core is not None:
            names.update(name for name in dir(core) if not name.startswith("_"))
        return sorted(names)


class ReadOnlySettings:
    """Mixin: assigning one of the core's arguments (``S.J = 3``) raises instead of being ignored.

    The transform's filters were designed for the constructor's arguments, and this adapter keeps
    them where its framework keeps state, so changing one setting in place is not supported: build
    a new object. Attributes the core derives (``N_padded``, ``psi1_f``, ...) are read-only too.
    """

    # The adapter's own state, which may share a name with a core attribute (the 3D core's
    # ``filters`` are kymatio's wavelets; a TF module's ``filters`` are its variables).
    _own_attributes: tuple[str, ...] = ("core", "filters", "transform", "treedef")

    def __setattr__(self, name: str, value) -> None:
        if not name.startswith("_") and name not in self._own_attributes and name in _core_names(self):
            raise AttributeError(
                f"{type(self).__name__}.{name} is read-only: the filters were designed for "
                f"{name}={getattr(self, name)!r}. Build a new {type(self).__name__}({name}="
                f"{value!r}, ...) instead."
            )
        super().__setattr__(name, value)


def _core_names(adapter) -> set[str]:
    """Names an adapter delegates to its core: the constructor's arguments and the core's attributes."""
    names = {parameter.name for parameter in core_parameters(adapter._core_name)}
    core = adapter._core_or_none()
    if core is not None:
        names.update(name for name in dir(core) if not name.startswith("_"))
    return names


def make_adapters(
    base: type,
    module: str,
    describe: str,
    *,
    drop: tuple[str, ...] = (),
    extra: tuple[inspect.Parameter, ...] = (),
) -> dict[str, type]:
    """One adapter class per core transform, each with the core class's signature.

    Args:
      base: the framework's adapter base class; its ``__init__(self, *args, **kwargs)`` receives
        the arguments as called (typically binding them with :func:`bind_settings`).
      module: the public module the classes belong to (their ``__module__``).
      describe: what the classes are, for their docstrings ("a torch module", ...).
      drop: core arguments this framework takes from elsewhere (Keras reads ``shape`` in ``build``).
      extra: framework-only parameters appended to the signature (TensorFlow's ``name``, ...).

    Returns ``{core class name: adapter class}``. ``inspect.signature`` of each class (and of its
    ``__init__``, without ``self``) is the core class's, minus ``drop``, plus ``extra``. Where
    ``base`` defines ``_first_order`` (adapters whose tensors the core cannot take), a class whose
    core has ``scalogram``/``wavelet_transform`` gets them too (see ``first_order.py``).
    """
    from .first_order import first_order_methods

    classes = {}
    for name in TRANSFORMS:
        parameters = [*core_parameters(name, drop=drop), *extra]
        signature = inspect.Signature(parameters)

        def __init__(self, *args, **kwargs):
            base.__init__(self, *args, **kwargs)

        __init__.__signature__ = signature.replace(
            parameters=[inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD), *parameters]
        )
        __init__.__qualname__ = f"{name}.__init__"
        cls = type(
            name,
            (base,),
            {
                "__init__": __init__,
                "__module__": module,
                "__qualname__": name,
                "__doc__": f"``scatterjax.{name}`` as {describe}: the same arguments {signature} "
                f"and the same outputs (see the module docstring).",
                "_core_name": name,
                **first_order_methods(core_class(name), base, describe),
            },
        )
        if inspect.signature(cls) != signature:  # e.g. a metaclass __call__ hides __init__'s
            cls.__signature__ = signature
        classes[name] = cls
    return classes
