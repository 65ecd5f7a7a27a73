"""TensorFlow modules: scattering transforms as ``tf.Module`` objects, computed by JAX's XLA program.

Each class (``Scattering1D``, ``Scattering2D``, ``HarmonicScattering3D``,
``TimeFrequencyScattering``) takes exactly the arguments of the core class of the same name (same
names, defaults and order; ``out_type='array'`` only), plus a keyword-only ``name``, exposes the
core's attributes (kymatio's ``J``, ``Q``, ``shape``, ``max_order``, ... read-only; build a new
module to change one), ``meta()`` and ``output_size()``, and returns the core's array, e.g.
``(*batch, C, N_out)`` or, for a ``format='joint'`` JTFS, ``(*batch, C_joint, R, N_out)``. The
transform is converted once with ``jax.experimental.jax2tf.convert`` (native serialization: the
StableHLO that ``jax.jit`` would run, inside one TF op), with a symbolic batch size and the filters
passed as arguments, not baked-in constants. So it runs eagerly and inside ``tf.function`` (any
batch size, one trace), differentiates under ``tf.GradientTape`` (the JAX ``vjp``, converted the
same way) and saves in a SavedModel. The filters are non-trainable ``tf.Variable`` objects: no
optimizer sees them, and the call stops their gradient. An empty batch gives an empty output of the
right shape.

``Scattering1D`` also has the core's first-order methods, ``tf.Tensor`` in and out, converted and
differentiable in the same way: ``scalogram(x, stride=1)`` (real, ``(*batch, N1, ceil(N / stride))``)
and ``wavelet_transform(x, stride=1)`` (the same shape, complex64; complex128 for float64 input
under ``jax_enable_x64``). Their wavelet table is a constant of the converted function (built on
first use for each stride and dtype), not a variable.

Leading batch dimensions are flattened into one before the call and restored after it. Precision
follows JAX: float64 input is computed in float64 when ``jax_enable_x64`` is on (build the module
with it on) and in float32 otherwise. TensorFlow compiles the converted program with its own XLA,
so float32 values may differ from the JAX transform's by rounding (measured: none in 1D, JTFS and
2D; about 1e-7 of the largest coefficient in 3D). A signal's bits do not depend on the batch it is
computed in: 1D and JTFS run a batch in chunks of up to ``MAX_CHUNK`` signals, each chunk a
concrete size (chunks of 1, 2, 4 or 8: a conversion each, on first use); 2D and 3D run it whole.

Example:
  >>> import tensorflow as tf
  >>> from scatterjax.tensorflow import Scattering1D
  >>> scattering = Scattering1D(J=4, shape=256, Q=4)
  >>> scattering(tf.random.normal([2, 256])).shape
  TensorShape([2, 29, 16])
  >>> scattering.scalogram(tf.random.normal([2, 256]), stride=4).shape
  TensorShape([2, 14, 64])
"""

from __future__ import annotations

import functools
import inspect

import jax
import numpy as np

from ._adapters.common import (
    CoreForwarding,
    ReadOnlySettings,
    apply_frozen,
    bind_settings,
    build_core,
    core_settings,
    make_adapters,
    require,
    require_array_output,
)
from ._adapters.first_order import FirstOrderTransform, checked_stride, first_order_transform
from ._core.chunking import map_padded_chunks
from ._core.errors import ShapeError

tf = require("tensorflow", "tf", what="scatterjax.tensorflow")
from jax.experimental import jax2tf  # noqa: E402  (imports TensorFlow)

__all__ = ["HarmonicScattering3D", "Scattering1D", "Scattering2D", "TimeFrequencyScattering"]

# Most signals the converted program computes at once, and the transforms it chunks (see _apply_leaves).
MAX_CHUNK = 8
CHUNKED = ("Scattering1D", "TimeFrequencyScattering")


def _platforms() -> tuple[str, ...]:
    return ("cpu", "cuda") if tf.config.list_physical_devices("GPU") else ("cpu",)


def _apply_leaves(treedef, chunk: int | None, leaves, x):
    apply = functools.partial(apply_frozen, jax.tree_util.tree_unflatten(treedef, leaves))
    # In chunks of a concrete size: with a symbolic batch, the core could not pad its FFT batches to
    # whole SIMD groups (scatterjax._core.fft_rows needs a count), and a signal's last bits changed
    # with the batch it came in (1D and JTFS, about 5e-8 of the largest coefficient).
    y = apply(x) if chunk is None else map_padded_chunks(apply, x, chunk)
    # A complex output (wavelet_transform) leaves as its real and imaginary parts, joined by
    # _joined: jax2tf would hand TF's gradient of a complex output (dL/dRe + i dL/dIm) to JAX
    # as the cotangent, whose convention is its conjugate.
    return (y.real, y.imag) if jax.numpy.iscomplexobj(y) else y


