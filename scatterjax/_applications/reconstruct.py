"""Reconstruction / synthesis: find a signal whose scattering coefficients match a target, with optax.

The optimisation runs as a jitted ``jax.lax.fori_loop`` over chunks of steps. The transform's array
leaves (its filters) are passed to the compiled loop as arguments, never closed over (a closed-over
bank is baked into the program as constants); the signal and optimizer state buffers are donated,
so each chunk updates them in place. The program is compiled ahead of time once per configuration
(transform structure, optimizer, loss, shapes), which separates compile time from the steps per
second reported in the progress bar and in the result. Python is visited (and the bar updated)
once per chunk rather than once per step.
"""

from __future__ import annotations

import functools
import math
import operator
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .progress import progress_bar

__all__ = ["Reconstruction", "reconstruct"]

_LOSSES = ("relative", "mse")

# optax optimizers whose update is about ``learning_rate`` per coordinate whatever the gradient's
# scale (normalised by running moments, or a sign), so a learning rate in the units of ``x`` makes
# sense as a default. Others (``'sgd'``, ``'adagrad'``, ...) need an explicit learning rate.
_SCALE_FREE_OPTIMIZERS = (
    "adam", "adamw", "adamax", "amsgrad", "nadam", "radam", "adabelief", "lion", "rmsprop", "yogi",
)


# optax's first-order optimizers, all built as ``optax.<name>(learning_rate, ...)``.
_OPTAX_OPTIMIZERS = (
    "adabelief", "adadelta", "adafactor", "adagrad", "adam", "adamax", "adamaxw", "adamw", "adan",
    "amsgrad", "fromage", "lamb", "lars", "lion", "nadam", "nadamw", "noisy_sgd", "novograd", "radam",
    "rmsprop", "rprop", "sgd", "sign_sgd", "signum", "sm3", "yogi",
)


def _require_optax():
    try:
        import optax
    except ImportError as error:
        raise ImportError(
            'scatterjax.reconstruct needs optax, which is not installed. Install it with: '
            'pip install "scatterjax[optax]"'
        ) from error
    return optax


class Reconstruction(tuple):
    """What :func:`reconstruct` returns: the pair ``(x, loss_history)`` plus attributes.

    It unpacks like a 2-tuple (``x_hat, losses = reconstruct(...)``) and also carries:

    - ``x``: the reconstructed signal (a JAX array shaped like ``x0``);
    - ``loss_history``: float64 NumPy array of length ``steps + 1`` (see :func:`reconstruct`);
    - ``opt_state``: the optimizer state after the last step; pass it back as ``opt_state=`` (with
      ``x0=result.x``) to resume exactly where this run stopped;
    - ``steps_per_second``: optimizer steps per second of the compiled loop, compilation excluded;
    - ``compile_seconds``: time spent tracing and compiling the loop (about 0 when it was cached);
    - ``run_seconds``: time spent running the steps.
    """

    def __new__(cls, x, loss_history, opt_state, *, steps_per_second, compile_seconds, run_seconds):
        result = super().__new__(cls, (x, loss_history))
        result.opt_state = opt_state
        result.steps_per_second = steps_per_second
        result.compile_seconds = compile_seconds
        result.run_seconds = run_seconds
        return result

    @property
    def x(self) -> jax.Array:
        return self[0]

    @property
    def loss_history(self) -> np.ndarray:
        return self[1]

    def __repr__(self) -> str:
        return (
            f"Reconstruction(x: {tuple(self.x.shape)} {self.x.dtype}, steps={len(self.loss_history) - 1}, "
            f"loss {self.loss_history[0]:.3e} -> {self.loss_history[-1]:.3e}, "
            f"{self.steps_per_second:.1f} steps/s, compile {self.compile_seconds:.2f} s)"
        )


def _squared_norm(tree) -> jax.Array:
    return sum(jnp.sum(jnp.square(leaf)) for leaf in jax.tree_util.tree_leaves(tree))


def _relative_loss(coefficients, target) -> jax.Array:
    """``||S(x) - target||^2 / ||target||^2`` over every leaf (the squared relative error)."""
    difference = jax.tree_util.tree_map(jnp.subtract, coefficients, target)
    return _squared_norm(difference) / _squared_norm(target)


