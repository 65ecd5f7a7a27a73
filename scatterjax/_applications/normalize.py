"""``normalize``: renormalised scattering, the "deep scattering spectrum" (Andén and Mallat, 2014).

A path's coefficient ``S[p]`` at order ``m >= 2`` is divided by its parent's ``S[p[:-1]]`` (one
order lower, same position): the ratio measures how the parent's modulation at scale ``p[-1]`` is
distributed, independently of the parent's energy. Paths are found generically from
``S.meta()['key']`` (``parent = key[:-1]``), so any order works.

Choices, and why:

- Ratios are taken in kymatio main's summed-level units (``levels='sum'``). With 0.3.0's mean
  levels (the default, for its numbers) a 1D coefficient of order ``m`` carries a factor
  ``2**-(...)`` of its subsampling exponents (see ``scatterjax._scattering1d.levels``), which would
  make ``S2 / S1`` depend on the resolution the path happened to be computed at rather than on the
  signal; each ratio channel is rescaled first, so ``normalize`` gives the same ratios for both
  conventions. 2D subsamples exactly in space and needs no factor.

- ``eps`` is relative: each denominator is ``parent + eps * L``, ``L`` the typical level of the
  parent's order for that signal (the mean of its coefficients over channels and positions).
  Scattering is positively homogeneous (``S(c x) = |c| S(x)``), so the result is exactly invariant
  to the input's gain, as a normalisation should be, whatever the input's units; ``eps`` damps only
  paths whose parent is far below its order's typical level (noise, silence). An order whose
  coefficients are all zero (a silent signal) takes ``L = 1``: its children are zero too, so
  their ratios are 0, with finite gradients.
- Order 1: Andén-Mallat divide it by ``|x| ⋆ φ``, which the output does not hold (order 0 is
  ``x ⋆ φ``, signed and near zero for zero-mean audio; dividing by it would blow up). So order 1
  is left unchanged unless ``abs_average`` (``|x| ⋆ φ``: the order-0 channel of ``S(|x|)``) is
  given; order 0 is always unchanged.
- ``log``: the natural log of every order >= 1 coefficient plus ``eps`` times its order's typical
  level (the same relative floor, so ratios stay gain invariant). Order 0 is signed and kept as is.
"""

from __future__ import annotations

import functools
import math
import numbers

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._adapters.common import core_of
from .._core.validation import check_bool
from .._scattering1d.frontend import Scattering1D
from .._scattering1d.levels import sum_level_factors
from .._scattering2d.frontend import Scattering2D


def normalize(
    Sx: Float[ArrayLike, "*batch channels *spatial"],
    S,
    *,
    eps: float = 1e-3,
    log: bool = False,
    abs_average: Float[ArrayLike, "*batch 1 *spatial"] | None = None,
) -> Float[Array, "*batch channels *spatial"]:
    """Each scattering path divided by its parent (plus a relative ``eps``), optionally in log.

    Args:
      Sx: ``S(x)`` with ``out_type='array'``: real array ``(*batch, C, N_out)`` (Scattering1D) or
        ``(*batch, C, M_out, N_out)`` (Scattering2D), NumPy or JAX, channels in ``S.meta()`` order.
      S: the :class:`~scatterjax.Scattering1D` or :class:`~scatterjax.Scattering2D` (or an
        Equinox/Flax module wrapping one) that computed ``Sx``.
      eps: positive float, relative to the typical level of each denominator's order (see the
        module docstring): ``S[p] / (S[p[:-1]] + eps * L)``.
      log: return ``log(c + eps * L_c)`` for every order >= 1 coefficient ``c`` (``L_c`` its
        order's typical level after normalisation); order 0 unchanged.
      abs_average: optional ``|x| ⋆ φ`` of shape ``(*batch, 1, *spatial)`` (e.g.
        ``S(jnp.abs(x))[..., :1, :]`` in 1D) to divide order 1 by, as Andén-Mallat do; ``None``
        leaves order 1 unchanged.

    Returns:
      an array of ``Sx``'s shape and float dtype; ``S.meta()`` describes its channels unchanged.
      jit, vmap and grad friendly (the typical levels are per signal).

    Example:
      >>> import numpy as np, scatterjax
      >>> S = scatterjax.Scattering1D(J=4, shape=256, Q=4)
      >>> Sx = S(np.random.default_rng(0).standard_normal((2, 256)).astype(np.float32))
      >>> scatterjax.normalize(Sx, S, log=True).shape
      (2, 29, 16)
      >>> second = S.meta()["order"] == 2  # ratios: the input's gain cancels
      >>> bool(np.allclose(scatterjax.normalize(3 * Sx, S)[:, second], scatterjax.normalize(Sx, S)[:, second]))
      True
    """
    core = _core(S)
    eps = _check_eps(eps)
    log = check_bool("log", log)
    keys = list(core.meta()["key"])
    axis = -1 - len(core.shape)  # channels come before the 1 (1D) or 2 (2D) spatial axes
    Sx = _as_real_array("Sx", Sx)
    _check_channels(Sx, keys, axis, core)
    if abs_average is not None:
        abs_average = _abs_average(abs_average, Sx, axis)
    orders = tuple(len(key) for key in keys)
    if isinstance(core, Scattering1D):
        scales = tuple(float(f) for f in sum_level_factors(core.bank.plan, keys))
    else:  # 2D subsamples exactly in space: no convention-dependent factor
        scales = (1.0,) * len(keys)
    return _renormalize(Sx, abs_average, orders, tuple(_parents(keys)), scales, axis, eps, log)


