"""Argument checks shared by every transform.

Each check raises a ``ValueError`` or ``TypeError`` that names the argument, the value received and
what is expected, before any computation (at construction, or at trace time for inputs). Where
kymatio 0.3.0 raises ``RuntimeError`` (an input or ``J`` that does not fit the shape) the error is a
:class:`~scatterjax.ShapeError`, both a ``ValueError`` and a ``RuntimeError``.

Settings may be Python numbers or NumPy/JAX scalars and 0-d arrays (as ``np.load`` returns them);
they are turned into Python numbers first. Booleans are never accepted where an int is expected.
"""

from __future__ import annotations

import math
import numbers
import os
import warnings
from collections.abc import Sequence

import jax
import numpy as np

from .errors import ShapeError

_COUNT_WORDS = {1: "one", 2: "two", 3: "three"}

# Where another framework's tensors should go instead of a core class.
_FRAMEWORK_MODULES = {
    "torch": "scatterjax.torch",
    "tensorflow": "scatterjax.tensorflow",
    "keras": "scatterjax.keras",
}

FLOAT64_WARNING = (
    "float64 input is computed in float32 because JAX's 64-bit mode is off (kymatio returns "
    "float64 here). To compute in float64, run jax.config.update('jax_enable_x64', True) (or set "
    "JAX_ENABLE_X64=1) before building the transform, or use scatterjax.numpy's class (NumPy in "
    "and out, float64 computed in float64, as kymatio's NumPy frontend); to silence this, pass "
    "float32 input."
)
COMPLEX128_WARNING = (
    "complex128 input is computed in complex64 (float32 output) because JAX's 64-bit mode is off. "
    "To compute in float64, run jax.config.update('jax_enable_x64', True) (or set "
    "JAX_ENABLE_X64=1) before building the transform; to silence this, pass complex64 input."
)


def as_setting(value):
    """A NumPy/JAX scalar or 0-d array as the Python number (or bool, str) it holds; else ``value``.

    1-d arrays are returned unchanged (only :func:`check_shape` turns them into tuples).
    """
    if isinstance(value, jax.core.Tracer):
        return value  # a traced setting has no value to read: the caller's type check rejects it
    if isinstance(value, (np.ndarray, np.generic, jax.Array)) and np.ndim(value) == 0:
        return np.asarray(value).item()
    return value


