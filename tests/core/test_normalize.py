"""scatterjax.normalize: each path divided by its parent (relative eps), optionally in log.

Oracle: a float64 NumPy loop over ``S.meta()['key']`` written from the definition in the
module docstring of ``scatterjax._applications.normalize``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import rel_l2
from jax.test_util import check_grads

import scatterjax


def _x(shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def reference(Sx, S, eps=1e-3, log=False, abs_average=None, summed=None) -> np.ndarray:
    """``summed``: the same transform with ``levels='sum'`` (kymatio main's units, 1D), whose
    values the ratios are taken in; other channels keep ``Sx``'s values."""
    axis = -2 if isinstance(S, scatterjax.Scattering1D) else -3
    n_spatial = -axis - 1
    channels = np.moveaxis(np.asarray(Sx, np.float64), axis, 0)  # (C, *batch, *spatial)
    source = channels if summed is None else np.moveaxis(np.asarray(summed, np.float64), axis, 0)
    keys = list(S.meta()["key"])

    def level(arrays):
        stacked = np.stack(arrays)
        mean = stacked.mean(axis=(0, *range(stacked.ndim - n_spatial, stacked.ndim)))
        mean = np.where(mean > 0, mean, 1.0)
        return mean.reshape(mean.shape + (1,) * n_spatial)

    def order_level(values, order):
        return level([values[c] for c, key in enumerate(keys) if len(key) == order])

    out = channels.copy()
    for c, key in enumerate(keys):
        if len(key) >= 2:
            parent = keys.index(key[:-1])
            out[c] = source[c] / (source[parent] + eps * order_level(source, len(key) - 1))
        elif len(key) == 1 and abs_average is not None:
            average = np.moveaxis(np.asarray(abs_average, np.float64), axis, 0)[0]
            out[c] = source[c] / (average + eps * level([average]))
    if log:
        ratios = out.copy()
        for c, key in enumerate(keys):
            if len(key) >= 1:
                out[c] = np.log(ratios[c] + eps * order_level(ratios, len(key)))
    return np.moveaxis(out, 0, axis)


@pytest.fixture(scope="module")
def S1():
    return scatterjax.Scattering1D(J=3, shape=128, Q=2)


@pytest.fixture(scope="module")
def S2():
    return scatterjax.Scattering2D(J=2, shape=(16, 16), L=2)


@pytest.mark.parametrize("log", [False, True])
def test_1d_matches_the_loop(S1, log):
    x = _x((2, 3, 128))
    Sx = S1(x)
    summed = scatterjax.Scattering1D(J=3, shape=128, Q=2, levels="sum")(x)
    abs_average = S1(np.abs(x))[..., :1, :]
    for kwargs in ({}, {"abs_average": abs_average}, {"eps": 0.1}):
        out = scatterjax.normalize(Sx, S1, log=log, **kwargs)
        assert out.shape == Sx.shape and out.dtype == jnp.float32
        assert rel_l2(out, reference(Sx, S1, log=log, summed=summed, **kwargs)) <= 1e-5


@pytest.mark.parametrize("max_order", [2, 3])
def test_ratios_do_not_depend_on_the_level_convention(max_order):
    # kymatio 0.3.0's mean levels scale each path by a power of two of its subsampling exponents;
    # the ratios must be the signal's, the same as with kymatio main's summed levels.
    x = _x((2, 512), seed=4)
    kwargs = dict(J=5, shape=512, Q=(4, 2), max_order=max_order)
    mean, summed = scatterjax.Scattering1D(**kwargs), scatterjax.Scattering1D(**kwargs, levels="sum")
    deeper = mean.meta()["order"] >= 2
    for log in (False, True):
        a = np.asarray(scatterjax.normalize(mean(x), mean, log=log))[:, deeper]
        b = np.asarray(scatterjax.normalize(summed(x), summed, log=log))[:, deeper]
        assert rel_l2(a, b) <= 1e-6


@pytest.mark.parametrize("log", [False, True])
def test_2d_matches_the_loop(S2, log):
    Sx = S2(np.abs(_x((3, 16, 16), seed=1)))
    out = scatterjax.normalize(np.asarray(Sx), S2, log=log)  # NumPy in
    assert rel_l2(out, reference(Sx, S2, log=log)) <= 1e-5


def test_third_order_paths_divide_by_their_second_order_parent():
    try:
        S = scatterjax.Scattering1D(J=4, shape=64, Q=2, max_order=3)
    except ValueError:
        pytest.skip("max_order=3 is not available")
    x = _x((2, 64), seed=2)
    Sx = S(x)
    summed = scatterjax.Scattering1D(J=4, shape=64, Q=2, max_order=3, levels="sum")(x)
    assert max(len(key) for key in S.meta()["key"]) == 3
    assert rel_l2(scatterjax.normalize(Sx, S, log=True), reference(Sx, S, log=True, summed=summed)) <= 1e-5


def test_float64_matches_the_loop():
    with jax.enable_x64(True):
        S = scatterjax.Scattering1D(J=3, shape=64, Q=2)
        x = _x((2, 64), seed=3, dtype=np.float64)
        Sx = S(x)
        summed = scatterjax.Scattering1D(J=3, shape=64, Q=2, levels="sum")(x)
        out = scatterjax.normalize(Sx, S, log=True)
        assert out.dtype == jnp.float64
        assert rel_l2(out, reference(Sx, S, log=True, summed=summed)) <= 1e-12


def test_ratios_are_gain_invariant_and_silence_is_finite(S1):
    Sx = S1(_x((2, 128), seed=4))
    second = S1.meta()["order"] == 2
    np.testing.assert_allclose(
        np.asarray(scatterjax.normalize(10 * Sx, S1, log=True))[:, second],
        np.asarray(scatterjax.normalize(Sx, S1, log=True))[:, second], rtol=1e-5, atol=1e-5,
    )
    zero = scatterjax.normalize(S1(np.zeros((1, 128), np.float32)), S1)
    assert np.all(np.asarray(zero) == 0)
    grad = jax.jit(jax.grad(lambda x: jnp.sum(scatterjax.normalize(S1(x), S1, log=True))))(jnp.zeros(128))
    assert np.all(np.isfinite(np.asarray(grad)))


def test_jit_equals_eager_and_vmap_equals_loop(S1):
    Sx = S1(_x((4, 128), seed=5))
    eager = np.asarray(scatterjax.normalize(Sx, S1, log=True))
    jitted = jax.jit(lambda Sx, S: scatterjax.normalize(Sx, S, log=True))(Sx, S1)
    np.testing.assert_allclose(np.asarray(jitted), eager, rtol=1e-6, atol=1e-6)
    batched = jax.vmap(lambda row: scatterjax.normalize(row, S1, log=True))(Sx)
    looped = np.stack([np.asarray(scatterjax.normalize(row, S1, log=True)) for row in Sx])
    np.testing.assert_allclose(np.asarray(batched), looped, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(looped, eager, rtol=1e-6, atol=1e-6)


def test_gradients_match_finite_differences():
    with jax.enable_x64(True):
        S = scatterjax.Scattering1D(J=3, shape=64, Q=2)
        x = jnp.asarray(_x((64,), seed=6, dtype=np.float64))
        loss = jax.jit(lambda x: jnp.sum(scatterjax.normalize(S(x), S, log=True) * jnp.arange(8.0)))
        check_grads(loss, (x,), order=1, modes=["rev"])


def test_bad_arguments(S1):
    Sx = S1(_x((2, 128)))
    with pytest.raises(ValueError, match=r"Sx must have shape \(\*batch, C=12"):
        scatterjax.normalize(Sx[:, 1:], S1)
    with pytest.raises(ValueError, match="out_type='dict'.*Build S with out_type='array'"):
        scatterjax.normalize(Sx, scatterjax.Scattering1D(J=3, shape=128, Q=2, out_type="dict"))
    with pytest.raises(ValueError, match="Sx must be one array"):
        scatterjax.normalize({(): Sx}, S1)
    with pytest.raises(ValueError, match="eps must be a positive finite float"):
        scatterjax.normalize(Sx, S1, eps=0)
    with pytest.raises(ValueError, match=r"abs_average must have shape \(2, 1, 16\)"):
        scatterjax.normalize(Sx, S1, abs_average=Sx[:, :2])
    with pytest.raises(TypeError, match="S must be the Scattering1D or Scattering2D"):
        scatterjax.normalize(Sx, "S1")
    with pytest.raises(TypeError, match="log must be True or False"):
        scatterjax.normalize(Sx, S1, log="yes")


def test_an_equinox_module_stands_for_its_core(S1):
    module = pytest.importorskip("scatterjax.equinox").Scattering1D(J=3, shape=128, Q=2)
    Sx = S1(_x((2, 128), seed=7))
    np.testing.assert_array_equal(
        np.asarray(scatterjax.normalize(Sx, module, log=True)),
        np.asarray(scatterjax.normalize(Sx, S1, log=True)),
    )
