"""Trace our programs under JAX's default promotion rules, whatever the caller configured.

Codebases that catch broadcasting and mixed-type bugs run with ``jax_numpy_rank_promotion="raise"``
or ``jax_numpy_dtype_promotion="strict"``. Those settings apply to every ``jax.numpy`` call traced
while they are on, ours included: the transforms (which multiply a batch by its filters, and
complex spectra by real ones, on purpose) would raise in the caller's code. :func:`default_promotion`
traces a function under the defaults (``"allow"``, ``"standard"``); the caller's own code keeps its
settings. The numbers are those of the default settings, whichever the caller's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax


def default_promotion(fn: Callable) -> Callable:
    """``fn``, traced with ``jax.numpy_rank_promotion("allow")`` and
    ``jax.numpy_dtype_promotion("standard")``.

    For the transforms' pure functions and for their custom derivative rules (which JAX may trace
    later, outside the function that uses them).

    Example:
      >>> import jax, jax.numpy as jnp
      >>> add = default_promotion(lambda a, b: a + b)
      >>> with jax.numpy_rank_promotion("raise"):
      ...     add(jnp.ones((2, 3)), jnp.ones(3)).shape
      (2, 3)
    """

    @functools.wraps(fn)
    def traced_with_defaults(*args, **kwargs):
        with jax.numpy_rank_promotion("allow"), jax.numpy_dtype_promotion("standard"):
            return fn(*args, **kwargs)

    return traced_with_defaults