@functools.partial(jax.jit, static_argnames=("orders", "parent", "scales", "axis", "eps", "log"))
def _renormalize(
    Sx, abs_average, orders: tuple, parent: tuple, scales: tuple, axis: int, eps: float, log: bool
):
    """The computation of :func:`normalize` on checked arguments (one compiled program per
    configuration; inside a caller's jit it is inlined)."""
    orders, parent = np.array(orders), np.array(parent)
    original = jnp.moveaxis(Sx, axis, -1)  # (*batch, *spatial, C)
    # Ratios are taken in summed-level units, where a coefficient does not depend on the
    # resolution it was computed at (see module docstring); other channels are returned as given.
    channels_last = original if set(scales) == {1.0} else original * np.asarray(scales, original.dtype)
    position_axes = tuple(range(channels_last.ndim + axis, channels_last.ndim - 1))

    def typical(values, order_of_channel):
        """Per signal and channel: the mean level of the channel's order, 1 where it is 0."""
        levels = jnp.zeros(values.shape[: values.ndim + axis] + (len(order_of_channel),), values.dtype)
        for order in np.unique(order_of_channel):
            members = np.flatnonzero(order_of_channel == order)
            level = values[..., members].mean(axis=(*position_axes, -1))
            levels = levels.at[..., members].set(level[..., None])
        levels = jnp.where(levels > 0, levels, jnp.ones_like(levels))
        return jnp.expand_dims(levels, position_axes)  # broadcasts against (*batch, *spatial, C)

    ratio_channels = orders >= 2
    denominators = channels_last[..., parent] + eps * typical(channels_last, orders)[..., parent]
    if abs_average is not None:
        average = jnp.moveaxis(abs_average, axis, -1)  # (*batch, *spatial, 1)
        first = orders == 1
        denominators = jnp.where(first, average + eps * typical(average, np.zeros(1, int)), denominators)
        ratio_channels = ratio_channels | first
    # Other channels divide by 1, not by a value that could be 0 (a NaN gradient through where).
    denominators = jnp.where(ratio_channels, denominators, jnp.ones_like(denominators))
    out = jnp.where(ratio_channels, channels_last / denominators, original)
    if log:
        floor = eps * typical(out, orders)
        out = jnp.where(orders >= 1, jnp.log(jnp.where(orders >= 1, out, 1) + floor), out)
    return jnp.moveaxis(out, -1, axis)


def _core(S):
    """The core transform behind ``S`` (a core object, or an adapter module wrapping one)."""
    core = core_of(S)
    if not isinstance(core, (Scattering1D, Scattering2D)):
        raise TypeError(
            f"S must be the Scattering1D or Scattering2D that computed Sx; got {type(S).__name__}. "
            "normalize divides paths by their parents, which only these transforms' paths have."
        )
    if core.out_type != "array":
        raise ValueError(
            f"normalize needs the transform's 'array' output, but S has out_type={core.out_type!r}. "
            f"Build S with out_type='array' (T != 0) and pass S(x)."
        )
    return core


def _parents(keys: list) -> np.ndarray:
    """Index of each channel's parent (``key[:-1]``); a channel of order < 2 is its own."""
    position = {key: index for index, key in enumerate(keys)}
    parents = []
    for index, key in enumerate(keys):
        if len(key) >= 2 and key[:-1] not in position:
            raise ValueError(f"path {key} has no parent path {key[:-1]} among S.meta()['key'].")
        parents.append(position[key[:-1]] if len(key) >= 2 else index)
    return np.array(parents)


def _check_eps(eps) -> float:
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not math.isfinite(eps) or eps <= 0:
        raise ValueError(
            f"eps must be a positive finite float (relative to each order's typical level); got "
            f"{eps!r}. Use e.g. eps=1e-3."
        )
    return float(eps)


def _as_real_array(name: str, value) -> jnp.ndarray:
    if isinstance(value, (dict, list, tuple)):
        raise ValueError(
            f"{name} must be one array (S(x) with out_type='array'); got a {type(value).__name__}."
        )
    array = jnp.asarray(value)
    if not jnp.issubdtype(array.dtype, jnp.floating):
        raise TypeError(f"{name} must be a real floating array; got dtype {array.dtype}.")
    return array


def _check_channels(Sx, keys: list, axis: int, core) -> None:
    if Sx.ndim < -axis or Sx.shape[axis] != len(keys):
        raise ValueError(
            f"Sx must have shape (*batch, C={len(keys)}, ...) with {-axis - 1} spatial axes after "
            f"the channels (S(x) of this {type(core).__name__}: {len(keys)} channels, see "
            f"S.meta()); got shape {tuple(Sx.shape)}. Pass S(x) computed by this S."
        )


def _abs_average(abs_average, Sx, axis: int) -> jnp.ndarray:
    average = _as_real_array("abs_average", abs_average).astype(Sx.dtype)
    expected = Sx.shape[:axis] + (1,) + Sx.shape[Sx.ndim + axis + 1 :]
    if average.shape != expected:
        raise ValueError(
            f"abs_average must have shape {expected} (Sx's shape with one channel: |x| ⋆ φ, e.g. "
            f"the order-0 channel of S(|x|)); got {tuple(average.shape)}."
        )
    return average
