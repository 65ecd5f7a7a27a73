"""What every transform object shares: an immutable, callable pytree around a filter bank, and the
one call pipeline every transform runs through.

A transform object holds exactly one child, its filter bank (a pytree of arrays), and static
settings. Flattening it gives the bank's arrays as leaves, so ``jax.jit(lambda S, x: S(x))(S, x)``
passes the filters as arguments (never as constants) and ``jax.tree_util`` / Equinox / Flax see them.

``S(x)`` always takes the same four steps (:meth:`ScatteringTransform.__call__`):

1. **validate** ``x`` (dtype, trailing shape) before anything is traced;
2. **route** a batch-sharded ``x`` through :func:`scatterjax.sharded_apply` (one program per device);
3. **run** the transform's pure function: as one program when anything is traced (``x`` *or* the
   filters: inside a caller's ``jit``/``grad``/``vmap``, including a step that closes over a concrete
   batch), else in batch chunks spread over the CPU cores (:func:`apply_in_chunks`); an empty batch
   gives an empty output of the right shape without running anything;
4. **format** the coefficients as ``out_type`` asks (``'array'``, ``'list'`` or ``'dict'``).

A transform plugs into it by defining the class attributes and hooks listed in
:class:`ScatteringTransform`; none re-implements the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, partial
from typing import Any

import jax
import jax.numpy as jnp
from jax.extend.core import get_opaque_trace_state
from jax.sharding import NamedSharding
from jaxtyping import Array, ArrayLike, Float

from .backend import JAX_BACKEND, Backend, frontend_class
from .chunking import MIN_CHUNK_BYTES, NO_LIMIT, apply_in_chunks, without_branches
from .compile_options import eager_compile_options
from .empty_batch import empty_batch_output, is_empty_batch
from .errors import ShapeError
from .export_serialization import serializable_for_export
from .fork_guard import check_not_forked
from .validation import check_real_input, same_setting, shape_mismatch

# JAX's trace state where nothing is being traced (this module is imported outside any trace).
_OUTSIDE_ANY_TRACE = get_opaque_trace_state()

# What S(x) returns: an array (out_type='array'), a list of dicts holding 'coef' arrays ('list'),
# or a dict of arrays keyed by path ('dict').
Coefficients = Float[Array, "*batch_channels_time"] | list[dict[str, Any]] | dict[tuple[int, ...], Array]


# Appended to every transform's docstring in place of its "{kymatio_compatibility}" line.
KYMATIO_COMPATIBILITY = """**kymatio compatibility.** Settings may be NumPy scalars or 0-d arrays (as ``np.load`` gives
    them). ``backend``: ``None``, ``'jax'`` or ``'numpy'`` (or a kymatio backend object with one of
    these names); the computation always runs in JAX and ``S.backend.name == 'jax'``; a framework
    name (``'torch'``, ``'tensorflow'``, ...) raises :class:`~scatterjax.BackendError` (an
    ``ImportError``) naming the scatterjax module to use. Where kymatio raises ``RuntimeError``
    (an input or ``J`` that does not fit ``shape``) we raise :class:`~scatterjax.ShapeError`, both
    a ``ValueError`` and a ``RuntimeError``. Re-assigning a setting to its current value is
    allowed; any other assignment raises ``AttributeError`` (build a new transform).
    ``frontend`` (keyword only), as in ``from kymatio import Scattering2D``: ``None`` or ``'jax'``
    build this class; ``'numpy'`` its ``scatterjax.numpy`` subclass, whose call returns NumPy arrays
    (as kymatio's NumPy frontend); ``'torch'``, ``'tensorflow'``, ``'keras'`` or ``'sklearn'``
    return the class of that name in ``scatterjax.torch``, ``.tensorflow``, ``.keras`` or
    ``.sklearn`` instead, built with the other arguments; any other name raises
    :class:`~scatterjax.FrontendError` (a ``ValueError`` and a ``RuntimeError``).

    **NumPy in, JAX out.** ``x`` may be a NumPy or JAX array; the output is a JAX array, and
    ``np.asarray(S(x))`` is a zero-copy (read-only) view of it on CPU (``scatterjax.numpy``'s
    classes return writable NumPy arrays instead). float64 input with JAX's
    64-bit mode off is computed in float32, with a ``UserWarning`` the first time (kymatio returns
    float64); a torch or TensorFlow tensor raises ``TypeError`` pointing to ``scatterjax.torch`` /
    ``scatterjax.tensorflow``; masked arrays raise ``TypeError`` and ragged lists ``ValueError``."""


def register_transform(cls: type) -> type:
    """Class decorator for a :class:`ScatteringTransform` subclass: a pytree (flattened by
    ``tree_flatten``) whose static settings ``jax.export`` can serialize."""
    return serializable_for_export(jax.tree_util.register_pytree_node_class(cls))


class ScatteringTransform:
    """Base class: immutable after ``__init__``, flattened to ``(bank,)`` plus static settings.

    Subclasses set ``self.bank`` and every entry of ``_static_fields`` in ``__init__`` (through
    ``_set``), register themselves with ``@register_transform``, and define:

    - ``_program``: a jitted pure function ``(x, bank) -> coefficients`` (an array, or a list of
      arrays for outputs whose paths differ in length), ``x`` of shape ``(*batch, *signal)``;
    - ``_signal_ndim``: the number of trailing axes of one signal;
    - ``_channel_axis``: the (negative) axis of the channels in an array output;
    - ``_keys()``: one key per channel (the keys of ``out_type='dict'``);
    - ``_list_fields()``: one dict per channel, the entries of ``out_type='list'`` besides ``coef``;
    - optionally ``_input_shape()`` (default ``self.shape``) and ``_chunking(dtype)``.
    """

    _static_fields: tuple[str, ...] = ()
    _repr_fields: tuple[str, ...] = ()
    _program: Callable
    _signal_ndim: int
    _channel_axis: int = -2
    # Whether S(x) accepts complex64/complex128 x (Scattering1D and Scattering2D do).
    _complex_input: bool = False
    # XLA options for the eager call's chunk program on real input, as (name, value) pairs (see
    # compile_options); complex input keeps XLA's defaults.
    _eager_compile_options: tuple[tuple[str, object], ...] = ()
    #: The array library of the inputs and outputs, named as kymatio's ``frontend_name`` (``'jax'``
    #: here; ``'numpy'``, ``'torch'``, ``'tensorflow'``, ``'keras'`` for the other frontends).
    frontend_name: str = "jax"
    # Attributes kept for kymatio's code that warn when read (J_pad): left out of dir(), so tab
    # completion does not offer them and tools that read every listed attribute (torch.jit.trace,
    # Keras) do not trigger their warnings.
    _deprecated_attributes: frozenset[str] = frozenset()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # One text for what every transform shares with kymatio, so the four docstrings cannot drift.
        if cls.__doc__ and "{kymatio_compatibility}" in cls.__doc__:
            cls.__doc__ = cls.__doc__.replace("{kymatio_compatibility}", KYMATIO_COMPATIBILITY)

    def __new__(cls, *args, frontend: str | None = None, **kwargs):
        # kymatio's entry point: ``Scattering2D(..., frontend='torch')`` builds that framework's
        # layer (not an instance of cls, so Python does not run cls.__init__ on it).
        # ``frontend='numpy'`` names a subclass (NumPy outputs): Python runs its __init__ itself.
        check_not_forked()
        other = frontend_class(frontend, cls.__name__)
        if other is not None and issubclass(other, cls):
            return super().__new__(other)
        if other is not None:
            layer = other(*args, **kwargs)
            if frontend.lower() == "sklearn":
                # kymatio's entry point builds the transform at once, so bad settings raise here.
                # The transformer's own constructor only stores them (scikit-learn's convention);
                # fit() without data designs the filters, validating the settings.
                layer.fit()
            return layer
        return super().__new__(cls)

    def __dir__(self):
        return [name for name in super().__dir__() if name not in self._deprecated_attributes]

    def build(self) -> None:
        """kymatio's setup step (padding sizes and filters), which the constructor has already run.

        kymatio's constructor calls it, and calling it again recomputes the same state from the
        same settings. Here the settings are immutable, so it changes nothing and returns ``None``:
        kymatio code that calls ``S.build()`` runs unchanged.
        """

    def create_filters(self) -> None:
        """kymatio's filter-design step, which the constructor has already run: changes nothing and
        returns ``None``, as :meth:`build`. The filters are ``S.bank`` (and kymatio's layout:
        ``psi1_f``, ``psi``, ``filters``, ...)."""

    # --- immutability and the pytree --------------------------------------------------------
    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        # kymatio users re-assign settings (``S.max_order = 2``): an equal value changes nothing;
        # any other value raises (the transform is immutable), never silently ignored.
        if name in self._static_fields and same_setting(getattr(self, name), value):
            return
        # A setting stored as given under "_name" and read back resolved as "name" (JTFS's T):
        # either value is "unchanged".
        if f"_{name}" in self._static_fields and (
            same_setting(getattr(self, f"_{name}"), value) or same_setting(getattr(self, name), value)
        ):
            return
        raise AttributeError(
            f"{type(self).__name__} is immutable; build a new one instead of setting {name!r}."
        )

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Trailing shape of one input signal: ``shape``, or the padded shape with ``pre_pad=True``
        (``Scattering2D``)."""
        return self._input_shape()

    def input_shape_error(self, shape: tuple, kind: str = "array") -> ShapeError | None:
        """The :class:`~scatterjax.ShapeError` that ``S(x)`` raises for an input ``x`` of ``shape``
        (a ``kind``, e.g. ``'Tensor'``, for the message), or ``None`` if ``shape`` ends with
        :attr:`input_shape`. For adapters that check a framework's (static) shapes themselves."""
        return shape_mismatch(tuple(shape), self.input_shape, kind=kind)

    @property
    def backend(self) -> Backend:
        """What the transform computes with: ``S.backend.name == 'jax'`` whatever ``backend`` was."""
        return JAX_BACKEND

    def tree_flatten(self):
        return (self.bank,), tuple(getattr(self, name) for name in self._static_fields)

    @classmethod
    def tree_unflatten(cls, static, children):
        obj = object.__new__(cls)
        object.__setattr__(obj, "bank", children[0])
        for name, value in zip(cls._static_fields, static):
            object.__setattr__(obj, name, value)
        return obj

    def _arguments(self) -> dict[str, Any]:
        """Constructor arguments that build this transform again: ``type(self)(**S._arguments())``
        (a field stored as ``"_name"`` is the argument ``name`` it was given as)."""
        return {name.lstrip("_"): getattr(self, name) for name in self._repr_fields}

    def __repr__(self) -> str:
        settings = ", ".join(f"{name}={value!r}" for name, value in self._arguments().items())
        return f"{type(self).__name__}({settings})"

    # --- the call pipeline ------------------------------------------------------------------
    def __call__(self, x: Float[ArrayLike, "*batch_and_signal"]) -> Coefficients:
        """Scattering coefficients of ``x``; the class docstring gives shapes and ``out_type``."""
        check_not_forked()
        self._check_settings_for_call()
        x = self._check_input(x)
        mesh = batch_mesh_of(x) if self.out_type != "list" else None
        if mesh is not None:
            from .sharding import sharded_apply  # sharding imports this module

            return sharded_apply(self, x, mesh)
        return self._format(self._run(x))

    scattering = __call__

    def _check_settings_for_call(self) -> None:
        """Raise for settings that kymatio 0.3.0 accepts at construction but refuses at call time
        (a transform so built still gives its filters, ``meta()`` and attributes)."""

    def _check_runtime_args(self) -> None:
        """kymatio's name for the check a call makes of the output settings: raises what calling
        would raise for them (:meth:`_check_settings_for_call`), else returns None. Every other
        setting was checked when the object was built, and it cannot change since."""
        self._check_settings_for_call()

    def _input_shape(self) -> tuple[int, ...]:
        """Trailing shape of one input signal."""
        return tuple(self.shape)

    def _check_input(self, x) -> jax.Array:
        return check_real_input(x, self._input_shape(), complex_ok=self._complex_input)

    def _chunking(self, dtype) -> tuple[int, int, bool]:
        """``(item_bytes, cpu_budget, spread)`` for :func:`apply_in_chunks`: by default one signal
        per chunk (the transform chunks again inside, where it pays)."""
        return MIN_CHUNK_BYTES, NO_LIMIT, True

    def _run(self, x: jax.Array):
        """The coefficients of ``x``, unformatted (steps 3 of the pipeline)."""
        signal_ndim = self._signal_ndim
        batch_shape = x.shape[: x.ndim - signal_ndim]
        if is_empty_batch(x, signal_ndim):
            return empty_batch_output(self._program, x, self.bank, signal_ndim)
        if is_traced((self.bank, x)) or _inside_a_trace():
            return self._program(x, self.bank)
        item_bytes, cpu_budget, spread = self._chunking(x.dtype)
        # The chunks already run one per core: their programs need no per-core branches, which
        # would only add to the compile.
        # Complex 1D input came out with other bits than under a caller's jit with the options
        # of compile_options (checked): complex input compiles with XLA's defaults.
        options = () if jnp.iscomplexobj(x) else self._eager_compile_options
        program = _chunk_program(self._program, options)
        bank = self.bank
        out = apply_in_chunks(
            lambda chunk: program(chunk, bank),
            x,
            signal_ndim,
            item_bytes,
            cpu_budget,
            spread=spread,
            program_key=self._program_key(x),
        )
        if not isinstance(out, list):
            return out
        return _unstacked(out, self._channel_groups(x), len(batch_shape))

    def _program_key(self, x: jax.Array) -> tuple:
        """What decides the eager program for signals like those of ``x``: the class, the static
        settings, the signal shape and the dtype."""
        return (type(self), self.tree_flatten()[1], x.shape[x.ndim - self._signal_ndim :], x.dtype)

    def _channel_groups(self, x: jax.Array) -> list[list[int]]:
        """The channel indices of each array :func:`_stacked` makes of the program's list output
        for signals like those of ``x`` (found once per configuration, signal shape and dtype)."""
        key = self._program_key(x)
        if key not in _SHAPE_GROUPS:
            channels = jax.eval_shape(self._program, _one_signal(x, self._signal_ndim), self.bank)
            _SHAPE_GROUPS[key] = list(_shape_groups(channels).values())
        return _SHAPE_GROUPS[key]

    def _format(self, coefficients):
        """``coefficients`` as ``out_type`` asks (step 4 of the pipeline)."""
        if self.out_type == "array":
            return coefficients
        if not isinstance(coefficients, list):
            coefficients = split_channels(coefficients, self._channel_axis)
        if self.out_type == "dict":
            return dict(zip(self._keys(), coefficients))
        return [dict(coef=coef, **fields) for coef, fields in zip(coefficients, self._list_fields())]

    def _keys(self) -> list[tuple]:
        raise NotImplementedError

    def _list_fields(self) -> list[dict]:
        raise NotImplementedError


def plan_attribute(name: str, doc: str) -> property:
    """A read-only attribute read from the bank's static plan (kymatio's attributes such as
    ``pad_left`` or ``M_padded``)."""
    return property(lambda self: getattr(self.bank.plan, name), doc=doc)


def shape_attribute(index: int, doc: str) -> property:
    """A read-only attribute holding one entry of ``shape`` (kymatio's ``N``, ``M``, ``O``)."""
    return property(lambda self: self.shape[index], doc=doc)


def is_traced(tree) -> bool:
    """Whether any leaf of ``tree`` is a tracer (we are inside a ``jit``, ``grad``, ``vmap``...)."""
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(tree))


