"""Signals of tiny or huge amplitude: the transforms are homogeneous, S(c x) = c S(x) (3D: c^p).

In float32 the moduli's squares left the normal range long before the signal did: a signal of
amplitude 1e-19 lost its first and second orders (flushed to zero), one of 1e19 gave inf.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import kymatio, rel_l2

import scatterjax

TINY_AND_HUGE = [1e-30, 1e-25, 1e-21, 1e-12, 1e12, 1e19, 1e30]
POWERS_OF_TWO = [2.0**-90, 2.0**-60, 2.0**50, 2.0**100]

ONE_D = [
    ("1d", lambda: scatterjax.Scattering1D(J=4, shape=256, Q=4), (3, 256)),
    ("1d-order3", lambda: scatterjax.Scattering1D(J=4, shape=128, Q=(4, 1), max_order=3), (2, 128)),
    ("jtfs", lambda: scatterjax.TimeFrequencyScattering(J=5, J_fr=2, Q=8, shape=512), (2, 512)),
]


def _signals(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("name, build, shape", ONE_D, ids=[c[0] for c in ONE_D])
def test_1d_and_jtfs_are_homogeneous_at_any_amplitude(name, build, shape):
    S = build()
    x = _signals(shape)
    base = np.asarray(S(x), np.float64)
    for c in TINY_AND_HUGE:
        y = np.asarray(S((x * np.float32(c)).astype(np.float32)), np.float64) / c
        assert np.all(np.isfinite(y))
        assert rel_l2(y, base) <= 1e-6, c
    for c in POWERS_OF_TWO:  # an exact scale gives exactly scaled coefficients
        np.testing.assert_array_equal(np.asarray(S(x * np.float32(c))), np.asarray(S(x)) * np.float32(c))


def test_tiny_signals_match_kymatio_numpy():
    # kymatio's NumPy frontend computes in float64; our float32 keeps its numbers at 1e-21.
    K = kymatio().numpy.Scattering1D(J=6, shape=1024, Q=8)
    S = scatterjax.Scattering1D(J=6, shape=1024, Q=8)
    strain = (_signals((2, 1024)) * np.float32(1e-21)).astype(np.float32)
    assert rel_l2(S(strain), K(strain.astype(np.float64))) <= 1e-6
    order = S.meta()["order"]
    for o in (1, 2):  # each order, not only the total dominated by order 0
        assert rel_l2(np.asarray(S(strain))[:, order == o], K(strain.astype(np.float64))[:, order == o]) <= 1e-6


def test_scalogram_is_homogeneous():
    S = scatterjax.Scattering1D(J=4, shape=256, Q=4)
    x = _signals((2, 256))
    base = np.asarray(S.scalogram(x, stride=2), np.float64)
    for c in (1e-30, 1e25):
        assert rel_l2(np.asarray(S.scalogram(x * np.float32(c), stride=2), np.float64) / c, base) <= 1e-6


def test_3d_integrals_scale_as_c_to_the_p():
    powers = (0.5, 1.0, 2.0)
    S = scatterjax.HarmonicScattering3D(J=1, shape=(8, 8, 8), L=1, integral_powers=powers)
    x = _signals((2, 8, 8, 8))
    base = np.asarray(S(x), np.float64)
    for c in (2.0**-30, 2.0**40):  # exact: every (c, p) here gives a power of two
        scales = np.asarray([c**p for p in powers], np.float32)
        np.testing.assert_array_equal(np.asarray(S(x * np.float32(c))), np.asarray(S(x)) * scales)
    for c in (1e-25, 1e-15, 1e15):
        y = np.asarray(S((x * np.float32(c)).astype(np.float32)), np.float64)
        for i, p in enumerate(powers):
            expected = base[..., i] * c**p
            if np.abs(expected).max() < 1e-30 or np.abs(expected).max() > 1e35:
                continue  # the float32 result itself is out of range
            assert rel_l2(y[..., i], expected) <= 1e-6, (c, p)
    volumes = np.abs(x)
    order0 = np.asarray(scatterjax.order0_integrals(volumes, powers), np.float64)
    tiny = np.asarray(scatterjax.order0_integrals(volumes * np.float32(1e-25), powers), np.float64)
    assert rel_l2(tiny[..., :2], order0[..., :2] * np.asarray([1e-25**0.5, 1e-25])) <= 1e-6


def test_a_signals_scale_is_its_own():
    # A batch mixing amplitudes (and a NaN signal): every row is what it gives alone.
    S = scatterjax.Scattering1D(J=4, shape=256, Q=4)
    x = _signals((4, 256)) * np.asarray([[1.0], [1e-25], [1e20], [1.0]], np.float32)
    x[3, 7] = np.nan
    batch = np.asarray(S(x))
    for i in range(4):
        np.testing.assert_array_equal(batch[i], np.asarray(S(x[i : i + 1]))[0])
    np.testing.assert_array_equal(np.asarray(jax.jit(lambda v: S(v))(x)), batch)
    assert np.all(np.isnan(batch[3])) and np.all(np.isfinite(batch[:3]))


def test_gradients_at_tiny_amplitude():
    # sum S is homogeneous of degree 1, so its gradient is of degree 0: the same at c x as at x.
    S = scatterjax.Scattering1D(J=4, shape=256, Q=4)
    x = jnp.asarray(_signals((2, 256)))
    grad = jax.jit(jax.grad(lambda v: jnp.sum(S(v))))
    np.testing.assert_array_equal(np.asarray(grad(x * 2.0**-90)), np.asarray(grad(x)))
    assert rel_l2(grad(x * 1e-30), grad(x)) <= 1e-5


@pytest.mark.parametrize("complex_input", [False, True], ids=["real", "complex"])
def test_2d_is_homogeneous_at_any_amplitude(complex_input):
    # 1e-33 lost second-order coefficients (1.2e-4 relative) and 1e36 gave NaN before the rescaling.
    S = scatterjax.Scattering2D(J=2, shape=(32, 32), L=4)
    x = _signals((2, 32, 32))
    if complex_input:
        x = (x + 1j * _signals((2, 32, 32), seed=1)).astype(np.complex64)
    base = np.asarray(S(x), np.float64)
    for c in (1e-33, 1e-30, 1e-21, 1e19, 1e30, 1e36):
        y = np.asarray(S(x * np.float32(c)), np.float64) / c
        assert np.all(np.isfinite(y))
        for order in (0, 1, 2):
            rows = S.meta()["order"] == order
            assert rel_l2(y[:, rows], base[:, rows]) <= 1e-6, (c, order)
    for c in POWERS_OF_TWO:
        np.testing.assert_array_equal(np.asarray(S(x * np.float32(c))), np.asarray(S(x)) * np.float32(c))


def test_2d_gradients_at_tiny_amplitude():
    S = scatterjax.Scattering2D(J=2, shape=(32, 32), L=4)
    x = jnp.asarray(_signals((2, 32, 32)))
    grad = jax.jit(jax.grad(lambda v: jnp.sum(S(v))))
    np.testing.assert_array_equal(np.asarray(grad(x * 2.0**-90)), np.asarray(grad(x)))
    assert rel_l2(grad(x * 1e-33), grad(x)) <= 1e-5
