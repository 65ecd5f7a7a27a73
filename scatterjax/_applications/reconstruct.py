"""Reconstruction / synthesis: find a signal whose scattering coefficients match a target, with optax.

The optimisation runs as a jitted ``jax.lax.fori_loop`` over chunks of steps: the transform's filters
are passed in as arguments (never baked in as constants), the compiled program is shared by every
call with the same configuration, optimizer and shapes, and Python is visited (and the progress bar
updated) once per chunk rather than once per step.
"""

from __future__ import annotations

import functools
import math
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["reconstruct"]

_LOSSES = ("relative", "mse")


def _require_optax():
    try:
        import optax
    except ImportError as error:
        raise ImportError(
            'scatterjax.reconstruct needs optax, which is not installed. Install it with: '
            'pip install "scatterjax[optax]"'
        ) from error
    return optax


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


@functools.partial(jax.jit, static_argnames=("structure", "optimizer", "loss_fn", "chunk_size"))
def _run_chunk(filters, x, opt_state, target, count, *, structure, optimizer, loss_fn, chunk_size):
    """``count <= chunk_size`` optimizer steps; returns ``(x, opt_state, losses before each step)``.

    A module-level jit with hashable static arguments, so that calls with the same transform
    configuration, optimizer object, loss and shapes share one compiled program.
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


@functools.lru_cache(maxsize=1)
def _default_optimizer():
    """Adam with its learning rate in the optimizer state, so one object (and one compiled loop)
    serves every learning rate."""
    optax = _require_optax()
    return optax.inject_hyperparams(optax.adam)(learning_rate=1.0)


def _initial_signal(transform, target, key, dtype) -> jax.Array:
    """White noise with the input shape, scaled so that its scattering has the target's norm."""
    shape = getattr(transform, "shape", None)
    if shape is None:
        raise ValueError(
            f"cannot infer the signal shape from {type(transform).__name__} (it has no .shape): "
            "pass x0, an initial signal of the input shape."
        )
    single = jax.eval_shape(transform, jax.ShapeDtypeStruct(tuple(shape), dtype))
    single_leaf = jax.tree_util.tree_leaves(single)[0]
    target_leaf = jax.tree_util.tree_leaves(target)[0]
    extra = target_leaf.ndim - single_leaf.ndim
    if extra < 0 or tuple(target_leaf.shape[extra:]) != tuple(single_leaf.shape):
        raise ValueError(
            f"target_coefficients do not match the transform: one signal gives coefficients of shape "
            f"{tuple(single_leaf.shape)}, got {tuple(target_leaf.shape)} (expected (*batch, "
            f"{', '.join(map(str, single_leaf.shape))}))."
        )
    batch = tuple(target_leaf.shape[:extra])
    key = jax.random.key(0) if key is None else key
    noise = jax.random.normal(key, batch + tuple(shape), dtype)
    # Scattering is positively homogeneous of degree 1 in the input (|S(a x)| = |a| S(x)), so one
    # rescaling puts the noise at the target's energy; for other transforms it is a rough guess.
    scale = jnp.sqrt(_squared_norm(target) / jnp.maximum(_squared_norm(transform(noise)), 1e-30))
    return noise * scale.astype(dtype)


class _TextProgress:
    """A minimal progress bar on stderr, for when tqdm is not installed."""

    def __init__(self, total: int, desc: str):
        self.total, self.desc, self.n, self.postfix = total, desc, 0, ""
        self.start = time.perf_counter()

    def update(self, n: int) -> None:
        self.n += n
        width = 30
        filled = int(width * self.n / max(self.total, 1))
        elapsed = time.perf_counter() - self.start
        sys.stderr.write(
            f"\r{self.desc}: [{'#' * filled}{'.' * (width - filled)}] {self.n}/{self.total} "
            f"{elapsed:.1f}s {self.postfix}"
        )
        sys.stderr.flush()

    def set_postfix_str(self, text: str) -> None:
        self.postfix = text

    def close(self) -> None:
        sys.stderr.write("\n")
        sys.stderr.flush()


def _progress_bar(total: int, desc: str):
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _TextProgress(total, desc)
    return tqdm(total=total, desc=desc, leave=True)