def _inside_a_trace() -> bool:
    """Whether a caller's ``jit``, ``grad`` or ``vmap`` is tracing now, though neither ``x`` nor the
    filters are traced (a step that closes over both the transform and a concrete batch). Under a
    ``jit`` every JAX operation is staged into the caller's program, so the chunks' outputs would be
    tracers, which the eager path cannot join on the host."""
    return get_opaque_trace_state() != _OUTSIDE_ANY_TRACE


def split_channels(coefficients: jax.Array, axis: int) -> list[jax.Array]:
    """``coefficients`` split along ``axis`` into a list of arrays, one per channel."""
    if is_traced(coefficients):
        return list(jnp.moveaxis(coefficients, axis, 0))
    channels_first = _moveaxis_to_front(coefficients, axis)
    return [_channel(channels_first, c) for c in range(channels_first.shape[0])]


@cache
def _chunk_program(program: Callable, options: tuple[tuple[str, object], ...] = ()) -> Callable:
    """The jitted ``program`` for eager chunks: the same pure function, jitted apart and traced
    without per-core branches (1D J=6 N=2048, chunks of 8 signals: 1.5 s -> 1.0 s of XLA compile;
    2D J=2 L=8 32x32, chunks of 4 images: 0.71-0.94 s -> 0.64-0.76 s), compiled with the XLA
    ``options`` the transform asks for (:func:`~scatterjax._core.compile_options.eager_compile_options`).
    A separate ``jax.jit`` keeps its traces out of ``program``'s cache, which serves calls inside a
    caller's ``jit``.

    A list of channels (unaveraged paths of different lengths) leaves the program stacked, one
    array per channel shape (:func:`_stacked`), and is split outside (:func:`_unstacked`): as
    hundreds of outputs, each its own slice to compile, the program took seconds more to compile
    (1D J=6 Q=(16, 4) N=3000 T=0, 757 channels: 9.2 s -> 1.1 s of XLA compile)."""
    unsplit = without_branches(program.__wrapped__)

    def run(x, bank):
        out = unsplit(x, bank)
        return _stacked(out) if isinstance(out, list) else out

    # Compiled under the pure function's name (``jax.log_compiles`` says ``jit(scattering1d)``).
    run.__name__ = run.__qualname__ = program.__wrapped__.__name__
    return jax.jit(run, compiler_options=eager_compile_options(options))