def check_int(name: str, value, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as a Python int, or raise naming ``name``.

    Accepts Python and NumPy integers and integer 0-d arrays; rejects bools and floats.
    """
    value = as_setting(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} of type {type(value).__name__}.")
    value = int(value)
    allowed = f" (allowed: [{minimum}, {maximum}])" if None not in (minimum, maximum) else ""
    if minimum == 0:
        bound = f" up to {maximum}" if maximum is not None else ""
        allowed = f" (allowed: nonnegative integers{bound})"
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}{allowed}.")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}{allowed}.")
    return value


def check_real(
    name: str,
    value,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    positive: bool = False,
    advice: str = "",
) -> float:
    """Return ``value`` as a finite Python float, or raise naming ``name``.

    Accepts Python and NumPy reals (ints too) and real 0-d arrays; rejects bools, complex numbers,
    NaN and infinities. ``minimum`` and ``maximum`` are inclusive; ``positive`` requires ``value > 0``.
    ``advice`` (how to fix it) ends the ``ValueError``'s message.
    """
    value = as_setting(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} of type {type(value).__name__}.")
    value = float(value)
    if minimum is not None and maximum is not None:
        allowed = f"a number in [{minimum}, {maximum}]"
    elif minimum is not None:
        allowed = f"a finite number >= {minimum}"
    elif positive:
        allowed = "a positive finite number"
    else:
        allowed = "a finite number"
    too_small = (minimum is not None and value < minimum) or (positive and value <= 0)
    if not math.isfinite(value) or too_small or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {allowed}, got {value!r}." + (f" {advice}" if advice else ""))
    return value


def check_bool(name: str, value) -> bool:
    """Return ``value`` as a Python bool (a bool, ``np.bool_`` or 0-d bool array), or raise."""
    value = as_setting(value)
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False; got {value!r} of type {type(value).__name__}.")
    return value


def check_choice(name: str, value, choices: Sequence) -> None:
    if as_setting(value) not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {options}; got {value!r}.")


def check_shape(name: str, shape, ndim: int) -> tuple[int, ...]:
    """Normalise ``shape`` (an int when ``ndim == 1``, or a tuple, list or 1-d array of ``ndim`` ints)."""
    shape = as_setting(shape)
    if isinstance(shape, (np.ndarray, jax.Array)) and np.ndim(shape) == 1:
        shape = tuple(np.asarray(shape).tolist())
    if ndim == 1 and isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or len(shape) != ndim:
        expected = "an int or a 1-tuple (N,) of one positive integer" if ndim == 1 else f"a tuple of {ndim} ints"
        if ndim == 1 and isinstance(shape, (tuple, list)):
            expected += ": a tuple must have exactly one element"
        raise ValueError(f"{name} must be {expected}; got {shape!r}.")
    return tuple(check_int(f"{name}[{i}]", s, minimum=1) for i, s in enumerate(shape))


def largest_log2(length: int) -> int:
    """``floor(log2(length))`` for an int ``length >= 1``, exactly (no float rounding)."""
    return length.bit_length() - 1


def check_J(J: int, length: int, subject: str, rule: str, *, minimum: int = 1) -> None:
    """Raise a :class:`ShapeError` unless ``J <= floor(log2 length)`` (``J >= minimum`` is checked
    with ``J`` itself).

    Compares exponents, never computes ``2**J`` (``J=2**62`` fails at once).

    Args:
      J: the checked value (already an int).
      length: the size the largest scale ``2**J`` must fit in.
      subject: what ``J`` is too large for, e.g. ``"a signal of length N=256"``.
      rule: why, e.g. ``"the largest wavelet scale 2**J must be at most N"``.
      minimum: the smallest valid ``J``, for the message.
    """
    limit = largest_log2(length)
    if J <= limit:
        return
    if limit < minimum:  # no J fits: the input, not J, has to change
        raise ShapeError(
            f"J={J} is too large for {subject}: {rule}, and no J >= {minimum} satisfies that. "
            f"The input must have at least {2**minimum} samples along that axis."
        )
    raise ShapeError(
        f"J={J} is too large for {subject}: {rule}, so J must be in [{minimum}, {limit}]. "
        f"Use J <= {limit}."
    )


def physical_memory_bytes() -> int:
    """The memory this process may use, in bytes: this machine's physical memory, or less where an
    address-space limit (``ulimit -v``, ``resource.RLIMIT_AS``) or a cgroup (a container's
    ``memory.max``) caps it; 1 TiB if the OS says nothing."""
    try:
        available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - non-POSIX systems
        available = 2**40
    try:
        import resource  # POSIX only

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            available = min(available, soft)
    except (ImportError, ValueError, OSError):  # pragma: no cover - non-POSIX systems
        pass
    try:
        with open("/sys/fs/cgroup/memory.max") as file:  # cgroup v2; "max" when unlimited
            limit = file.read().strip()
        if limit.isdigit():
            available = min(available, int(limit))
    except OSError:
        pass
    return available


def check_filter_memory(nbytes: float, settings: str, advice: str) -> None:
    """Raise a ``ValueError`` if building the filters needs more than this machine's memory.

    Args:
      nbytes: a lower bound of the bytes the filter design allocates (a cheap closed form,
        evaluated before anything is allocated).
      settings: the arguments that drive it, e.g. ``"Q=(10**9, 1) with shape=(1024,)"``.
      advice: which arguments to reduce.
    """
    _check_memory(nbytes, "for its filters", settings, advice)


def check_output_memory(nbytes: float, settings: str, advice: str) -> None:
    """Raise a ``ValueError`` if the output of one input sample needs more than this machine's memory.

    Args:
      nbytes: a lower bound of the bytes of one sample's output (a closed form from the
        arguments, checked before any filter is designed).
      settings: the arguments that drive it, e.g. ``"J=2, L=100000 with shape=(32, 32)"``.
      advice: which arguments to reduce.
    """
    _check_memory(nbytes, "for the output of one sample", settings, advice)


def _check_memory(nbytes: float, needed_for: str, settings: str, advice: str) -> None:
    available = physical_memory_bytes()
    if nbytes > available:
        raise ValueError(
            f"{settings} needs at least {_human_bytes(nbytes)} {needed_for}, more than the "
            f"{_human_bytes(available)} of memory this process may use. {advice}"
        )


def _human_bytes(nbytes: float) -> str:
    unit = 0
    while nbytes >= 1024 and unit < 5:
        nbytes /= 1024
        unit += 1
    return f"{nbytes:.3g} {('B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB')[unit]}"


def _foreign_module(x) -> str | None:
    """The scatterjax module for ``x`` if it is another framework's tensor, else ``None``."""
    root = type(x).__module__.split(".")[0]
    return _FRAMEWORK_MODULES.get(root)


