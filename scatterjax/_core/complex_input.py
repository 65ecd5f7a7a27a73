"""Complex input (analytic signals, IQ data) through a transform's real first stage.

Everything before the first modulus is linear, so for ``x = a + i b`` (``a``, ``b`` real)
``x ⋆ ψ = a ⋆ ψ + i (b ⋆ ψ)``: the product with the full spectrum of ``x``, as if it were
computed with a complex FFT. (Morlet wavelets are analytic: their response to the negative
frequencies of ``x`` is negligible, and ``conj(x)`` brings those to the positive side.)
Scattering1D and Scattering2D stack ``a`` and ``b`` along the batch
(:func:`stack_parts`), run their real padding and input FFT on the ``2B`` rows, join each pair of
spectra into the spectrum of ``x`` or of ``x ⋆ ψ`` (:func:`join_spectra`,
:func:`join_spectrum_parts`) and continue on ``B`` rows from there: the moduli and everything after
are unchanged, so the result is exact. Order 0 is the modulus of the low-pass output,
``|x ⋆ φ| = |a ⋆ φ + i (b ⋆ φ)|`` (:func:`join_modulus`); ``φ`` is even, so ``a ⋆ φ`` and
``b ⋆ φ`` are real. Real input never comes here (the transforms dispatch on the dtype, statically).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .modulus import modulus_of_parts


def stack_parts(x: jax.Array) -> jax.Array:
    """Complex ``(B, ...)`` as real ``(2B, ...)``: the real parts, then the imaginary parts."""
    return jnp.concatenate([jnp.real(x), jnp.imag(x)], axis=0)


def join_spectra(stacked: jax.Array) -> jax.Array:
    """Complex ``(2B, ...)``, spectra ``A`` of ``a ⋆ ψ`` then ``B`` of ``b ⋆ ψ``, as the ``(B, ...)``
    spectra ``A + i B`` of ``(a + i b) ⋆ ψ`` (same dtype)."""
    real, imag = join_spectrum_parts(jnp.real(stacked), jnp.imag(stacked))
    return jax.lax.complex(real, imag)


def join_spectrum_parts(real: jax.Array, imag: jax.Array) -> tuple[jax.Array, jax.Array]:
    """:func:`join_spectra` with spectra held as their real and imaginary parts (real arrays)."""
    count = real.shape[0] // 2
    return real[:count] - imag[count:], imag[:count] + real[count:]


def join_modulus(stacked: jax.Array) -> jax.Array:
    """Real ``(2B, ...)``, one linear map of ``a`` then of ``b``, as ``|a' + i b'|``, ``(B, ...)``.

    The parts are materialised first (an optimization barrier), so the modulus is a fusion of its
    own. Fused into its producer, the same parts gave different bits in the programs of different
    batch sizes (XLA:CPU contracts ``a'^2 + b'^2`` into a fused multiply-add or not depending on the
    code around it), so a 2D image's order-0 coefficients alone differed from the same image's in a
    batch.
    """
    count = stacked.shape[0] // 2
    stacked = jax.lax.optimization_barrier(stacked)
    return modulus_of_parts(stacked[:count], stacked[count:])