def _shape_groups(channels) -> dict[tuple, list[int]]:
    """Channel indices grouped by trailing shape and dtype (axis 0 is the batch), groups in order
    of first appearance."""
    groups: dict[tuple, list[int]] = {}
    for index, channel in enumerate(channels):
        groups.setdefault((tuple(channel.shape[1:]), jnp.dtype(channel.dtype)), []).append(index)
    return groups


def _stacked(channels: list[jax.Array]) -> list[jax.Array]:
    """``channels`` (each ``(B, *shape_i)``) as one array ``(B, n_g, *shape_g)`` per group of
    :func:`_shape_groups`."""
    return [jnp.stack([channels[i] for i in group], axis=1) for group in _shape_groups(channels).values()]


# (transform class, static settings, signal shape, dtype) -> the channel groups of _stacked.
_SHAPE_GROUPS: dict[tuple, list[list[int]]] = {}


def _unstacked(stacks: list[jax.Array], groups: list[list[int]], batch_ndim: int) -> list[jax.Array]:
    """The channels :func:`_stacked` stacked, in their order: ``stacks[g]`` holds the channels
    ``groups[g]`` (the values of :func:`_shape_groups`) along axis ``batch_ndim``."""
    channels: list[jax.Array | None] = [None] * sum(map(len, groups))
    for stack, group in zip(stacks, groups, strict=True):
        for index, channel in zip(group, split_channels(stack, batch_ndim), strict=True):
            channels[index] = channel
    return channels


