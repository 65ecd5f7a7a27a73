"""The ``backend`` and ``frontend`` arguments of the core classes, accepted for kymatio 0.3.0
compatibility.

kymatio selects a computation backend by name (``backend='numpy'``, ``'jax'``, ``'torch'``, ...)
or by a backend object with a ``name``. Every scatterjax core class computes with JAX and takes
NumPy or JAX arrays, so it accepts the names of kymatio's NumPy and JAX frontends (``None``,
``'jax'``, ``'numpy'``, or a kymatio backend object with one of these names) and always reports
:data:`JAX_BACKEND`. A framework name points to the scatterjax module for that framework.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from .errors import BackendError, FrontendError


@dataclass(frozen=True)
class Backend:
    """What a transform computes with: ``name`` is ``'jax'`` (kymatio's ``S.backend.name``)."""

    name: str


JAX_BACKEND = Backend("jax")

# Names the core classes accept: kymatio's NumPy and JAX frontends both map to them, since they
# take NumPy input and return arrays that ``np.asarray`` reads without a copy on CPU.
ACCEPTED = ("jax", "numpy")

# kymatio backend names (and its frontends' names) that belong to another framework.
FRAMEWORK_MODULES = {
    "torch": "scatterjax.torch",
    "torch_skcuda": "scatterjax.torch",
    "tensorflow": "scatterjax.tensorflow",
    "keras": "scatterjax.keras",
    "sklearn": "scatterjax.sklearn",
}


def check_backend(backend, class_name: str) -> Backend:
    """Validate a kymatio-style ``backend`` argument; return :data:`JAX_BACKEND`.

    Args:
      backend: ``None``, a name, or an object with a ``name`` attribute (kymatio's backends).
      class_name: the transform's class name, for messages.

    Raises:
      BackendError: (an ``ImportError`` and a ``ValueError``) for any other framework, naming the
        scatterjax module to use, and for unknown names.
    """
    if backend is None:
        return JAX_BACKEND
    name = backend if isinstance(backend, str) else getattr(backend, "name", None)
    if not isinstance(name, str):
        raise BackendError(
            f"backend must be None, 'jax', 'numpy' or a kymatio backend object with a name; got "
            f"{backend!r} of type {type(backend).__name__}."
        )
    if name in ACCEPTED:
        return JAX_BACKEND
    module = FRAMEWORK_MODULES.get(name)
    if module is not None:
        raise BackendError(
            f"backend={name!r} is not supported by scatterjax.{class_name}, which computes with JAX "
            f"on NumPy or JAX arrays: for {name.split('_')[0]} use {module}.{class_name} "
            f"(or the kymatio frontend of that name), or pass backend=None."
        )
    raise BackendError(
        f"backend={name!r} is not supported and can not be called from scatterjax.{class_name}: "
        f"use None, 'jax' or 'numpy' (all compute with JAX)."
    )


# kymatio's entry-point classes (``from kymatio import Scattering2D``) take ``frontend=``: these
# names build the class of this package's module for that framework ('numpy': a subclass of the
# core class that returns NumPy arrays); 'jax' builds the core class.
FRONTEND_MODULES = {
    "numpy": "scatterjax.numpy",
    **{name: FRAMEWORK_MODULES[name] for name in ("torch", "tensorflow", "keras", "sklearn")},
}


def frontend_class(frontend, class_name: str) -> type | None:
    """The class ``<class_name>(..., frontend=frontend)`` builds: ``None`` for the core class itself
    (``frontend`` None or ``'jax'``, any case), else the class of that name in ``scatterjax.numpy``
    (``'numpy'``: NumPy outputs), ``scatterjax.torch``, ``.tensorflow``, ``.keras`` or ``.sklearn``.

    Raises:
      FrontendError: (a ``ValueError`` and a ``RuntimeError``, as kymatio) for any other value.
    """
    if frontend is None:
        return None
    name = frontend.lower() if isinstance(frontend, str) else None
    if name == "jax":
        return None
    if name not in FRONTEND_MODULES:  # unknown names and non-strings (a list raised TypeError)
        choices = ", ".join(repr(n) for n in ("jax", *FRONTEND_MODULES))
        raise FrontendError(f"The frontend {frontend!r} is not valid: it must be one of {choices} (or None).")
    module = importlib.import_module(FRONTEND_MODULES[name])  # ImportError names the missing extra
    return getattr(module, class_name)
