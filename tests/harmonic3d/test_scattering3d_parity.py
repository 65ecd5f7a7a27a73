"""HarmonicScattering3D against kymatio 0.3.0: a grid of configurations, the filters, float64 mode,
kymatio's stored reference data and the analytic Gaussian test."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from conftest import DATA, kymatio, rel_l2

from scatterjax import HarmonicScattering3D, filter_bank_3d, order0_integrals
from scatterjax._harmonic3d.design import HarmonicGrid

# (J, shape, L, sigma_0, max_order, rotation_covariant, integral_powers, batch). J 0..4, L 0..4,
# sigma_0 0.5..2; cubic and not, even sides (Hermitian layout), odd and mixed sides (full
# layout); batch ranks 0..2.
GRID = [
    (0, (16, 16, 16), 0, 1, 2, True, (1.0,), ()),
    (1, (16, 16, 16), 1, 0.5, 2, True, (0.5, 1.0, 2.0), (2,)),
    (2, (16, 16, 16), 2, 1, 2, True, (1.0, 2.0), (2,)),
    (2, (16, 16, 16), 3, 1.5, 1, True, (0.5, 1.0, 2.0), (1, 2)),
    (3, (16, 16, 16), 2, 1, 2, False, (1.0, 2.0), (2,)),
    (4, (16, 16, 16), 1, 1, 2, True, (1.0,), (1,)),
    (1, (32, 32, 32), 4, 1, 2, True, (1.0, 2.0), ()),
    (3, (32, 32, 32), 1, 0.5, 2, False, (2.0,), (2,)),
    (4, (32, 32, 32), 2, 1, 2, True, (1.0,), (1,)),
    (2, (40, 32, 48), 2, 2, 2, True, (0.5, 1.0, 2.0), (1,)),
    (1, (40, 32, 48), 3, 1, 2, False, (1.0, 2.0), ()),
    (2, (31, 33, 35), 2, 1, 2, True, (1.0, 2.0), (1,)),
    (1, (31, 33, 35), 3, 0.5, 1, False, (1.0,), ()),
    (1, (9, 7, 5), 4, 1, 2, True, (0.5, 1.5, 3.0), (2,)),
    (2, (8, 10, 12), 3, 0.5, 2, True, (1.0, 2.0), (3,)),
    (0, (12, 16, 20), 2, 1.5, 1, True, (2.0,), (2, 2)),
    (2, (15, 16, 17), 2, 2, 2, False, (0.5, 1.0, 2.0), (2,)),
    (3, (20, 16, 24), 4, 1, 2, True, (1.0, 2.0), (1,)),
]


def _ids(config):
    J, shape, L, sigma_0, max_order, covariant, powers, batch = config
    sides = "x".join(map(str, shape))
    return f"J{J}-{sides}-L{L}-s{sigma_0}-m{max_order}-{'cov' if covariant else 'm-l'}-b{batch}"


def _kymatio_3d(J, shape, L, sigma_0, max_order, covariant, powers):
    return kymatio().numpy.HarmonicScattering3D(
        J=J, shape=shape, L=L, sigma_0=sigma_0, max_order=max_order,
        rotation_covariant=covariant, integral_powers=powers,
    )


def _kymatio_float64(reference, x):
    """Kymatio's 3D forward pass without its final float32 cast (its own core, float64 integrals)."""
    from kymatio.scattering3d.core.scattering3d import scattering3d

    def integrals(u):
        return np.stack([(u**p).reshape(u.shape[0], -1).sum(1) for p in reference.integral_powers],
                        axis=-1)

    return scattering3d(x, filters=reference.filters, rotation_covariant=reference.rotation_covariant,
                        L=reference.L, J=reference.J, max_order=reference.max_order,
                        backend=reference.backend, averaging=integrals)


@pytest.mark.parametrize("config", GRID, ids=_ids)
def test_parity_float32(config):
    J, shape, L, sigma_0, max_order, covariant, powers, batch = config
    reference = _kymatio_3d(J, shape, L, sigma_0, max_order, covariant, powers)
    ours = HarmonicScattering3D(J=J, shape=shape, L=L, sigma_0=sigma_0, max_order=max_order,
                                rotation_covariant=covariant, integral_powers=powers)
    assert ours.bank.hermitian == all(s % 2 == 0 for s in shape)
    x = np.random.default_rng(J * 100 + L).standard_normal(batch + shape)
    expected = reference(x)  # float64 input, float32 output
    got = ours(x.astype(np.float32))
    assert got.dtype == np.float32
    K = ours.output_size()
    assert got.shape == expected.shape == batch + (K, L + 1, len(powers))
    assert rel_l2(got, expected) <= 1e-5