def _mse_loss(coefficients, target) -> jax.Array:
    difference = jax.tree_util.tree_map(jnp.subtract, coefficients, target)
    size = sum(leaf.size for leaf in jax.tree_util.tree_leaves(target))
    return _squared_norm(difference) / size


def _is_array(leaf) -> bool:
    return isinstance(leaf, (jax.Array, np.ndarray))


class _ByIdentity:
    """Wraps an unhashable static value so it can be a static jit argument (compared by identity)."""

    def __init__(self, value):
        self.value = value

    def __hash__(self) -> int:
        return id(self.value)

    def __eq__(self, other) -> bool:
        return isinstance(other, _ByIdentity) and other.value is self.value


def _static(value):
    try:
        hash(value)
    except TypeError:
        return _ByIdentity(value)
    return value


def _unwrap(value):
    return value.value if isinstance(value, _ByIdentity) else value


def _split(transform):
    """``(arrays, structure)``: the array leaves of ``transform`` (traced arguments) and a hashable
    description of everything else, from which :func:`_rebuild` puts it back together."""
    leaves, treedef = jax.tree_util.tree_flatten(transform)
    mask = tuple(_is_array(leaf) for leaf in leaves)
    others = tuple(None if is_array else leaf for leaf, is_array in zip(leaves, mask))
    arrays = [leaf for leaf, is_array in zip(leaves, mask) if is_array]
    return arrays, _static((treedef, mask, others))


def _rebuild(arrays, structure):
    treedef, mask, others = _unwrap(structure)
    arrays = iter(arrays)
    leaves = [next(arrays) if is_array else leaf for leaf, is_array in zip(others, mask)]
    return jax.tree_util.tree_unflatten(treedef, leaves)


@functools.partial(
    jax.jit,
    static_argnames=("structure", "optimizer", "loss_fn", "chunk_size"),
    # Each chunk replaces x and the optimizer state: donating them lets XLA update in place.
    donate_argnames=("x", "opt_state"),
)
def _run_chunk(filters, x, opt_state, target, count, *, structure, optimizer, loss_fn, chunk_size):
    """``count <= chunk_size`` optimizer steps; returns ``(x, opt_state, losses before each step)``.

    A module-level jit with hashable static arguments, so that calls with the same transform
    configuration, optimizer object, loss and shapes share one compiled program; ``count`` is traced,
    so a shorter last chunk reuses it too.
    """
    import optax

    optimizer, loss_fn = _unwrap(optimizer), _unwrap(loss_fn)

    def objective(x):
        return loss_fn(_rebuild(filters, structure)(x), target)

    def body(i, carry):
        x, opt_state, history = carry
        value, grad = jax.value_and_grad(objective)(x)
        updates, opt_state = optimizer.update(grad, opt_state, x)
        return optax.apply_updates(x, updates), opt_state, history.at[i].set(value)

    history = jnp.full((chunk_size,), jnp.nan, dtype=x.dtype)
    return jax.lax.fori_loop(0, count, body, (x, opt_state, history))


@functools.cache
def _named_optimizer(name: str):
    """``optax.<name>`` with its learning rate in the optimizer state, so one object (and one
    compiled loop) serves every learning rate. Cached: the same name gives the same object."""
    optax = _require_optax()
    return optax.inject_hyperparams(getattr(optax, name))(learning_rate=1.0)


def _optax_names() -> list[str]:
    """The names accepted for ``optimizer``: optax's first-order optimizers (``optax.<name>(
    learning_rate, ...)``) that this optax version has."""
    optax = _require_optax()
    return [name for name in _OPTAX_OPTIMIZERS if callable(getattr(optax, name, None))]


def _as_integer(value, name: str, minimum: int) -> int:
    """``value`` as a Python int: any integral (``int``, ``np.int64``, a 0-d integer array)."""
    if isinstance(value, (bool, np.bool_)) or (
        hasattr(value, "dtype") and not np.issubdtype(np.dtype(value.dtype), np.integer)
    ):
        number = None
    else:
        try:
            number = operator.index(value)
        except TypeError:
            number = None
    if number is None or number < minimum:
        raise ValueError(
            f"{name} must be an integer >= {minimum} (a Python int, a NumPy integer or a 0-d integer "
            f"array); got {value!r} of type {type(value).__name__}."
        )
    return number


