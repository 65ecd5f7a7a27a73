"""2D filter design: the Gabor filter against its definition, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from scatterjax._scattering2d import design


def _gabor_everywhere(M, N, sigma, theta, xi, slant):
    """The definition: the 25 periodised copies, each evaluated on the whole grid (where its
    Gaussian underflows, exactly 0), added to a complex64 sum in turn, then normalised."""
    cos_t, sin_t = np.cos(theta), np.sin(theta)
    rotation = np.array([[cos_t, -sin_t], [sin_t, cos_t]], np.float32)
    rotation_t = np.array([[cos_t, sin_t], [-sin_t, cos_t]], np.float32)
    form = np.dot(rotation, np.dot(np.array([[1.0, 0.0], [0.0, slant * slant]]), rotation_t)) / (2 * sigma * sigma)
    rows, cols = np.arange(M, dtype=np.int64)[:, None], np.arange(N, dtype=np.int64)[None, :]
    total = np.zeros((M, N), np.complex64)
    for a in (-2, -1, 0, 1, 2):
        for b in (-2, -1, 0, 1, 2):
            u, v = rows + a * M, cols + b * N
            quadratic = form[0, 0] * (u * u) + (form[0, 1] + form[1, 0]) * (u * v) + form[1, 1] * (v * v)
            alive = quadratic < 800.0
            if not alive.any():
                continue
            term = np.zeros((M, N), np.complex128)
            term[alive] = np.exp(-quadratic[alive] + 1j * (u * xi * cos_t + v * xi * sin_t)[alive])
            total += term
    total /= 2 * 3.1415 * sigma * sigma / slant
    return total


@pytest.mark.parametrize("M,N", [(40, 40), (33, 65), (5, 3), (128, 96)])
def test_gabor_is_its_definition_bit_for_bit(M, N):
    # The design evaluates each copy on the bounding box of its non-zero ellipse; the cases include
    # narrow filters whose sums hold -0.0 (a negative subnormal rounded to complex64).
    rng = np.random.default_rng(M * N)
    cases = [(0.8 * 2**j, design.wavelet_angle(l, 8), 3 * np.pi / 4 / 2**j, 0.5) for j in range(5) for l in (0, 3, 6)]
    cases += [(0.8 * 2**j, 0.0, 0.0, 1.0) for j in range(5)]
    cases += [(float(10 ** rng.uniform(-0.5, 1.5)), float(rng.uniform(-4, 4)), float(rng.uniform(0, 3)),
               float(rng.uniform(0.05, 2))) for _ in range(20)]
    for sigma, theta, xi, slant in cases:
        expected = _gabor_everywhere(M, N, sigma, theta, xi, slant)
        assert design.gabor_2d(M, N, sigma, theta, xi, slant).tobytes() == expected.tobytes()