# Wavelets wider than the volume (2**J > max(shape)), which kymatio accepts: nearly constant over
# it, with kymatio's numbers.
WIDE_GRID = [
    (4, (8, 8, 8), 3, 1, 2, True, (0.5, 1.0, 2.0), (2,)),
    (5, (16, 16, 16), 2, 1, 1, True, (1.0, 2.0), (1,)),
    (5, (7, 9, 10), 1, 0.5, 2, True, (1.0,), (2,)),
    (6, (8, 8, 8), 2, 1, 2, False, (2.0,), ()),
]


@pytest.mark.parametrize("config", WIDE_GRID, ids=_ids)
def test_wide_scales_match_kymatio(config):
    test_parity_float32(config)


def test_scales_that_overflow_float32_are_refused_where_kymatio_gives_nan():
    reference = kymatio().numpy.HarmonicScattering3D(J=75, shape=(8, 8, 8), L=0, max_order=1)
    expected = reference(np.random.default_rng(0).standard_normal((1, 8, 8, 8)))
    assert np.isnan(expected[0, 75]).all() and np.isfinite(expected[0, :75]).all()
    with pytest.raises(ValueError, match=r"J=75 is too large for sigma_0=1.0: the wavelets of scale j=75 .* J <= 74"):
        HarmonicScattering3D(J=75, shape=(8, 8, 8), L=0, max_order=1)
    with pytest.raises(ValueError, match=r"J=1000 is too large .* j=80 .* J <= 79"):
        HarmonicScattering3D(J=1000, shape=(8, 8, 8), L=0, max_order=1, sigma_0=1 / 32)


@pytest.mark.parametrize(
    "shape, covariant, hermitian, tolerance",
    [
        ((16, 16, 16), True, None, 1e-8),  # Hermitian layout: kymatio's complex64 asymmetry
        ((16, 12, 8), False, None, 1e-8),
        ((16, 16, 16), True, False, 1e-13),  # full layout: kymatio's arithmetic, in float64
        ((9, 8, 5), True, None, 1e-13),
        ((9, 8, 5), False, None, 1e-13),
    ],
)
def test_parity_float64(shape, covariant, hermitian, tolerance):
    """float64 mode against kymatio's float64 arithmetic (before its float32 cast).

    Kymatio's wavelets are complex64; its order -m wavelet differs from the mirrored conjugate of
    order m by float32 rounding (~5e-7 of the peak). The Hermitian layout rebuilds orders m < 0
    by exact symmetry, so in float64 it agrees with kymatio to ~1e-9, the size of that rounding
    noise on the outputs; the full layout applies kymatio's exact wavelets and agrees to ~1e-16.
    """
    J, L, powers = 2, 2, (0.5, 1.0, 2.0)
    reference = _kymatio_3d(J, shape, L, 1, 2, covariant, powers)
    x = np.random.default_rng(1).standard_normal((2,) + shape)
    expected = _kymatio_float64(reference, x)
    with jax.enable_x64(True):
        if hermitian is None:
            S = HarmonicScattering3D(J=J, shape=shape, L=L, rotation_covariant=covariant,
                                     integral_powers=powers)
            bank = S.bank
        else:
            bank = filter_bank_3d(J, shape, L, 1.0, 2, covariant, powers, hermitian=hermitian)
        from scatterjax import harmonic_scattering3d

        got = np.asarray(jax.jit(harmonic_scattering3d)(x, bank))
    assert got.dtype == np.float64
    assert rel_l2(got, expected) <= tolerance


