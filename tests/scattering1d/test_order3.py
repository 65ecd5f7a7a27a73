"""Scattering1D(max_order=3): third-order paths against a full-resolution NumPy definition.

The oracle applies the definition with no subsampling at all (reflect padding as the transform
pads, full FFTs, kymatio-layout filters at level 0, modulus, repeat, low-pass, crop); the
transform matches it when ``oversampling`` is large enough that nothing is subsampled.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import rel_l2
from jax.test_util import check_grads

import scatterjax
from scatterjax.examples import chirp_and_am_tone

NO_SUBSAMPLING = 10  # >= log2 of every padded length below


def reference(S, x) -> dict[tuple[int, ...], np.ndarray]:
    """Full-resolution float64 scattering up to ``S.max_order`` (<= 3), by path."""
    x = np.asarray(x, np.float64)
    padded = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(S.pad_left, S.pad_right)], mode="reflect")
    phi = S.phi_f["levels"][0]
    psi1 = [(f["levels"][0], f["j"]) for f in S.psi1_f]
    psi2 = [(f["levels"][0], f["j"]) for f in S.psi2_f]

    def average(u):
        return np.real(np.fft.ifft(np.fft.fft(u) * phi))[..., S.ind_start[0] : S.ind_end[0]]

    def wavelet_modulus(u, psi_hat):
        return np.abs(np.fft.ifft(np.fft.fft(u) * psi_hat))

    out = {(): average(padded)}
    for n1, (psi1_hat, j1) in enumerate(psi1):
        u1 = wavelet_modulus(padded, psi1_hat)
        out[(n1,)] = average(u1)
        for n2, (psi2_hat, j2) in enumerate(psi2):
            if j2 > j1 and S.max_order >= 2:
                u2 = wavelet_modulus(u1, psi2_hat)
                out[(n1, n2)] = average(u2)
                for n3, (psi3_hat, j3) in enumerate(psi2):
                    if j3 > j2 and S.max_order >= 3:
                        out[(n1, n2, n3)] = average(wavelet_modulus(u2, psi3_hat))
    return out


def _x(shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _stack(coefficients: dict, keys) -> np.ndarray:
    return np.stack([np.asarray(coefficients[key], np.float64) for key in keys], axis=-2)


@pytest.mark.parametrize("kwargs", [dict(J=5, Q=(4, 2)), dict(J=4, Q=2, T=8)])
def test_matches_full_resolution_definition_float32(kwargs):
    S = scatterjax.Scattering1D(shape=256, max_order=3, oversampling=NO_SUBSAMPLING, out_type="dict", **kwargs)
    x = _x((2, 256))
    ours, expected = S(x), reference(S, x)
    assert list(ours) == list(S.meta()["key"]) and set(ours) == set(expected)
    for order in (0, 1, 2, 3):
        keys = [key for key in expected if len(key) == order]
        assert keys, order
        assert rel_l2(_stack(ours, keys), _stack(expected, keys)) <= 2e-5, order


def test_matches_full_resolution_definition_float64():
    with jax.enable_x64(True):
        S = scatterjax.Scattering1D(J=5, shape=256, Q=(4, 2), max_order=3, oversampling=NO_SUBSAMPLING,
                                    out_type="dict")
        x = _x((2, 256), dtype=np.float64)
        ours, expected = S(x), reference(S, x)
        keys = [key for key in expected if len(key) == 3]
        assert max(rel_l2(ours[key], expected[key]) for key in keys) <= 1e-10


@pytest.mark.parametrize("kwargs", [dict(J=5, Q=(4, 2)), dict(J=4, Q=2, T=0, out_type="list")])
def test_orders_0_to_2_equal_max_order_2_exactly(kwargs):
    x = _x((3, 256), seed=1)
    third = scatterjax.Scattering1D(shape=256, max_order=3, **kwargs)
    second = scatterjax.Scattering1D(shape=256, max_order=2, **kwargs)
    ours, theirs = third(x), second(x)
    if isinstance(ours, list):
        assert [d["n"] for d in ours[: len(theirs)]] == [d["n"] for d in theirs]
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(np.asarray(a["coef"]), np.asarray(b["coef"]))
        assert all(len(d["n"]) == 3 and len(d["j"]) == 3 for d in ours[len(theirs) :])
    else:
        np.testing.assert_array_equal(np.asarray(ours)[:, : theirs.shape[1]], np.asarray(theirs))
    assert third.output_size(detail=True)[:3] == second.output_size(detail=True)


@pytest.mark.parametrize("signal", ["white noise", "audio"])
def test_energy_decreases_with_order(signal):
    N = 2**12
    x = _x(N, seed=2) if signal == "white noise" else chirp_and_am_tone(N)[0]
    S = scatterjax.Scattering1D(J=8, shape=N, Q=8, max_order=3)
    energy = (np.asarray(S(x), np.float64) ** 2).sum(axis=-1)
    order = S.meta()["order"]
    e1, e2, e3 = (energy[order == k].sum() for k in (1, 2, 3))
    assert e3 < e2 < e1, (e1, e2, e3)


def test_meta_output_size_and_out_types():
    S = scatterjax.Scattering1D(J=4, shape=128, Q=(2, 2), max_order=3, T=0, out_type="dict")
    meta = S.meta()
    sizes = S.output_size(detail=True)
    assert len(sizes) == 4 and sizes[3] > 0 and S.output_size() == sum(sizes) == len(meta["key"])
    for field in ("xi", "sigma", "j", "n"):
        assert meta[field].shape == (sum(sizes), 3)
        assert np.isnan(meta[field][meta["order"] < 3, 2]).all()
        assert not np.isnan(meta[field][meta["order"] == 3]).any()
    third = [key for key in meta["key"] if len(key) == 3]
    assert third == sorted(third) and all(meta["order"][-sizes[3] :] == 3)
    assert all(S.bank.j2[n2] < S.bank.j2[n3] and S.bank.j1[n1] < S.bank.j2[n2] for n1, n2, n3 in third)
    x = _x((2, 128))
    as_dict = S(x)
    assert list(as_dict) == meta["key"]
    as_list = scatterjax.Scattering1D(J=4, shape=128, Q=(2, 2), max_order=3, T=0, out_type="list")(x)
    for entry, key in zip(as_list, meta["key"]):
        assert entry["n"] == key and len(entry["j"]) == len(key)
        np.testing.assert_array_equal(np.asarray(entry["coef"]), np.asarray(as_dict[key]))
    assert as_list[-1]["j"] == tuple(int(j) for j in meta["j"][-1])
    array = scatterjax.Scattering1D(J=4, shape=128, Q=(2, 2), max_order=3)(x)
    assert array.shape == (2, sum(sizes), 8)


def test_jit_equals_eager_and_vmap_equals_loop():
    S = scatterjax.Scattering1D(J=3, shape=64, Q=(1, 2), max_order=3)
    x = _x((2, 64), seed=4)
    eager = np.asarray(scatterjax.scattering1d(jnp.asarray(x), S.bank))
    np.testing.assert_allclose(np.asarray(jax.jit(lambda S, x: S(x))(S, x)), eager, rtol=1e-6, atol=1e-7)
    looped = np.stack([np.asarray(S(row)) for row in x])
    np.testing.assert_allclose(np.asarray(jax.vmap(S)(x)), looped, rtol=1e-6, atol=1e-7)


def test_gradients_match_finite_differences():
    with jax.enable_x64(True):
        S = scatterjax.Scattering1D(J=3, shape=64, Q=(1, 2), max_order=3)
        assert S.output_size(detail=True)[3] > 0
        x = jnp.asarray(_x(64, seed=3, dtype=np.float64))
        check_grads(lambda x: jnp.sum(S(x)[..., -S.output_size(detail=True)[3] :, :] ** 2), (x,),
                    order=1, modes=["rev"], atol=1e-6, rtol=1e-6)


def test_sum_levels_and_stride_follow_the_stated_rates():
    x = _x((2, 128), seed=5)
    mean = scatterjax.Scattering1D(J=4, shape=128, Q=(1, 2), max_order=3, out_type="dict")
    summed = scatterjax.Scattering1D(J=4, shape=128, Q=(1, 2), max_order=3, out_type="dict", levels="sum")
    plan = summed.bank.plan
    exponents = {path: (g.level2, g.k3) for g in plan.order3 for path in g.paths}
    k1 = {n1: g.k1 for g in plan.order1 for n1 in g.n1}
    ours, theirs = summed(x), mean(x)
    for (n1, n2, n3), (level2, k3) in exponents.items():
        k2 = level2 - k1[n1]
        scale = 2.0 ** (3 * k1[n1] + 2 * k2 + k3)
        np.testing.assert_allclose(np.asarray(ours[(n1, n2, n3)]), scale * np.asarray(theirs[(n1, n2, n3)]),
                                   rtol=1e-5, atol=1e-6 * scale)
    strided = scatterjax.Scattering1D(J=4, shape=128, Q=(1, 2), max_order=3, stride=4)
    assert strided(x).shape == (2, strided.output_size(), 32)


def test_bad_max_order_names_the_argument_and_the_range():
    with pytest.raises(ValueError, match=r"max_order must be <= 3, got 4 \(allowed: \[1, 3\]\)"):
        scatterjax.Scattering1D(J=4, shape=128, max_order=4)
    with pytest.raises(ValueError, match="max_order must be <= 2"):  # 2D keeps its two orders
        scatterjax.Scattering2D(J=2, shape=(16, 16), max_order=3)


def test_equinox_adapter_equals_core():
    seqx = pytest.importorskip("scatterjax.equinox")
    core = scatterjax.Scattering1D(J=4, shape=128, Q=(2, 2), max_order=3)
    module = seqx.Scattering1D(J=4, shape=128, Q=(2, 2), max_order=3)
    x = _x((2, 128), seed=6)
    np.testing.assert_array_equal(np.asarray(module(jnp.asarray(x))), np.asarray(core(x)))
    assert module.output_size(detail=True) == core.output_size(detail=True)
