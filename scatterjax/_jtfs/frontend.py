"""``TimeFrequencyScattering``: kymatio main's joint time-frequency scattering, as a JAX pytree."""

from __future__ import annotations

import functools
import math
import numbers

import jax
import numpy as np

from .._core import validation
from .._core.backend import check_backend
from .._core.compile_options import LIGHT_LLVM_OPTIMIZATION
from .._core.errors import ShapeError
from .._core.padding import check_pad_mode
from .._core.read_only import read_only
from .._core.transform import ScatteringTransform, register_transform, shape_attribute
from .._scattering1d import design as design
from .._scattering1d.frontend import check_Q_size, parse_Q, parse_stride
from .._scattering1d.kymatio_filters import kymatio_main_layout
from .._scattering1d.scales import check_J_bound
from .bank import FilterBankJTFS, check_domain, filter_bank_jtfs, frequency_length
from .core import EAGER_CHUNK_BYTES, signal_bytes, time_frequency_scattering

_OUT_TYPES = ("array", "list", "dict")
# Our averaging modes by kymatio main's names for them (``S.average``, ``S.average_fr``).
_AVERAGING = {"local": "local", "global": "global", "none": False}
_FORMATS = ("time", "joint")


def _parse_scale(name: str, value, J: int, length: int, integer: bool) -> tuple[float, str]:
    """kymatio main's ``parse``: ``(scale, mode)`` with mode 'local', 'global' or 'none' (0)."""
    if value is None:
        return float(2**J), "local"
    if isinstance(value, str):
        if value == "global":
            return float(2**J), "global"
        raise ValueError(f"{name} must be None, 'global', 0 or a number in [1, {length}]; got {value!r}.")
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be None, 'global', 0 or a number in [1, {length}]; got {value!r}.")
    if value > length:
        raise ValueError(f"{name}={value} exceeds its axis length {length}; use {name} <= {length} or 'global'.")
    if value == 0:
        return float(2**J), "none"
    if value < 1:
        raise ValueError(f"{name} must be 0 (no averaging) or >= 1; got {name}={value}.")
    if integer and not isinstance(value, numbers.Integral):
        raise ValueError(
            f"{name} must be an int (kymatio main crashes on a float such as {name}=4.0); got {value!r}."
        )
    return float(value), "local"


def _resolved_scale(given, J: int):
    """kymatio main's reading of ``T`` (or ``F``) as given: ``2**J`` for None, ``'global'`` and 0."""
    return 2**J if given is None or isinstance(given, str) or given == 0 else given


def _parse_Q_fr(Q_fr) -> int:
    Q_fr = validation.as_setting(Q_fr)
    if isinstance(Q_fr, tuple):
        if len(Q_fr) != 1:
            raise NotImplementedError(
                f"Q_fr must be an integer or 1-tuple (one frequency filter bank: time-frequency "
                f"scattering beyond order 2 is not implemented); got Q_fr={Q_fr!r}."
            )
        Q_fr = validation.as_setting(Q_fr[0])
    if isinstance(Q_fr, bool) or not isinstance(Q_fr, numbers.Real):
        raise ValueError(f"Q_fr must be an integer or 1-tuple; got Q_fr={Q_fr!r}.")
    if Q_fr < 1:
        raise ValueError(f"Q_fr must be >= 1 (wavelets per octave along frequency); got {Q_fr}.")
    if not isinstance(Q_fr, numbers.Integral):
        raise ValueError(f"Q_fr must be an integer or 1-tuple; got Q_fr={Q_fr!r}.")
    return int(Q_fr)