def reconstruct(
    transform: Callable[[jax.Array], Any],
    target_coefficients,
    x0=None,
    *,
    key: jax.Array | None = None,
    steps: int = 400,
    optimizer=None,
    learning_rate: float | None = None,
    loss: str | Callable = "relative",
    progress: bool | None = None,
    chunk_size: int = 25,
) -> tuple[jax.Array, np.ndarray]:
    """Find ``x`` such that ``transform(x)`` matches ``target_coefficients``, by gradient descent.

    Minimises ``loss(transform(x), target_coefficients)`` over ``x`` with an optax optimizer. Works
    with any transform that is a callable pytree ``x -> coefficients`` (``Scattering1D``,
    ``Scattering2D``, ``HarmonicScattering3D``, ...): its array leaves (the filters) are passed to
    the compiled loop as arguments and held constant.

    Args:
      transform: the transform object, e.g. ``scatterjax.Scattering1D(J=6, shape=2048, Q=8)``.
      target_coefficients: ``transform(x_target)``, shape ``(*batch, ...)`` (any pytree the
        transform returns, for ``out_type='list'``/``'dict'``).
      x0: initial signal of shape ``(*batch, *transform.shape)``. Default: white noise (from
        ``key``) rescaled so that its coefficients have the target's norm.
      key: ``jax.random.key`` for the initial noise (default ``jax.random.key(0)``).
      steps: number of optimizer steps (int >= 1).
      optimizer: an ``optax.GradientTransformation``; default Adam with ``learning_rate``. The
        compiled loop is reused by later calls with the same optimizer object, loss, transform
        configuration and shapes (the default optimizer is one object for every learning rate).
      learning_rate: for the default optimizer; default ``0.1 * std(x0)`` (Adam's steps are in
        the units of ``x``).
      loss: ``'relative'``: ``||S(x) - target||^2 / ||target||^2`` (squared relative error);
        ``'mse'``: mean squared error; or a callable ``loss(coefficients, target) -> scalar``.
      progress: show a progress bar (tqdm if installed, else a text one) on stderr. Default: only
        when stderr is a terminal.
      chunk_size: optimizer steps per compiled chunk (and per progress update).

    Returns:
      ``(x_hat, loss_history)``: ``x_hat`` a JAX array shaped like ``x0``; ``loss_history`` a
      float64 NumPy array of length ``steps + 1``: ``loss_history[i]`` is the loss before step
      ``i`` and ``loss_history[-1]`` the loss of ``x_hat``.

    Example:
      >>> import jax, numpy as np, scatterjax
      >>> S = scatterjax.Scattering1D(J=4, shape=256, Q=4)
      >>> x = np.sin(np.linspace(0, 60, 256)).astype(np.float32)
      >>> x_hat, losses = scatterjax.reconstruct(S, S(x), steps=100, progress=False)
      >>> x_hat.shape, bool(losses[-1] < losses[0])
      ((256,), True)
    """
    _require_optax()
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1; got {steps!r}.")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be an integer >= 1; got {chunk_size!r}.")
    if callable(loss):
        loss_fn = loss
    elif loss in _LOSSES:
        loss_fn = _relative_loss if loss == "relative" else _mse_loss
    else:
        raise ValueError(f"loss must be 'relative', 'mse' or a callable; got {loss!r}.")
    if optimizer is not None and learning_rate is not None:
        raise ValueError("pass either optimizer or learning_rate (for the default Adam), not both.")

    target = jax.tree_util.tree_map(jnp.asarray, target_coefficients)
    dtype = jnp.result_type(*jax.tree_util.tree_leaves(target))
    if not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(f"target_coefficients must be floating point; got dtype {dtype}.")
    if x0 is None:
        x = _initial_signal(transform, target, key, dtype)
    else:
        x = jnp.asarray(x0)
        if not jnp.issubdtype(x.dtype, jnp.floating):
            raise TypeError(f"x0 must be a float array; got dtype {x.dtype}.")
    default_optimizer = optimizer is None
    if default_optimizer:
        optimizer = _default_optimizer()
        if learning_rate is None:
            learning_rate = 0.1 * float(jnp.std(x))

    filters, structure = _split(transform)
    run_chunk = functools.partial(
        _run_chunk, structure=structure, optimizer=_static(optimizer), loss_fn=_static(loss_fn),
        chunk_size=chunk_size,
    )

    show = sys.stderr.isatty() if progress is None else bool(progress)
    bar = _progress_bar(steps, "reconstruct") if show else None
    opt_state = optimizer.init(x)
    if default_optimizer:
        opt_state.hyperparams["learning_rate"] = jnp.asarray(learning_rate, x.dtype)
    history: list[np.ndarray] = []
    try:
        for start in range(0, steps, chunk_size):
            count = min(chunk_size, steps - start)
            x, opt_state, losses = run_chunk(filters, x, opt_state, target, count)
            history.append(np.asarray(losses[:count], dtype=np.float64))
            if bar is not None:
                bar.set_postfix_str(f"loss={history[-1][-1]:.3e}")
                bar.update(count)
    finally:
        if bar is not None:
            bar.close()
    # Eager: the transform's own compiled call serves it, no extra program to compile.
    history.append(np.asarray([loss_fn(transform(x), target)], dtype=np.float64))
    loss_history = np.concatenate(history)
    if not math.isfinite(loss_history[-1]):
        warnings.warn(
            "reconstruct: the loss became NaN or Inf; lower the learning rate, or check the target "
            "for NaN/Inf.",
            RuntimeWarning,
            stacklevel=2,
        )
    return x, loss_history