def _chunk_for(core_name: str, batch: int | None) -> int | None:
    """Signals per chunk of the converted program (:func:`_apply_leaves`) for a batch of ``batch``
    (``None``: unknown until run time): the next power of two, at most :data:`MAX_CHUNK`, so that
    small batches are not padded far and a handful of conversions serve every batch size. ``None``
    (the whole batch at once) for the transforms whose bits do not depend on the batch anyway
    (2D and 3D, measured)."""
    if core_name not in CHUNKED:
        return None
    if batch is None or batch >= MAX_CHUNK:
        return MAX_CHUNK
    return 1 << max(batch - 1, 0).bit_length()


def _joined(y):
    return tf.complex(*y) if isinstance(y, (tuple, list)) else y


def _convert(transform, chunk: int | None):
    """``function(leaves, x)``: ``transform(x)`` converted to TensorFlow, for ``x`` of shape
    ``(batch, *transform.shape)`` (any batch, computed ``chunk`` signals at a time or, for ``None``,
    all at once) with the leaves of ``transform`` as arguments."""
    treedef = jax.tree_util.tree_structure(transform)
    sample_dims = ", ".join("_" for _ in _sample_shape(transform))
    return jax2tf.convert(
        functools.partial(_apply_leaves, treedef, chunk),
        polymorphic_shapes=[None, f"(batch, {sample_dims})"],
        with_gradient=True,
        # Lowered for every device TensorFlow may place the op on (the op checks).
        native_serialization_platforms=_platforms(),
    )


def _sample_shape(transform) -> tuple:
    # A first-order transform takes the signals of its table: (N,).
    return (transform.filters.N,) if isinstance(transform, FirstOrderTransform) else tuple(transform.input_shape)


