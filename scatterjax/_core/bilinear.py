"""Bilinear maps evaluated one way and differentiated another."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax.custom_derivatives import SymbolicZero

from .promotion import default_promotion


def bilinear_map(derivative_form: Callable, nondiff_argnums: tuple[int, ...] = ()) -> Callable:
    """Decorator: ``f(a, b, *settings)``, bilinear in ``a`` and ``b``, evaluated as written and
    differentiated through ``derivative_form``, another way of writing the same map.

    The tangent of ``f`` at ``(a, b)`` along ``(d_a, d_b)`` is
    ``derivative_form(d_a, b, *settings) + derivative_form(a, d_b, *settings)`` (a term is left out
    where its tangent is a symbolic zero, as the filters' are: they are constants). The value stays
    ``f``'s own, so the value of ``jax.value_and_grad`` has the plain call's bits. Use it where the
    evaluated form is fast or row-stable but its automatic transpose is not: reverse mode transposes
    ``derivative_form`` instead. ``settings`` (at ``nondiff_argnums``, which must follow ``a`` and
    ``b``) are static numbers passed to both forms.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> @bilinear_map(lambda a, b: (a * b).sum(axis=-1))
      ... def dot(a, b):
      ...     return a @ b
      >>> a, b = jnp.arange(3.0), jnp.ones(3)
      >>> float(dot(a, b)), jax.grad(dot)(a, b).tolist()
      (3.0, [1.0, 1.0, 1.0])
    """
    if any(position < 2 for position in nondiff_argnums):
        raise ValueError(f"nondiff_argnums={nondiff_argnums}: the settings must follow the two arrays")

    def decorate(evaluated: Callable) -> Callable:
        mapped = jax.custom_jvp(evaluated, nondiff_argnums=nondiff_argnums)

        def rule(*args):
            *settings, (a, b), (d_a, d_b) = args
            out = mapped(a, b, *settings)
            d_out = jnp.zeros(out.shape, out.dtype)
            if not isinstance(d_a, SymbolicZero):
                d_out = d_out + derivative_form(d_a, b, *settings)
            if not isinstance(d_b, SymbolicZero):
                d_out = d_out + derivative_form(a, d_b, *settings)
            return out, d_out

        mapped.defjvp(default_promotion(rule), symbolic_zeros=True)
        return mapped

    return decorate