def _as_learning_rate(value) -> float:
    try:
        array = np.asarray(value)
        number = float(array) if array.ndim == 0 and np.issubdtype(array.dtype, np.number) else None
    except (TypeError, ValueError):
        number = None
    if number is None or isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"learning_rate must be a real number (a float, int or 0-d array); got {value!r} of type "
            f"{type(value).__name__}."
        )
    if not (math.isfinite(number) and number > 0):
        raise ValueError(
            f"learning_rate must be a finite number > 0; got {number!r}. A negative rate climbs the "
            "loss and NaN/Inf destroy the signal: pass e.g. learning_rate=0.01 * x0.std()."
        )
    return number


def _as_key(key) -> jax.Array:
    """``key`` as a typed ``jax.random.key``: accepts an int seed, a typed key or a raw uint32 key."""
    if key is None:
        return jax.random.key(0)
    if isinstance(key, (int, np.integer)) and not isinstance(key, (bool, np.bool_)):
        return jax.random.key(int(key))
    dtype = getattr(key, "dtype", None)
    shape = tuple(getattr(key, "shape", ()))
    if dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
        if shape == ():
            return key
    elif dtype is not None and jax.dtypes.issubdtype(dtype, np.integer):
        if shape == ():
            return jax.random.key(int(key))
        if shape == (2,) and dtype == np.uint32:  # a legacy jax.random.PRNGKey
            return jax.random.wrap_key_data(jnp.asarray(key))
    raise TypeError(
        f"key must be an int seed, a jax.random.key(...) or a jax.random.PRNGKey(...); got "
        f"{type(key).__name__} with shape {getattr(key, 'shape', None)} and dtype {dtype}."
    )


def _shapes(tree) -> str:
    shapes = [tuple(leaf.shape) for leaf in jax.tree_util.tree_leaves(tree)]
    return str(shapes[0]) if len(shapes) == 1 else str(shapes)


def _check_target_matches(transform, target, signal: jax.ShapeDtypeStruct, x0_given: bool) -> None:
    """Raise if ``transform`` applied to a signal of ``signal``'s shape does not give ``target``'s shapes."""
    expected = jax.eval_shape(transform, signal)
    same = jax.tree_util.tree_structure(expected) == jax.tree_util.tree_structure(target) and all(
        tuple(a.shape) == tuple(b.shape)
        for a, b in zip(jax.tree_util.tree_leaves(expected), jax.tree_util.tree_leaves(target))
    )
    if same:
        return
    if x0_given:
        raise ValueError(
            f"target_coefficients and x0 do not match: x0 of shape {tuple(signal.shape)} gives coefficients "
            f"of shape {_shapes(expected)}, but target_coefficients has shape {_shapes(target)}. Pass the "
            "coefficients of a signal shaped like x0 (same batch dimensions)."
        )
    raise ValueError(
        f"target_coefficients do not match the transform: one signal gives coefficients of shape "
        f"{_shapes(expected)}, got {_shapes(target)} (expected the same with any leading batch "
        "dimensions)."
    )


def _initial_signal(transform, target, key, dtype) -> jax.Array:
    """White noise with the input shape, scaled so that its scattering has the target's norm."""
    shape = tuple(transform.shape)
    single = jax.eval_shape(transform, jax.ShapeDtypeStruct(shape, dtype))
    single_leaf = jax.tree_util.tree_leaves(single)[0]
    target_leaf = jax.tree_util.tree_leaves(target)[0]
    extra = target_leaf.ndim - single_leaf.ndim
    batch = tuple(target_leaf.shape[:max(extra, 0)])
    _check_target_matches(transform, target, jax.ShapeDtypeStruct(batch + shape, dtype), x0_given=False)
    noise = jax.random.normal(key, batch + shape, dtype)
    # Scattering is positively homogeneous of degree 1 in the input (|S(a x)| = |a| S(x)), so one
    # rescaling puts the noise at the target's energy; for other transforms it is a rough guess.
    scale = jnp.sqrt(_squared_norm(target) / jnp.maximum(_squared_norm(transform(noise)), 1e-30))
    return noise * scale.astype(dtype)


def _all_finite(tree) -> bool:
    return all(bool(jnp.isfinite(leaf).all()) for leaf in jax.tree_util.tree_leaves(tree))


def _fresh_copy(tree):
    """A private copy of every array leaf: the compiled loop donates (consumes) its inputs, and the
    caller's ``x0`` and ``opt_state`` must stay usable."""
    return jax.tree_util.tree_map(lambda leaf: jnp.array(leaf, copy=True), tree)


