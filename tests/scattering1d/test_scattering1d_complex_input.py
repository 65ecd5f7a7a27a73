"""Complex input to Scattering1D (analytic signals, IQ data), against a NumPy oracle.

The oracle is written from the definition in float64: the full FFT of the reflect-padded signal
times the full-length filters (kymatio's layout, ``S.psi1_f`` / ``S.psi2_f`` / ``S.phi_f``), an
inverse FFT at each resolution, modulus, decimation in time (what kymatio's Fourier
periodisation amounts to), crop. Order 0 is ``|x ⋆ φ|`` for complex ``x``. It is checked against
kymatio on real input first.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import kymatio, rel_l2
from jax.test_util import check_grads

import scatterjax

SETTINGS = dict(J=4, shape=128, Q=(2, 2), T=8)


def _periodised(filter_full: np.ndarray, level: int) -> np.ndarray:
    """The filter at resolution ``2**-level``: the mean of its ``2**level`` periods."""
    return filter_full.reshape(2**level, -1).mean(axis=0)


def oracle(S, x: np.ndarray, mirrored: bool = False) -> np.ndarray:
    """float64 reference of ``S(x)`` for an averaged transform with ``oversampling=0``;
    ``mirrored``: first-order wavelets ``ψ(-ω)``, on the negative frequencies."""
    log2_T, phi = S.log2_T, S.phi_f["levels"][0]
    padded = np.pad(x, ((0, 0), (S.pad_left, S.pad_right)), mode="reflect")

    def filtered(u, filter_full, level, decimation):
        spectrum = np.fft.fft(u, axis=-1) * _periodised(filter_full, level)
        return np.fft.ifft(spectrum, axis=-1)[..., :: 2**decimation]

    def averaged(u, level):
        out = filtered(u, phi, level, log2_T - level)
        return out[..., S.ind_start[log2_T] : S.ind_end[log2_T]][:, None]

    order0 = averaged(padded, 0)
    channels = [np.abs(order0) if np.iscomplexobj(x) else order0.real]
    u1 = {}
    for n1, psi1 in enumerate(S.psi1_f):
        k1 = min(psi1["j"], log2_T)
        psi = psi1["levels"][0]
        if mirrored:
            psi = np.roll(psi[::-1], 1)  # bin k -> bin -k
        u1[n1] = k1, np.abs(filtered(padded, psi, 0, k1))
        channels.append(averaged(u1[n1][1], k1).real)
    for key in S.meta()["key"]:
        if len(key) == 2:
            k1, u = u1[key[0]]
            psi2 = S.psi2_f[key[1]]
            k2 = max(min(psi2["j"], log2_T) - k1, 0)
            channels.append(averaged(np.abs(filtered(u, psi2["levels"][0], k1, k2)), k1 + k2).real)
    return np.concatenate(channels, axis=1)


def _complex(shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def test_oracle_matches_kymatio_on_real_input():
    S = scatterjax.Scattering1D(**SETTINGS)
    x = np.random.default_rng(1).standard_normal((2, 128))
    assert rel_l2(oracle(S, x), kymatio().Scattering1D(**SETTINGS)(x)) < 1e-14


def test_complex64_matches_oracle():
    S = scatterjax.Scattering1D(**SETTINGS)
    x = _complex((3, 128))  # batch 3: the eager path pads the chunk with complex zeros
    out = S(x.astype(np.complex64))
    assert out.dtype == jnp.float32 and out.shape == (3, S.output_size(), 16)
    assert rel_l2(out, oracle(S, x)) <= 2e-5


def test_complex128_matches_oracle():
    x = _complex((2, 128), seed=2)
    with jax.enable_x64(True):
        S = scatterjax.Scattering1D(**SETTINGS)
        out = S(x)
        assert out.dtype == jnp.float64
        assert rel_l2(out, oracle(S, x)) <= 1e-10


def test_conjugate_input_is_the_negative_frequency_side():
    # The wavelets are analytic: S(x) sees x's positive frequencies, S(conj(x)) its negative
    # ones, as the transform with mirrored wavelets would.
    S = scatterjax.Scattering1D(**SETTINGS)
    x = _complex((2, 128), seed=5)
    assert rel_l2(S(np.conj(x).astype(np.complex64)), oracle(S, x, mirrored=True)) <= 2e-5
    # A tone at -1/4 cycle per sample, padded periodically (reflection would reverse its time,
    # hence its frequency, in the padding).
    S = scatterjax.Scattering1D(**SETTINGS, pad_mode="periodic")
    tone = np.exp(-2j * np.pi * 0.25 * np.arange(128))[None]
    first = S.meta()["order"] == 1
    seen_here = float(np.sum(np.asarray(S(tone.astype(np.complex64)))[:, first] ** 2))
    seen_mirrored = float(np.sum(np.asarray(S(np.conj(tone).astype(np.complex64)))[:, first] ** 2))
    assert seen_here < 1e-4 * seen_mirrored


def test_real_input_as_complex_gives_absolute_order0():
    S = scatterjax.Scattering1D(**SETTINGS)
    x = np.random.default_rng(3).standard_normal((2, 128)).astype(np.float32)
    real, as_complex = np.array(S(x)), np.asarray(S(x.astype(np.complex64)))
    real[:, 0] = np.abs(real[:, 0])
    np.testing.assert_allclose(as_complex, real, rtol=1e-6, atol=1e-7)


def test_unaveraged_order0_is_modulus():
    S = scatterjax.Scattering1D(J=3, shape=64, Q=1, T=0, out_type="list")
    x = _complex((2, 64), seed=4).astype(np.complex64)
    np.testing.assert_allclose(np.asarray(S(x)[0]["coef"]), np.abs(x), rtol=1e-6)


def test_jit_and_vmap_match_eager():
    S = scatterjax.Scattering1D(**SETTINGS)
    x = jnp.asarray(_complex((3, 128), seed=5).astype(np.complex64))
    eager = np.asarray(S(x))
    np.testing.assert_allclose(np.asarray(jax.jit(lambda S, x: S(x))(S, x)), eager, rtol=1e-6, atol=1e-7)
    looped = np.stack([np.asarray(S(row)) for row in x])
    np.testing.assert_allclose(np.asarray(jax.vmap(S)(x)), looped, rtol=1e-6, atol=1e-7)
    assert S(np.zeros((0, 128), np.complex64)).dtype == jnp.float32  # empty batch


def test_gradients_match_finite_differences():
    with jax.enable_x64(True):
        S = scatterjax.Scattering1D(J=3, shape=64, Q=2)
        x = jnp.asarray(_complex((64,), seed=6))
        check_grads(lambda x: jnp.sum(S(x) ** 2), (x,), order=1, modes=["rev"], atol=1e-6, rtol=1e-6)


def test_bad_complex_dtype_and_other_transforms_raise():
    S = scatterjax.Scattering1D(J=3, shape=64)
    if np.dtype(np.clongdouble).itemsize > 16:
        with pytest.raises(TypeError, match=r"x must be a complex64 or complex128.*astype"):
            S(np.zeros(64, np.clongdouble))
    with pytest.raises(TypeError, match=r"float32 or float64.*int64.*astype"):
        S(np.zeros(64, np.int64))
    jtfs = scatterjax.TimeFrequencyScattering(J=4, J_fr=1, Q=4, shape=128)
    with pytest.raises(TypeError, match=r"x must be real.*Only Scattering1D and Scattering2D"):
        jtfs(np.zeros((1, 128), np.complex64))


def test_complex128_without_x64_warns():
    S = scatterjax.Scattering1D(J=3, shape=64)
    with pytest.warns(UserWarning, match="complex128 input is computed in complex64"):
        assert S(np.zeros((1, 64), np.complex128)).dtype == jnp.float32


def test_torch_adapter_matches_core():
    torch = pytest.importorskip("torch")
    from scatterjax.torch import Scattering1D

    x = _complex((2, 64), seed=7)
    module, core = Scattering1D(J=3, shape=64, Q=2), scatterjax.Scattering1D(J=3, shape=64, Q=2)
    tensor = torch.tensor(x.astype(np.complex64), requires_grad=True)
    out = module(tensor)
    expected = np.asarray(core(x.astype(np.complex64)))
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-6, atol=1e-7)
    out.pow(2).sum().backward()
    # torch's gradient of a real loss is dL/dRe + i dL/dIm: the conjugate of JAX's.
    grad = jax.grad(lambda x: jnp.sum(core(x) ** 2))(jnp.asarray(x.astype(np.complex64)))
    np.testing.assert_allclose(tensor.grad.numpy(), np.conj(np.asarray(grad)), rtol=1e-5, atol=1e-6)
