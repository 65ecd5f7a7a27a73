"""The per-signal power-of-two scale (scatterjax._core.amplitude): which signals move, and exactness."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scatterjax
from scatterjax._core.amplitude import amplitude_exponents, largest_shift, scaled_by_power_of_two


def test_only_signals_outside_the_normal_range_are_scaled():
    rows = np.ones((9, 4), np.float32)
    rows[0] *= 2.0**-24  # smallest largest-sample left alone
    rows[1] *= 2.0**24 - 1  # largest left alone
    rows[2] *= 2.0**-25
    rows[3] *= 2.0**24
    rows[4] = [0.0, 0.0, 0.0, 0.0]
    rows[5] = [1e-30, np.nan, 0.0, 0.0]
    rows[6] = [1e30, -np.inf, 0.0, 0.0]
    rows[7] = [0.0, -3e-21, 1e-22, 0.0]  # the largest |sample| counts, whatever its sign
    rows[8] = [3e37, 0.0, 0.0, 0.0]
    k = np.asarray(amplitude_exponents(jnp.asarray(rows), 1))
    assert k.dtype == np.int32
    assert list(k[[0, 1, 4, 5, 6]]) == [0, 0, 0, 0, 0]
    assert all(k % 2 == 0)
    for row, shift in zip(rows[[2, 3, 7, 8]], k[[2, 3, 7, 8]]):
        largest = np.abs(row).max() * 2.0**shift
        assert shift != 0 and 0.5 <= largest < 2, (row, shift)


def test_complex_signals_and_several_sample_axes():
    z = jnp.asarray([[1e-30 + 4e-30j, 0j], [1 + 1j, 0j]], jnp.complex64)
    assert list(np.asarray(amplitude_exponents(z, 1))) == [-2 * (int(np.frexp(np.float32(4e-30))[1]) // 2), 0]
    volumes = jnp.full((2, 3, 2, 2, 2), 1e-20, jnp.float32)
    assert amplitude_exponents(volumes, 3).shape == (2, 3)


@pytest.mark.parametrize("shift", [-126, -64, -2, 0, 2, 64, 126])
def test_powers_of_two_are_exact(shift):
    a = jnp.asarray(np.random.default_rng(0).standard_normal((2, 5)).astype(np.float32)) * 2.0 ** (
        -shift / 2
    )
    exponents = jnp.asarray([shift, 0], jnp.int32)
    scaled = np.asarray(scaled_by_power_of_two(a, exponents))
    expected = np.asarray(a, np.float64) * np.array([[2.0**shift], [1.0]])
    np.testing.assert_array_equal(scaled, expected.astype(np.float32))
    # With 2 p an integer the scale is still exact (the exponents are even).
    for power in (0.5, 1.5) if abs(shift) <= 64 else (0.5,):
        expected = np.asarray(a, np.float64) * np.array([[2.0 ** (shift * power)], [1.0]])
        np.testing.assert_array_equal(
            np.asarray(scaled_by_power_of_two(a, exponents, power)), expected.astype(np.float32)
        )
    back = scaled_by_power_of_two(scaled_by_power_of_two(a, exponents), -exponents)
    np.testing.assert_array_equal(np.asarray(back), np.asarray(a))


def test_fractional_powers_and_gradient():
    a = jnp.asarray([[3.0], [3.0]], jnp.float32)
    k = jnp.asarray([6, 0], jnp.int32)
    np.testing.assert_allclose(np.asarray(scaled_by_power_of_two(a, k, 1 / 3))[:, 0], [12.0, 3.0], rtol=1e-6)
    grad = jax.grad(lambda v: jnp.sum(scaled_by_power_of_two(v, k)))(a)
    np.testing.assert_array_equal(np.asarray(grad)[:, 0], [64.0, 1.0])
    # amplitude_exponents carries no gradient
    assert float(jax.grad(lambda v: jnp.sum(amplitude_exponents(v, 1).astype(v.dtype)))(a).sum()) == 0.0


def test_largest_shift_is_the_normal_exponent_range():
    assert largest_shift(np.float32) == 126
    assert largest_shift(np.float64) == 1022


@pytest.mark.parametrize("power", [17.0, 40.5, 40.3, 1e6, 1e10])
def test_huge_powers_saturate_as_the_exact_scale_does(power):
    # Powers above 16 clamp the scale where every float32 saturates (a power of 1e6 would
    # otherwise trace a million factors): the values are those of the exact scale, rounded.
    a = np.asarray([1.5, -1.5, 1.5, 3e-38, 1.0, -2.0, 1.25], np.float32)
    exponents = np.asarray([0, 2, -2, 126, -126, 2, 0], np.int32)  # even, as amplitude_exponents'
    exponents[5] = 0 if power > 100 else 2  # 2**(2 * 40.5) stays finite
    got = np.asarray(scaled_by_power_of_two(jnp.asarray(a), jnp.asarray(exponents), power))
    with np.errstate(over="ignore", under="ignore"):
        want = (a.astype(np.float64) * np.exp2(np.minimum(exponents * power, 4000.0))).astype(np.float32)
    if float(2 * power).is_integer():
        np.testing.assert_array_equal(got, want)  # a product by powers of two: exact
    else:  # 2**fraction rounds
        np.testing.assert_allclose(got, want, rtol=1e-5)
    jitted = jax.jit(scaled_by_power_of_two, static_argnums=2)
    np.testing.assert_array_equal(np.asarray(jitted(jnp.asarray(a), jnp.asarray(exponents), power)), got)


@pytest.mark.parametrize("power", [1.0, 0.5, 1 / 3, 2.0, -1.5, 40.0])
def test_a_list_is_scaled_as_each_of_its_arrays_alone(power):
    rng = np.random.default_rng(1)
    arrays = [
        jnp.asarray(rng.standard_normal(shape).astype(np.float32)) * 2.0**-30
        for shape in [(3, 7), (3, 2, 5), (3, 1)]
    ]
    arrays.append(jnp.asarray((rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))).astype(np.complex64)))
    exponents = jnp.asarray([60, 0, -58], jnp.int32)
    together = scaled_by_power_of_two(arrays, exponents, power)
    assert isinstance(together, list) and len(together) == len(arrays)
    for got, array in zip(together, arrays, strict=True):
        alone = scaled_by_power_of_two(array, exponents, power)
        assert got.shape == array.shape and got.dtype == array.dtype
        np.testing.assert_array_equal(np.asarray(got), np.asarray(alone))


@pytest.mark.parametrize(
    "name",
    ["Scattering1D-unaveraged", "Scattering1D", "Scattering2D", "TimeFrequencyScattering"],
)
def test_channels_cut_inside_jit_share_one_computation_of_the_scale(name):
    # One product or slice per channel, but the scalar work from the signals' largest samples to
    # the factor (comparisons, selects, integer divisions) once: it was fused into every channel's
    # slice (1D J=6 Q=8 N=1024 as a list, 126 channels: 1 716 comparisons; now 40, most of them
    # the sorts that keep the factors apart).
    make, shape = {
        "Scattering1D-unaveraged": (
            lambda: scatterjax.Scattering1D(J=6, shape=1024, Q=8, T=0, out_type="list"), (2, 1024)
        ),
        # A single signal too: XLA rewrites some small reductions over it as elementwise operations.
        "Scattering1D": (lambda: scatterjax.Scattering1D(J=6, shape=1024, Q=8, out_type="list"), (1, 1024)),
        "Scattering2D": (lambda: scatterjax.Scattering2D(J=3, shape=(64, 64), L=8, out_type="list"), (1, 64, 64)),
        "TimeFrequencyScattering": (
            lambda: scatterjax.TimeFrequencyScattering(J=5, J_fr=2, Q=4, shape=512, out_type="list"),
            (2, 512),
        ),
    }[name]
    S = make()  # only the case's transform is built
    compiled = jax.jit(lambda v: [d["coef"] for d in S(v)]).lower(jnp.zeros(shape)).compile().as_text()
    channels = S.output_size()
    assert channels > 80
    comparisons = compiled.count(" compare(")
    assert comparisons < channels / 2, (comparisons, channels)
