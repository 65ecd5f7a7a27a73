"""Filter banks as a transform reads them: frozen, and never folded into the program as constants."""

from __future__ import annotations

from typing import TypeVar

import jax

_Bank = TypeVar("_Bank")


def frozen(bank: _Bank) -> _Bank:
    """``bank`` with no derivative, seen by XLA as run-time values even when they are constants.

    The filters get no gradient (``stop_gradient``). They also go through an optimization barrier:
    when a caller closes over the transform (``jax.jit(S)``, a training step that captures ``S``),
    the filters become compile-time constants, and XLA then folds and reorders arithmetic on them
    (e.g. products of constants), so the outputs differed from ``S(x)`` in their last bits
    (1D, 2D, 3D and JTFS, up to 1.7e-7 of the largest coefficient). Behind the barrier the program
    computes what it computes when the filters are arguments, as in the eager call.

    Example:
      >>> import jax.numpy as jnp
      >>> frozen({"psi": jnp.ones(3)})["psi"].tolist()
      [1.0, 1.0, 1.0]
    """
    bank = jax.tree_util.tree_map(jax.lax.stop_gradient, bank)
    return jax.lax.optimization_barrier(bank)
