"""Which largest scales ``2**J`` a 1D transform of ``N`` samples can use.

Any ``J <= floor(log2 N)`` fits. kymatio 0.3.0 also accepts larger ``J`` (a short signal with
long wavelets: the signal is padded to up to ``3 N - 2`` samples, a power of two), as long as it can
build its filters, and computes numbers for them; so does this module's rule, with three
refusals where kymatio's numbers are not usable:

- **Filters too wide for the padding.** The padded length is ``N_padded = 2**J_pad``. kymatio builds
  each filter at every subsampling it may meet, which fails when a first-order wavelet with
  second-order children, or the low-pass at the widest wavelets' subsampling, must be subsampled
  by more than ``N_padded`` (``2**j > N_padded``). Both libraries refuse these ``J``.
- **Wavelets that vanish.** At ``J >= J_pad + 3`` the narrowest wavelets (bandwidth
  ``0.1 * 2**(J_pad - J)`` frequency bins) can fall between the bins of the padded grid: every
  sample of their Gaussian underflows. kymatio's normalisation then divides zero by zero (NaN
  coefficients); :func:`check_wavelets_do_not_vanish` refuses them once they are designed.
- **An empty output.** Averaging over ``T = 2**J`` samples (``T=None``) when ``2**J`` far exceeds
  ``N`` leaves no output sample inside the signal; kymatio returns an array with an empty time axis.

Everything here is arithmetic on the filter parameters (and one low-pass support), cheap next to the
design.
"""

from __future__ import annotations

import math

import numpy as np

from .._core.errors import ShapeError
from .._core.validation import largest_log2
from . import design

# Beyond this many octaves above the longest padding, every J fails the first rule (the widest
# wavelets with children have j >= J - 3), so it is refused before any filter parameter is computed.
_OCTAVES_BEYOND_PADDING = 3

# At J <= J_pad + this, the narrowest wavelets are at least 1/40 of a frequency bin wide, and their
# Gaussian has a nonzero sample at the nearest bin whatever their centre (exp(-0.5**2 / (2 s**2))
# stays above float64's smallest normal number for s >= 0.019). Checked on the designed filters for
# N = 2..30000, Q = 1..32, T = 1, 2, 16, N and 2**J. A padded length of 1 (N = 1) has only the
# zero-frequency bin, where every wavelet is zero: there no J > 0 fits.
_OCTAVES_WITHOUT_VANISHING = 2


def largest_J_considered(N: int) -> int:
    """The largest ``J`` that can fit ``N`` samples at all (``floor(log2(3 N - 2)) + 3``)."""
    return largest_log2(max(3 * N - 2, 1)) + _OCTAVES_BEYOND_PADDING


def check_J_bound(J: int, N: int) -> None:
    """Raise a :class:`ShapeError` for a ``J`` beyond :func:`largest_J_considered` (no ``J`` that
    large fits, whatever the other arguments), before anything is computed with it."""
    largest = largest_J_considered(N)
    if J > largest:
        longest_padding = 2 ** (largest - _OCTAVES_BEYOND_PADDING)
        raise ShapeError(
            f"J={J} is too large for a signal of length N={N}: the widest wavelets (about 2**J "
            f"samples long) must fit the padded signal, at most {longest_padding} "
            f"samples. Use J <= {largest_log2(N)} (2**J <= N), or a longer signal."
        )


