"""``Scattering1D``: kymatio 0.3.0's 1D constructor and outputs, as an immutable JAX pytree."""

from __future__ import annotations

import functools
import math
import numbers
import warnings

import jax

from .._core.backend import check_backend
from .._core.compile_options import LIGHT_LLVM_OPTIMIZATION, OLDER_FUSION_EMITTERS
from .._core.errors import QLengthError
from .._core.fork_guard import check_not_forked
from .._core.meta import path_orders, path_table
from .._core.padding import check_pad_mode
from .._core.read_only import read_only
from .._core.transform import ScatteringTransform, plan_attribute, register_transform, shape_attribute
from .._core.validation import (
    as_setting,
    check_bool,
    check_choice,
    check_filter_memory,
    check_int,
    check_shape,
    largest_log2,
)
from . import design as design
from .bank import FilterBank1D, check_wavelet_memory, filter_bank_1d
from .core import CHUNK_BYTES, scattering1d, signal_bytes
from .kymatio_filters import kymatio_filters_1d
from .scales import check_J_bound
from .scalogram import ScalogramFilters, cached_scalogram_filters, scalogram_1d, wavelet_transform_1d

_OUT_TYPES = ("array", "list", "dict")
# J=0 is valid in 1D (kymatio 0.3.0 accepts it: no wavelet scale, a low-pass of width 1).
_SMALLEST_J = 0


def parse_Q(Q) -> tuple[int, int]:
    """``(Q1, Q2)`` from kymatio's ``Q``: an int (then ``Q2 = 1``), ``(Q1,)`` or ``(Q1, Q2)``.

    NumPy integers and 0-d integer arrays count as ints (as ``np.load`` returns them); a list is
    refused, as kymatio refuses it.
    """
    Q = as_setting(Q)
    if isinstance(Q, tuple) and len(Q) in (1, 2):
        values = tuple(as_setting(q) for q in Q) + ((1,) if len(Q) == 1 else ())
    elif isinstance(Q, numbers.Real) and not isinstance(Q, bool):
        values = (Q, 1)
    elif isinstance(Q, tuple):
        raise QLengthError(
            f"Q must be an int, a 1-tuple (Q1,) or a 2-tuple (Q1, Q2); got a {len(Q)}-tuple {Q!r}."
        )
    else:
        raise ValueError(
            f"Q must be an integer or a tuple: an int, a 1-tuple (Q1,) or a 2-tuple (Q1, Q2); "
            f"got {Q!r}."
        )
    for name, value in zip(("Q[0]", "Q[1]"), values):
        if isinstance(value, numbers.Real) and not isinstance(value, bool) and value < 1:
            raise ValueError(f"Q should always be >= 1 (wavelets per octave); got {name} = {value}.")
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} must be an integer >= 1; got {value!r}.")
    return int(values[0]), int(values[1])


def check_Q_size(Q1: int, Q2: int, N: int, J: int) -> None:
    """Bound ``J``, ``Q`` and ``N`` by memory before any filter is designed (arithmetic only; see
    :func:`~scatterjax._scattering1d.bank.check_wavelet_memory`), naming the class's arguments."""
    check_wavelet_memory(J, N, Q1, Q2, f"Q={(Q1, Q2)} with J={J} and shape=({N},)")


def _parse_T(T, J: int, N: int) -> tuple[float, bool]:
    """Return (averaging scale in samples, averaged?); ``T='global'`` is handled by the caller."""
    T = as_setting(T)
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