def _check_opt_state(opt_state, optimizer, x) -> None:
    expected = jax.eval_shape(optimizer.init, x)
    if jax.tree_util.tree_structure(expected) != jax.tree_util.tree_structure(opt_state):
        raise ValueError(
            "opt_state does not belong to this optimizer: its structure is "
            f"{jax.tree_util.tree_structure(opt_state)}, optimizer.init(x0) gives "
            f"{jax.tree_util.tree_structure(expected)}. Pass the opt_state returned by a previous "
            "reconstruct call with the same optimizer (and the same learning-rate mode)."
        )
    for want, got in zip(jax.tree_util.tree_leaves(expected), jax.tree_util.tree_leaves(opt_state)):
        if tuple(np.shape(got)) != tuple(want.shape):
            raise ValueError(
                f"opt_state does not match x0: it holds an array of shape {tuple(np.shape(got))} where "
                f"optimizer.init(x0) has shape {tuple(want.shape)} (x0 has shape {tuple(x.shape)})."
            )


def reconstruct(
    transform: Callable[[jax.Array], Any],
    target_coefficients,
    x0=None,
    *,
    key=None,
    steps: int = 400,
    optimizer=None,
    learning_rate: float | None = None,
    loss: str | Callable = "relative",
    progress: bool | None = None,
    chunk_size: int = 25,
    opt_state=None,
) -> Reconstruction:
    """Find ``x`` such that ``transform(x)`` matches ``target_coefficients``, by gradient descent.

    Minimises ``loss(transform(x), target_coefficients)`` over ``x`` with an optax optimizer. Works
    with any transform that is a callable pytree ``x -> coefficients`` (``Scattering1D``,
    ``Scattering2D``, ``HarmonicScattering3D``, ...): its array leaves (the filters) are passed to
    the compiled loop as arguments and held constant.

    Args:
      transform: the transform object, e.g. ``scatterjax.Scattering1D(J=6, shape=2048, Q=8)``.
      target_coefficients: ``transform(x_target)``, shape ``(*batch, ...)`` (any pytree the
        transform returns, for ``out_type='list'``/``'dict'``); floating point and finite.
      x0: initial signal of shape ``(*batch, *transform.shape)``, floating point and finite; its
        coefficients must have ``target_coefficients``' shapes. Default: white noise (from ``key``)
        rescaled so that its coefficients have the target's norm.
      key: seed of the initial noise when ``x0`` is not given: an int, a ``jax.random.key(...)`` or a
        ``jax.random.PRNGKey(...)``; default ``0``. Unused when ``x0`` is given.
      steps: number of optimizer steps: any integer >= 1 (``int``, ``np.int64``, 0-d integer array).
      optimizer: an ``optax.GradientTransformation``, or the name of an optax optimizer that takes
        ``learning_rate`` first (``'adam'``, ``'adamw'``, ``'sgd'``, ``'rmsprop'``, ``'lion'``, ...),
        built as ``optax.inject_hyperparams(getattr(optax, name))(learning_rate=...)``. Default
        ``'adam'``. The compiled loop is reused by later calls with the same optimizer object (the
        same name), loss, transform configuration and shapes.
      learning_rate: for a named (or the default) optimizer: a finite number > 0. Default
        ``0.1 * std(x0)`` (the step of Adam-like optimizers is in the units of ``x``) for ``'adam'``,
        ``'adamw'``, ``'adamax'``, ``'amsgrad'``, ``'nadam'``, ``'radam'``, ``'adabelief'``,
        ``'lion'``, ``'rmsprop'``, ``'yogi'``; other names need it explicitly. When resuming from
        ``opt_state`` the rate stored in the state is kept unless ``learning_rate`` is given.
      loss: ``'relative'``: ``||S(x) - target||^2 / ||target||^2`` (squared relative error; undefined,
        hence refused, for an all-zero target); ``'mse'``: mean squared error; or a callable
        ``loss(coefficients, target) -> scalar``.
      progress: show a tqdm progress bar on stderr with the loss and the steps per second. Default:
        only when stderr is a terminal.
      chunk_size: optimizer steps per compiled chunk (and per progress update): integer >= 1.
      opt_state: resume from this optimizer state (``result.opt_state`` of an earlier call, with
        ``x0=result.x``). ``reconstruct(..., steps=a)`` then ``reconstruct(..., x0=r.x,
        opt_state=r.opt_state, steps=b)`` gives the same bits as one run of ``a + b`` steps.
        Default: ``optimizer.init(x0)``. Neither ``x0`` nor ``opt_state`` is modified.

    Returns:
      A :class:`Reconstruction`, which unpacks as ``(x_hat, loss_history)``: ``x_hat`` a JAX array
      shaped like ``x0``; ``loss_history`` a float64 NumPy array of length ``steps + 1``:
      ``loss_history[i]`` is the loss before step ``i`` and ``loss_history[-1]`` the loss of
      ``x_hat``. It also has ``.opt_state`` (to resume), ``.steps_per_second`` (compilation
      excluded), ``.compile_seconds`` and ``.run_seconds``.

    Raises:
      ValueError / TypeError: naming the argument, for any invalid argument above, before any
      optimisation step.

    Example:
      >>> import jax, numpy as np, scatterjax
      >>> S = scatterjax.Scattering1D(J=4, shape=256, Q=4)
      >>> x = np.sin(np.linspace(0, 60, 256)).astype(np.float32)
      >>> x_hat, losses = scatterjax.reconstruct(S, S(x), steps=100, progress=False)
      >>> x_hat.shape, bool(losses[-1] < losses[0])
      ((256,), True)
    """
    optax = _require_optax()
    steps = _as_integer(steps, "steps", 1)
    chunk_size = _as_integer(chunk_size, "chunk_size", 1)
    if callable(loss):
        loss_fn = loss
    elif isinstance(loss, str) and loss in _LOSSES:
        loss_fn = _relative_loss if loss == "relative" else _mse_loss
    else:
        raise ValueError(f"loss must be 'relative', 'mse' or a callable; got {loss!r}.")

    # The optimizer: a name (looked up in optax, learning rate in its state) or a transformation.
    optimizer_name = "adam" if optimizer is None else optimizer
    if isinstance(optimizer_name, str):
        if optimizer_name not in _optax_names():
            raise ValueError(
                f"optimizer {optimizer_name!r} is not an optax optimizer taking a learning rate; known "
                f"names: {', '.join(_optax_names())}. Or pass an optax.GradientTransformation."
            )
        optimizer = _named_optimizer(optimizer_name)
        if learning_rate is not None:
            learning_rate = _as_learning_rate(learning_rate)
        elif opt_state is None and optimizer_name not in _SCALE_FREE_OPTIMIZERS:
            raise ValueError(
                f"optimizer {optimizer_name!r} needs an explicit learning_rate (its steps scale with the "
                f"gradient, so no default fits every signal); the default is only for "
                f"{', '.join(_SCALE_FREE_OPTIMIZERS)}."
            )
    else:
        if not isinstance(optimizer, optax.GradientTransformation):
            raise TypeError(
                f"optimizer must be an optax.GradientTransformation (e.g. optax.adam(1e-2)) or the name "
                f"of an optax optimizer (e.g. 'adam'); got {type(optimizer).__name__}."
            )
        if learning_rate is not None:
            raise ValueError(
                "pass either an optimizer object or learning_rate (for a named or the default "
                "optimizer), not both: the optimizer object already has its learning rate."
            )
        optimizer_name = None

    target = jax.tree_util.tree_map(jnp.asarray, target_coefficients)
    target_leaves = jax.tree_util.tree_leaves(target)
    if not target_leaves:
        raise ValueError("target_coefficients is empty (no arrays); pass transform(x_target).")
    dtype = jnp.result_type(*target_leaves)
    if not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(f"target_coefficients must be floating point; got dtype {dtype}.")
    if not _all_finite(target):
        raise ValueError("target_coefficients contain NaN or Inf; pass finite coefficients.")
    if loss_fn is _relative_loss and float(_squared_norm(target)) == 0.0:
        # The relative loss divides by ||target||^2: 0/0 would give NaN at the first step.
        raise ValueError(
            "target_coefficients are all zero, so the relative loss ||S(x) - target||^2 / ||target||^2 "
            "is undefined (0/0). The signal with zero scattering coefficients is x = 0; to minimise "
            "the absolute error instead, pass loss='mse'."
        )

    shape = getattr(transform, "shape", None)
    if x0 is None:
        if shape is None:
            raise ValueError(
                f"cannot infer the signal shape from {type(transform).__name__} (it has no .shape): "
                "pass x0, an initial signal of the input shape."
            )
        x = _initial_signal(transform, target, _as_key(key), dtype)
    else:
        if not hasattr(x0, "shape") or not hasattr(x0, "dtype"):
            x0 = np.asarray(x0)
        if not jnp.issubdtype(x0.dtype, jnp.floating):
            raise TypeError(f"x0 must be a float array; got dtype {x0.dtype}.")
        if shape is not None:
            shape = tuple(shape)
            if x0.ndim < len(shape) or tuple(x0.shape[x0.ndim - len(shape):]) != shape:
                raise ValueError(
                    f"x0 has shape {tuple(x0.shape)}, but the transform takes signals of shape {shape}: "
                    f"expected (*batch, {', '.join(map(str, shape))})."
                )
        _check_target_matches(transform, target, jax.ShapeDtypeStruct(x0.shape, x0.dtype), x0_given=True)
        x = jnp.array(x0, copy=True)
        if not _all_finite(x):
            raise ValueError("x0 contains NaN or Inf; pass a finite initial signal.")

    if opt_state is None:
        opt_state = optimizer.init(x)
        if optimizer_name is not None and learning_rate is None:
            learning_rate = 0.1 * float(jnp.std(x))
            if not learning_rate > 0:
                raise ValueError(
                    "cannot choose the default learning_rate 0.1 * std(x0): it is 0 because the initial "
                    "signal is constant" + (" (the target is all zeros, so the noise was scaled to 0)"
                                            if x0 is None else "") + ". Pass learning_rate=... (or x0=...)."
                )
    else:
        _check_opt_state(opt_state, optimizer, x)
    # Always a private copy: a caller's state must survive the donation, and an optimizer whose
    # init keeps x itself in the state must not donate one buffer twice.
    opt_state = _fresh_copy(opt_state)
    if optimizer_name is not None and learning_rate is not None:
        opt_state.hyperparams["learning_rate"] = jnp.asarray(learning_rate, x.dtype)

    filters, structure = _split(transform)
    static = dict(structure=structure, optimizer=_static(optimizer), loss_fn=_static(loss_fn), chunk_size=chunk_size)

    show = sys.stderr.isatty() if progress is None else bool(progress)
    history: list[np.ndarray] = []
    with progress_bar(steps, "reconstruct", enabled=show, unit="step") as bar:
        bar.set_postfix_str("compiling")
        # Ahead-of-time compilation (cached by JAX, so a repeated configuration costs ~1 ms here)
        # keeps the compile time out of the steps-per-second figure.
        start = time.perf_counter()
        run_chunk = _run_chunk.lower(filters, x, opt_state, target, min(chunk_size, steps), **static).compile()
        compile_seconds = time.perf_counter() - start
        bar.reset(total=steps)  # restarts tqdm's clock, so its rate excludes the compilation
        run_seconds = 0.0
        for first in range(0, steps, chunk_size):
            count = min(chunk_size, steps - first)
            start = time.perf_counter()
            x, opt_state, losses = run_chunk(filters, x, opt_state, target, count)
            history.append(np.asarray(losses[:count], dtype=np.float64))  # waits for the chunk
            run_seconds += time.perf_counter() - start
            bar.set_postfix_str(f"loss={history[-1][-1]:.3e}")
            bar.update(count)
    steps_per_second = steps / run_seconds if run_seconds > 0 else math.inf
    # Eager: the transform's own compiled call serves it, no extra program to compile.
    history.append(np.asarray([loss_fn(transform(x), target)], dtype=np.float64))
    loss_history = np.concatenate(history)
    if not math.isfinite(loss_history[-1]):
        first_bad = int(np.argmin(np.isfinite(loss_history)))
        rate = "" if learning_rate is None else f" (learning_rate={learning_rate:.3g})"
        warnings.warn(
            f"reconstruct: the loss became NaN or Inf at step {first_bad}: the optimisation diverged; "
            f"lower the learning rate{rate}.",
            RuntimeWarning,
            stacklevel=2,
        )
    return Reconstruction(
        x, loss_history, opt_state,
        steps_per_second=steps_per_second, compile_seconds=compile_seconds, run_seconds=run_seconds,
    )
