"""Scattering1D.scalogram / wavelet_transform: first-order coefficients before averaging.

Oracle: the definition in float64 NumPy (pad the signal as the transform does, full FFT, times
kymatio's ``psi1_f[n]['levels'][0]``, inverse FFT, keep every ``stride``-th sample, crop), and
the transform's own ``U1`` (``core.first_order``) at each group's rate.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import rel_l2
from jax.test_util import check_grads

import scatterjax
from scatterjax._scattering1d.core import first_order

_NUMPY_PAD = {"reflect": "reflect", "symmetric": "symmetric", "zero": "constant", "periodic": "wrap"}


def _x(shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def reference(S, x, stride: int, pad_mode: str = "reflect") -> np.ndarray:
    """``(x ⋆ ψ_n1)[stride t]`` cropped, from the definition in float64; ``(*batch, N1, N_out)``."""
    x = np.asarray(x).astype(np.complex128 if np.iscomplexobj(x) else np.float64)
    padded = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(S.pad_left, S.pad_right)], mode=_NUMPY_PAD[pad_mode])
    spectrum = np.fft.fft(padded, axis=-1)
    out = np.stack([np.fft.ifft(spectrum * psi["levels"][0], axis=-1) for psi in S.psi1_f], axis=-2)
    level = stride.bit_length() - 1
    return out[..., ::stride][..., S.ind_start[level] : S.ind_end[level]]


@pytest.fixture(scope="module")
def S():
    return scatterjax.Scattering1D(J=4, shape=200, Q=4)


@pytest.mark.parametrize("stride", [1, 4, 16])
def test_float32_matches_the_definition(S, stride):
    x = _x((2, 200))
    ref = reference(S, x, stride)
    W = S.wavelet_transform(x, stride=stride)
    U = S.scalogram(x, stride=stride)
    assert W.dtype == jnp.complex64 and U.dtype == jnp.float32
    assert U.shape == (2, len(S.psi1_f), -(-200 // stride))
    assert np.linalg.norm(np.asarray(W) - ref) / np.linalg.norm(ref) <= 2e-5
    assert rel_l2(U, np.abs(ref)) <= 2e-5


def test_float64_matches_the_definition():
    with jax.enable_x64(True):
        S = scatterjax.Scattering1D(J=3, shape=96, Q=2, pad_mode="symmetric")
        x = _x((2, 96), dtype=np.float64)
        for stride in (1, 8):
            ref = reference(S, x, stride, "symmetric")
            W = np.asarray(S.wavelet_transform(x, stride=stride))
            assert W.dtype == np.complex128
            assert np.linalg.norm(W - ref) / np.linalg.norm(ref) <= 1e-10
            assert rel_l2(S.scalogram(x, stride=stride), np.abs(ref)) <= 1e-10


@pytest.mark.parametrize(
    "settings", [dict(J=4, shape=200, Q=4), dict(J=5, shape=256, Q=2, T=16, oversampling=1)]
)
def test_rows_equal_the_transforms_U1_at_its_own_rate(settings):
    S = scatterjax.Scattering1D(**settings)
    x = _x((2, S.N), seed=1)
    _, _, u1, _ = jax.jit(first_order)(jnp.asarray(x), S.bank)
    for group, u in zip(S.bank.plan.order1, u1):
        ours = np.asarray(S.scalogram(x, stride=2**group.k1))[:, list(group.n1)]
        theirs = np.asarray(u)[..., S.ind_start[group.k1] : S.ind_end[group.k1]]
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=2e-6 * np.abs(theirs).max())


def test_complex_input_matches_the_definition(S):
    x = (_x((2, 200), seed=2) + 1j * _x((2, 200), seed=3)).astype(np.complex64)
    ref = reference(S, x, 2)
    W = np.asarray(S.wavelet_transform(x, stride=2))
    assert np.linalg.norm(W - ref) / np.linalg.norm(ref) <= 2e-5


def test_jit_equals_eager_and_filters_are_cached(S):
    x = _x((3, 200))
    eager = np.asarray(S.scalogram(x, stride=2))
    jitted = np.asarray(jax.jit(lambda S, x: S.scalogram(x, stride=2))(S, x))
    np.testing.assert_allclose(jitted, eager, rtol=1e-6, atol=1e-7)
    filters = S.scalogram_filters(2)
    pure = jax.jit(scatterjax.scalogram_1d)(x, filters)  # the tables as an argument
    np.testing.assert_allclose(np.asarray(pure), eager, rtol=1e-6, atol=1e-7)
    assert S.scalogram_filters(2) is filters
    # The cache is no part of the pytree: same structure and leaves as a fresh transform.
    fresh = scatterjax.Scattering1D(J=4, shape=200, Q=4)
    assert jax.tree_util.tree_structure(S) == jax.tree_util.tree_structure(fresh)
    assert len(jax.tree_util.tree_leaves(S)) == len(jax.tree_util.tree_leaves(fresh))


def test_vmap_equals_loop(S):
    x = _x((3, 200), seed=4)
    batched = np.asarray(jax.vmap(lambda row: S.wavelet_transform(row, stride=4))(x))
    looped = np.stack([np.asarray(S.wavelet_transform(row, stride=4)) for row in x])
    np.testing.assert_allclose(batched, looped, rtol=1e-6, atol=1e-6)


def test_gradients_match_finite_differences():
    with jax.enable_x64(True):
        S = scatterjax.Scattering1D(J=3, shape=64, Q=2)
        x = jnp.asarray(_x((64,), seed=5, dtype=np.float64))
        power = jax.jit(lambda x: jnp.sum(S.scalogram(x, stride=2) ** 2))
        check_grads(power, (x,), order=1, modes=["rev"])
        weighted = jax.jit(lambda x: jnp.sum(jnp.real(S.wavelet_transform(x, stride=4)) * jnp.arange(16.0)))
        check_grads(weighted, (x,), order=1, modes=["rev"])
        grad = jax.grad(lambda x: jnp.sum(S.scalogram(x)))(jnp.zeros(64))
        assert np.all(np.isfinite(np.asarray(grad)))


def test_bad_arguments(S):
    x = _x((200,))
    with pytest.raises(ValueError, match=r"stride must be a power of two .* got stride=3"):
        S.scalogram(x, stride=3)
    with pytest.raises(ValueError, match=r"stride must be a power of two from 1 .* 2\*\*4 = 16"):
        S.wavelet_transform(x, stride=32)
    with pytest.raises(TypeError, match="stride must be a power-of-two int"):
        S.scalogram(x, stride=2.0)
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 200\)"):
        S.scalogram(_x((2, 100)))
    with pytest.raises(TypeError, match="float32 or float64"):
        S.scalogram(np.zeros(200, np.int32))
    assert S.scalogram(np.zeros((0, 200), np.float32)).shape == (0, len(S.psi1_f), 200)


def test_equinox_and_flax_modules_forward_to_the_core(S):
    x = _x((2, 200), seed=6)
    expected = np.asarray(S.scalogram(x, stride=4))
    eqx_module = pytest.importorskip("scatterjax.equinox").Scattering1D(J=4, shape=200, Q=4)
    np.testing.assert_array_equal(np.asarray(eqx_module.scalogram(x, stride=4)), expected)
    nnx_module = pytest.importorskip("scatterjax.flax").Scattering1D(J=4, shape=200, Q=4)
    np.testing.assert_array_equal(
        np.asarray(nnx_module.wavelet_transform(x, stride=4)), np.asarray(S.wavelet_transform(x, stride=4))
    )
