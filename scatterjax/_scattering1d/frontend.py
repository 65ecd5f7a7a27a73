"""``Scattering1D``: kymatio 0.3.0's 1D constructor and outputs, as an immutable JAX pytree."""

from __future__ import annotations

import math
import numbers
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from .._core.chunking import apply_in_chunks
from .._core.transform import ScatteringTransform
from .._core.validation import check_choice, check_int, check_real_input, check_shape
from .bank import FilterBank1D, filter_bank_1d
from .core import CHUNK_BYTES, scattering1d, signal_bytes

_OUT_TYPES = ("array", "list", "dict")


def parse_Q(Q) -> tuple[int, int]:
    if isinstance(Q, tuple) and len(Q) in (1, 2):
        values = Q + (1,) if len(Q) == 1 else Q
    elif isinstance(Q, numbers.Integral) and not isinstance(Q, bool):
        values = (Q, 1)
    else:
        raise ValueError(f"Q must be an int, a 1-tuple (Q1,) or a 2-tuple (Q1, Q2); got {Q!r}.")
    for name, value in zip(("Q[0]", "Q[1]"), values):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} must be an integer >= 1; got {value!r}.")
        if value < 1:
            raise ValueError(f"Q must be >= 1 (wavelets per octave); got {name} = {value}.")
    return int(values[0]), int(values[1])


def _parse_T(T, J: int, N: int) -> tuple[float, bool]:
    """Return (averaging scale in samples, averaged?); ``T='global'`` is handled by the caller."""
    if T is None:
        return float(2**J), True
    if isinstance(T, bool) or not isinstance(T, numbers.Real) or not math.isfinite(T):
        raise ValueError(f"T must be None, 0, 'global' or a number in [1, N={N}]; got {T!r}.")
    if T == 0:
        return float(2**J), False
    if T < 1:
        raise ValueError(f"T must be 0 (no averaging) or >= 1; got T={T}.")
    if T > N:
        raise ValueError(
            f"T={T} exceeds the signal length N={N}: the averaging scale must be at most N. "
            "Use a smaller T, or T=None for 2**J."
        )
    return float(T), True


def parse_stride(name: str, stride, averaging: str, log2_T: int, max_log2: int) -> int | None:
    """log2 of a time (or frequency) stride, as kymatio main checks it; ``None`` when not given.

    Args:
      name: the argument's name, for messages.
      stride: ``None`` or a power-of-two int.
      averaging: ``'local'``, ``'global'`` or ``'none'`` (T=0).
      log2_T: ``floor(log2 T)``.
      max_log2: the largest exponent with crop indices (``max(log2_T, J)``).
    """
    if stride is None:
        return None
    if isinstance(stride, bool) or not isinstance(stride, numbers.Integral):
        raise ValueError(f"{name} must be a power-of-two int or None; got {stride!r}.")
    stride = int(stride)
    if stride < 1 or stride & (stride - 1):
        raise ValueError(f"{name} must be a power of two (1, 2, 4, ...); got {stride}.")
    if averaging != "local":
        what = "no averaging (0)" if averaging == "none" else "'global' averaging"
        raise ValueError(
            f"{name}={stride} needs local averaging, but the averaging scale is {what}: the output "
            f"has no {name.split('_')[-1]} axis to stride along. Leave {name}=None."
        )
    log2_stride = stride.bit_length() - 1
    if log2_stride > max_log2:
        raise ValueError(
            f"{name}={stride} is larger than the coarsest resolution 2**{max_log2}; use {name} <= "
            f"{2**max_log2}."
        )
    return log2_stride