def shape_mismatch(
    shape: tuple, trailing_shape: Sequence[int], what: str = "x", kind: str = "array"
) -> ShapeError | None:
    """The :class:`ShapeError` for an input of ``shape`` that does not end with ``trailing_shape``
    (the transform's), naming ``what`` and its ``kind`` (e.g. ``'tensor'``); ``None`` if it does.

    >>> shape_mismatch((2, 32), (32,)) is None
    True
    >>> print(shape_mismatch((), (16, 16)))  # doctest: +NORMALIZE_WHITESPACE
    x must have shape (..., 16, 16) to match the transform's shape=(16, 16), so it must have at
    least two dimensions; got shape ().
    """
    ndim = len(trailing_shape)
    dims = ", ".join(map(str, trailing_shape))
    if len(shape) < ndim:
        at_least = "at least one axis" if ndim == 1 else f"at least {_COUNT_WORDS.get(ndim, ndim)} dimensions"
        return ShapeError(
            f"{what} must have shape (..., {dims}) to match the transform's shape="
            f"{tuple(trailing_shape)}, so it must have {at_least}; got shape {shape}."
        )
    if shape[len(shape) - ndim :] != tuple(trailing_shape):
        return ShapeError(
            f"{what} must have shape (..., {dims}) to match the transform's shape="
            f"{tuple(trailing_shape)}; got {shape} (the {kind} must be of spatial size ({dims})). "
            "Build the transform with the signal's shape, or crop/pad the input yourself."
        )
    return None