def _one_signal(x: jax.Array, signal_ndim: int) -> jax.ShapeDtypeStruct:
    """The shape and dtype of a batch of one signal like those of ``x``."""
    return jax.ShapeDtypeStruct((1,) + x.shape[x.ndim - signal_ndim :], x.dtype)


@partial(jax.jit, static_argnames=("axis",))
def _moveaxis_to_front(coefficients: jax.Array, axis: int) -> jax.Array:
    return jnp.moveaxis(coefficients, axis, 0)


@jax.jit
def _channel(channels_first: jax.Array, index) -> jax.Array:
    # The index is traced, so one small program serves every channel: returning hundreds of
    # slices from one jitted program would take seconds to compile.
    return jax.lax.dynamic_index_in_dim(channels_first, index, axis=0, keepdims=False)


def batch_mesh_of(x):
    """The mesh over which ``x``'s leading axis (only) is split, or ``None``.

    Such inputs go through :func:`scatterjax.sharded_apply`: XLA's partitioner does not split FFTs
    along batch dimensions and would gather the whole batch onto every device.
    """
    if not isinstance(x, jax.Array) or isinstance(x, jax.core.Tracer) or x.ndim < 2:
        return None
    sharding = x.sharding
    if not isinstance(sharding, NamedSharding) or len(sharding.device_set) < 2:
        return None
    spec = tuple(sharding.spec) + (None,) * (x.ndim - len(sharding.spec))
    if spec[0] is None or any(entry is not None for entry in spec[1:]):
        return None
    axes = spec[0] if isinstance(spec[0], tuple) else (spec[0],)
    if len(axes) != 1 or sharding.mesh.shape[axes[0]] != sharding.mesh.devices.size:
        return None
    return sharding.mesh

