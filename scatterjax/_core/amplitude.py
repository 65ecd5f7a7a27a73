"""Signals of any amplitude: each is scaled by an exact power of two before the transform.

The scattering transforms are positively homogeneous: ``S(c x) = c S(x)`` for ``c > 0`` (the 3D
integrals ``sum U^p``: ``c^p``). Their moduli square the wavelet responses, and in float32 those
squares leave the normal range long before the signal does: ``re² + im²`` is flushed to zero (XLA's
CPU backend treats subnormals as zero) once ``|z|`` is below about 1e-19, and overflows past about
1e19. So a float32 signal of amplitude 1e-19 (gravitational-wave strain is about 1e-21) lost its
first and second orders, silently, and one of amplitude 1e19 gave ``inf``. (2D's modulus is XLA's
``abs``, which does not square, but an image of amplitude 1e-33 still lost its second order to
the flush, and one of 1e36 overflowed its FFT sums.)

A signal whose largest ``|sample|`` lies outside ``[2^-24, 2^24)`` is therefore multiplied by
``2^k`` (``k`` even, chosen so that its largest sample is in ``[0.5, 2)``) and its coefficients by
``2^-k`` (3D: ``2^(-k p)``). Multiplying by a power of two is exact, so the coefficients are the
ones the same signal gets at a normal amplitude, scaled; a signal inside the range gets ``k = 0``
and the same bits as without this step. Each signal's ``k`` depends on that signal only.

The two scales come as a pair, :func:`to_normal_amplitude` before the transform and
:func:`from_normal_amplitude` after it, whose derivatives are taken together: for
``y = 2^(-k p) S(2^k x)`` with ``S`` homogeneous of degree ``p``, ``dy = 2^(k (1 - p)) dS(2^k x)[dx]``
(``dS`` is linear in its tangent). So the input's scale passes tangents through unscaled and the
output's multiplies them by ``2^(k (1 - p))`` (nothing for ``p = 1``): tangents and cotangents keep
their natural size, where the plain product rule would scale the cotangents by ``2^-k`` inside the
transform and underflow them for tiny signals (1D, a signal of amplitude 2^-90: gradients off by
5e-6 relative; with the pair they are the bits of the signal at amplitude 1). Neither is right
alone.
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp

from .promotion import default_promotion

# Signals whose largest |sample| = f 2^e (f in [0.5, 1)) has LOWEST_EXPONENT <= e <= HIGHEST_EXPONENT
# are left as they are.
LOWEST_EXPONENT = -23
HIGHEST_EXPONENT = 24


def largest_shift(dtype) -> int:
    """The largest ``|k|``: the dtype's normal exponent range, even (126 for float32, 1022 for
    float64)."""
    return jnp.finfo(dtype).maxexp - 2


def amplitude_exponents(x: jax.Array, sample_ndim: int) -> jax.Array:
    """The exponent ``k`` of each signal's power-of-two scale (0 inside the normal amplitude range).

    Args:
      x: real or complex array ``(*batch, *sample)`` with ``sample_ndim`` sample axes.

    Returns:
      int32 array ``(*batch,)`` of even exponents; 0 for signals in range, all-zero signals and
      signals holding NaN or Inf. It carries no gradient (the transform is homogeneous).
    """
    magnitude = jnp.maximum(jnp.abs(x.real), jnp.abs(x.imag)) if jnp.iscomplexobj(x) else jnp.abs(x)
    largest = jnp.max(magnitude, axis=tuple(range(-sample_ndim, 0)))
    _, exponent = jnp.frexp(largest)
    outside = (exponent < LOWEST_EXPONENT) | (exponent > HIGHEST_EXPONENT)
    usable = jnp.isfinite(largest) & (largest > 0) & outside
    limit = largest_shift(largest.dtype)
    shift = jnp.clip(-2 * (exponent // 2), -limit, limit)
    return jax.lax.stop_gradient(jnp.where(usable, shift, 0).astype(jnp.int32))


# Powers above this many factors clamp the scale where every value saturates (see below); up to it,
# the factors are as they always were.
_FEWEST_PIECES_SATURATE = 16


def scaled_by_power_of_two(a, exponents: jax.Array, power: float = 1.0):
    """``a * 2^(exponents * power)``, one exponent per leading index of ``a``.

    Exact (a product by powers of two) when ``exponents * power`` is an integer, which it is for
    any ``power`` with ``2 * power`` an integer (the exponents are even).

    Args:
      a: real or complex array ``(*batch, ...)``, or a list of such arrays of one precision (the
        outputs of a transform whose paths have different shapes): the factors are computed once
        for them all, so a list of hundreds of paths costs hundreds of products, not hundreds of
        factor computations.
      exponents: int32 array ``(*batch,)``, at most :func:`largest_shift` in magnitude.
      power: Python float.

    Returns:
      the scaled array, or list of arrays, of ``a``'s shapes and dtypes.
    """
    leaves = a if isinstance(a, list) else [a]
    factors = _factors_once(exponents, power, leaves[0].real.dtype)
    scaled = [_times_factors(leaf, factors, exponents.ndim) for leaf in leaves]
    return scaled if isinstance(a, list) else scaled[0]


def _factors_once(exponents: jax.Array, power: float, dtype) -> list[jax.Array]:
    """:func:`_factors_of_power_of_two`, each factor the result of a sort, which XLA computes once.

    The few dozen scalar operations that lead from the signals' largest samples to the factors,
    left elementwise, were fused into every product and every slice of one, and compiled once
    each: for a list of paths, or an array that a caller's jit cuts into channels (out_type
    'list' or 'dict'). XLA fuses no sort into its consumers, and sorts ``(0, factor)`` (a factor is
    positive) into the same order, so each factor is an array computed once (a 2-element
    reduction did the same only for batches of two or more: XLA writes it as an elementwise
    ``max`` for one signal). Inside jit, optimised HLO and XLA compile: 1D J=6 Q=(16, 4) N=3000
    T=0 (757 paths) 77 000 lines and 17-28 s -> 15 000 lines and 13-14 s; 2D J=5 L=8 256x256 as
    a list (4 641 channels) 84 000 lines and 25 s -> 29 000 lines and 14-18 s.
    """
    factors = _factors_of_power_of_two(exponents, power, dtype)
    return [jax.lax.sort(jnp.stack([jnp.zeros_like(f), f], axis=-1), dimension=f.ndim)[..., 1] for f in factors]


def _times_factors(a: jax.Array, factors: list[jax.Array], batch_ndim: int) -> jax.Array:
    """``a`` times each of ``factors`` (``(*batch,)``) in turn, broadcast over ``a``'s other axes."""
    extra = (1,) * (a.ndim - batch_ndim)
    for factor in factors:
        a = a * factor.reshape(factor.shape + extra)
    return a


