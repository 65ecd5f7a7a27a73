"""The 1D filters in kymatio 0.3.0's layout (``S.phi_f``, ``S.psi1_f``, ``S.psi2_f``), for users.

Our transform stores its filters as sparse gather tables (see ``bank.py``); kymatio users read
full Fourier filters instead, to plot or reuse them. This rebuilds them from the same design
(NumPy, float64, on demand; the transform caches the result), in kymatio's structure:

- ``phi_f``: ``{'levels': [phi_hat at 2**-k, k = 0..K], 'xi': 0, 'sigma': SIGMA0 / T, 'j': log2_T}``
  with ``K = min(max(j1s + j2s), log2_T)``;
- ``psi1_f``: one dict per first-order wavelet, ``{'levels': [psi_hat], 'xi', 'sigma', 'j'}``;
- ``psi2_f``: one dict per second-order wavelet, with a level for every resolution ``2**-k`` its
  inputs can arrive at: ``k = 0..max(j1 < j2)``.

Level 0 has ``N_padded`` entries; level ``k`` is its mean over ``2**k`` periods (``N_padded /
2**k`` entries), or ``2**k`` times that with kymatio main's ``levels='sum'``.

:func:`kymatio_main_layout` lays filters out as kymatio ``main`` does (its joint time-frequency
scattering reads them so): summed levels, counted by main's rule, and an ``'N'`` entry in the
low-pass.
"""

from __future__ import annotations

import math

import numpy as np

from . import design as design


def _levels(filter_hat: np.ndarray, count: int, sum_levels: bool) -> list[np.ndarray]:
    levels = [filter_hat]
    for level in range(1, count + 1):
        folded = design.period_average(filter_hat, level)
        levels.append(folded * 2**level if sum_levels else folded)
    return levels


def kymatio_filters_1d(
    N_padded: int,
    T: float,
    first: design.WaveletParams,
    second: design.WaveletParams,
    sum_levels: bool = False,
) -> tuple[dict, list[dict], list[dict]]:
    """``(phi_f, psi1_f, psi2_f)`` as kymatio 0.3.0's ``scattering_filter_factory`` lays them out.

    Args:
      N_padded: the padded length (``S._N_padded``).
      T: the averaging scale in samples (``2**J`` when ``T`` is None, 0 or 'global').
      first, second: the first- and second-order wavelet parameters.
      sum_levels: kymatio main's ``levels='sum'`` folding.

    Returns:
      float64 NumPy arrays in dicts, as described in the module docstring.
    """
    psi1_f = [
        {"levels": [design.morlet_filter(N_padded, xi, sigma)], "xi": xi, "sigma": sigma, "j": j}
        for xi, sigma, j in zip(first.xi, first.sigma, first.j)
    ]
    psi2_f = []
    for xi, sigma, j in zip(second.xi, second.sigma, second.j):
        # The coarsest resolution an input of this wavelet can have: the largest j1 below j2.
        count = max((j1 for j1 in first.j if j1 < j), default=0)
        hat = design.morlet_filter(N_padded, xi, sigma)
        psi2_f.append({"levels": _levels(hat, count, sum_levels), "xi": xi, "sigma": sigma, "j": j})
    log2_T = math.floor(math.log2(T))
    count = min(max(first.j + second.j, default=0), log2_T)
    sigma_low = design.SIGMA0 / T
    phi_hat = design.gaussian_filter(N_padded, sigma_low)
    phi_f = {"levels": _levels(phi_hat, count, sum_levels), "xi": 0, "sigma": sigma_low, "j": log2_T}
    return phi_f, psi1_f, psi2_f


def kymatio_main_layout(
    N: int, T: float, layers: list[list[tuple[float, float, int]]]
) -> tuple[dict, list[list[dict]]]:
    """``(phi_f, [psi_f per layer])`` laid out as kymatio main's ``scattering_filter_factory``.

    Args:
      N: the padded length.
      T: the low-pass scale in samples (``log2_T = floor(log2 T)``).
      layers: per layer, the wavelets' ``(xi, sigma, j)`` in order (no layer: the low-pass only).

    Returns:
      ``phi_f = {'levels', 'xi': 0, 'sigma': SIGMA0 / T, 'j': log2_T, 'N': N}`` and per layer a list of
      ``{'levels', 'xi', 'sigma', 'j'}``; levels are float64 ``(N / 2**k,)`` sums over ``2**k``
      periods. A wavelet of layer ``l > 0`` has the levels ``k < min(J_prev, j, 1 + log2_T)``, where
      ``J_prev`` is the largest ``j`` of the layers before it (so one level in layer 0); the
      low-pass, ``k < max(J_all, 1 + log2_T)`` (``J_all``: the largest ``j`` of all layers).
    """
    log2_T = math.floor(math.log2(T))
    largest_j = 0
    psis = []
    for layer in layers:
        previous = largest_j  # the coarsest resolution this layer's inputs arrive at
        entries = []
        for xi, sigma, j in layer:
            count = max(min(previous, j, 1 + log2_T) - 1, 0)
            levels = _levels(design.morlet_filter(N, xi, sigma), count, sum_levels=True)
            entries.append({"levels": levels, "xi": xi, "sigma": sigma, "j": j})
            largest_j = max(largest_j, j)
        psis.append(entries)
    sigma_low = design.SIGMA0 / T
    count = max(largest_j, 1 + log2_T) - 1
    phi_hat = design.gaussian_filter(N, sigma_low)
    phi_f = {"levels": _levels(phi_hat, count, sum_levels=True), "xi": 0, "sigma": sigma_low, "j": log2_T, "N": N}
    return phi_f, psis