def scales_problem(
    J: int, N: int, Q1: int, Q2: int, T: float, averaged: bool, oversampling: int, stride_log2: int | None = None
) -> str | None:
    """Why ``J`` (at most :func:`largest_J_considered`, see :func:`check_J_bound`) does not fit a
    signal of ``N`` samples with these settings (a clause for a message), or ``None`` if it fits.
    Wavelets that vanish are found after the design, by :func:`check_wavelets_do_not_vanish`.

    Args:
      T: the averaging scale in samples (``2**J`` when the transform is not averaged).
      stride_log2: the output's resolution when set (kymatio main's ``stride``); else
        ``log2 T - oversampling``.
    """
    if J <= largest_log2(N):
        return None
    J_pad = design.padded_length_log2(N, design.temporal_support(N, T))
    order1, order2 = design.wavelet_params(J, Q1), design.wavelet_params(J, Q2)
    parents = [j1 for j1 in order1.j if any(j2 > j1 for j2 in order2.j)]
    if parents and max(parents) > J_pad:
        return (
            f"the first-order wavelets with second-order children would be subsampled by "
            f"2**{max(parents)}, more than the {2**J_pad} samples of the padded signal"
        )
    log2_T = math.floor(math.log2(T))
    widest = min(max(order1.j + order2.j), log2_T)
    if widest > J_pad:
        return (
            f"the low-pass would be subsampled by 2**{widest} (the widest wavelets' rate), more "
            f"than the {2**J_pad} samples of the padded signal"
        )
    if averaged:
        N_padded = 2**J_pad
        starts, ends = design.crop_indices((N_padded - N) // 2, N, max(log2_T, J))
        level = stride_log2 if stride_log2 is not None else max(log2_T - oversampling, 0)
        if ends[level] <= starts[level]:
            return (
                f"averaging over T={T:g} samples leaves no output sample inside a signal of "
                f"{N} samples (kymatio returns an empty time axis)"
            )
    return None


def largest_fitting_J(
    J: int, N: int, Q1: int, Q2: int, T: float, averaged: bool, oversampling: int, stride_log2: int | None = None
) -> int:
    """The largest ``J' < J`` that fits (:func:`scales_problem`, and no vanishing wavelet: at most
    ``J_pad + 2``, and ``J_pad > 0``), with ``T`` following ``J'`` where it followed ``J`` (``T = 2**J``: ``T=None``,
    or no averaging). ``floor(log2 N)`` always fits."""
    follows = T == 2.0**J
    for candidate in range(min(J - 1, largest_J_considered(N)), largest_log2(N), -1):
        T_candidate = 2.0**candidate if follows else T
        J_pad = design.padded_length_log2(N, design.temporal_support(N, T_candidate))
        if 0 < J_pad and candidate <= J_pad + _OCTAVES_WITHOUT_VANISHING and scales_problem(
            candidate, N, Q1, Q2, T_candidate, averaged, oversampling, stride_log2
        ) is None:
            return candidate
    return largest_log2(N)


def check_scales(
    J: int, N: int, Q1: int, Q2: int, T: float, averaged: bool, oversampling: int, stride_log2: int | None = None
) -> None:
    """Raise a :class:`ShapeError` naming ``J``, its problem and the largest ``J`` that fits, if
    :func:`scales_problem` finds one."""
    problem = scales_problem(J, N, Q1, Q2, T, averaged, oversampling, stride_log2)
    if problem is not None:
        largest = largest_fitting_J(J, N, Q1, Q2, T, averaged, oversampling, stride_log2)
        raise ShapeError(
            f"J={J} is too large for a signal of length N={N}: {problem}. Use J <= {largest}"
            + (", or a smaller T." if averaged and T != 2.0**J else ".")
        )


def check_wavelets_do_not_vanish(
    filters: list[np.ndarray], N_padded: int, J: int, N: int, Q1: int, Q2: int, T: float, averaged: bool,
    oversampling: int, stride_log2: int | None = None,
) -> None:
    """Raise a :class:`ShapeError` if a designed wavelet is zero at every frequency bin (narrower
    than the padded signal's frequency grid; only possible for ``J >= log2(N_padded) + 3``),
    naming the largest ``J`` that fits (:func:`largest_fitting_J`, computed only then).

    Args:
      filters: the designed Fourier-domain wavelets.
      N_padded: their length.
      J, N, Q1, Q2, T, averaged, oversampling, stride_log2: the settings, as for :func:`check_scales`.
    """
    vanished = sum(1 for f in filters if not np.any(f))
    if vanished:
        largest = largest_fitting_J(J, N, Q1, Q2, T, averaged, oversampling, stride_log2)
        raise ShapeError(
            f"J={J} is too large for a signal of length N={N}: {vanished} of its lowest-frequency "
            f"wavelets are narrower than the frequency grid of the padded signal ({N_padded} "
            f"samples) and vanish (kymatio gives NaN for them). Use J <= {largest}."
        )
