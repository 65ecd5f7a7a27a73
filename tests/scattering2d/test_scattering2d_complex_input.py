"""Complex input to Scattering2D, against a NumPy oracle.

The oracle is written from the definition in float64: the full 2D FFT of the reflect-padded image
times kymatio's filters (``S.psi`` / ``S.phi`` levels, Fourier domain), an inverse FFT at each
resolution, modulus, decimation in space (what kymatio's Fourier periodisation amounts to), and
the one-pixel unpad. Low-pass outputs use ``φ``'s even part, which for real input is kymatio's
real part of the output (its float32 ``φ`` is even only to 3e-8); order 0 is ``|x ⋆ φ|`` for
complex ``x``. It is checked against kymatio on real input first.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import kymatio, rel_l2
from jax.test_util import check_grads

import scatterjax

SETTINGS = dict(J=2, shape=(16, 24), L=4)


def _even(phi: np.ndarray) -> np.ndarray:
    """The even part of a Fourier filter: ``(phi[k] + phi[-k]) / 2`` on both axes."""
    return 0.5 * (phi + np.roll(phi[::-1, ::-1], 1, axis=(0, 1)))


def oracle(S, x: np.ndarray) -> np.ndarray:
    """float64 reference of ``S(x)``."""
    J = S.J
    rows, cols = S.M_padded - S.M, S.N_padded - S.N
    widths = ((0, 0), (rows // 2, rows - rows // 2), (cols // 2, cols - cols // 2))
    padded = np.pad(x, widths, mode="reflect")
    phi = [_even(np.asarray(level, np.float64)) for level in S.phi["levels"]]

    def filtered(u, filter_hat, decimation):
        out = np.fft.ifft2(np.fft.fft2(u) * np.asarray(filter_hat, np.float64))
        return out[..., :: 2**decimation, :: 2**decimation]

    def averaged(u, level):
        return filtered(u, phi[level], J - level)[:, None, 1:-1, 1:-1]

    order0 = averaged(padded, 0)
    channels = [np.abs(order0) if np.iscomplexobj(x) else order0.real]
    second = []
    for psi1 in S.psi:
        j1 = psi1["j"]
        u1 = np.abs(filtered(padded, psi1["levels"][0], j1))
        channels.append(averaged(u1, j1).real)
        for psi2 in S.psi:
            if psi2["j"] > j1:
                u2 = np.abs(filtered(u1, psi2["levels"][j1], psi2["j"] - j1))
                second.append(averaged(u2, psi2["j"]).real)
    return np.concatenate(channels + second, axis=1)


def _complex(shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def test_oracle_matches_kymatio_on_real_input():
    S = scatterjax.Scattering2D(**SETTINGS)
    x = np.random.default_rng(1).standard_normal((2, 16, 24))
    assert rel_l2(oracle(S, x), kymatio().Scattering2D(**SETTINGS)(x)) < 1e-12


def test_complex64_matches_oracle():
    S = scatterjax.Scattering2D(**SETTINGS)
    x = _complex((3, 16, 24))  # batch 3: the eager path pads the chunk with complex zeros
    out = S(x.astype(np.complex64))
    assert out.dtype == jnp.float32 and out.shape == (3, 1 + 8 + 16, 4, 6)
    assert rel_l2(out, oracle(S, x)) <= 2e-5


def test_complex128_matches_oracle():
    x = _complex((2, 16, 24), seed=2)
    with jax.enable_x64(True):
        S = scatterjax.Scattering2D(**SETTINGS)
        out = S(x)
        assert out.dtype == jnp.float64
        assert rel_l2(out, oracle(S, x)) <= 1e-10


def test_real_input_as_complex_gives_absolute_order0():
    S = scatterjax.Scattering2D(**SETTINGS)
    x = np.random.default_rng(3).standard_normal((2, 16, 24)).astype(np.float32)
    real, as_complex = np.array(S(x)), np.asarray(S(x.astype(np.complex64)))
    real[:, 0] = np.abs(real[:, 0])
    np.testing.assert_allclose(as_complex, real, rtol=1e-6, atol=1e-7)


def test_jit_vmap_and_empty_batch():
    S = scatterjax.Scattering2D(**SETTINGS)
    x = jnp.asarray(_complex((2, 16, 24), seed=5).astype(np.complex64))
    eager = np.asarray(S(x))
    np.testing.assert_allclose(np.asarray(jax.jit(lambda S, x: S(x))(S, x)), eager, rtol=1e-6, atol=1e-7)
    looped = np.stack([np.asarray(S(image)) for image in x])
    np.testing.assert_allclose(np.asarray(jax.vmap(S)(x)), looped, rtol=1e-6, atol=1e-7)
    empty = S(np.zeros((0, 16, 24), np.complex64))
    assert empty.dtype == jnp.float32 and empty.shape == (0, 25, 4, 6)


def test_gradients_match_finite_differences():
    with jax.enable_x64(True):
        S = scatterjax.Scattering2D(J=1, shape=(8, 8), L=2)
        x = jnp.asarray(_complex((8, 8), seed=6))
        check_grads(lambda x: jnp.sum(S(x) ** 2), (x,), order=1, modes=["rev"], atol=1e-6, rtol=1e-6)


def test_bad_input_raises():
    S = scatterjax.Scattering2D(J=1, shape=(8, 8))
    with pytest.raises(TypeError, match=r"float32 or float64.*int32.*astype"):
        S(np.zeros((8, 8), np.int32))
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 8, 8\)"):
        S(np.zeros((8, 9), np.complex64))
    harmonic = scatterjax.HarmonicScattering3D(J=1, shape=(8, 8, 8), L=1)
    with pytest.raises(TypeError, match=r"x must be real.*Only Scattering1D and Scattering2D"):
        harmonic(np.zeros((1, 8, 8, 8), np.complex64))


def test_torch_adapter_matches_core():
    torch = pytest.importorskip("torch")
    from scatterjax.torch import Scattering2D

    x = _complex((2, 8, 8), seed=7).astype(np.complex64)
    out = Scattering2D(J=1, shape=(8, 8), L=2)(torch.tensor(x))
    expected = np.asarray(scatterjax.Scattering2D(J=1, shape=(8, 8), L=2)(x))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6, atol=1e-7)