def _factors_of_power_of_two(exponents: jax.Array, power: float, dtype) -> list[jax.Array]:
    """Factors ``(*batch,)`` whose product is ``2^(exponents * power)``, each a normal number of
    ``dtype`` (so that every partial product is exact)."""
    # Every factor 2^n is a normal number (|n| <= largest_shift): one for |power| <= 1.
    pieces = max(1, math.ceil(abs(power)))
    fraction = None
    if pieces > _FEWEST_PIECES_SATURATE:
        # Past ``saturation`` doublings any value of the dtype, subnormal or largest, reaches 0 or
        # inf, so a larger scale gives the same result: it is clamped there, and a few factors
        # reach it (a power of 1e6, as 3D ``integral_powers`` allow, took a million factors to
        # trace and compile).
        info = jnp.finfo(dtype)
        saturation = int(info.maxexp - info.minexp + info.nmant + 2)
        target = jnp.clip(exponents.astype(dtype) * power, -saturation, saturation)
        whole = jnp.floor(target).astype(jnp.int32)
        pieces = math.ceil(saturation / largest_shift(dtype))
        if not (2 * float(power)).is_integer():
            fraction = target - whole.astype(dtype)
    elif float(power).is_integer():
        whole = exponents * int(power)
    else:
        target = exponents.astype(dtype) * power
        whole = jnp.floor(target).astype(jnp.int32)
        if not (2 * float(power)).is_integer():
            fraction = target - whole.astype(dtype)
    factors = []
    done = 0
    for i in range(1, pieces + 1):
        upto = (whole * i) // pieces
        factors.append(_power_of_two(upto - done, dtype))
        done = upto
    if fraction is not None:  # in [0, 1)
        factors.append(jnp.exp2(fraction))
    return factors


def _power_of_two(n: jax.Array, dtype) -> jax.Array:
    """``2.0 ** n`` in ``dtype``, exactly, for integers ``n`` in the dtype's normal exponent range."""
    info = jnp.finfo(dtype)
    integer = jnp.int32 if info.bits == 32 else jnp.int64
    bias = info.maxexp - 1
    bits = (n.astype(integer) + bias) << info.nmant
    return jax.lax.bitcast_convert_type(bits, dtype)


@jax.custom_jvp
def to_normal_amplitude(x: jax.Array, exponents: jax.Array) -> jax.Array:
    """``x * 2^k`` per signal (``k = exponents``, from :func:`amplitude_exponents`), before a
    homogeneous transform; its tangent passes through unscaled (see the module docstring: only
    right together with :func:`from_normal_amplitude`)."""
    return scaled_by_power_of_two(x, exponents)


@to_normal_amplitude.defjvp
@default_promotion
def _to_normal_amplitude_jvp(primals, tangents):
    (x, exponents), (dx, _) = primals, tangents
    return to_normal_amplitude(x, exponents), dx


@partial(jax.custom_jvp, nondiff_argnums=(2,))
def from_normal_amplitude(y, exponents: jax.Array, degree: float = 1.0):
    """``y * 2^(-k degree)`` per signal: the output of a transform homogeneous of ``degree``,
    computed on :func:`to_normal_amplitude`'s signals, brought back to their amplitude; tangents
    are multiplied by ``2^(k (1 - degree))`` (see the module docstring). ``y``: an array
    ``(*batch, ...)`` or a list of them (the scale computed once for all)."""
    return scaled_by_power_of_two(y, -exponents, degree)


@from_normal_amplitude.defjvp
@default_promotion
def _from_normal_amplitude_jvp(degree, primals, tangents):
    (y, exponents), (dy, _) = primals, tangents
    out = from_normal_amplitude(y, exponents, degree)
    return out, dy if degree == 1 else scaled_by_power_of_two(dy, exponents, 1 - degree)
