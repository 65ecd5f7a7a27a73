"""``Scattering2D``: kymatio 0.3.0's 2D constructor and outputs, as an immutable JAX pytree."""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .._core.chunking import NO_LIMIT, apply_in_chunks
from .._core.transform import ScatteringTransform
from .._core.validation import check_choice, check_int, check_real_input, check_shape
from . import design as design
from .bank import FilterBank2D, filter_bank_2d
from .core import scattering2d

_OUT_TYPES = ("array", "list", "dict")


@jax.tree_util.register_pytree_node_class
class Scattering2D(ScatteringTransform):
    """2D wavelet scattering transform with kymatio 0.3.0's arguments and numbers.

    Args:
      J: log2 of the scattering scale (int >= 1, with ``2**J <= min(M, N)``).
      shape: image shape ``(M, N)``.
      L: number of orientations (int >= 1).
      max_order: 1 or 2.
      pre_pad: if True, the input is already padded to ``(M_padded, N_padded)`` (see the
        attributes of the same names) and is not reflect-padded again; the output is cropped alike.
      out_type: ``'array'``, ``'list'`` or ``'dict'``.

    Calling ``S(x)`` on a real float32/float64 array of shape ``(*batch, M, N)`` (or
    ``(*batch, M_padded, N_padded)`` with ``pre_pad``) returns:

    - ``'array'``: an array of shape ``(*batch, C, M // 2**J, N // 2**J)``; channels are order 0,
      then order 1 by ``n1 = j1 L + l1``, then order 2 by ``(n1, n2)`` with ``j2 > j1`` (see
      :meth:`meta`); ``C = 1 + J L + L**2 J (J - 1) / 2`` (``1 + J L`` with ``max_order=1``).
    - ``'list'``: kymatio's list of ``C`` dicts ``{'coef', 'j', 'n', 'theta'}`` (``theta`` holds
      orientation indices).
    - ``'dict'``: ``{(): S0, (n1,): S1, (n1, n2): S2}``.

    The computation runs in the input's precision: float32, or float64 when ``jax_enable_x64`` is
    on (the filters keep kymatio's float32 values). ``S(x)`` compiles once per input shape and
    dtype; ``S`` is a pytree whose leaves are the filters, so it can be passed to ``jax.jit``,
    ``jax.vmap`` and friends as an argument. NaN or Inf in ``x`` propagate to the output.

    Example:
      >>> import numpy as np, scatterjax
      >>> S = scatterjax.Scattering2D(J=2, shape=(32, 32), L=8)
      >>> S(np.zeros((3, 32, 32), np.float32)).shape
      (3, 81, 8, 8)
    """

    _static_fields = ("J", "shape", "L", "max_order", "pre_pad", "out_type")
    _repr_fields = _static_fields

    bank: FilterBank2D

    def __init__(
        self,
        J: int,
        shape,
        L: int = 8,
        max_order: int = 2,
        pre_pad: bool = False,
        out_type: str = "array",
    ):
        J = check_int("J", J, minimum=1)
        M, N = check_shape("shape", shape, 2)
        if 2**J > M or 2**J > N:
            raise ValueError(
                f"J={J} is too large for images of shape={(M, N)}: the scattering scale "
                f"2**J={2**J} must be at most min(M, N)={min(M, N)}. Use J <= "
                f"{design.max_J(M, N)}."
            )
        L = check_int("L", L, minimum=1)
        max_order = check_int("max_order", max_order, minimum=1, maximum=2)
        if not isinstance(pre_pad, (bool, np.bool_)):
            raise TypeError(f"pre_pad must be True or False; got {pre_pad!r}.")
        check_choice("out_type", out_type, _OUT_TYPES)
        self._set("J", J)
        self._set("shape", (M, N))
        self._set("L", L)
        self._set("max_order", max_order)
        self._set("pre_pad", bool(pre_pad))
        self._set("out_type", out_type)
        self._set("bank", filter_bank_2d(J, M, N, L, max_order, bool(pre_pad)))

    # --- kymatio-compatible read-only attributes -------------------------------------------
    @property
    def M(self) -> int:
        return self.shape[0]

    @property
    def N(self) -> int:
        return self.shape[1]

    @property
    def M_padded(self) -> int:
        return self.bank.plan.M_padded

    @property
    def N_padded(self) -> int:
        return self.bank.plan.N_padded

    _M_padded = M_padded
    _N_padded = N_padded

    # --- the transform ----------------------------------------------------------------------
    def __call__(self, x):
        """Scattering coefficients of ``x``; see the class docstring."""
        plan = self.bank.plan
        if self.pre_pad:
            x_shape = tuple(getattr(x, "shape", np.shape(x)))
            if len(x_shape) < 2 or x_shape[-2:] != plan.input_shape:
                raise ValueError(
                    f"with pre_pad=True, x must already be padded to shape (..., {plan.M_padded}, "
                    f"{plan.N_padded}) (M_padded, N_padded for shape={self.shape} and J={self.J}); "
                    f"got {x_shape}. Pad it yourself, or use pre_pad=False to pass ({self.M}, "
                    f"{self.N}) images."
                )
        x = check_real_input(x, plan.input_shape)
        sharded = self._per_device_call(x)
        if sharded is not None:
            return sharded
        split = self.out_type != "array"
        if isinstance(x, jax.core.Tracer):
            coefficients = _apply(self.bank, x, split=split)
        else:  # concrete: batch chunks on every core (XLA's CPU FFTs use one each)
            coefficients = apply_in_chunks(
                lambda chunk: _apply(self.bank, chunk, split=False), x, 2, 1, NO_LIMIT, spread=True
            )
            if split:
                coefficients = _channels_first(coefficients)
        if not split:
            return coefficients
        keys = self._paths()
        coefficients = [_channel(coefficients, c) for c in range(len(keys))]
        if self.out_type == "dict":
            return dict(zip(keys, coefficients))
        return [
            {
                "coef": coef,
                "j": tuple(n // self.L for n in key),
                "n": key,
                "theta": tuple(n % self.L for n in key),
            }
            for coef, key in zip(coefficients, keys)
        ]

    scattering = __call__

    def _paths(self) -> list[tuple[int, ...]]:
        count = self.J * self.L
        paths: list[tuple[int, ...]] = [()]
        paths += [(n1,) for n1 in range(count)]
        if self.max_order == 2:
            paths += [
                (n1, n2)
                for n1 in range(count)
                for n2 in range(count)
                if n2 // self.L > n1 // self.L
            ]
        return paths

    def meta(self) -> dict:
        """Per-channel metadata, in output order.

        Returns a dict with ``order`` (C,) int; ``j``, ``theta`` (orientation index), ``angle``
        (radians) and ``n`` of shape (C, max_order) float, NaN-padded; ``key``: list of ``n``
        tuples (the keys of ``out_type='dict'``).
        """
        paths = self._paths()
        count = len(paths)
        meta = {"order": np.array([len(p) for p in paths])}
        fields = {
            "j": lambda n: n // self.L,
            "theta": lambda n: n % self.L,
            "angle": lambda n: self.bank.angles[n % self.L],
            "n": lambda n: n,
        }
        for field, value in fields.items():
            values = np.full((count, self.max_order), np.nan)
            for c, path in enumerate(paths):
                for order, n in enumerate(path):
                    values[c, order] = value(n)
            meta[field] = values
        meta["key"] = paths
        return meta

    def output_size(self, detail: bool = False):
        """Number of channels C, or ``[1, J L, L**2 J (J - 1) / 2]`` (per order) with ``detail``."""
        counts = design.output_channels(self.J, self.L, self.max_order)
        return counts if detail else sum(counts)


@partial(jax.jit, static_argnames=("split",))
def _apply(bank: FilterBank2D, x: jax.Array, *, split: bool) -> jax.Array:
    """``scattering2d``; with ``split``, channels first: ``(C, *batch, M_out, N_out)``."""
    coefficients = scattering2d(x, bank)
    if split:
        return jnp.moveaxis(coefficients, -3, 0)
    return coefficients


@jax.jit
def _channels_first(coefficients: jax.Array) -> jax.Array:
    return jnp.moveaxis(coefficients, -3, 0)


@jax.jit
def _channel(channels_first: jax.Array, index) -> jax.Array:
    # The index is traced, so one small program serves every channel: returning hundreds of
    # slices from one jitted program would take seconds to compile.
    return jax.lax.dynamic_index_in_dim(channels_first, index, axis=0, keepdims=False)
