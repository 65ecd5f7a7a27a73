"""``jax.numpy`` operations written as the one ``lax`` primitive they lower to.

Some ``jax.numpy`` functions (``jnp.take``, ``jnp.where``, ``jnp.pad``, and every ``jnp.fft`` function,
through ``jax.lax.fft``) are small jitted programs:
each call made while tracing is a nested trace, and under ``jax.grad`` each is linearized, partially
evaluated and transposed as a program of its own. The 1D gradient made a few hundred such calls
(J=6 Q=8 N=2048: 454 nested programs, 270 with the first three helpers, 65 with
:func:`fft_last_axes` too; most of those left are JAX's own FFT transposes).
Every ``jax.jit`` of a training step pays the trace again: for ``jax.jit(jax.value_and_grad(loss))``
of ``Scattering1D(J=10, Q=8, shape=65536)`` on a batch of 4 it took 1.30-1.66 s instead of
1.46-1.90 s (three alternating fresh processes), and the compiled program computes the same bits.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def take_last_axis(values: jax.Array, index: jax.Array, *, in_bounds: bool = False) -> jax.Array:
    """``jnp.take(values, index, axis=-1, mode="clip")`` as one gather.

    Args:
      values: array of shape ``(*lead, n)``.
      index: integer array of any shape ``(*ix)``; out-of-range entries are clipped to ``[0, n)``.
      in_bounds: the caller promises every entry is in ``[0, n)``: no clipping, and reverse mode's
        scatter-add then needs no clamped copy of the indices (out-of-range entries are undefined).

    Returns:
      array of shape ``(*lead, *ix)`` and ``values``' dtype.

    Example:
      >>> import jax.numpy as jnp
      >>> take_last_axis(jnp.arange(8.0).reshape(2, 4), jnp.array([[3, 0], [9, -1]])).tolist()
      [[[3.0, 0.0], [3.0, 0.0]], [[7.0, 4.0], [7.0, 4.0]]]
    """
    lead = values.ndim - 1
    dimension_numbers = jax.lax.GatherDimensionNumbers(
        offset_dims=tuple(range(lead)), collapsed_slice_dims=(lead,), start_index_map=(lead,)
    )
    return jax.lax.gather(
        values,
        index[..., None],
        dimension_numbers,
        slice_sizes=values.shape[:-1] + (1,),
        mode=jax.lax.GatherScatterMode.PROMISE_IN_BOUNDS if in_bounds else jax.lax.GatherScatterMode.CLIP,
    )


def where_scalar(condition: jax.Array, value: float, array: jax.Array) -> jax.Array:
    """``jnp.where(condition, value, array)`` for a Python scalar ``value`` and a boolean
    ``condition`` of ``array``'s shape, as one select.

    Example:
      >>> import jax.numpy as jnp
      >>> a = jnp.array([0.0, 2.0, 0.0])
      >>> where_scalar(a == 0, 1, a).tolist()
      [1.0, 2.0, 1.0]
    """
    return jax.lax.select(condition, jax.lax.full_like(array, value), array)


def pad_zeros(array: jax.Array, widths) -> jax.Array:
    """``jnp.pad(array, widths)`` (zeros, ``widths`` one ``(before, after)`` pair per axis) as one pad.

    Example:
      >>> import jax.numpy as jnp
      >>> pad_zeros(jnp.ones((1, 2)), [(0, 1), (1, 0)]).tolist()
      [[0.0, 1.0, 1.0], [0.0, 0.0, 0.0]]
    """
    zero = jax.lax.convert_element_type(0, array.dtype)
    return jax.lax.pad(array, zero, [(before, after, 0) for before, after in widths])


_FFT_TYPES = {
    "fft": jax.lax.FftType.FFT,
    "ifft": jax.lax.FftType.IFFT,
    "rfft": jax.lax.FftType.RFFT,
    "irfft": jax.lax.FftType.IRFFT,
}


def fft_last_axes(array: jax.Array, kind: str, axes: int = 1, *, n: int | None = None) -> jax.Array:
    """``jnp.fft.fftn``, ``ifftn``, ``rfftn`` or ``irfftn`` (``kind``: ``"fft"``, ``"ifft"``, ``"rfft"``,
    ``"irfft"``) over the last ``axes`` axes, unnormalised forward and ``1/n`` inverse as ``jnp.fft``'s
    default, as one ``fft`` primitive.

    Args:
      array: ``(*lead, *sides)``: real (float32/float64) for ``"rfft"``; for the others complex, or
        real (taken as complex).
      kind: which transform.
      axes: how many trailing axes it runs over (1, 2 or 3).
      n: ``"irfft"`` only: the real output's last side, of which ``array``'s last side must be the
        half spectrum (``n // 2 + 1``; default ``2 * (last side - 1)``). Nothing is cropped or padded.

    Returns:
      ``(*lead, *sides)`` complex for ``"fft"``/``"ifft"``; ``(*lead, ..., last // 2 + 1)`` complex
      for ``"rfft"``; ``(*lead, ..., n)`` real for ``"irfft"``; the precision of ``array``.

    Example:
      >>> import jax.numpy as jnp
      >>> fft_last_axes(jnp.asarray([1.0, 0.0, 0.0, 0.0]), "rfft").tolist()
      [(1+0j), (1+0j), (1+0j)]
      >>> fft_last_axes(jnp.ones((2, 3), jnp.complex64), "irfft", n=4).tolist()
      [[1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]]
    """
    fft_type = _FFT_TYPES[kind]
    sides = tuple(array.shape[array.ndim - axes :])
    if kind == "rfft":
        if jnp.iscomplexobj(array):
            raise TypeError(f"fft_last_axes(kind='rfft') takes a real array, got {array.dtype}")
    else:
        array = jax.lax.convert_element_type(array, jnp.result_type(array.dtype, jnp.complex64))
    if kind == "irfft":
        last = 2 * (sides[-1] - 1) if n is None else n
        if last // 2 + 1 != sides[-1]:
            raise ValueError(f"irfft to n={last} takes a half spectrum of {last // 2 + 1} bins, got {sides[-1]}")
        sides = sides[:-1] + (last,)
    return jax.lax.fft_p.bind(array, fft_type=fft_type, fft_lengths=sides)
