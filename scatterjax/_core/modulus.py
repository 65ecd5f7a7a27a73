"""Complex modulus with a gradient that is finite everywhere."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .lax_ops import where_scalar
from .promotion import default_promotion


@jax.custom_jvp
def modulus(z: jax.Array) -> jax.Array:
    """``|z|`` for complex ``z``; real output of the matching precision.

    The derivative of ``|z|`` is ``Re(conj(z) dz) / |z|``, undefined at ``z = 0``. We take it to be
    zero there (the subgradient of minimal norm), so gradients stay finite for all-zero inputs.
    """
    return jnp.abs(z)


@modulus.defjvp
@default_promotion
def _modulus_jvp(primals, tangents):
    (z,), (dz,) = primals, tangents
    magnitude = jnp.abs(z)
    is_zero = magnitude == 0
    safe_magnitude = where_scalar(is_zero, 1, magnitude)
    tangent = jnp.real(jnp.conj(z) * dz) / safe_magnitude
    return magnitude, where_scalar(is_zero, 0, tangent)


@jax.custom_jvp
def modulus_of_parts(real: jax.Array, imag: jax.Array) -> jax.Array:
    """``sqrt(real**2 + imag**2)``: the modulus of a complex array held as two real arrays, with the
    same finite gradient at zero as :func:`modulus`."""
    return jnp.sqrt(real * real + imag * imag)


@modulus_of_parts.defjvp
@default_promotion
def _modulus_of_parts_jvp(primals, tangents):
    (real, imag), (d_real, d_imag) = primals, tangents
    magnitude = modulus_of_parts(real, imag)
    is_zero = magnitude == 0
    tangent = (real * d_real + imag * d_imag) / where_scalar(is_zero, 1, magnitude)
    return magnitude, where_scalar(is_zero, 0, tangent)
