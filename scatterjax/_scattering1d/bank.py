"""The 1D filter bank: Fourier filters at every resolution they are used at, plus the static plan.

``filter_bank_1d`` runs the NumPy filter design once and packs the result into a
:class:`FilterBank1D` pytree. Its array leaves are the filters, grouped so that the transform applies
each group with one gather-multiply-fold and one batched FFT; its static fields hold every
shape-deciding number (padding, crop indices, subsampling exponents, windows, path tables), so a
jitted transform compiles once per configuration and input shape.

Every filter product followed by Fourier-domain subsampling is stored as a sparse gather table
over the half spectrum of a real signal (see ``_windows``), so it costs about as much as the
inverse FFT that follows it, not a full-resolution product. Averages are computed either by the
FFT route (kymatio's) or, when only a few output samples remain (large ``T``), directly in time
as a matrix product with the decimated low-pass kernel: the same linear map without the FFTs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import numpy as np
import scipy.fft

from .._core.padding import check_pad_mode
from .._core.pytree import device_leaf, pytree_dataclass, static_field
from .._core.validation import check_bool, check_filter_memory, check_int, check_real, largest_log2
from . import design as design
from .fourier import SparseFold, SparseFolds, join_folds
from .order3_bank import Order3Group, third_order_plan
from .pruning import keeps_energy
from .scales import check_J_bound, check_scales, check_wavelets_do_not_vanish
from .windows import lowpass_terms, sparse_fold, wavelet_terms, without_zero_tail

# Average in time (one matrix product) when at most this many output samples remain and the
# matrix stays small; otherwise through the FFT.
_DIRECT_MAX_OUTPUTS = 8
_DIRECT_MAX_ENTRIES = 2**21


@dataclass(frozen=True)
class Order1Group:
    """First-order wavelets sharing the subsampling exponent ``k1``.

    ``n1`` indexes the first-order list (contiguous, since ``j1`` grows along the list). The
    modulus ``U1`` lives at resolution ``k1`` and its average is decimated by a further ``2**a1``.
    """

    k1: int
    a1: int
    n1: tuple[int, ...]


@dataclass(frozen=True)
class Order2Group:
    """Second-order paths ``(n1, n2)`` sharing ``(k1, k2)``, all children of one order-1 group.

    ``local_n1`` indexes each path's ``n1`` within ``order1_group``.
    """

    order1_group: int
    k1: int
    k2: int
    a2: int
    local_n1: tuple[int, ...]
    paths: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Lowpass:
    """How a real signal at resolution ``level`` is averaged and decimated by ``2**a``.

    ``direct``: one matrix product with the decimated, cropped low-pass kernel (leaf shape
    ``(N_padded / 2**level, n_out)``). Otherwise the FFT route, with the low-pass product and the
    periodisation as a :class:`SparseFold`. Only non-negative signals (moduli) are averaged
    directly: a signed signal (order 0) would lose precision to cancellation in a long sum.
    """

    level: int
    a: int
    non_negative: bool
    direct: bool


@dataclass(frozen=True)
class Plan1D:
    """Every shape-deciding number of a 1D scattering transform (hashable)."""

    N: int
    N_padded: int
    pad_left: int
    pad_right: int
    ind_start: tuple[int, ...]
    ind_end: tuple[int, ...]
    log2_T: int
    averaged: bool
    max_order: int
    oversampling: int
    k0: int
    # kymatio main's conventions (all off for 0.3.0): filter levels summed rather than averaged
    # (coefficients scaled by 2**level, see ``level_scale``), and T='global' (every path summed over
    # its padded samples at its own resolution, length-1 output).
    sum_levels: bool
    global_sum: bool
    # Output bounds of each average (indexed by resolution): the crop indices, or the whole padded
    # signal when the caller (joint time-frequency scattering with T='global') sums over padding.
    average_start: tuple[int, ...]
    average_end: tuple[int, ...]
    order1: tuple[Order1Group, ...]
    order2: tuple[Order2Group, ...]
    # Position in kymatio's lexicographic (n1, n2) order of each second-order path, taken in the
    # order the transform produces them (by resolution k1 + k2, then group).
    order2_permutation: tuple[int, ...]
    lowpasses: tuple[Lowpass, ...]
    # Third order (max_order=3, see order3_bank): groups and their lexicographic permutation.
    order3: tuple[Order3Group, ...] = ()
    order3_permutation: tuple[int, ...] = ()
    # What fills the padding (``'reflect'``, kymatio's, ``'symmetric'``, ``'zero'`` or
    # ``'periodic'``; see scatterjax._core.padding).
    pad_mode: str = "reflect"

    def level_scale(self, k1: int, k2: int | None = None) -> float:
        """Factor from 0.3.0's mean levels to kymatio main's sum levels for a path's output.

        With sum levels ``U1`` is unchanged, ``U2`` gains ``2**k1`` and every average at resolution
        ``l`` gains ``2**l``: S1 scales by ``2**k1`` and S2 by ``2**(2 k1 + k2)``.
        """
        if not self.sum_levels:
            return 1.0
        averaged = self.averaged and not self.global_sum
        if k2 is None:
            return float(2**k1) if averaged else 1.0
        return float(2 ** (2 * k1 + k2)) if averaged else float(2**k1)

    def lowpass_index(self, level: int, a: int, non_negative: bool) -> int:
        for index, lowpass in enumerate(self.lowpasses):
            if (lowpass.level, lowpass.a, lowpass.non_negative) == (level, a, non_negative):
                return index
        raise KeyError((level, a, non_negative))


@pytree_dataclass
class FilterBank1D:
    """Filters of a 1D scattering transform, ready for the jitted transform.

    Leaves (weights float32, or float64 when ``jax_enable_x64`` was on at construction):
      psi1: :class:`SparseFolds` with one fold per first-order group, of its wavelets
        (``P = n_group``), reading the half spectrum of the padded input.
      psi2: per first-order group with second-order paths (in ``plan.order1`` order), the
        :class:`SparseFolds` of its second-order groups (in ``plan.order2`` order): each group's
        paths' wavelets reading the half spectra of this group's ``U1`` (flattened over ``n1``).
      lowpass: per entry of ``plan.lowpasses``, a matrix ``(length, n_out)`` (direct) or a
        one-filter :class:`SparseFold` (FFT route).

    Static:
      plan: :class:`Plan1D`.
      xi1, sigma1, j1, xi2, sigma2, j2: filter parameters (for ``meta()``).
    """

    psi1: SparseFolds
    psi2: tuple[SparseFolds, ...]
    lowpass: tuple[jax.Array | SparseFold, ...]
    plan: Plan1D = static_field()
    xi1: tuple[float, ...] = static_field()
    sigma1: tuple[float, ...] = static_field()
    j1: tuple[int, ...] = static_field()
    xi2: tuple[float, ...] = static_field()
    sigma2: tuple[float, ...] = static_field()
    j2: tuple[int, ...] = static_field()
    psi3: tuple[SparseFold, ...] = ()


def as_leaf(array: np.ndarray) -> jax.Array:
    # Canonical float dtype: float64 under jax_enable_x64, float32 otherwise.
    return device_leaf(array, float)


def sparse_folds_leaf(folds: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> SparseFolds:
    """:class:`SparseFolds` of device leaves from NumPy ``(index, weight_real, weight_imag)`` wavelet
    tables, each without its output bins that are zero in every filter (:func:`without_zero_tail`)."""
    trimmed = [without_zero_tail(*fold) for fold in folds]
    return SparseFolds(
        device_leaf(join_folds([index for index, _, _, _ in trimmed]), np.int32),
        tuple(as_leaf(weight_real) for _, weight_real, _, _ in trimmed),
        tuple(as_leaf(weight_imag) for _, _, weight_imag, _ in trimmed),
        tuple(length for _, _, _, length in trimmed),
    )


def sparse_fold_leaf(index, weight_real, weight_imag) -> SparseFold:
    """A :class:`SparseFold` of device leaves from NumPy gather tables (int32 index, canonical float weights)."""
    return SparseFold(device_leaf(index, np.int32), as_leaf(weight_real), as_leaf(weight_imag))


def _lowpass_entry(
    phi: np.ndarray, level: int, a: int, non_negative: bool, starts: tuple[int, ...],
    ends: tuple[int, ...],
) -> tuple[Lowpass, jax.Array | SparseFold]:
    """Plan and leaf for averaging at resolution ``level``, decimating by ``2**a``, cropping."""
    phi_level = design.period_average(phi, level)
    length = phi_level.shape[-1]
    out_level = level + a
    n_out = ends[out_level] - starts[out_level]
    small = n_out <= _DIRECT_MAX_OUTPUTS and length * n_out <= _DIRECT_MAX_ENTRIES
    if non_negative and small:
        # Only the even part of a real filter acts on a real signal; its kernel is real and even.
        even = 0.5 * (phi_level + np.roll(phi_level[::-1], 1))
        kernel = np.real(scipy.fft.ifft(even))
        centres = (starts[out_level] + np.arange(n_out)) * 2**a
        matrix = kernel[(centres[None, :] - np.arange(length)[:, None]) % length]
        return Lowpass(level, a, non_negative, True), as_leaf(matrix)
    fold = sparse_fold([phi_level], [lowpass_terms(phi_level, 2**a)], 2**a)
    return Lowpass(level, a, non_negative, False), sparse_fold_leaf(*fold)


def check_wavelet_memory(J: int, N: int, Q1: int, Q2: int, settings: str | None = None) -> None:
    """Raise a ``ValueError`` if the ``J (Q1 + Q2)`` wavelets cannot be designed in memory, before
    any is (arithmetic only), so that a huge ``Q`` fails at once instead of looping over them.

    kymatio accepts any ``Q >= 1`` (even more wavelets per octave than samples), so do we, as long
    as the filters fit. Designing them takes about ``(185 + 11 J (Q1 + Q2))`` bytes per padded
    sample at its peak (measured: J=3 Q=1 and J=10 Q=8 on 2**20 and 2**22 samples, 0.5 to 2.5 GB);
    the bound uses ``128 + 8 J (Q1 + Q2)`` and the shortest padded length ``N`` can have, so that it
    never refuses what fits. ``settings`` names the arguments in the message.
    """
    check_filter_memory(
        2 ** design.padded_length_log2(N, 1) * (128.0 + 8.0 * J * (Q1 + Q2)),
        settings or f"Q1={Q1}, Q2={Q2} with J={J} and N={N}",
        "Use a smaller Q or J, or a shorter signal (split a long one into windows).",
    )


def filter_bank_1d(
    J: int,
    N: int,
    Q1: int,
    Q2: int,
    T: float,
    averaged: bool,
    max_order: int,
    oversampling: int,
    *,
    stride_log2: int | None = None,
    sum_levels: bool = False,
    global_sum: bool = False,
    order2_phase: bool = False,
    crop_averages: bool = True,
    prune_paths: bool = False,
    pad_mode: str = "reflect",
) -> FilterBank1D:
    """Design every filter of a 1D scattering transform.

    Args:
      J: log2 of the largest wavelet scale.
      N: unpadded signal length.
      Q1, Q2: wavelets per octave at orders 1 and 2.
      T: averaging scale in samples (``2**J`` when the transform is not averaged).
      averaged: whether the low-pass is applied.
      max_order: 1, 2 or 3 (third-order wavelets are the second-order ones, see ``order3_bank``).
      oversampling: reduction of every subsampling exponent (kymatio 0.3.0's rates).
      stride_log2: kymatio main's rates instead: ``k1 = min(j1, s)``, ``k1 + k2 = min(j2, s)`` and
        every average decimated to resolution ``s`` (``oversampling`` must then be 0).
      sum_levels: kymatio main's summed filter levels (scales outputs, see ``Plan1D.level_scale``).
      global_sum: T='global' (needs ``averaged=False``): paths are summed over their padded samples.
      order2_phase: second-order tables keep the true phase of ``ψ2 * U1`` (no demodulation), for
        transforms that filter it further before a modulus (joint time-frequency scattering).
      crop_averages: crop averages to the unpadded signal (``False``: keep every padded sample).
      pad_mode: what fills the padding: ``'reflect'`` (kymatio's), ``'symmetric'``, ``'zero'`` or
        ``'periodic'`` (see :mod:`scatterjax._core.padding`); stored in the plan.

    The accepted arguments are those :class:`~scatterjax.Scattering1D` and
    :class:`~scatterjax.TimeFrequencyScattering` pass: ``J >= 0`` (beyond ``floor(log2 N)`` while
    the filters fit the padded signal, see :mod:`scatterjax._scattering1d.scales`), ``Q1, Q2 >= 1``,
    ``1 <= T <= N`` or ``T = 2**J`` (exactly ``2**J`` when not averaged), ``max_order`` in 1..3, ``oversampling`` in
    ``0..floor(log2 N) + 2``, ``stride_log2`` in ``0..max(floor(log2 T), J)``.

    Raises:
      TypeError: an integer argument is not an int, ``T`` not a real number, or a flag not a bool.
      ValueError: an argument out of its range above, an unknown ``pad_mode``, an option used
        with one it excludes (``stride_log2`` or ``sum_levels`` with ``oversampling``,
        ``stride_log2`` without averaging, ``global_sum`` with averaging), or filters that would
        not fit in memory.
      ShapeError: (a ``ValueError``) ``J`` too large for ``N`` (see
        :mod:`scatterjax._scattering1d.scales`: ``2**J`` may exceed ``N``, as in kymatio, while the
        filters fit the padded signal and the output keeps a sample).

    Example:
      >>> import scatterjax
      >>> bank = scatterjax.filter_bank_1d(J=6, N=1024, Q1=8, Q2=1, T=64, averaged=True, max_order=2,
      ...                                  oversampling=0)
      >>> bank.plan.N_padded, len(bank.xi1), len(bank.xi2)
      (2048, 38, 7)
    """
    J = check_int("J", J, minimum=0)
    N = check_int("N", N, minimum=1)
    check_filter_memory(8.0 * N, f"N={N}", "Use a shorter signal, or split it into windows.")
    check_J_bound(J, N)
    Q1 = check_int("Q1", Q1, minimum=1)
    Q2 = check_int("Q2", Q2, minimum=1)
    check_wavelet_memory(J, N, Q1, Q2)
    averaged = check_bool("averaged", averaged)
    # T is at most N, or 2**J itself (kymatio's default T, and the unaveraged transforms' scale).
    T = check_real(
        "T", T, minimum=1, maximum=max(N, 2**J),
        advice=f"T is the averaging scale in samples, at most the signal length N={N} (or 2**J).",
    )
    if not averaged and T != 2**J:
        raise ValueError(
            f"T={T} with averaged=False: an unaveraged transform is built with T = 2**J = {2**J} "
            f"(it sets the padding). Pass T={2**J}."
        )
    max_order = check_int("max_order", max_order, minimum=1, maximum=3)
    oversampling = check_int("oversampling", oversampling, minimum=0, maximum=largest_log2(N) + 2)
    sum_levels = check_bool("sum_levels", sum_levels)
    global_sum = check_bool("global_sum", global_sum)
    order2_phase = check_bool("order2_phase", order2_phase)
    crop_averages = check_bool("crop_averages", crop_averages)
    prune_paths = check_bool("prune_paths", prune_paths)
    pad_mode = check_pad_mode(pad_mode)
    if stride_log2 is not None:
        stride_log2 = check_int("stride_log2", stride_log2, minimum=0, maximum=max(math.floor(math.log2(T)), J))
        if not averaged:
            raise ValueError(
                f"stride_log2={stride_log2} needs averaged=True: without averaging the output has no "
                "common time axis to stride along. Pass stride_log2=None."
            )
    if oversampling and (stride_log2 is not None or sum_levels):
        raise ValueError(
            f"oversampling={oversampling} is kymatio 0.3.0's option and cannot be combined with "
            "stride_log2 or sum_levels=True (kymatio main's conventions); pass oversampling=0."
        )
    if global_sum and averaged:
        raise ValueError("global_sum=True (T='global') needs averaged=False; pass averaged=False and T=2**J.")

    scale_settings = (J, N, Q1, Q2, T, averaged, oversampling, stride_log2)
    check_scales(*scale_settings)

    log2_T = math.floor(math.log2(T))
    support_samples = design.temporal_support(N, T)
    N_padded = 2 ** design.padded_length_log2(N, support_samples)
    pad_left = (N_padded - N) // 2
    pad_right = N_padded - N - pad_left
    ind_start, ind_end = design.crop_indices(pad_left, N, max(log2_T, J))

    # kymatio main (sum levels) also steps the linear part of the schedule differently.
    order1_params = design.wavelet_params(J, Q1, repeated_subtraction=sum_levels)
    order2_params = design.wavelet_params(J, Q2, repeated_subtraction=sum_levels)

    def first_order_exponent(j1: int) -> int:
        if averaged and stride_log2 is not None:
            return min(j1, stride_log2)
        if averaged:
            return max(min(j1, log2_T) - oversampling, 0)
        return max(j1 - oversampling, 0)

    def second_order_exponent(j2: int, k1: int) -> int:
        if averaged and stride_log2 is not None:
            return max(min(j2, stride_log2) - k1, 0)
        if averaged:
            return max(min(j2, log2_T) - k1 - oversampling, 0)
        return max(j2 - k1 - oversampling, 0)

    output_level = log2_T - oversampling if stride_log2 is None else stride_log2

    def final_decimation(level: int) -> int:
        return max(output_level - level, 0) if averaged else 0

    k0 = max(output_level, 0)
    psi1_full = design.morlet_filters(N_padded, order1_params.xi, order1_params.sigma)
    wide = J > largest_log2(N)  # only then can a wavelet vanish (see scales.py)
    if wide:
        check_wavelets_do_not_vanish(psi1_full, N_padded, *scale_settings)

    # First-order groups: contiguous runs of equal k1 (j1 is non-decreasing along the list).
    runs: list[list[int]] = []
    for n1, j1 in enumerate(order1_params.j):
        if runs and first_order_exponent(order1_params.j[runs[-1][0]]) == first_order_exponent(j1):
            runs[-1].append(n1)
        else:
            runs.append([n1])
    order1: list[Order1Group] = []
    psi1: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for members in runs:
        k1 = first_order_exponent(order1_params.j[members[0]])
        order1.append(Order1Group(k1, final_decimation(k1), tuple(members)))
        filters = [psi1_full[n] for n in members]
        terms = [wavelet_terms(f, 2**k1) for f in filters]
        psi1.append(sparse_fold(filters, terms, 2**k1))

    # Second-order groups keyed by (order-1 group, k2); kymatio keeps only paths with j2 > j1.
    order2: list[Order2Group] = []
    psi2: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}  # by first-order group
    if max_order >= 2:
        psi2_full = design.morlet_filters(N_padded, order2_params.xi, order2_params.sigma)
        if wide:
            check_wavelets_do_not_vanish(psi2_full, N_padded, *scale_settings)
        for g, group in enumerate(order1):
            psi2_level = [design.period_average(p, group.k1) for p in psi2_full]
            length1 = N_padded // 2**group.k1
            by_k2: dict[int, list[tuple[int, int, int]]] = {}
            for local, n1 in enumerate(group.n1):
                for n2, j2 in enumerate(order2_params.j):
                    if j2 > order1_params.j[n1] and (not prune_paths or keeps_energy(
                        order2_params.xi[n2], order2_params.sigma[n2], order1_params.sigma[n1]
                    )):
                        k2 = second_order_exponent(j2, group.k1)
                        by_k2.setdefault(k2, []).append((local, n1, n2))
            half1 = length1 // 2 + 1
            for k2, entries in sorted(by_k2.items()):
                order2.append(
                    Order2Group(
                        order1_group=g,
                        k1=group.k1,
                        k2=k2,
                        a2=final_decimation(group.k1 + k2),
                        local_n1=tuple(local for local, _, _ in entries),
                        paths=tuple((n1, n2) for _, n1, n2 in entries),
                    )
                )
                filters = [psi2_level[n2] for _, _, n2 in entries]
                # order2_phase undoes the demodulation: output bin m holds the true periodised bin m.
                # Every n1 of the group pairs with the same wavelets n2: each one's bins are found once.
                terms_of = {
                    n2: wavelet_terms(psi2_level[n2], 2**k2, keep_phase=order2_phase)
                    for n2 in sorted({n2 for _, _, n2 in entries})
                }
                terms = [terms_of[n2] for _, _, n2 in entries]
                index, weight_real, weight_imag = sparse_fold(filters, terms, 2**k2)
                # Each path reads the half spectrum of its own n1 in the flattened (n1, bin) array.
                rows = np.array([local for local, _, _ in entries], dtype=np.int32)
                index = index + (rows * half1)[:, None, None]
                psi2.setdefault(g, []).append((index, weight_real, weight_imag))
    lexicographic = sorted(path for group in order2 for path in group.paths)
    position = {path: i for i, path in enumerate(lexicographic)}
    # The transform stacks every second-order group landing at the same resolution k1 + k2 (its
    # groups in plan order) into one inverse FFT, modulus and average.
    by_level = sorted(range(len(order2)), key=lambda i: (order2[i].k1 + order2[i].k2, i))
    produced = [position[path] for i in by_level for path in order2[i].paths]
    order2_permutation = tuple(int(i) for i in np.argsort(produced, kind="stable"))

    order3: tuple[Order3Group, ...] = ()
    psi3: list = []
    order3_permutation: tuple[int, ...] = ()
    if max_order == 3:
        order3, psi3, order3_permutation = third_order_plan(
            order2, order2_params, N_padded, second_order_exponent, final_decimation,
            lambda n2, n3: not prune_paths or keeps_energy(
                order2_params.xi[n3], order2_params.sigma[n3], order2_params.sigma[n2]
            ),
            sum_levels=sum_levels, averaged=averaged and not global_sum,
        )

    if crop_averages:
        average_start, average_end = ind_start, ind_end
    else:
        average_start = (0,) * len(ind_start)
        average_end = tuple(N_padded >> r for r in range(len(ind_start)))
    lowpasses: list[Lowpass] = []
    lowpass: list[jax.Array | SparseFold] = []
    if averaged:
        phi = design.gaussian_filter(N_padded, design.SIGMA0 / T)
        needed = {(0, k0, False)} | {(g.k1, g.a1, True) for g in order1}
        needed |= {(g.k1 + g.k2, g.a2, True) for g in order2}
        needed |= {(g.level2 + g.k3, g.a3, True) for g in order3}
        for level, a, non_negative in sorted(needed):
            entry, leaf = _lowpass_entry(phi, level, a, non_negative, average_start, average_end)
            lowpasses.append(entry)
            lowpass.append(leaf)

    plan = Plan1D(
        N=N,
        N_padded=N_padded,
        pad_left=pad_left,
        pad_right=pad_right,
        ind_start=ind_start,
        ind_end=ind_end,
        log2_T=log2_T,
        averaged=averaged,
        max_order=max_order,
        oversampling=oversampling,
        k0=k0,
        sum_levels=sum_levels,
        global_sum=global_sum,
        average_start=average_start,
        average_end=average_end,
        order1=tuple(order1),
        order2=tuple(order2),
        order2_permutation=order2_permutation,
        lowpasses=tuple(lowpasses),
        order3=order3,
        order3_permutation=order3_permutation,
        pad_mode=pad_mode,
    )
    return FilterBank1D(
        psi1=sparse_folds_leaf(psi1),
        psi2=tuple(sparse_folds_leaf(psi2[g]) for g in sorted(psi2)),
        lowpass=tuple(lowpass),
        plan=plan,
        xi1=order1_params.xi,
        sigma1=order1_params.sigma,
        j1=order1_params.j,
        xi2=order2_params.xi if max_order >= 2 else (),
        sigma2=order2_params.sigma if max_order >= 2 else (),
        j2=order2_params.j if max_order >= 2 else (),
        psi3=tuple(sparse_fold_leaf(*fold) for fold in psi3),
    )