class _Scattering(CoreForwarding, ReadOnlySettings, tf.Module):
    _core_name = "Scattering1D"
    frontend_name = "tensorflow"

    def __init__(self, *args, name: str | None = None, **kwargs):
        tf.Module.__init__(self, name=name)
        settings = bind_settings(type(self).__name__, self._core_name, args, kwargs)
        core = build_core(self._core_name, kwargs=core_settings(settings, ("tensorflow",)))
        require_array_output(core, "TensorFlow")
        leaves = jax.tree_util.tree_leaves(core)
        self._core = core
        self.filters = [
            tf.Variable(np.asarray(leaf), trainable=False, name=f"filter_{i}")
            for i, leaf in enumerate(leaves)
        ]
        self._functions = {}

    @property
    def core(self):
        """The core (JAX) transform object."""
        return self._core

    def __getstate__(self) -> dict:
        # The traced tf.functions (graphs) cannot be copied, and the converted transform is a local
        # function: a deep copy (copy.deepcopy(layer), as with kymatio's layers) starts without them
        # and rebuilds them, the filter variables copied.
        # tf.Module's dependency tracking also refers to the functions' dict: drop it there too.
        state = {k: v for k, v in self.__dict__.items() if k != "_functions"}
        tracked = "_self_unconditional_checkpoint_dependencies"
        state[tracked] = [ref for ref in state.get(tracked, []) if ref.name != "_functions"]
        names = "_self_unconditional_dependency_names"
        state[names] = {k: v for k, v in state.get(names, {}).items() if k != "_functions"}
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._functions = {}  # tracked again by tf.Module, as in __init__

    def _core_or_none(self):
        return self.__dict__.get("_core")

    def _function(self, dtype: tf.DType, chunk: int | None, method: tuple = ()):
        """The converted transform for inputs of shape ``(batch, *shape)`` and ``dtype``, computed
        ``chunk`` signals at a time, traced once; with ``method = (name, stride)``, the core's
        first-order method ``name`` at ``stride``."""
        key = "/".join(map(str, (*method, dtype.name, chunk)))  # string keys: tf.Module tracks this dict
        if key not in self._functions:
            if method:
                # The table (a NumPy constant of the TF graph) is built in JAX's current precision.
                transform = first_order_transform(self._core, *method)
                converted = _convert(transform, chunk)
                tables = [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(transform)]
                call = lambda x: _joined(converted(tables, x))  # noqa: E731
            else:
                converted = _convert(self._core, chunk)
                call = lambda x: converted(self.filters, x)  # noqa: E731  (reads the variables)
            self._functions[key] = tf.function(
                call,
                input_signature=[tf.TensorSpec([None, *self._core.input_shape], dtype)],
                autograph=False,
            )
        return self._functions[key]

    def _apply_flat(self, x_flat, method: tuple = ()):
        """The transform of ``x_flat`` (shape ``(batch, *shape)``), an empty batch included."""
        batch = x_flat.shape[0]
        function = self._function(x_flat.dtype, _chunk_for(self._core_name, batch), method)
        if batch is not None and batch > 0:
            return function(x_flat)
        # Shape polymorphism assumes a batch of at least 1: a batch that may be empty gets one
        # zero sample appended when it is, dropped from the output (no tf.cond, whose gradient a
        # reloaded SavedModel cannot take). The output stays connected to x for gradients.
        count = tf.shape(x_flat)[0]
        padded = tf.pad(x_flat, [[0, 1 - tf.minimum(count, 1)]] + [[0, 0]] * (x_flat.shape.rank - 1))
        return function(padded)[:count]

    def __call__(self, x):
        """Scattering coefficients of ``x`` (shape ``(*batch, *shape)``), as a ``tf.Tensor``.

        Raises (at trace time inside ``tf.function``): ``TypeError`` for sparse or ragged tensors
        and non-float dtypes; ``ValueError`` for an unknown rank or trailing dimensions that are
        not ``shape`` (or not known).
        """
        return self._apply(x)

    scattering = __call__

    # A caller's tf.function converts the Python it calls with AutoGraph, ours included. Our code has
    # no tensor-dependent control flow for it to convert, and converting it reached the core's
    # cached filter tables, which AutoGraph called wrongly ("tf___scalogram_cache() takes from 0
    # to 1 positional arguments but 2 were given", seen once in a full test run): it runs as written.
    @tf.autograph.experimental.do_not_convert
    def _first_order(self, method: str, x, stride):
        """``core.<method>(x, stride)`` as a ``tf.Tensor`` (complex for ``wavelet_transform``),
        checked and differentiable as :meth:`__call__`."""
        return self._apply(x, (method, checked_stride(self._core, stride)))

    @tf.autograph.experimental.do_not_convert
    def _apply(self, x, method: tuple = ()):
        """The transform (or the first-order ``method``, see :meth:`_function`) of ``x``."""
        _check_tensor(x)
        try:
            x = tf.convert_to_tensor(x)
        except (TypeError, ValueError) as error:  # kymatio raises TypeError here
            raise TypeError(
                "x must be a tf.Tensor or convertible to one (the input should be convertible to a "
                f"TensorFlow Tensor); got {type(x).__name__}."
            ) from error
        sample_shape = tuple(self._core.input_shape)
        ndim = len(sample_shape)
        static = x.shape
        if static.rank is None:
            raise ShapeError(
                f"x must have a known rank (shape (..., {', '.join(map(str, sample_shape))})); got "
                "a tensor of unknown rank. Give tf.function an input_signature such as "
                f"tf.TensorSpec([None, {', '.join(map(str, sample_shape))}]), or use tf.ensure_shape."
            )
        trailing = tuple(static[static.rank - ndim :]) if static.rank >= ndim else None
        if trailing is not None and None in trailing:
            raise ShapeError(
                f"x must have shape (..., {', '.join(map(str, sample_shape))}); got {tuple(static)} "
                "(unknown trailing dimensions: fix them with tf.ensure_shape or an input_signature)."
            )
        # The core's own check of the static shape (pre_pad's included), in kymatio's words:
        # "Tensor must be of spatial size".
        error = self._core.input_shape_error(tuple(static), kind="Tensor")
        if error is not None:
            raise error
        if not (x.dtype.is_floating and x.dtype.size >= 4):
            raise TypeError(f"x must be a float32 or float64 tensor; got dtype {x.dtype.name}.")
        if x.dtype == tf.float64 and not jax.config.jax_enable_x64:
            x = tf.cast(x, tf.float32)  # JAX's rule without x64, as the core does
        batch_shape = tf.shape(x)[: tf.rank(x) - ndim]
        y_flat = self._apply_flat(tf.reshape(x, (-1, *sample_shape)), method)
        y = tf.reshape(y_flat, tf.concat([batch_shape, tf.shape(y_flat)[1:]], axis=0))
        # Keep the static shape that tf.reshape loses in graphs.
        return tf.ensure_shape(y, static[: static.rank - ndim].concatenate(y_flat.shape[1:]))


def _check_tensor(x) -> None:
    if isinstance(x, tf.SparseTensor):
        raise TypeError("x must be a dense tensor; got a tf.SparseTensor. Convert it with tf.sparse.to_dense(x).")
    if isinstance(x, tf.RaggedTensor):
        raise TypeError(
            "x must be a dense tensor with the transform's trailing shape; got a tf.RaggedTensor. "
            "Pad or crop its rows to that length, e.g. x.to_tensor(shape=[None, N])."
        )


_classes = make_adapters(
    _Scattering,
    __name__,
    "a ``tf.Module``",
    extra=(inspect.Parameter("name", inspect.Parameter.KEYWORD_ONLY, default=None),),
)
Scattering1D = _classes["Scattering1D"]
Scattering2D = _classes["Scattering2D"]
HarmonicScattering3D = _classes["HarmonicScattering3D"]
TimeFrequencyScattering = _classes["TimeFrequencyScattering"]