@register_transform
class TimeFrequencyScattering(ScatteringTransform):
    """Joint time-frequency scattering (JTFS) with kymatio main's arguments and numbers.

    Scatters the first-order scalogram ``S1[n1, t]`` and the second-order wavelet transforms
    ``Y2[n2][n1, t]`` once more along log-frequency ``n1`` with a low-pass and spinned wavelets
    (spin +1 responds to rising chirps, -1 to falling ones), then takes a modulus and averages.
    Reproduces ``kymatio.TimeFrequencyScattering`` on kymatio's unreleased ``main`` branch
    (0.4.0.dev0, commit 11552ed5), with its bugs B1-B5 fixed as documented below.

    Args:
      J: log2 of the largest time scale, ``J >= 1``; ``2**J`` may exceed ``N`` as in
        :class:`~scatterjax.Scattering1D` (and kymatio main), while the filters fit the padded
        signal and the average keeps a time sample.
      J_fr: log2 of the largest scale along log-frequency, in first-order filter indices:
        ``0 <= J_fr <= ceil(log2((J + 1) Q1))`` (the number of frequency rows).
      Q: wavelets per octave: an int (order 2 then uses 1), ``(Q1,)`` or ``(Q1, Q2)``; each >= 1,
        and the ``J (Q1 + Q2)`` full-length wavelets must fit in memory.
      shape: signal length ``N`` (an int or a 1-tuple).
      T: time averaging: ``None`` (``2**J``), a number in ``[1, N]``, ``'global'`` (a *sum* over
        every padded sample) or ``0`` (none; needs ``out_type`` 'list' or 'dict'). First-order
        paths are always averaged at ``2**J`` (as kymatio).
      stride: time stride of the output, a power of two (default ``2**floor(log2 T)``); needs
        local ``T`` and must be at least ``2**j2`` for every second-order wavelet used.
      Q_fr: wavelets per octave along log-frequency: ``1 <= Q_fr <= (J + 1) Q1``.
      F: frequency averaging of spinned paths: ``None`` (``2**J_fr``), an int in
        ``[1, (J + 1) * Q1]``, ``'global'`` or ``0`` (none). Spin-0 paths are averaged by the
        frequency low-pass of width ``2**J_fr`` instead.
      stride_fr: frequency stride, a power of two (default ``2**floor(log2 F)``); needs local F.
      out_type: ``'array'``, ``'list'`` or ``'dict'``.
      format: ``'time'`` (one channel per (path, n1)) or ``'joint'`` (one channel per path, with a
        frequency axis).
      backend: kymatio's argument; see *kymatio compatibility* below.
      frontend: kymatio's entry-point argument (keyword only); see *kymatio compatibility* below.
      pad_mode: what fills the time padding (``N`` to the padded length) before the FFTs, as in
        :class:`Scattering1D`: ``'reflect'`` (default, kymatio's numbers), ``'symmetric'`` (edge
        repeated), ``'zero'`` or ``'periodic'`` (the signal repeated): NumPy's ``np.pad`` modes
        ``'reflect'``, ``'symmetric'``, ``'constant'``, ``'wrap'``. ``T='global'`` sums the padded
        samples too. The frequency axis is always zero-padded.

    Calling ``S(x)`` on a real float32/float64 array ``(*batch, N)`` returns:

    - ``format='time'``, ``'array'``: ``(*batch, C, N_out)``; channel 0 is order 0, then order 1
      by ``(n_fr, n1)``, then order 2 by ``(n2, n_fr, n1)``. ``meta()`` row ``c`` describes channel
      ``c`` (kymatio sorts its ``meta()`` instead: bug B1).
    - ``format='joint'``, ``'array'``: ``(*batch, C_joint, R, N_out)``, one channel per path
      (order 0 dropped), ``R`` uncropped frequency rows.
    - ``'list'``: dicts with ``coef`` and the path's ``n``, ``order`` (1 and 2, as ``meta()``: bug
      B2), ``j``, ``j_fr``, ``n_fr``, ``spin`` (joint: also ``n1_max``, ``n1_stride``).
    - ``'dict'``: ``{key: coef}`` with the keys of ``meta()['key']``.

    Fixed kymatio bugs: ``output_size()`` equals the channel count (B1); ``T=0`` with
    ``format='time'`` crops first-order paths at their own resolution instead of returning empty
    arrays (B3); the spin-0 paths keep kymatio's numbers and channel count when the frequency
    stride is below ``2**J_fr`` but ``meta()`` reports their true ``n1`` (B4); a configuration
    where kymatio crashes raises a ValueError at construction (B5), except where kymatio only lacks
    a filter level it did not build (``Q2 > Q1``, or a ``stride`` coarser than ``T``): those are
    computed, and equal kymatio's algorithm run with every level built.

    Attributes read back as kymatio main's: ``T``, ``F``, ``stride`` and ``stride_fr`` resolved
    (``T=None`` reads ``2**J``; ``average``/``average_fr`` say ``'local'``, ``'global'`` or
    ``False``), ``Q_fr`` as a 1-tuple, ``log2_T``, ``log2_F``, ``log2_stride``, ``log2_stride_fr``,
    ``pad_left``, ``pad_right``, ``ind_start``, ``ind_end``, and the filters ``phi_f``, ``psi1_f``,
    ``psi2_f``, ``filters_fr`` in kymatio main's layout (float64, built on first read). The repr
    shows the arguments as given.

    The computation runs in the input's precision (float64 needs ``jax_enable_x64`` before the
    transform is built). ``S`` is a pytree whose leaves are its filters; ``S(x)`` compiles once per
    chunk size (a power of two of signals: a few programs serve every batch size) and works under
    ``jax.jit``, ``jax.vmap`` and ``jax.grad``.

    {kymatio_compatibility}

    Example:
      >>> import numpy as np, scatterjax
      >>> S = scatterjax.TimeFrequencyScattering(J=6, J_fr=2, Q=8, shape=4096)
      >>> S(np.zeros((2, 4096), np.float32)).shape
      (2, 209, 64)
    """

    # T, stride, Q_fr, F and stride_fr are stored as given (they show in the repr and tell the
    # averaging modes apart); the public attributes of those names read back kymatio main's
    # resolved values (``T=None`` reads ``2**J``), as properties below.
    _static_fields = (
        "J", "J_fr", "Q", "shape", "_T", "_stride", "_Q_fr", "_F", "_stride_fr", "out_type", "format",
        "pad_mode",
    )
    _repr_fields = _static_fields

    bank: FilterBankJTFS

    def __init__(
        self,
        J: int,
        J_fr: int,
        Q,
        shape,
        T=None,
        stride=None,
        Q_fr=1,
        F=None,
        stride_fr=None,
        out_type: str = "array",
        format: str = "time",
        backend=None,
        pad_mode: str = "reflect",
        *,
        frontend: str | None = None,
    ):
        check_backend(backend, "TimeFrequencyScattering")
        del frontend  # dispatched before construction (ScatteringTransform.__new__)
        J = validation.check_int("J", J, minimum=1)
        J_fr = validation.check_int("J_fr", J_fr, minimum=0)
        Q1, Q2 = parse_Q(Q)
        (N,) = validation.check_shape("shape", shape, 1)
        validation.check_filter_memory(8.0 * N, f"shape=({N},)", "Use a shorter signal, or split it into windows.")
        check_J_bound(J, N)  # 2**J may exceed N, as in Scattering1D; the time bank checks the rest
        check_Q_size(Q1, Q2, N, J)
        N_fr_in = (J + 1) * Q1
        # The frequency axis has (J + 1) Q1 rows: a frequency scale 2**J_fr beyond them (rounded
        # up to a power of two) averages nothing more, and its padding grows as 2**J_fr.
        J_fr_max = (N_fr_in - 1).bit_length()
        if J_fr > J_fr_max:
            raise ShapeError(
                f"J_fr={J_fr} is too large for the {N_fr_in} first-order frequency rows ((J + 1) * "
                f"Q1 with J={J}, Q1={Q1}): J_fr must be in [0, {J_fr_max}] (2**(J_fr - 1) < "
                f"{N_fr_in}). Use J_fr <= {J_fr_max}."
            )
        Q_fr = _parse_Q_fr(Q_fr)
        if Q_fr > N_fr_in:
            raise ValueError(
                f"Q_fr={Q_fr} is larger than the {N_fr_in} frequency rows it filters: Q_fr must be "
                f"in [1, {N_fr_in}]. Use a smaller Q_fr."
            )
        # NumPy scalars and 0-d arrays (as np.load gives them) become Python values; the stored
        # settings must be plain and hashable (they are static pytree metadata).
        T, F, stride, stride_fr, out_type, format = (
            str(v) if isinstance(v, str) else v
            for v in map(validation.as_setting, (T, F, stride, stride_fr, out_type, format))
        )
        T_value, averaging = _parse_scale("T", T, J, N, integer=False)
        F_value, averaging_fr = _parse_scale("F", F, J_fr, N_fr_in, integer=True)
        validation.check_choice("out_type", out_type, _OUT_TYPES)
        validation.check_choice("format", format, _FORMATS)
        pad_mode = check_pad_mode(pad_mode)
        log2_T = math.floor(math.log2(T_value))
        log2_F = math.floor(math.log2(F_value))
        s = parse_stride("stride", stride, averaging, log2_T, max(log2_T, J))
        s = (log2_T if averaging == "local" else J) if s is None else s
        N_fr = frequency_length(N_fr_in, int(F_value), J_fr)
        # The frequency design transforms an (N_fr, N_fr) identity (complex128) per filter.
        validation.check_filter_memory(
            16.0 * N_fr * N_fr, f"J={J}, Q={(Q1, Q2)}, J_fr={J_fr}", "Use a smaller Q, J or J_fr."
        )
        s_fr = parse_stride("stride_fr", stride_fr, averaging_fr, log2_F, max(log2_F, J_fr, N_fr.bit_length()))
        if s_fr is not None and N_fr % 2**s_fr:
            raise ValueError(
                f"stride_fr={stride_fr} must divide the padded frequency axis of N_fr={N_fr} rows "
                f"(kymatio main crashes); use a stride_fr of at most {N_fr & -N_fr}."
            )
        s_fr = (log2_F if averaging_fr == "local" else J_fr) if s_fr is None else s_fr
        if averaging == "none" and out_type == "array":
            raise ValueError(
                "Cannot convert to out_type='array' with T=0: without time averaging the paths have "
                "different lengths. Use out_type='list' or 'dict'."
            )
        if averaging_fr == "none" and format == "joint" and out_type == "array":
            raise ValueError(
                "Cannot convert to format='joint' with out_type='array' and F=0: the paths have "
                "different numbers of frequency rows. Use format='time', out_type='list'/'dict', or set F."
            )
        if averaging_fr == "local" and N_fr % 2**log2_F:
            raise ValueError(
                f"F={F} needs a frequency axis divisible by 2**{log2_F}, but it has {N_fr} rows; "
                f"use F <= 2**J_fr = {2**J_fr}."
            )
        check_domain(J, Q1, Q2, averaging, s, J_fr, Q_fr, averaging_fr, log2_F, s_fr, F)
        bank = filter_bank_jtfs(
            J=J, J_fr=J_fr, N=N, Q1=Q1, Q2=Q2, Q_fr=Q_fr, T=T_value, averaging=averaging,
            log2_stride=s, F=F_value, averaging_fr=averaging_fr, log2_stride_fr=s_fr,
            format=format, joint_array=format == "joint" and out_type == "array", pad_mode=pad_mode,
        )
        _check_joint_rows(bank, format, out_type)
        for name, value in (("J", J), ("J_fr", J_fr), ("Q", (Q1, Q2)), ("shape", (N,)), ("_T", T),
                            ("_stride", stride), ("_Q_fr", Q_fr), ("_F", F), ("_stride_fr", stride_fr),
                            ("out_type", out_type), ("format", format), ("pad_mode", pad_mode)):
            self._set(name, value)
        self._set("bank", bank)

    # --- kymatio main's read-only attributes ------------------------------------------------
    N = shape_attribute(0, "Signal length.")

    @property
    def N_frequency(self) -> int:
        """Padded length of the frequency axis, ``N_fr`` (kymatio's ``_N_padded_fr``)."""
        return self.bank.plan.N_fr

    _N_padded_fr = N_frequency  # kymatio main's name

    @property
    def T(self) -> float:
        """The time averaging scale as kymatio main resolves it: ``2**J`` for ``T=None``,
        ``'global'`` and ``0`` (:attr:`average` tells them apart), else ``T`` as given."""
        return _resolved_scale(self._T, self.J)

    @property
    def F(self) -> int:
        """The frequency averaging scale, resolved as :attr:`T`: ``2**J_fr`` for ``F=None``,
        ``'global'`` and ``0`` (:attr:`average_fr` tells them apart), else ``F``."""
        return _resolved_scale(self._F, self.J_fr)

    @property
    def average(self) -> str | bool:
        """Time averaging: ``'local'``, ``'global'`` or ``False`` (``T=0``), as kymatio main."""
        return _AVERAGING[self.bank.plan.averaging]

    @property
    def average_fr(self) -> str | bool:
        """Frequency averaging of spinned paths: ``'local'``, ``'global'`` or ``False`` (``F=0``)."""
        return _AVERAGING[self.bank.plan.averaging_fr]

    @property
    def log2_T(self) -> int:
        """``floor(log2 T)``."""
        return math.floor(math.log2(self.T))

    @property
    def log2_F(self) -> int:
        """``floor(log2 F)``."""
        return math.floor(math.log2(self.F))

    @property
    def log2_stride(self) -> int:
        """log2 of the output's time stride (``log2_T`` unless ``stride`` was given)."""
        return self.bank.plan.log2_stride

    @property
    def log2_stride_fr(self) -> int:
        """log2 of the frequency stride of spinned paths (``log2_F`` unless ``stride_fr`` was given)."""
        return self.bank.plan.log2_stride_fr

    @property
    def stride(self) -> int:
        """The output's time stride, ``2**log2_stride`` (kymatio main resolves ``stride=None`` so)."""
        return 2**self.log2_stride

    @property
    def stride_fr(self) -> int:
        """The frequency stride, ``2**log2_stride_fr``."""
        return 2**self.log2_stride_fr

    @property
    def Q_fr(self) -> tuple[int]:
        """Wavelets per octave along frequency, as the 1-tuple kymatio main stores."""
        return (self._Q_fr,)

    max_order = 2
    oversampling_fr = 0
    r_psi = design.R_PSI
    sigma0 = design.SIGMA0
    alpha = design.ALPHA

    pad_left = property(lambda self: self.bank.time.plan.pad_left, doc="Time padding before the signal.")
    pad_right = property(lambda self: self.bank.time.plan.pad_right, doc="Time padding after the signal.")
    N_padded = property(lambda self: self.bank.time.plan.N_padded, doc="Padded signal length (a power of two).")
    _N_padded = N_padded  # kymatio's name

    @property
    def ind_start(self) -> dict[int, int]:
        """Start of the unpadded signal at each time resolution: ``{k: index}`` for ``k = 0, 1, ...``."""
        return dict(enumerate(self.bank.time.plan.ind_start))

    @property
    def ind_end(self) -> dict[int, int]:
        """End of the unpadded signal at each time resolution, as :attr:`ind_start`."""
        return dict(enumerate(self.bank.time.plan.ind_end))

    @functools.cached_property
    def _kymatio_filters(self) -> tuple[dict, list[dict], list[dict], tuple[dict, list[dict]]]:
        # Built on first read only (full-length float64 filters; the transform never uses them).
        time, plan = self.bank.time, self.bank.plan
        first = list(zip(time.xi1, time.sigma1, time.j1))
        second = list(zip(time.xi2, time.sigma2, time.j2))
        phi_f, (psi1_f, psi2_f) = kymatio_main_layout(time.plan.N_padded, self.T, [first, second])
        lowpass_fr, *wavelets_fr = self.bank.filters_fr
        phi_F, _ = kymatio_main_layout(plan.N_fr, self.F, [])
        phi_fr, (psis_fr,) = kymatio_main_layout(
            plan.N_fr, 2**self.J_fr, [[(f.xi, f.sigma, f.j) for f in wavelets_fr]]
        )
        assert phi_fr["sigma"] == lowpass_fr.sigma  # the spin-0 filter is the 2**J_fr low-pass
        return read_only((phi_f, psi1_f, psi2_f, (phi_F, [phi_fr, *psis_fr])))

    @property
    def phi_f(self) -> dict:
        """The time low-pass in kymatio main's layout: ``{'levels': [float64 (N_padded / 2**k,),
        ...] (summed over 2**k periods), 'xi': 0, 'sigma', 'j': log2_T, 'N': N_padded}``."""
        return self._kymatio_filters[0]

    @property
    def psi1_f(self) -> list[dict]:
        """First-order wavelets, ``n1`` order: ``{'levels': [float64 (N_padded,)], 'xi', 'sigma', 'j'}``
        (read-only, as every filter shown in kymatio's layout)."""
        return self._kymatio_filters[1]

    @property
    def psi2_f(self) -> list[dict]:
        """Second-order wavelets, ``n2`` order: ``{'levels': [float64 (N_padded / 2**k,), ...],
        'xi', 'sigma', 'j'}``, a level for each resolution their inputs arrive at."""
        return self._kymatio_filters[2]

    @property
    def filters_fr(self) -> tuple[dict, list[dict]]:
        """The frequency filters in kymatio main's layout: ``(phi_F, [phi_fr, *psis_fr])``.

        ``phi_F`` averages the spinned paths along frequency (scale ``F``); the list is indexed
        by ``n_fr``: the spin-0 low-pass of scale ``2**J_fr``, then the spin +1 wavelets, then the
        spin -1 ones (``xi < 0``), as ``meta()['n_fr']`` counts them. Levels are float64
        ``(N_frequency / 2**k,)``; the low-passes also carry ``'N': N_frequency``.
        """
        return self._kymatio_filters[3]

    # --- the call pipeline's hooks (see ScatteringTransform) --------------------------------
    _program = staticmethod(jax.jit(time_frequency_scattering))
    # The eager chunk program compiles in a quarter less time, same bits and speed (see
    # compile_options; the older emitters ran JTFS chunks of small signals 40% slower).
    _eager_compile_options = LIGHT_LLVM_OPTIMIZATION
    _signal_ndim = 1
    _channel_axis = -2

    def _chunking(self, dtype) -> tuple[int, int, bool]:
        return signal_bytes(self.bank, dtype), EAGER_CHUNK_BYTES, False

    # --- channel tables ---------------------------------------------------------------------
    def _channels(self) -> list[tuple]:
        """``(order, n1, n2, path, M)`` per output channel ('time') or per path ('joint', n1
        None); ``M`` is the path's number of real rows along ``n1``."""
        plan = self.bank.plan
        joint = self.format == "joint"
        entries: list[tuple] = [] if (joint and self.out_type == "array") else [(0, None, None, None, 0)]
        blocks = [(1, plan.order1, (None,))] + [(2, block, block.n2) for block in plan.order2]
        for order, block, n2s in blocks:
            for n2 in n2s:
                for path in block.paths:
                    if joint:
                        entries.append((order, None, n2, path, block.M))
                    else:
                        entries += [(order, i * path.n1_stride, n2, path, block.M) for i in range(path.channels)]
        return entries

    def _keys(self) -> list[tuple[int, ...]]:
        keys = []
        for order, n1, n2, path, _ in self._channels():
            if order == 0:
                keys.append(())
                continue
            head = () if n1 is None else (n1,)
            keys.append(head + (() if n2 is None else (n2,)) + (path.n_fr,))
        return keys

    def _list_fields(self) -> list[dict]:
        bank = self.bank
        fields = []
        for order, n1, n2, path, M in self._channels():
            if order == 0:
                fields.append(dict(n=(), order=0, j=(), j_fr=(), n_fr=(), spin=0))
                continue
            f = bank.filters_fr[path.n_fr]
            if n1 is None:  # joint: one entry for every n1 of the path
                n = (-1,) if n2 is None else (-1, n2)
                j = (-1,) if n2 is None else (-1, bank.time.j2[n2])
                extra = dict(n1_max=M, n1_stride=path.n1_stride)
            else:
                n = (n1,) if n2 is None else (n1, n2)
                j = (bank.time.j1[n1],) if n2 is None else (bank.time.j1[n1], bank.time.j2[n2])
                extra = {}
            fields.append(dict(n=n, order=order, j=j, j_fr=(f.j,), n_fr=(path.n_fr,), spin=f.spin, **extra))
        return fields

    def meta(self) -> dict:
        """Per-channel metadata, row ``c`` describing output channel ``c`` (array order).

        Returns a dict of NumPy arrays: ``order`` (C,) int; ``n``, ``xi``, ``sigma``, ``j`` (C, 2)
        float (column 0: first-order filter ``n1``, NaN in 'joint' format where a channel spans
        every ``n1``; column 1: second-order ``n2``); ``n_fr``, ``xi_fr``, ``sigma_fr``, ``j_fr``,
        ``spin`` (C,) float; ``n1_stride`` (C,) the spacing in ``n1`` between a path's frequency rows
        (rows ``i`` stands for ``n1 = i * n1_stride``); ``key``: list of C key tuples. Order 0 is NaN
        in every field.
        """
        bank = self.bank
        channels = self._channels()
        count = len(channels)
        meta = {name: np.full((count, 2), np.nan) for name in ("n", "xi", "sigma", "j")}
        per_path = ("n_fr", "xi_fr", "sigma_fr", "j_fr", "spin", "n1_stride")
        meta.update({name: np.full(count, np.nan) for name in per_path})
        meta["order"] = np.array([c[0] for c in channels], dtype=int)
        first = (bank.time.xi1, bank.time.sigma1, bank.time.j1)
        second = (bank.time.xi2, bank.time.sigma2, bank.time.j2)
        for c, (order, n1, n2, path, _) in enumerate(channels):
            if order == 0:
                continue
            for column, n, table in ((0, n1, first), (1, n2, second)):
                if n is not None:
                    meta["n"][c, column] = n
                    for name, values in zip(("xi", "sigma", "j"), table):
                        meta[name][c, column] = values[n]
            f = bank.filters_fr[path.n_fr]
            meta["n_fr"][c] = path.n_fr
            meta["n1_stride"][c] = path.n1_stride
            meta["xi_fr"][c], meta["sigma_fr"][c], meta["j_fr"][c], meta["spin"][c] = f.xi, f.sigma, f.j, f.spin
        meta["key"] = self._keys()
        return meta

    def output_size(self, detail: bool = False):
        """Number of channels C (paths in 'joint' format), or ``[C0, C1, C2]`` per order."""
        orders = [c[0] for c in self._channels()]
        if detail:
            return [orders.count(k) for k in (0, 1, 2)]
        return len(orders)


def _check_joint_rows(bank: FilterBankJTFS, format: str, out_type: str) -> None:
    if format != "joint" or out_type != "array":
        return
    plan = bank.plan
    rows = {p.keep for block in (plan.order1, *plan.order2) for p in block.paths}
    if len(rows) > 1:
        raise ValueError(
            f"format='joint' with out_type='array' needs every path to have the same number of "
            f"frequency rows, but they have {sorted(rows)} (F > 2**J_fr, stride_fr > 2**J_fr or "
            "F='global'). Use out_type='list' or 'dict', or format='time'."
        )