def check_real_input(
    x, trailing_shape: tuple[int, ...], *, what: str = "x", complex_ok: bool = False
) -> jax.Array:
    """Check a real floating input of shape ``(*batch, *trailing_shape)`` and return it as a JAX array.

    The computation dtype is JAX's canonical dtype for the input: float64 input is computed in
    float64 when ``jax_enable_x64`` is on, and in float32 otherwise, with a ``UserWarning`` the
    first time (kymatio would return float64).

    With ``complex_ok`` (the transforms that accept complex signals: Scattering1D, Scattering2D),
    complex64 and complex128 inputs pass too, complex128 computed as complex64 when
    ``jax_enable_x64`` is off (with the same warning).

    Raises:
      TypeError: ``x`` is a torch or TensorFlow tensor (use ``scatterjax.torch`` /
        ``scatterjax.tensorflow``), a masked array, not an array, complex (unless ``complex_ok``),
        integer or float16.
      ValueError: ``x`` is a ragged nested list.
      ShapeError: (a ``ValueError`` and a ``RuntimeError``) too few dimensions or the wrong
        trailing shape.
    """
    module = _foreign_module(x)
    if module is not None:
        framework = module.split(".")[1]
        raise TypeError(
            f"{what} is a {type(x).__module__.split('.')[0]} tensor ({type(x).__name__}); the "
            f"scatterjax core classes take NumPy or JAX arrays. Use {module} (the {framework} "
            f"module, same class names), or convert {what} to a NumPy array first."
        )
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(
            f"{what} is a masked array: the scattering transform has no notion of missing samples "
            f"and would silently use the values under the mask. Fill them first, e.g. "
            f"{what}.filled(0.0), or pass {what}.data if the mask does not matter."
        )
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        if x is None or isinstance(x, (str, bytes, dict, set)) or not isinstance(x, Sequence):
            raise TypeError(
                f"The input should be a real float32 or float64 array (NumPy or JAX) of shape "
                f"(..., {', '.join(map(str, trailing_shape))}); got {what} = {x!r:.80} of type "
                f"{type(x).__name__}."
            )
        try:
            x = np.asarray(x)
        except ValueError as error:
            raise ValueError(
                f"{what} is a nested sequence whose rows have different lengths (a ragged list); "
                f"the input must be a rectangular array of shape (..., "
                f"{', '.join(map(str, trailing_shape))}). Pad or crop the rows to one length and "
                f"stack them with np.stack."
            ) from error
    if isinstance(x, np.ndarray) and not x.dtype.isnative:
        # Big-endian data (from a file or a network format): the same values, in native byte order.
        x = x.astype(x.dtype.newbyteorder("="))
    dtype = np.dtype(x.dtype)
    if np.issubdtype(dtype, np.complexfloating):
        if not complex_ok:
            raise TypeError(
                f"{what} must be real for this transform; got complex dtype {dtype}. Only "
                "Scattering1D and Scattering2D (scattering1d, scattering2d) accept complex input; "
                "here pass the real part, or the real and imaginary parts as two signals."
            )
        if dtype not in (np.complex64, np.complex128):
            raise TypeError(
                f"{what} must be a complex64 or complex128 array; got dtype {dtype}. Convert it "
                f"first, e.g. {what}.astype(np.complex64)."
            )
    if dtype.kind == "O":
        raise TypeError(
            f"The input should be a real float32 or float64 array; got {what} of dtype object "
            f"(a list of arrays or of mixed objects?). Stack it with np.stack(...).astype(np.float32)."
        )
    real_dtype = not np.issubdtype(dtype, np.complexfloating)
    if real_dtype and (not np.issubdtype(dtype, np.floating) or dtype.itemsize < 4):
        also = " This transform also takes complex64 and complex128 input." if complex_ok else ""
        raise TypeError(
            f"{what} must be a float32 or float64 array; got dtype {dtype}. "
            f"Convert it first, e.g. {what}.astype(np.float32).{also}"
        )
    kind = "NumPy array" if isinstance(x, np.ndarray) else "array"
    error = shape_mismatch(tuple(x.shape), trailing_shape, what, kind)
    if error is not None:
        raise error
    if dtype == np.float64 and not jax.config.jax_enable_x64 and not isinstance(x, jax.core.Tracer):
        # A constant message from one line: Python's default filter shows it once per process.
        warnings.warn(FLOAT64_WARNING, UserWarning, stacklevel=1)
    if dtype == np.complex128 and not jax.config.jax_enable_x64 and not isinstance(x, jax.core.Tracer):
        warnings.warn(COMPLEX128_WARNING, UserWarning, stacklevel=1)
    if isinstance(x, jax.Array):
        return x
    # device_put, not jnp.asarray: the latter compiles a small program for every new input shape.
    return jax.device_put(np.asarray(x))



def same_setting(current, value) -> bool:
    """Whether ``value`` (possibly NumPy scalars, 0-d or 1-d arrays, lists) equals ``current``.

    Used to let ``S.setting = value`` pass when it changes nothing (kymatio users re-assign
    settings); bools only equal bools.
    """

    def plain(v):
        v = as_setting(v)
        if isinstance(v, (np.ndarray, jax.Array)):
            v = np.asarray(v).tolist()
        if isinstance(v, (list, tuple)):
            return tuple(plain(item) for item in v)
        return v

    current, value = plain(current), plain(value)
    if isinstance(current, bool) != isinstance(value, bool):
        return False
    try:
        return bool(current == value)
    except (TypeError, ValueError):  # pragma: no cover - exotic objects
        return False
