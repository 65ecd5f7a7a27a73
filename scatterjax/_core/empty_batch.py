"""The output of a pure transform for a batch with no signal, without running it.

XLA cannot run the transforms on zero signals (their reshapes and gathers divide by the batch
size), and there is nothing to compute: the output is zeros of the right shapes, found by tracing
the transform on one signal (:func:`jax.eval_shape`, nothing is computed).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp


def is_empty_batch(x: jax.Array, signal_ndim: int) -> bool:
    """Whether ``x`` ``(*batch, *signal)`` holds no signal; False for a symbolic batch
    (``jax.export``), whose size is not known here."""
    batch_shape = x.shape[: x.ndim - signal_ndim]
    if any(jax.export.is_symbolic_dim(d) for d in batch_shape):
        return False
    return math.prod(batch_shape) == 0


def empty_batch_output(function: Callable, x: jax.Array, bank, signal_ndim: int):
    """``function(x, bank)`` for ``x`` ``(*batch, *signal)`` with no signal: zeros ``(*batch, ...)``
    of each output's shape and dtype.

    Example:
      >>> import jax.numpy as jnp
      >>> out = empty_batch_output(lambda x, bank: x.sum(-1, keepdims=True) * bank, jnp.zeros((2, 0, 8)), 1.0, 1)
      >>> out.shape
      (2, 0, 1)
    """
    batch_shape = x.shape[: x.ndim - signal_ndim]
    one = jax.ShapeDtypeStruct((1,) + x.shape[x.ndim - signal_ndim :], x.dtype)
    shapes = jax.eval_shape(function, one, bank)
    return jax.tree_util.tree_map(lambda s: jnp.zeros(batch_shape + s.shape[1:], s.dtype), shapes)
