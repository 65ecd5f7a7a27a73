"""The low-pass of float32 moduli computed in space (two matrix products) instead of through
``rfft2``/``irfft2``: the same averages within float32 rounding, the same gradient, every image's
bits independent of its batch, and float64 still on the FFT route (kymatio's filter exactly)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import rel_l2

from scatterjax import Scattering2D
from scatterjax._scattering2d import design
from scatterjax._scattering2d.bank import LOWPASS_IN_SPACE_MAX_SIDE


def _fft_lowpass(u: np.ndarray, filter_hat: np.ndarray, factor: int) -> np.ndarray:
    """The definition, float64: ``Re(ifft2(fft2(u) * F))`` decimated by ``factor``, border dropped."""
    averaged = np.real(np.fft.ifft2(np.fft.fft2(u) * np.asarray(filter_hat, np.float64)))
    return averaged[::factor, ::factor][1:-1, 1:-1]


@pytest.mark.parametrize("M, N, J", [(48, 48, 2), (56, 72, 2), (272, 272, 3), (96, 160, 5)])
def test_matrices_average_and_decimate_as_the_fourier_filter(M, N, J):
    phi = design.lowpass_hat(M, N, J)
    rng = np.random.default_rng(J)
    for level in range(J):
        filter_hat = design.crop_level(phi, level)
        factor = 2 ** (J - level)
        rows, columns = design.lowpass_in_space(filter_hat, factor)
        u = rng.standard_normal(filter_hat.shape)
        expected = _fft_lowpass(u, filter_hat, factor)
        assert rows.shape == (expected.shape[0], filter_hat.shape[0])
        assert columns.shape == (filter_hat.shape[1], expected.shape[1])
        # kymatio's filter holds float32 values, whose rounding is not separable: a float32 error.
        assert np.abs(rows @ u @ columns - expected).max() <= 2e-7 * np.abs(expected).max()


def test_only_small_outputs_are_averaged_in_space():
    small = Scattering2D(J=3, shape=(64, 64), L=2)
    assert small.bank.plan.lowpass_in_space
    assert [r.shape for r in small.bank.phi_rows] == [(8, 80), (8, 40), (8, 20)]
    side = LOWPASS_IN_SPACE_MAX_SIDE + 2
    large = Scattering2D(J=1, shape=(2 * side, 2 * side), L=2)
    assert not large.bank.plan.lowpass_in_space
    assert large.bank.phi_rows == () and large.bank.phi_columns == ()


def test_float32_values_and_gradient_match_the_float64_fourier_route():
    # float64 computes every low-pass through the FFT (kymatio's filter exactly); float32 averages
    # the moduli in space. They agree to float32 rounding, values and gradients alike.
    shape, J = (40, 56), 2
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, *shape))
    with jax.enable_x64(True):
        S = Scattering2D(J=J, shape=shape, L=4)
        assert S.bank.plan.lowpass_in_space
        target = np.asarray(S(rng.standard_normal((2, *shape))))

        def loss(x):
            return jnp.sum((S(x) - target.astype(x.dtype)) ** 2)

        value64, grad64 = jax.jit(jax.value_and_grad(loss))(jnp.asarray(x))
        value32, grad32 = jax.jit(jax.value_and_grad(loss))(jnp.asarray(x, jnp.float32))
        assert grad32.dtype == jnp.float32 and grad64.dtype == jnp.float64
        assert rel_l2(S(x.astype(np.float32)), S(x)) <= 1e-6
    assert abs(float(value32) - float(value64)) <= 1e-5 * abs(float(value64))
    assert rel_l2(grad32, grad64) <= 1e-5


def test_an_image_has_its_bits_in_every_batch_size():
    # One matrix product over the stacked rows of every image (XLA's CPU GEMM) rounded J=3 64x64
    # images by the batch size (in jit, batches of 2 and 3; and S(x)); the batched products do not.
    S = Scattering2D(J=3, shape=(64, 64), L=2)
    images = np.random.default_rng(5).standard_normal((6, 64, 64)).astype(np.float32)
    program = jax.jit(lambda x, S: S(x))
    alone = [np.asarray(program(images[i : i + 1], S))[0] for i in range(6)]
    for count in range(2, 7):
        batch = np.asarray(program(images[:count], S))
        for i in range(count):
            np.testing.assert_array_equal(batch[i], alone[i])
    np.testing.assert_array_equal(np.asarray(S(images)), np.stack(alone))


def test_products_ask_for_float32_precision():
    # GPUs multiply float32 matrices in TF32 by default, TPUs in bfloat16 (a CPU ignores the
    # setting, so the program itself is checked): the low-pass must keep float32 accuracy there.
    S = Scattering2D(J=2, shape=(32, 32), L=2)
    program = jax.jit(lambda x, S: S(x)).lower(np.zeros((1, 32, 32), np.float32), S).as_text()
    products = [line for line in program.splitlines() if "stablehlo.dot_general" in line]
    assert len(products) >= 2
    assert all("precision = [HIGHEST, HIGHEST]" in line for line in products)
