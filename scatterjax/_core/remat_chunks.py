"""Chunk loops that are differentiated whole.

:func:`scatterjax._core.chunking.map_in_chunks` runs a ``lax.map`` over cache-sized chunks, which
is what a forward pass wants on a CPU. Differentiated, such a loop is slow: reverse mode saves the
intermediates of every small step into stacked buffers and replays a second loop of small steps,
and a ``jax.checkpoint`` per step (recomputing each chunk in the backward loop) is no faster:
measured on the 2D transform (J=3, L=8, 128x128, batch 2, ``jit(value_and_grad)``, one process,
alternating): 0.60 s with the loops, 0.68 s with checkpointed loops, 0.22 s with no loop.

:func:`map_in_chunks_differentiable` therefore runs the chunk loop only when nobody differentiates
it. It is a ``jax.custom_jvp`` whose rule applies ``fn`` to the whole batch and returns ``fn``'s
own JVP: plain evaluation gets the cache-sized loop, ``jax.jvp``/``jax.grad``/``jax.linearize``
see one large differentiable computation, and forward mode keeps working (a ``custom_vjp`` would
have lost it). The whole batch is one computation unless the transform asks for several
independent parts (``derivative_parts``, :func:`scatterjax._core.chunking.in_branches`), which XLA
may run concurrently on a CPU: the 2D transform cuts its batch of images into up to 4, which ran
faster on 2 cores; the 1D and JTFS gradients ran no faster in one part per core than in one, and
each part is one more copy of the program to compile. The price is memory: the backward holds the
whole batch's intermediates.

The JTFS transform evaluates without branches (``split_evaluation=False``): its frequency
scattering has reductions and matrix products whose float32 bits XLA's CPU backend may change with
the number of rows in the call, and ``S(x)`` (chunks of a power-of-two size) must give the bits of
``jax.jit(S)(x)``. The 1D transform, whose only long sums are pairwise trees of elementwise adds,
splits.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax.custom_derivatives import SymbolicZero

from .chunking import in_branches, map_in_chunks
from .promotion import default_promotion


def map_in_chunks_differentiable(
    fn: Callable, items: jax.Array, constants, item_bytes: int, cpu_budget: int,
    *, split_evaluation: bool = True, derivative_parts: int = 1,
    evaluation_pieces: int | None = None,
):
    """``fn(chunk, constants)`` over chunks of ``items`` (leading axis), results concatenated;
    differentiated as one computation.

    Evaluated, this is :func:`scatterjax._core.chunking.map_in_chunks` of
    ``lambda chunk: fn(chunk, constants)`` (with ``branches=split_evaluation`` and
    ``unrolled_pieces=evaluation_pieces``): ``fn`` maps
    ``(c, ...)`` to a pytree of arrays with leading axis ``c``; chunks hold about ``cpu_budget``
    bytes of ``item_bytes`` items on CPU. Under differentiation ``fn`` is applied to the whole batch
    (so the backward's working memory is that of the unchunked computation), written on CPU as
    ``derivative_parts`` independent computations on consecutive parts of the batch (default 1:
    the whole batch at once; see :func:`scatterjax._core.chunking.in_branches`); the values are the
    same up to float rounding. Each part is one more copy of the computation and of
    its transpose for XLA to compile, so a transform asks for as many as buy speed.

    ``constants`` is a pytree of arrays ``fn`` reads (e.g. filters). They are passed explicitly,
    never closed over: the derivative rule may be traced after the trace that made them has ended
    (``grad`` of a ``jit``). They may carry derivatives too, but they usually have none (frozen
    filters), and then none is computed.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> x = jnp.arange(12.0).reshape(6, 2)
      >>> f = lambda x, w: jnp.sin(x) * w
      >>> g = jax.grad(lambda x: map_in_chunks_differentiable(f, x, 2.0, 8, 16).sum())(x)
      >>> bool(jnp.allclose(g, 2 * jnp.cos(x)))
      True
    """

    if not jax.export.is_symbolic_dim(items.shape[0]) and items.shape[0] <= 1:
        return fn(items, constants)  # nothing to chunk or split: differentiated as it is

    @jax.custom_jvp
    def mapped(items, constants):
        return map_in_chunks(
            lambda chunk: fn(chunk, constants), items, item_bytes, cpu_budget,
            branches=split_evaluation, unrolled_pieces=evaluation_pieces,
        )

    def mapped_jvp(primals, tangents):
        (items, constants), (d_items, d_constants) = primals, tangents
        if isinstance(d_items, SymbolicZero):
            d_items = jnp.zeros_like(items)
        flat, tree = jax.tree_util.tree_flatten(constants)
        d_flat = tree.flatten_up_to(d_constants)
        live = [k for k, d in enumerate(d_flat) if not isinstance(d, SymbolicZero)]

        def whole(items, *live_constants):
            leaves = list(flat)
            for k, leaf in zip(live, live_constants):
                leaves[k] = leaf
            constants = jax.tree_util.tree_unflatten(tree, leaves)

            def whole_batch(items):
                return fn(items, constants)

            return in_branches(whole_batch, derivative_parts)(items)

        return jax.jvp(
            whole, (items, *[flat[k] for k in live]), (d_items, *[d_flat[k] for k in live])
        )

    mapped.defjvp(default_promotion(mapped_jvp), symbolic_zeros=True)
    return mapped(items, constants)
