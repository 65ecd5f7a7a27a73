"""The joint time-frequency scattering filter bank: the 1D bank plus operators along log-frequency.

Joint time-frequency scattering (JTFS) scatters the first-order coefficients ``S1[n1, t]`` and the
unmodulated second-order wavelet transforms ``Y2[n2][n1, t]`` once more, along ``n1`` (the
"frequency" axis), then takes a modulus and averages. The time axis is the 1D
transform's (``filter_bank_1d`` with kymatio main's rates and summed levels); this module adds the
frequency axis.

Along ``n1`` a path has only ``M`` real rows (zero-padded to ``N_fr``), so a frequency filter
followed by Fourier decimation is a small dense linear map ``A`` of shape ``(N_fr / 2**b, M)``,
built here exactly in float64: ``A = IDFT · D_b · diag(psi_hat_fr) · DFT[:, :M]``. The transform
applies every frequency filter of a path at once as one matrix product with the stacked ``A``;
the frequency low-pass and row crop after the modulus is another small real matrix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import numpy as np

from .._core import validation
from .._core.errors import ShapeError
from .._core.padding import check_pad_mode
from .._core.pytree import pytree_dataclass, static_field
from .._scattering1d import design as design
from .._scattering1d.bank import FilterBank1D, as_leaf, check_wavelet_memory, filter_bank_1d
from .._scattering1d.scales import check_J_bound

# Averaging modes along time and frequency: a local low-pass, a global sum, or none (T=0, F=0).
AVERAGING_MODES = ("local", "global", "none")
FORMATS = ("time", "joint")


@dataclass(frozen=True)
class FrequencyFilter:
    """One filter along ``n1`` (index ``n_fr``): ``spin`` 0 for the low-pass, ±1 for wavelets."""

    xi: float
    sigma: float
    j: int
    spin: int


@dataclass(frozen=True)
class PathPlan:
    """One frequency filter's path in a block of ``M`` real rows along ``n1``.

    Its kept rows (``keep`` of them) sit at ``out_start`` in the block's finished output.
    ``channels``: how many of them are output channels in ``format='time'`` (kymatio's count);
    ``n1_stride``: the true spacing in ``n1`` between kept rows (``n1 = i * n1_stride``);
    ``kymatio_stride``: the spacing kymatio labels them with (differs for bug B4).
    """

    n_fr: int
    out_start: int
    keep: int
    channels: int
    n1_stride: int
    kymatio_stride: int


@dataclass(frozen=True)
class FinishGroup:
    """Paths finished alike after the modulus: ``count`` consecutive analysis outputs of ``rows``
    rows each (from row ``row_start`` of ``|A z|``), each reduced to ``keep`` rows by slicing
    (``post = -1``) or by the real row map ``post`` (a leaf index): the frequency low-pass with its
    decimation and crop, or a global sum."""

    row_start: int
    count: int
    rows: int
    keep: int
    post: int


@dataclass(frozen=True)
class BlockPlan:
    """A block of paths sharing ``M`` real rows along ``n1``: order 1, or the ``n2`` at one level.

    ``n2``: the second-order indices of the block (empty for order 1); ``level``: the time
    resolution of its rows (``Y2`` lives at ``j2``; ``S1`` at the output resolution);
    ``paths``: by ``n_fr``; ``groups``: how the analysis output is finished (the finished rows are
    in group order, ``kept_rows`` of them per ``n2``); ``row_order``: for order 2, the permutation
    from the 1D transform's row order at this level to ``(n2, n1)`` order.
    """

    M: int
    n2: tuple[int, ...]
    level: int
    paths: tuple[PathPlan, ...]
    groups: tuple[FinishGroup, ...]
    kept_rows: int
    row_order: tuple[int, ...]
    analysis_rows: int


@dataclass(frozen=True)
class PlanJTFS:
    """Every shape-deciding number of a joint time-frequency scattering transform (hashable)."""

    averaging: str  # time: 'local', 'global' or 'none' (T=0)
    averaging_fr: str  # frequency: 'local', 'global' or 'none' (F=0)
    log2_stride: int  # s: resolution of the averaged output
    log2_stride_fr: int
    N_fr: int
    format: str  # 'time' or 'joint'
    joint_array: bool  # format='joint' with out_type='array': rows are not cropped
    order1: BlockPlan
    order2: tuple[BlockPlan, ...]


@pytree_dataclass
class FrequencyOperators:
    """Leaves of one block: the stacked analysis map (real and imaginary parts, ``(R, M)``) and
    the post-modulus row maps (one real matrix per entry)."""

    analysis_real: jax.Array
    analysis_imag: jax.Array
    post: tuple[jax.Array, ...]


@pytree_dataclass
class FilterBankJTFS:
    """Filters of a joint time-frequency scattering transform.

    Leaves: ``time`` (a :class:`FilterBank1D` with kymatio main's rates), ``order1`` and ``order2``
    (:class:`FrequencyOperators` per block of ``plan``).
    Static: ``plan`` (:class:`PlanJTFS`) and ``filters_fr``, the frequency filters by ``n_fr``.
    """

    time: FilterBank1D
    order1: FrequencyOperators
    order2: tuple[FrequencyOperators, ...]
    plan: PlanJTFS = static_field()
    filters_fr: tuple[FrequencyFilter, ...] = static_field()


def frequency_filters(J_fr: int, Q_fr: int) -> tuple[FrequencyFilter, ...]:
    """Filters along ``n1`` by ``n_fr``: the low-pass, then spin +1 and spin -1 wavelets by
    decreasing ``|xi|``."""
    params = design.wavelet_params(J_fr, Q_fr, repeated_subtraction=True)
    lowpass = FrequencyFilter(0.0, design.SIGMA0 / 2**J_fr, J_fr, 0)
    up = [FrequencyFilter(xi, sigma, j, 1) for xi, sigma, j in zip(params.xi, params.sigma, params.j)]
    down = [FrequencyFilter(-f.xi, f.sigma, f.j, -1) for f in up]
    return (lowpass, *up, *down)


def frequency_length(N_fr_in: int, F: int, J_fr: int) -> int:
    """Padded length of the frequency axis (kymatio main's rule): the ``N_fr_in`` rows plus a
    margin of ``8 min(F, 2**J_fr)``, rounded down to a multiple of ``2**J_fr``."""
    return (N_fr_in + 8 * min(F, 2**J_fr)) // 2**J_fr * 2**J_fr


def _fold(spectra: np.ndarray, level: int) -> np.ndarray:
    """Fourier decimation by ``2**level`` (mean over periods) along axis 0."""
    return spectra.reshape(2**level, spectra.shape[0] // 2**level, *spectra.shape[1:]).mean(axis=0)


def _analysis(filter_hat: np.ndarray, M: int, b: int) -> np.ndarray:
    """``IDFT(D_b(filter_hat * DFT(z)))`` for ``z`` of ``M`` rows zero-padded: ``(N_fr / 2**b, M)``."""
    impulses = np.fft.fft(np.eye(filter_hat.shape[0])[:, :M], axis=0)
    return np.fft.ifft(_fold(filter_hat[:, None] * impulses, b), axis=0)


def _lowpass_rows(phi_hat: np.ndarray, c: int, decimation: int, keep: int) -> np.ndarray:
    """Real part of ``IDFT(D_decimation(phi^<c> * DFT(v)))`` on real ``v``: the first ``keep`` rows."""
    summed = 2**c * design.period_average(phi_hat, c)
    impulses = np.fft.fft(np.eye(summed.shape[0]), axis=0)
    return np.fft.ifft(_fold(summed[:, None] * impulses, decimation), axis=0).real[:keep]


def _block(
    M: int,
    n_fr_list: range,
    filters: tuple[FrequencyFilter, ...],
    filters_hat: list[np.ndarray],
    phi_F: np.ndarray,
    *,
    averaging_fr: str,
    log2_F: int,
    s_fr: int,
    joint_array: bool,
    column_scale: np.ndarray,
) -> tuple[list[PathPlan], list[FinishGroup], np.ndarray, list[np.ndarray]]:
    """Plans, finish groups, the stacked analysis map and the row maps of one block of ``M`` rows.

    ``column_scale`` (M,) multiplies each input row first: the summed filter levels of the time
    transform, ``2**k1`` for row ``n1`` (kymatio main's summed levels: a
    coefficient at resolution ``2**k1`` is multiplied by ``2**k1``), folded into the map.
    """
    # Per path: its analysis map, how it is finished (a key shared by paths finished alike) and
    # its kymatio metadata.
    designs = []
    for n_fr in n_fr_list:
        f = filters[n_fr]
        b = min(f.j, s_fr) if averaging_fr == "local" else f.j
        analysis = _analysis(filters_hat[n_fr], M, b)
        rows = analysis.shape[0]
        if f.spin != 0 and averaging_fr == "local":
            c = min(f.j, log2_F)
            n_out = rows // 2 ** (s_fr - c)
            stride = kymatio_stride = 2**s_fr
            keep = n_out if joint_array else min(1 + M // stride, n_out)
            finish = ("lowpass", rows, keep, c)
        elif f.spin != 0 and averaging_fr == "global":
            stride = kymatio_stride = M
            keep = 1
            finish = ("sum", rows, keep, 0)
        else:
            # F=0, or the spin-0 path, which kymatio labels with stride 2**j_fr even when it was
            # decimated less (bug B4): its rows are really 2**b apart in n1.
            stride, kymatio_stride = 2**b, 2**f.j
            keep = rows if joint_array else min(1 + M // kymatio_stride, rows)
            # Only the kept rows are ever read: the map computes just those.
            analysis, rows = analysis[:keep], keep
            finish = ("slice", rows, keep, 0)
        channels = min(-(-M // kymatio_stride), keep)
        designs.append((n_fr, analysis, finish, keep, channels, stride, kymatio_stride))

    # Distinct finishes, the largest first (the product's big row blocks start aligned).
    finishes = sorted(dict.fromkeys(d[2] for d in designs), key=lambda f: -f[1])
    groups, analyses, posts, out_start = [], [], [], {}
    row_start = kept = 0
    for finish in finishes:
        kind, rows, keep, c = finish
        members = [d for d in designs if d[2] == finish]
        post = -1
        if kind == "lowpass":
            posts.append(_lowpass_rows(phi_F, c, s_fr - c, keep))
            post = len(posts) - 1
        elif kind == "sum":
            posts.append(np.ones((1, rows)))
            post = len(posts) - 1
        groups.append(FinishGroup(row_start, len(members), rows, keep, post))
        for d in members:
            analyses.append(d[1])
            out_start[d[0]] = kept
            kept += keep
        row_start += rows * len(members)
    paths = [PathPlan(n_fr, out_start[n_fr], keep, channels, stride, kymatio_stride)
             for n_fr, _, _, keep, channels, stride, kymatio_stride in designs]
    return paths, groups, np.concatenate(analyses, axis=0) * column_scale[None, :], posts


def _check_mode(name: str, mode) -> str:
    mode = validation.as_setting(mode)
    validation.check_choice(name, mode, AVERAGING_MODES)
    return str(mode)


def _check_scale(name: str, value, mode: str, mode_name: str, J: int, length: int) -> float:
    """An averaging scale (``T`` or ``F``) as a float: ``2**J`` (``J`` or ``J_fr``), the scale the
    class resolves ``None``, ``'global'`` and 0 to, or for local averaging any in ``[1, length]``."""
    value = validation.check_real(name, value)
    scale = f"2**{'J' if name == 'T' else 'J_fr'} = {2**J}"
    if value == 2**J:
        return value
    if mode == "local":
        advice = f"It is the averaging scale: at most its axis length {length}, or {scale}."
        return validation.check_real(name, value, minimum=1, maximum=length, advice=advice)
    raise ValueError(
        f"{name}={value!r} with {mode_name}={mode!r}: without local averaging {name} must be "
        f"{scale}. Pass {name}={2**J}."
    )


def _check_log2_stride(name: str, value, mode: str, mode_name: str, J: int, maximum: int) -> int:
    """A log2 stride as an int: in ``[0, maximum]`` for local averaging, else exactly ``J``."""
    if mode == "local":
        return validation.check_int(name, value, minimum=0, maximum=maximum)
    value = validation.check_int(name, value)
    if value != J:
        raise ValueError(
            f"{name}={value} with {mode_name}={mode!r}: without local averaging the output stays at "
            f"resolution {J}, so {name} must be {J}. Pass {name}={J}."
        )
    return value


def check_domain(J, Q1, Q2, averaging, s, J_fr, Q_fr, averaging_fr, log2_F, s_fr, F) -> None:
    """Raise a ValueError for every stride kymatio main crashes on: a time stride finer than the
    largest second-order scale, or a frequency wavelet decimated otherwise than it is averaged."""
    if averaging == "local":
        j1 = design.wavelet_params(J, Q1, repeated_subtraction=True).j
        used = [j2 for j2 in design.wavelet_params(J, Q2, repeated_subtraction=True).j if any(j < j2 for j in j1)]
        if used and s < max(used):
            raise ValueError(
                f"the time stride 2**{s} is finer than the largest second-order scale 2**{max(used)}: "
                f"second-order paths could not be stacked along n1 (kymatio main crashes). Use a "
                f"stride (or T) of at least {2 ** max(used)}."
            )
    if averaging_fr == "local":
        for f in frequency_filters(J_fr, Q_fr)[1:]:
            b, c = min(f.j, s_fr), min(f.j, log2_F)
            if b != c or c > s_fr:
                raise ValueError(
                    f"F={F} with stride_fr={2**s_fr}: a frequency wavelet with j_fr={f.j} would be "
                    f"decimated by 2**{b} but averaged at level {c} (kymatio main crashes). Use "
                    f"stride_fr >= 2**floor(log2 F)."
                )


def filter_bank_jtfs(
    *,
    J: int,
    J_fr: int,
    N: int,
    Q1: int,
    Q2: int,
    Q_fr: int,
    T: float,
    averaging: str,
    log2_stride: int,
    F: int,
    averaging_fr: str,
    log2_stride_fr: int,
    format: str,
    joint_array: bool,
    pad_mode: str = "reflect",
) -> FilterBankJTFS:
    """Design every filter of a joint time-frequency scattering transform.

    The arguments are :class:`~scatterjax.TimeFrequencyScattering`'s, resolved as it resolves them.

    Args:
      J: log2 of the largest time scale, ``J >= 1`` (beyond ``floor(log2 N)`` while the time
        filters fit the padded signal, see :mod:`scatterjax._scattering1d.scales`).
      J_fr: log2 of the largest frequency scale, ``0 <= J_fr <= ceil(log2((J + 1) Q1))``.
      N: signal length.
      Q1, Q2: wavelets per octave at orders 1 and 2 (>= 1).
      Q_fr: wavelets per octave along frequency, ``1 <= Q_fr <= (J + 1) Q1``.
      T: time averaging scale in samples, in ``[1, N]`` or ``2**J`` (``2**J`` for 'global' and
        'none').
      averaging: the time averaging mode, ``'local'``, ``'global'`` or ``'none'`` (T=0).
      log2_stride: ``s``, the time resolution of the output: with local averaging in
        ``[j2_max, max(floor(log2 T), J)]`` (``j2_max`` the largest second-order scale used);
        ``J`` for 'global' and 'none'.
      F: frequency averaging scale in rows, ``2**J_fr`` (what ``F=None``, 'global' and 'none'
        resolve to) or with local averaging an integer in ``[1, (J + 1) Q1]``; ``averaging_fr``
        its mode (as ``averaging``).
      log2_stride_fr: log2 of the frequency stride: ``J_fr`` for 'global' and 'none'; with local
        averaging in ``[0, max(floor(log2 F), J_fr, N_fr.bit_length())]``, ``2**log2_stride_fr``
        dividing the padded frequency axis ``N_fr``, and each frequency wavelet decimated by
        ``2**min(j_fr, log2_stride_fr)`` as it is averaged, ``2**min(j_fr, floor(log2 F))``.
      format: ``'time'`` or ``'joint'``.
      joint_array: ``format='joint'`` with ``out_type='array'`` (rows not cropped).
      pad_mode: what fills the time padding (the time bank's ``plan.pad_mode``, see
        :mod:`scatterjax._core.padding`); the frequency axis keeps its zero padding.

    Raises:
      TypeError: an integer argument is not an int, ``T`` or ``F`` not a real number, or
        ``joint_array`` not a bool.
      ValueError: an argument out of its range above, an unknown mode, ``format`` or
        ``pad_mode``, ``joint_array`` without ``format='joint'``, a stride kymatio main crashes on,
        or filters that would not fit in memory.
      ShapeError: (a ``ValueError``) ``J`` too large for ``N`` (see
        :mod:`scatterjax._scattering1d.scales`), or ``J_fr`` for the frequency rows.

    Example:
      >>> import scatterjax
      >>> bank = scatterjax.filter_bank_jtfs(
      ...     J=6, J_fr=2, N=4096, Q1=8, Q2=1, Q_fr=1, T=64.0, averaging="local", log2_stride=6,
      ...     F=4.0, averaging_fr="local", log2_stride_fr=2, format="time", joint_array=False)
      >>> bank.plan.N_fr, len(bank.filters_fr)
      (88, 7)
    """
    J = validation.check_int("J", J, minimum=1)
    N = validation.check_int("N", N, minimum=1)
    validation.check_filter_memory(8.0 * N, f"N={N}", "Use a shorter signal, or split it into windows.")
    check_J_bound(J, N)  # 2**J may exceed N, as in Scattering1D; the time bank checks the rest
    Q1 = validation.check_int("Q1", Q1, minimum=1)
    Q2 = validation.check_int("Q2", Q2, minimum=1)
    check_wavelet_memory(J, N, Q1, Q2)
    N_fr_in = (J + 1) * Q1  # the first-order frequency rows
    J_fr = validation.check_int("J_fr", J_fr, minimum=0)
    J_fr_max = (N_fr_in - 1).bit_length()
    if J_fr > J_fr_max:
        raise ShapeError(
            f"J_fr={J_fr} is too large for the {N_fr_in} first-order frequency rows ((J + 1) * Q1 with "
            f"J={J}, Q1={Q1}): J_fr must be in [0, {J_fr_max}]. Use J_fr <= {J_fr_max}."
        )
    Q_fr = validation.check_int("Q_fr", Q_fr, minimum=1, maximum=N_fr_in)
    averaging = _check_mode("averaging", averaging)
    averaging_fr = _check_mode("averaging_fr", averaging_fr)
    T = _check_scale("T", T, averaging, "averaging", J, N)
    F = _check_scale("F", F, averaging_fr, "averaging_fr", J_fr, N_fr_in)
    if averaging_fr == "local" and not F.is_integer():
        raise ValueError(f"F must be an integer number of frequency rows, got {F!r}; pass F={math.floor(F)}.")
    log2_T, log2_F = math.floor(math.log2(T)), math.floor(math.log2(F))
    log2_stride = _check_log2_stride("log2_stride", log2_stride, averaging, "averaging", J, max(log2_T, J))
    N_fr = frequency_length(N_fr_in, int(F), J_fr)
    # The frequency design transforms an (N_fr, N_fr) identity (complex128) per filter.
    validation.check_filter_memory(
        16.0 * N_fr * N_fr, f"J={J}, Q1={Q1}, J_fr={J_fr}", "Use a smaller Q1, J or J_fr."
    )
    log2_stride_fr = _check_log2_stride(
        "log2_stride_fr", log2_stride_fr, averaging_fr, "averaging_fr", J_fr, max(log2_F, J_fr, N_fr.bit_length())
    )
    if averaging_fr == "local" and N_fr % 2**log2_F:
        raise ValueError(
            f"F={F} needs a frequency axis divisible by 2**{log2_F}, but it has N_fr={N_fr} rows; "
            f"use F <= 2**J_fr = {2**J_fr}."
        )
    if averaging_fr == "local" and N_fr % 2**log2_stride_fr:
        raise ValueError(
            f"log2_stride_fr={log2_stride_fr}: the stride must divide the padded frequency axis of "
            f"N_fr={N_fr} rows; use log2_stride_fr <= {(N_fr & -N_fr).bit_length() - 1}."
        )
    check_domain(J, Q1, Q2, averaging, log2_stride, J_fr, Q_fr, averaging_fr, log2_F, log2_stride_fr, F)
    validation.check_choice("format", format, FORMATS)
    format = str(format)
    joint_array = validation.check_bool("joint_array", joint_array)
    if joint_array and format != "joint":
        raise ValueError(
            f"joint_array=True needs format='joint' (it keeps the joint format's uncropped rows); got "
            f"format={format!r}. Pass joint_array=False."
        )
    pad_mode = check_pad_mode(pad_mode)
    # The time part: S1 averaged at resolution s (always, as kymatio: B7) and Y2 at resolution j2.
    time = filter_bank_1d(
        J, N, Q1, Q2, T, True, 2, 0,
        stride_log2=log2_stride, sum_levels=True, order2_phase=True,
        crop_averages=averaging != "global", pad_mode=pad_mode,
    )
    tplan = time.plan
    N_fr = frequency_length((J + 1) * Q1, int(F), J_fr)
    filters = frequency_filters(J_fr, Q_fr)
    filters_hat = [
        design.gaussian_filter(N_fr, f.sigma) if f.spin == 0 else design.morlet_filter(N_fr, f.xi, f.sigma)
        for f in filters
    ]
    phi_F = design.gaussian_filter(N_fr, design.SIGMA0 / F)
    log2_F = math.floor(math.log2(F))
    K_fr = (len(filters) - 1) // 2
    options = dict(averaging_fr=averaging_fr, log2_F=log2_F, s_fr=log2_stride_fr, joint_array=joint_array)

    def operators(analysis, posts) -> FrequencyOperators:
        return FrequencyOperators(as_leaf(analysis.real), as_leaf(analysis.imag), tuple(map(as_leaf, posts)))

    K1 = len(time.xi1)
    scale1 = np.array([2.0 ** min(j1, log2_stride) for j1 in time.j1])
    paths1, groups1, analysis1, post1 = _block(
        K1, range(K_fr + 1), filters, filters_hat, phi_F, column_scale=scale1, **options
    )
    kept1 = sum(p.keep for p in paths1)
    order1_plan = BlockPlan(K1, (), log2_stride, tuple(paths1), tuple(groups1), kept1, (), analysis1.shape[0])
    order1_ops = operators(analysis1, post1)

    # Second order: the 1D transform stacks its (n1, n2) rows per resolution k1 + k2 = j2.
    by_level: dict[int, list[tuple[int, int]]] = {}
    for group in tplan.order2:
        by_level.setdefault(group.k1 + group.k2, []).extend(group.paths)
    order2_plans, order2_ops = [], []
    for level in sorted(by_level):
        produced = by_level[level]
        row_order = sorted(range(len(produced)), key=lambda i: (produced[i][1], produced[i][0]))
        n2s = sorted({n2 for _, n2 in produced})
        counts = {n2: sum(1 for _, m in produced if m == n2) for n2 in n2s}
        M = counts[n2s[0]]
        assert all(c == M for c in counts.values()), counts  # M depends on j2 = level only
        paths2, groups2, analysis2, post2 = _block(
            M, range(2 * K_fr + 1), filters, filters_hat, phi_F,
            column_scale=np.array([2.0 ** time.j1[n1] for n1 in range(M)]), **options,
        )
        kept2 = sum(p.keep for p in paths2)
        order2_plans.append(
            BlockPlan(M, tuple(n2s), level, tuple(paths2), tuple(groups2), kept2, tuple(row_order), analysis2.shape[0])
        )
        order2_ops.append(operators(analysis2, post2))
    plan = PlanJTFS(
        averaging=averaging,
        averaging_fr=averaging_fr,
        log2_stride=log2_stride,
        log2_stride_fr=log2_stride_fr,
        N_fr=N_fr,
        format=format,
        joint_array=joint_array,
        order1=order1_plan,
        order2=tuple(order2_plans),
    )
    return FilterBankJTFS(time, order1_ops, tuple(order2_ops), plan, filters)
