"""Argument checks shared by every transform.

Each check raises a ``ValueError`` or ``TypeError`` that names the argument, the value received and
what is expected, before any computation (at construction, or at trace time for inputs).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import jax
import numpy as np


def check_int(name: str, value, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as a Python int, or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} of type {type(value).__name__}.")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}.")
    return value


def check_choice(name: str, value, choices: Sequence) -> None:
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {options}; got {value!r}.")


def check_shape(name: str, shape, ndim: int) -> tuple[int, ...]:
    """Normalise ``shape`` (an int when ``ndim == 1``, or a tuple of ``ndim`` ints)."""
    if ndim == 1 and isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or len(shape) != ndim:
        expected = "an int or a 1-tuple (N,)" if ndim == 1 else f"a tuple of {ndim} ints"
        raise ValueError(f"{name} must be {expected}; got {shape!r}.")
    return tuple(check_int(f"{name}[{i}]", s, minimum=1) for i, s in enumerate(shape))


def check_real_input(x, trailing_shape: tuple[int, ...], *, what: str = "x") -> jax.Array:
    """Check a real floating input of shape ``(*batch, *trailing_shape)`` and return it as a JAX array.

    The computation dtype is JAX's canonical dtype for the input: float64 input is computed in
    float64 when ``jax_enable_x64`` is on and in float32 otherwise (JAX's usual rule).
    """
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        x = np.asarray(x)
    dtype = np.dtype(x.dtype)
    if np.issubdtype(dtype, np.complexfloating):
        raise TypeError(
            f"{what} must be real; got complex dtype {dtype}. Pass the real part, or the real and "
            "imaginary parts as two signals."
        )
    if not np.issubdtype(dtype, np.floating) or dtype.itemsize < 4:
        raise TypeError(
            f"{what} must be a float32 or float64 array; got dtype {dtype}. "
            f"Convert it first, e.g. {what}.astype(np.float32)."
        )
    ndim = len(trailing_shape)
    if len(x.shape) < ndim or tuple(x.shape[len(x.shape) - ndim :]) != tuple(trailing_shape):
        raise ValueError(
            f"{what} must have shape (..., {', '.join(map(str, trailing_shape))}) to match the "
            f"transform's shape={tuple(trailing_shape)}; got {tuple(x.shape)}. Build the transform "
            "with the signal's shape, or crop/pad the input yourself."
        )
    return jax.numpy.asarray(x)