def test_stored_kymatio_reference():
    """Kymatio's test_data_3d.npz (from PyScatHarm): relative L1 < 1e-6 for order 0 and orders 1+2."""
    data = np.load(DATA / "test_data_3d.npz")
    x, reference = data["x"], data["Sx"]
    powers = data["integral_powers"]
    M = x.shape[-1]
    S = HarmonicScattering3D(J=int(data["J"]), shape=(M, M, M), L=int(data["L"]), sigma_0=1,
                             method="integral", integral_powers=powers, max_order=2)
    order0 = np.asarray(S.order0(x)).reshape(len(x), -1)
    orders12 = np.asarray(S(x)).reshape(len(x), -1)
    assert orders12.dtype == np.float32 and order0.dtype == np.float32
    assert order0.shape[1] + orders12.shape[1] == reference.shape[1]

    def relative_l1(a, b):
        return np.abs(a - b).sum() / max(np.abs(a).sum(), np.abs(b).sum())

    assert relative_l1(order0, reference[:, : order0.shape[1]]) < 1e-6
    assert relative_l1(orders12, reference[:, order0.shape[1] :]) < 1e-6


def test_order0_matches_kymatio_compute_integrals():
    from kymatio.scattering3d.backend.numpy_backend import backend

    kymatio()
    x = np.abs(np.random.default_rng(2).standard_normal((3, 8, 10, 12))).astype(np.float32)
    powers = (0.5, 1.0, 2.0, 3.0)
    expected = backend.compute_integrals(x, powers)
    got = np.asarray(order0_integrals(x, powers))
    np.testing.assert_allclose(got, expected, rtol=2e-6)


def test_analytic_gaussian():
    """Kymatio's analytic check (its torch test, at 128^3): for a unit-mass Gaussian of width s_g,
    the first-order integral with p = 1 at degree l and scale s_j is (s_j / sqrt(s_j^2 + s_g^2))^l.
    Same widths (3) on an 80^3 grid."""
    M, sigma_gaussian, sigma_0, J, L = 80, 3.0, 3.0, 1, 3
    t = np.fft.ifftshift(np.arange((-M) // 2, (-M) // 2 + M)).astype(np.float64)
    r2 = t[:, None, None] ** 2 + t[None, :, None] ** 2 + t[None, None, :] ** 2
    x = np.exp(-0.5 * r2 / sigma_gaussian**2) / ((2 * np.pi) ** 1.5 * sigma_gaussian**3)
    S = HarmonicScattering3D(J=J, shape=(M, M, M), L=L, sigma_0=sigma_0, max_order=1,
                             integral_powers=(1.0,))
    s = np.asarray(S(x.astype(np.float32)))
    for j in range(J + 1):
        sigma = sigma_0 * 2**j
        k = sigma / np.sqrt(sigma**2 + sigma_gaussian**2)
        for l in range(1, L + 1):
            assert abs(s[j, l, 0] - k**l) / abs(s[j, l, 0]) < 1e-4, (j, l)


@pytest.mark.parametrize("shape, J, L, sigma_0", [((8, 8, 8), 1, 3, 1), ((5, 6, 7), 2, 4, 0.5),
                                                 ((9, 7, 5), 1, 3, 1.5)])
def test_wavelet_design_is_kymatios_bit_for_bit(shape, J, L, sigma_0):
    kymatio()
    from kymatio.scattering3d.filter_bank import solid_harmonic_filter_bank

    expected = solid_harmonic_filter_bank(*shape, J, L, sigma_0)
    grid = HarmonicGrid.from_shape(shape)
    for l in range(L + 1):
        for j in range(J + 1):
            got = grid.solid_harmonics(l, sigma_0 * 2**j)
            assert got.dtype == np.complex64
            np.testing.assert_array_equal(got, expected[l][j])


@pytest.mark.parametrize("shape, covariant, sigma_0", [((8, 10, 12), True, 0.5),
                                                       ((8, 8, 8), False, 1),
                                                       ((9, 8, 5), True, 1),
                                                       ((7, 9, 5), False, 2)])
def test_bank_holds_kymatios_filters(shape, covariant, sigma_0):
    """The packed bank (Hermitian or full layout) rebuilds kymatio's S.filters[l][j, m]."""
    J, L = 2, 3
    reference = _kymatio_3d(J, shape, L, sigma_0, 2, covariant, (1.0,))
    S = HarmonicScattering3D(J=J, shape=shape, L=L, sigma_0=sigma_0, rotation_covariant=covariant,
                             integral_powers=(1.0,))
    for l in range(L + 1):
        expected = reference.filters[l] if covariant else reference.filters[l][:, :1]
        got = S.bank.wavelets(l)
        assert got.shape == expected.shape
        assert np.abs(got - expected).max() <= 1e-6 * np.abs(expected).max()