@register_transform
class Scattering1D(ScatteringTransform):
    """1D wavelet scattering transform with kymatio 0.3.0's arguments and numbers.

    Args:
      J: log2 of the largest wavelet scale, ``J >= 0``. As in kymatio, ``2**J`` may exceed ``N``
        (the signal is padded to up to ``3 N - 2`` samples) while the filters fit the padded
        signal and the output keeps a sample; otherwise a :class:`~scatterjax.ShapeError` names
        the largest ``J`` that fits (see :mod:`scatterjax._scattering1d.scales`).
      shape: signal length ``N``, an int or a 1-tuple; ``8 N`` bytes must fit in memory.
      Q: wavelets per octave: an int (order 2 then uses 1), a 1-tuple ``(Q1,)`` or ``(Q1, Q2)``;
        each >= 1, and the ``J (Q1 + Q2)`` full-length wavelets must fit in memory.
      T: averaging scale in samples: ``None`` for ``2**J``; ``0`` for no averaging; any number in
        ``[1, N]`` (need not be a power of two). Read back as kymatio 0.3.0 stores it: ``S.T`` is
        ``2**J`` for ``None`` and for ``0`` (``S.average`` is False for ``0``).
      max_order: 1, 2 or 3. Order 3 (beyond kymatio) filters each second-order modulus with the
        second-order wavelets again: paths ``(n1, n2, n3)`` with ``j1 < j2 < j3``, ``n3`` indexing
        the second-order list (``Q2``), subsampled at ``k3 = max(min(j3, log2 T) - k1 - k2 -
        oversampling, 0)`` (with ``stride``: ``max(min(j3, log2 stride) - k1 - k2, 0)``).
      oversampling: int in ``[0, floor(log2 N) + 2]``; reduces every subsampling exponent by
        this much (any value >= log2 of the padded length already means no subsampling).
      out_type: ``'array'`` (needs averaging), ``'list'`` or ``'dict'``.
      average: deprecated in kymatio 0.3.0; ``average=False`` with ``T=None`` means ``T=0``.
      backend: kymatio's argument; see *kymatio compatibility* below.
      frontend: kymatio's entry-point argument (keyword only); see *kymatio compatibility* below.
      stride: kymatio main's time stride of the output, a power of two (default ``2**floor(log2
        T)``); needs local averaging and ``oversampling=0``. When given, the intermediate rates are
        kymatio main's (``min(j1, log2 stride)``), not 0.3.0's oversampling rates.
      levels: ``'mean'`` (default, kymatio 0.3.0's numbers) or ``'sum'`` (kymatio main's numbers):
        how a filter is folded to a coarser resolution. With ``'sum'`` first-order coefficients
        scale by ``2**k1`` and second-order ones by ``2**(2 k1 + k2)`` (``k`` the subsampling
        exponents), so that they no longer depend on the intermediate resolution; third-order
        ones by ``2**(3 k1 + 2 k2 + k3)`` (the same rule one order further).
      prune_paths: ``False`` (default) keeps every path kymatio keeps. ``True`` also drops the
        paths whose child wavelet lies above the band of its parent's envelope: ``(n1, n2)`` is
        kept iff ``xi2[n2] - sigma2[n2] <= 3 sigma1[n1]``, and ``(n1, n2, n3)`` iff also
        ``xi2[n3] - sigma2[n3] <= 3 sigma2[n2]`` (``xi``: centre frequency, ``sigma``: the
        Morlet's Gaussian width, both in cycles per sample, as in :meth:`meta`). Dropped paths
        hold little energy (measured: at most 4% of the order-2 energy on white noise, the worst
        case, and 2% on audio; nothing is dropped with ``Q2=1`` and ``J <= 8``) and are absent
        from the output, :meth:`meta` and :meth:`output_size`; the kept paths' values are
        unchanged. See :mod:`scatterjax._scattering1d.pruning`.
      pad_mode: what fills the ``pad_left``/``pad_right`` samples added before the FFTs:
        ``'reflect'`` (default, kymatio's numbers: ``d c b | a b c d | c b a``), ``'symmetric'``
        (edge repeated, ``c b a | a b c d | d c b``), ``'zero'`` or ``'periodic'`` (the signal
        repeated, ``b c d | a b c d | a b c``): NumPy's ``np.pad`` modes ``'reflect'``,
        ``'symmetric'``, ``'constant'``, ``'wrap'``. Every output is affected near the ends, and
        ``T='global'`` sums the padded samples too.

    ``T='global'`` (kymatio main): every path is *summed* over its padded samples at its own
    resolution (order 0: ``N_padded`` samples; order 1: ``N_padded / 2**j1``), giving ``N_out = 1``.

    Calling ``S(x)`` on a float32/float64 (or complex, below) array of shape ``(*batch, N)`` returns:

    - ``'array'``: an array of shape ``(*batch, C, N_out)``; channels are order 0, then order 1 in
      ``n1`` order, then order 2 in lexicographic ``(n1, n2)`` order, then order 3 in
      lexicographic ``(n1, n2, n3)`` order (see :meth:`meta`).
    - ``'list'``: a list of ``C`` dicts ``{'coef': (*batch, N_i), 'j': tuple, 'n': tuple}``.
    - ``'dict'``: ``{(): S0, (n1,): S1, (n1, n2): S2}`` (and ``(n1, n2, n3): S3``).

    The computation runs in the input's precision: float32, or float64 when ``jax_enable_x64`` is on
    (enable it before building the transform so the filters are stored in float64). ``S(x)``
    compiles once per chunk size and dtype (chunks hold a power of two of signals: a few programs
    serve every batch size; a long loop over single signals gets an unpadded program of its own).
    ``S`` is a pytree whose leaves are the filters, so it can be passed to
    ``jax.jit``, ``jax.vmap`` and friends as an argument. NaN or Inf in ``x`` propagate to the
    output.

    ``x`` may also be complex64 or complex128 (analytic signals, IQ data; complex128 computes in
    float64 only under ``jax_enable_x64``, like float64). The wavelet products then use the full
    spectrum of ``x`` (no Hermitian symmetry is assumed). The Morlet wavelets are analytic (their
    spectra vanish at negative frequencies), so orders >= 1 describe the positive-frequency part
    of ``x``; ``S(np.conj(x))`` describes the negative-frequency part (it equals the transform
    with the mirrored wavelets ``ψ(-ω)``), and for IQ data both halves are usually wanted. Orders
    >= 1 are moduli as usual, and order 0
    is the modulus of the low-pass output, ``|x ⋆ φ|`` (for real ``x`` it stays the signed
    ``x ⋆ φ``, so a real ``x`` cast to complex gives the real result with order 0 replaced by its
    absolute value). The output is real: float32 for complex64. The real and imaginary parts go
    through the real padding, FFT and first wavelet products side by side and are combined before
    the first modulus (exact, by linearity); the rest runs once. Cost: about 1.15x the time of real
    input of the same shape (J=8, Q=8, N=8192, CPU). ``jax.grad`` needs a real loss; its gradient
    with respect to complex ``x`` follows JAX's convention (``dL/dRe x - i dL/dIm x``;
    ``scatterjax.torch`` returns torch's, the conjugate). Real input runs exactly as before.

    {kymatio_compatibility}

    kymatio's attributes: ``psi1_f``, ``psi2_f``, ``phi_f`` (its filters, in its layout, built on
    first read), ``_N_padded``, ``pad_left``, ``pad_right``, ``ind_start``, ``ind_end``,
    ``log2_T``, ``r_psi``, ``sigma0``, ``alpha``.

    Example:
      >>> import numpy as np, scatterjax
      >>> S = scatterjax.Scattering1D(J=6, shape=1024, Q=8)
      >>> S(np.zeros((3, 1024), np.float32)).shape
      (3, 126, 16)
    """

    _static_fields = (
        "J", "shape", "Q", "T", "max_order", "oversampling", "out_type", "stride", "levels", "prune_paths",
        "pad_mode",
    )
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
        backend=None,
        stride=None,
        levels: str = "mean",
        prune_paths: bool = False,
        pad_mode: str = "reflect",
        *,
        frontend: str | None = None,
    ):
        check_backend(backend, "Scattering1D")
        del frontend  # dispatched before construction (ScatteringTransform.__new__)
        J = check_int("J", J, minimum=_SMALLEST_J)
        (N,) = check_shape("shape", shape, 1)
        check_filter_memory(8.0 * N, f"shape=({N},)", "Use a shorter signal, or split it into windows.")
        # 2**J may exceed N, as in kymatio; the bank refuses the J whose filters do not fit.
        check_J_bound(J, N)
        Q1, Q2 = parse_Q(Q)
        check_Q_size(Q1, Q2, N, J)
        average = as_setting(average)
        T = as_setting(T)
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
            elif isinstance(T, numbers.Real) and not isinstance(T, bool) and T == 0:
                # kymatio 0.3.0 refuses this pair too (its ValueError, at construction).
                raise ValueError(f"average must not be True if T=0 (got average={average!r}); leave average out.")
        global_sum = isinstance(T, str) and T == "global"
        T_samples, averaged = (float(2**J), False) if global_sum else _parse_T(T, J, N)
        max_order = check_int("max_order", max_order, minimum=1, maximum=3)
        prune_paths = check_bool("prune_paths", prune_paths)
        pad_mode = check_pad_mode(pad_mode)
        # Every subsampling exponent is at most log2 of the padded length (< log2 N + 2): a larger
        # oversampling changes nothing, and an unbounded one would only cost time.
        oversampling = check_int("oversampling", oversampling, minimum=0, maximum=largest_log2(N) + 2)
        out_type, levels, stride = as_setting(out_type), as_setting(levels), as_setting(stride)
        check_choice("out_type", out_type, _OUT_TYPES)
        check_choice("levels", levels, ("mean", "sum"))
        out_type, levels = str(out_type), str(levels)
        log2_T = math.floor(math.log2(T_samples))
        averaging = "global" if global_sum else ("local" if averaged else "none")
        stride_log2 = parse_stride("stride", stride, averaging, log2_T, max(log2_T, J))
        if oversampling and (stride_log2 is not None or levels == "sum"):
            raise ValueError(
                f"oversampling={oversampling} is kymatio 0.3.0's option and cannot be combined with "
                "stride or levels='sum' (kymatio main's conventions); use stride=2**(log2 T - "
                "oversampling) instead."
            )
        self._set("J", J)
        self._set("shape", (N,))
        self._set("Q", (Q1, Q2))
        # As kymatio 0.3.0 stores it: T=None and T=0 both read back as 2**J (``average`` tells them apart).
        self._set("T", str(T) if isinstance(T, str) else (2**J if T is None or T == 0 else T))
        self._set("max_order", max_order)
        self._set("oversampling", oversampling)
        self._set("out_type", out_type)
        self._set("stride", stride)
        self._set("levels", levels)
        self._set("prune_paths", prune_paths)
        self._set("pad_mode", pad_mode)
        bank = filter_bank_1d(
            J, N, Q1, Q2, T_samples, averaged, max_order, oversampling,
            stride_log2=stride_log2, sum_levels=levels == "sum", global_sum=global_sum,
            prune_paths=prune_paths, pad_mode=pad_mode,
        )
        self._set("bank", bank)

    # --- kymatio-compatible read-only attributes -------------------------------------------
    N = shape_attribute(0, "Signal length.")

    average = plan_attribute("averaged", "Whether the output is averaged (``T != 0``).")
    log2_T = plan_attribute("log2_T", "``floor(log2 T)``.")
    pad_left = plan_attribute("pad_left", "Samples of padding before the signal (see ``pad_mode``).")
    pad_right = plan_attribute("pad_right", "Samples of padding after the signal (see ``pad_mode``).")
    N_padded = plan_attribute("N_padded", "Length of the padded signal (a power of two).")
    _N_padded = N_padded  # kymatio's name

    @property
    def ind_start(self) -> dict[int, int]:
        """Start of the unpadded output at each resolution: ``{k: index}`` for subsampling
        exponents ``k = 0, 1, ...`` (a dict, as kymatio 0.3.0 stores it)."""
        return dict(enumerate(self.bank.plan.ind_start))

    @property
    def ind_end(self) -> dict[int, int]:
        """End of the unpadded output at each resolution, as :attr:`ind_start`."""
        return dict(enumerate(self.bank.plan.ind_end))

    _deprecated_attributes = frozenset({"J_pad"})

    @property
    def J_pad(self) -> int:
        """log2 of the padded length (deprecated in kymatio 0.3.0; read ``_N_padded``)."""
        warnings.warn(
            "J_pad is deprecated (as in kymatio 0.3.0): use S._N_padded (= 2**J_pad).",
            DeprecationWarning,
            stacklevel=2,
        )
        return largest_log2(self.bank.plan.N_padded)

    r_psi = design.R_PSI
    sigma0 = design.SIGMA0
    alpha = design.ALPHA

    @functools.cached_property
    def _kymatio_filters(self) -> tuple[dict, list[dict], list[dict]]:
        # Built on first read only (full-length float64 filters; the transform never uses them).
        bank = self.bank
        return read_only(kymatio_filters_1d(
            bank.plan.N_padded,
            design.lowpass_samples(self.T, self.J),
            # kymatio builds the second-order wavelets even with max_order=1 (our bank does not).
            design.wavelet_params(self.J, self.Q[0], repeated_subtraction=bank.plan.sum_levels),
            design.wavelet_params(self.J, self.Q[1], repeated_subtraction=bank.plan.sum_levels),
            sum_levels=bank.plan.sum_levels,
        ))

    @property
    def phi_f(self) -> dict:
        """The low-pass in kymatio 0.3.0's layout: ``{'levels': [float64 (N_padded / 2**k,), ...],
        'xi': 0, 'sigma', 'j': log2_T}`` (see :mod:`scatterjax._scattering1d.kymatio_filters`)."""
        return self._kymatio_filters[0]

    @property
    def psi1_f(self) -> list[dict]:
        """First-order wavelets in kymatio 0.3.0's layout: dicts ``{'levels': [float64
        (N_padded,)], 'xi', 'sigma', 'j'}`` in ``n1`` order. Like every filter shown in kymatio's
        layout here, read-only (arrays, lists and dicts): the transform computes with its own bank."""
        return self._kymatio_filters[1]

    @property
    def psi2_f(self) -> list[dict]:
        """Second-order wavelets in kymatio 0.3.0's layout: dicts ``{'levels': [float64
        (N_padded / 2**k,) for each input resolution k], 'xi', 'sigma', 'j'}`` in ``n2`` order."""
        return self._kymatio_filters[2]

    # --- the call pipeline's hooks (see ScatteringTransform) --------------------------------
    _program = staticmethod(jax.jit(scattering1d))
    # The eager chunk program compiles in about half the time, same bits (see compile_options).
    _eager_compile_options = LIGHT_LLVM_OPTIMIZATION + OLDER_FUSION_EMITTERS
    _signal_ndim = 1
    _channel_axis = -2
    _complex_input = True

    def _chunking(self, dtype) -> tuple[int, int, bool]:
        return signal_bytes(self.bank.plan, dtype), CHUNK_BYTES, False

    def _check_settings_for_call(self) -> None:
        # As in kymatio 0.3.0, T=0 with out_type='array' builds (filters, meta() and attributes
        # work) and fails when called.
        if self.out_type == "array" and not (self.bank.plan.averaged or self.bank.plan.global_sum):
            raise ValueError(
                "out_type='array' needs averaging (T != 0): unaveraged paths have different "
                "lengths. Cannot convert them to one array. Please set out_type to 'list' or "
                "'dict', or set T."
            )

    def _list_fields(self) -> list[dict]:
        j_tables = (self.bank.j1, self.bank.j2, self.bank.j2)  # order 3 uses the order-2 wavelets
        return [
            {"j": tuple(j_tables[i][n] for i, n in enumerate(key)), "n": key, "order": len(key)}
            for key in self._keys()
        ]

    def _paths(self) -> list[tuple[int, ...]]:
        plan = self.bank.plan
        paths: list[tuple[int, ...]] = [()]
        paths += [(n1,) for group in plan.order1 for n1 in group.n1]
        paths += sorted(tuple(path) for group in plan.order2 for path in group.paths)  # kymatio's order
        paths += sorted(tuple(path) for group in plan.order3 for path in group.paths)
        return paths

    def _keys(self) -> list[tuple[int, ...]]:
        return self._paths()

    def meta(self) -> dict:
        """Per-channel metadata, in output order (kymatio 0.3.0's fields).

        Returns a dict with ``order`` (C,) int; ``xi``, ``sigma``, ``j``, ``n`` (C, max_order) float,
        NaN-padded (``xi`` in cycles per sample); ``key``: list of ``n`` tuples.
        """
        paths = self._paths()
        per_order = {
            "xi": (self.bank.xi1, self.bank.xi2, self.bank.xi2),
            "sigma": (self.bank.sigma1, self.bank.sigma2, self.bank.sigma2),
            "j": (self.bank.j1, self.bank.j2, self.bank.j2),
        }
        meta = {"order": path_orders(paths)}
        for field, tables in per_order.items():
            meta[field] = path_table(paths, self.max_order, lambda order, n, tables=tables: tables[order][n])
        meta["n"] = path_table(paths, self.max_order, lambda order, n: n)
        meta["key"] = paths
        return meta

    def output_size(self, detail: bool = False):
        """Number of channels C, or ``[1, N1, N2]`` (``[1, N1, N2, N3]`` with ``max_order=3``;
        per order) with ``detail=True``. Paths dropped by ``prune_paths`` are not counted."""
        plan = self.bank.plan
        counts = [1, sum(len(g.n1) for g in plan.order1)]
        if self.max_order >= 2:
            counts.append(sum(len(g.paths) for g in plan.order2))
        if self.max_order == 3:
            counts.append(sum(len(g.paths) for g in plan.order3))
        return counts if detail else sum(counts)

    # --- first-order coefficients before averaging (see scalogram.py) -----------------------
    _scalogram_program = staticmethod(jax.jit(scalogram_1d))
    _wavelet_transform_program = staticmethod(jax.jit(wavelet_transform_1d))

    @functools.cached_property
    def _scalogram_cache(self) -> dict:
        # Filter tables by stride and dtype, built on first use. They live in the instance's
        # __dict__, outside the pytree: flattening, treedef equality and jit caching see only the
        # bank and the settings (an unflattened copy starts with an empty cache).
        return {}

    def scalogram_filters(self, stride: int = 1) -> ScalogramFilters:
        """The first-order wavelets as one table at time ``stride``, for :func:`scatterjax.scalogram_1d`
        and :func:`scatterjax.wavelet_transform_1d` (cached per stride on this object).

        Inside a ``jax.jit`` of your own over large signals, pass this pytree as an argument to the
        pure functions rather than calling :meth:`scalogram` there (which embeds it as constants).
        """
        check_not_forked()  # before any JAX work: the first-order methods and adapters all come here
        return cached_scalogram_filters(self._scalogram_cache, self.bank, stride)

    def scalogram(self, x, stride: int = 1):
        """First-order moduli ``|x ⋆ ψ_n1|`` before averaging (the transform's ``U1``), at one rate.

        Args:
          x: float32/float64 array ``(*batch, N)`` (or complex, where ``S(x)`` accepts it),
            checked as ``S(x)`` checks it.
          stride: time stride, a power of two from 1 (full rate) to ``2**max(log2_T, J)``. At a
            wavelet's own rate ``2**k1`` (``k1 = min(j1, log2_T) - oversampling``, ``j1`` from
            ``meta()['j']``) its row equals the transform's ``U1``. The values at any stride are
            exact samples of the full-rate modulus, but a stride above ``2**j1`` samples that
            wavelet's envelope below its bandwidth (aliased: not shift-stable, not interpolable).

        Returns:
          real array ``(*batch, N1, N_out)`` of ``x``'s precision: ``N1`` wavelets in ``n1`` order
          (``meta()`` order-1 channels), ``N_out = ceil(N / stride)`` samples of the unpadded
          signal. jit/vmap/grad friendly.
        """
        filters = self.scalogram_filters(stride)
        return self._scalogram_program(self._check_input(x), filters)

    def wavelet_transform(self, x, stride: int = 1):
        """Complex first-order coefficients ``x ⋆ ψ_n1`` (phase kept), as :meth:`scalogram` samples
        them: complex64 (complex128 for float64 input under x64) array ``(*batch, N1, N_out)``,
        whose modulus is :meth:`scalogram`; sample ``t`` is at input time ``stride * t``."""
        filters = self.scalogram_filters(stride)
        return self._wavelet_transform_program(self._check_input(x), filters)
