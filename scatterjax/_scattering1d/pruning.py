"""Path selection (``prune_paths=True``): skip the deeper paths that carry almost no energy.

A modulus ``U = |y * psi_parent|`` varies only as fast as the band the parent wavelet lets through:
``y * psi_parent`` lives in ``xi_parent +- a few sigma_parent``, so its envelope's spectrum lies
within a few ``sigma_parent`` of zero frequency. A child wavelet whose whole passband sits above
that range sees almost nothing. This is the bandwidth consideration of MATLAB's
``waveletScattering(..., 'OptimizePath', true)``, whose documentation states it only in words;
the rule below is ours, stated exactly:

    keep the path (parent -> child) iff  xi_child - sigma_child <= PRUNE_RATIO * sigma_parent

with ``xi`` the centre frequency and ``sigma`` the Morlet's Gaussian width (standard deviation of
``psi_hat``), both in cycles per sample (``meta()['xi']``, ``meta()['sigma']``): the child's
one-sigma lower band edge must fall inside ``PRUNE_RATIO`` parent widths of zero frequency. It is
applied to second-order paths ``(n1 -> n2)`` and to third-order paths ``(n2 -> n3)``, on top of
kymatio's ``j_child > j_parent``.
"""

from __future__ import annotations

# Parent widths an envelope's spectrum is taken to span. Measured on 2**13 samples (order-2 energy
# of the dropped paths over all order-2 energy, averaged transform): J=8, Q=(8, 2): 4e-2 on white
# noise (94 of 411 paths), 1e-4 on examples.chirp_and_am_tone; J=10, Q=12: 2e-2 on both (21 of
# 444); Q2=1 with J <= 8 drops nothing. White noise is the worst case: the modulus of a noise band
# has a slowly decaying spectral tail (its zeros), a deterministic signal's envelope does not.
# Ratio 2 drops more (J=8, Q=8: 17 of 179 paths) but 4-5% of the energy; 2.5 drops 9% on noise
# with Q=(8, 2).
PRUNE_RATIO = 3.0


def keeps_energy(xi_child: float, sigma_child: float, sigma_parent: float) -> bool:
    """Whether ``prune_paths=True`` keeps the path from a parent wavelet to a child wavelet.

    Args:
      xi_child, sigma_child: the child wavelet's centre frequency and width, cycles per sample.
      sigma_parent: the parent wavelet's width, cycles per sample.

    Example:
      >>> keeps_energy(0.05, 0.02, 0.02), keeps_energy(0.2, 0.05, 0.02)
      (True, False)
    """
    return xi_child - sigma_child <= PRUNE_RATIO * sigma_parent