@jax.tree_util.register_pytree_node_class
class Scattering1D(ScatteringTransform):
    """1D wavelet scattering transform with kymatio 0.3.0's arguments and numbers.

    Args:
      J: log2 of the largest wavelet scale (int >= 1, with ``2**J <= N``).
      shape: signal length ``N``, an int or a 1-tuple.
      Q: wavelets per octave: an int (order 2 then uses 1), a 1-tuple ``(Q1,)`` or ``(Q1, Q2)``.
      T: averaging scale in samples: ``None`` for ``2**J``; ``0`` for no averaging; any number in
        ``[1, N]`` (need not be a power of two).
      max_order: 1 or 2.
      oversampling: int >= 0; reduces every subsampling exponent by this much.
      out_type: ``'array'`` (needs averaging), ``'list'`` or ``'dict'``.
      average: deprecated in kymatio 0.3.0; ``average=False`` with ``T=None`` means ``T=0``.
      stride: kymatio main's time stride of the output, a power of two (default ``2**floor(log2
        T)``); needs local averaging and ``oversampling=0``. When given, the intermediate rates are
        kymatio main's (``min(j1, log2 stride)``), not 0.3.0's oversampling rates.
      levels: ``'mean'`` (default, kymatio 0.3.0's numbers) or ``'sum'`` (kymatio main's numbers):
        how a filter is folded to a coarser resolution. With ``'sum'`` first-order coefficients
        scale by ``2**k1`` and second-order ones by ``2**(2 k1 + k2)`` (``k`` the subsampling
        exponents), so that they no longer depend on the intermediate resolution.

    ``T='global'`` (kymatio main): every path is *summed* over its reflect-padded samples at its own
    resolution (order 0: ``N_padded`` samples; order 1: ``N_padded / 2**j1``), giving ``N_out = 1``.

    Calling ``S(x)`` on a real float32/float64 array of shape ``(*batch, N)`` returns:

    - ``'array'``: an array of shape ``(*batch, C, N_out)``; channels are order 0, then order 1 in
      ``n1`` order, then order 2 in lexicographic ``(n1, n2)`` order (see :meth:`meta`).
    - ``'list'``: a list of ``C`` dicts ``{'coef': (*batch, N_i), 'j': tuple, 'n': tuple}``.
    - ``'dict'``: ``{(): S0, (n1,): S1, (n1, n2): S2}``.

    The computation runs in the input's precision: float32, or float64 when ``jax_enable_x64`` is
    on (enable it before building the transform so the filters are stored in float64). ``S(x)``
    compiles once per input shape and dtype. ``S`` is a pytree whose leaves are the filters, so
    it can be passed to ``jax.jit``, ``jax.vmap`` and friends as an argument. NaN or Inf in ``x``
    propagate to the output.

    Example:
      >>> import numpy as np, scatterjax
      >>> S = scatterjax.Scattering1D(J=6, shape=1024, Q=8)
      >>> S(np.zeros((3, 1024), np.float32)).shape
      (3, 126, 16)
    """

    _static_fields = ("J", "shape", "Q", "T", "max_order", "oversampling", "out_type", "stride", "levels")
    _repr_fields = _static_fields

    bank: FilterBank1D

    def __init__(
        self,
        J: int,
        shape,
        Q=1,
        T=None,
        max_order: int = 2,
        average=None,
        oversampling: int = 0,
        out_type: str = "array",
        stride=None,
        levels: str = "mean",
    ):
        J = check_int("J", J, minimum=1)
        (N,) = check_shape("shape", shape, 1)
        if 2**J > N:
            raise ValueError(
                f"J={J} is too large for a signal of length N={N}: the largest wavelet scale "
                f"2**J={2**J} must be at most N. Use J <= {int(math.log2(N))}."
            )
        Q1, Q2 = parse_Q(Q)
        if average is not None:
            warnings.warn(
                "average is deprecated (as in kymatio 0.3.0): use T=0 for no averaging.",
                DeprecationWarning,
                stacklevel=2,
            )
            if not average:
                if T not in (None, 0):
                    raise ValueError(f"average=False cannot be combined with T={T}; use T=0.")
                T = 0
        global_sum = isinstance(T, str) and T == "global"
        T_samples, averaged = (float(2**J), False) if global_sum else _parse_T(T, J, N)
        max_order = check_int("max_order", max_order, minimum=1, maximum=2)
        oversampling = check_int("oversampling", oversampling, minimum=0)
        check_choice("out_type", out_type, _OUT_TYPES)
        check_choice("levels", levels, ("mean", "sum"))
        log2_T = math.floor(math.log2(T_samples))
        averaging = "global" if global_sum else ("local" if averaged else "none")
        stride_log2 = parse_stride("stride", stride, averaging, log2_T, max(log2_T, J))
        if oversampling and (stride_log2 is not None or levels == "sum"):
            raise ValueError(
                f"oversampling={oversampling} is kymatio 0.3.0's option and cannot be combined with "
                "stride or levels='sum' (kymatio main's conventions); use stride=2**(log2 T - "
                "oversampling) instead."
            )
        if out_type == "array" and not (averaged or global_sum):
            raise ValueError(
                "out_type='array' needs averaging (T != 0): unaveraged paths have different "
                "lengths. Use out_type='list' or 'dict', or set T."
            )
        self._set("J", J)
        self._set("shape", (N,))
        self._set("Q", (Q1, Q2))
        self._set("T", T if T is None or T == 0 else T)
        self._set("max_order", max_order)
        self._set("oversampling", oversampling)
        self._set("out_type", out_type)
        self._set("stride", stride)
        self._set("levels", levels)
        bank = filter_bank_1d(
            J, N, Q1, Q2, T_samples, averaged, max_order, oversampling,
            stride_log2=stride_log2, sum_levels=levels == "sum", global_sum=global_sum,
        )
        self._set("bank", bank)

    # --- kymatio-compatible read-only attributes -------------------------------------------
    @property
    def N(self) -> int:
        return self.shape[0]

    @property
    def average(self) -> bool:
        return self.bank.plan.averaged

    @property
    def log2_T(self) -> int:
        return self.bank.plan.log2_T

    @property
    def pad_left(self) -> int:
        return self.bank.plan.pad_left

    @property
    def pad_right(self) -> int:
        return self.bank.plan.pad_right

    @property
    def N_padded(self) -> int:
        return self.bank.plan.N_padded

    @property
    def ind_start(self) -> tuple[int, ...]:
        return self.bank.plan.ind_start

    @property
    def ind_end(self) -> tuple[int, ...]:
        return self.bank.plan.ind_end

    # --- the transform ----------------------------------------------------------------------
    def __call__(self, x):
        """Scattering coefficients of ``x`` (shape ``(*batch, N)``); see the class docstring."""
        x = check_real_input(x, self.shape)
        sharded = self._per_device_call(x)
        if sharded is not None:
            return sharded
        if self.bank.plan.averaged or self.bank.plan.global_sum:
            coefficients = _averaged(self.bank, x)
            if self.out_type == "array":
                return coefficients
            coefficients = list(jnp.moveaxis(coefficients, -2, 0))
        else:
            coefficients = _apply(self.bank, x)
        keys = self._keys()
        if self.out_type == "dict":
            return dict(zip(keys, coefficients))
        j1, j2 = self.bank.j1, self.bank.j2
        return [
            {"coef": coef, "j": tuple((j1, j2)[i][n] for i, n in enumerate(key)), "n": key, "order": len(key)}
            for coef, key in zip(coefficients, keys)
        ]

    scattering = __call__

    def _paths(self) -> list[tuple[int, ...]]:
        plan = self.bank.plan
        paths: list[tuple[int, ...]] = [()]
        paths += [(n1,) for group in plan.order1 for n1 in group.n1]
        paths += sorted(tuple(path) for group in plan.order2 for path in group.paths)  # kymatio's order
        return paths

    def _keys(self) -> list[tuple[int, ...]]:
        return self._paths()

    def meta(self) -> dict:
        """Per-channel metadata, in output order (kymatio 0.3.0's fields).

        Returns a dict with ``order`` (C,) int; ``xi``, ``sigma``, ``j``, ``n`` (C, max_order) float,
        NaN-padded (``xi`` in cycles per sample); ``key``: list of ``n`` tuples.
        """
        paths = self._paths()
        count = len(paths)
        params = {
            "xi": (self.bank.xi1, self.bank.xi2),
            "sigma": (self.bank.sigma1, self.bank.sigma2),
            "j": (self.bank.j1, self.bank.j2),
        }
        meta = {"order": np.array([len(p) for p in paths])}
        for field, per_order in params.items():
            values = np.full((count, self.max_order), np.nan)
            for c, path in enumerate(paths):
                for order, n in enumerate(path):
                    values[c, order] = per_order[order][n]
            meta[field] = values
        n_values = np.full((count, self.max_order), np.nan)
        for c, path in enumerate(paths):
            n_values[c, : len(path)] = path
        meta["n"] = n_values
        meta["key"] = paths
        return meta

    def output_size(self, detail: bool = False):
        """Number of channels C, or ``[1, N1, N2]`` (per order) with ``detail=True``."""
        plan = self.bank.plan
        counts = [1, sum(len(g.n1) for g in plan.order1)]
        if self.max_order == 2:
            counts.append(sum(len(g.paths) for g in plan.order2))
        return counts if detail else sum(counts)


@jax.jit
def _apply(bank: FilterBank1D, x: jax.Array):
    return scattering1d(x, bank)


def _averaged(bank: FilterBank1D, x: jax.Array) -> jax.Array:
    """``scattering1d(x, bank)`` for an averaged transform, chunked over the batch.

    Traced (inside the caller's jit, vmap or grad), the chunks are a ``lax.map`` in the program;
    on a concrete array, see :func:`apply_in_chunks`.
    """
    if isinstance(x, jax.core.Tracer):
        return _apply(bank, x)
    return apply_in_chunks(
        lambda chunk: _apply(bank, chunk), x, 1, signal_bytes(bank.plan, x.dtype), CHUNK_BYTES
    )
