"""TimeFrequencyScattering(pad_mode=...). kymatio 0.3.0 has no JTFS, so the checks are: the default
takes exactly today's padding step; order 0 and the first-order (time-scattering) channels are
Scattering1D's with the same mode; 'periodic' commutes with circular shifts; T='global' sums the
padded signal; plus jit, vmap, grad, errors and an adapter."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import rel_l2
from jax.test_util import check_grads

import scatterjax
from scatterjax._jtfs import core as jtfs_core
from scatterjax._scattering1d import core as core_1d

MODES = ("reflect", "symmetric", "zero", "periodic")
NUMPY_MODES = {"reflect": "reflect", "symmetric": "symmetric", "zero": "constant", "periodic": "wrap"}
KWARGS = dict(J=4, J_fr=1, Q=2, shape=128)


def _x(shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.fixture(scope="module")
def transforms():
    return {mode: scatterjax.TimeFrequencyScattering(**KWARGS, pad_mode=mode) for mode in MODES}


def test_default_takes_todays_reflect_padding(monkeypatch):
    S = scatterjax.TimeFrequencyScattering(**KWARGS)
    assert S.pad_mode == "reflect" == S.bank.time.plan.pad_mode
    x = jnp.asarray(_x((2, 128)))
    explicit = scatterjax.TimeFrequencyScattering(**KWARGS, pad_mode="reflect")
    np.testing.assert_array_equal(np.asarray(S(x)), np.asarray(explicit(x)))

    def program():  # a new function each time: jit traces it anew (a jitted function is cached)
        return jax.jit(lambda x, bank: scatterjax.time_frequency_scattering(x, bank))

    now = np.asarray(program()(x, S.bank))
    try:
        # The padding line as it was before pad_mode existed.
        monkeypatch.setattr(core_1d, "pad_signal", lambda x, widths, mode: jnp.pad(x, widths, mode="reflect"))
        np.testing.assert_array_equal(now, np.asarray(program()(x, S.bank)))
        # (The patch does reach the program: another padding changes the numbers.)
        monkeypatch.setattr(core_1d, "pad_signal", lambda x, widths, mode: jnp.pad(x, widths, mode="wrap"))
        assert rel_l2(np.asarray(program()(x, S.bank)), now) > 1e-3
    finally:
        monkeypatch.undo()
        jax.clear_caches()  # no program traced with a patched padding may serve a later test


@pytest.mark.parametrize("mode", MODES)
def test_time_channels_are_scattering1d_with_the_same_mode(mode, transforms):
    S = transforms[mode]
    # JTFS's time part: kymatio main's rates at stride 2**log2_T and summed filter levels.
    S1D = scatterjax.Scattering1D(J=4, shape=128, Q=2, stride=16, levels="sum", max_order=1, pad_mode=mode)
    x = _x((2, 128), seed=1)
    out, reference = np.asarray(S(x)), np.asarray(S1D(x))
    assert rel_l2(out[:, 0], reference[:, 0]) <= 1e-6  # order 0
    # First order: the frequency scattering of Scattering1D's S1 (its 2**k1 level scale is
    # part of JTFS's frequency operator).
    scale = np.array([2.0**g.k1 for g in S1D.bank.plan.order1 for _ in g.n1])
    s1 = jnp.asarray(reference[:, 1:] / scale[:, None], jnp.float32)
    plan = S.bank.plan
    rows = np.asarray(jtfs_core._frequency_scattering(s1[:, None], S.bank.order1, plan.order1)[:, 0])
    index = [start + i for block, start, _, channels in jtfs_core.path_rows(plan) if block == -1
             for i in range(channels)]
    assert rel_l2(out[:, 1 : 1 + len(index)], rows[:, index]) <= 1e-6


def test_periodic_padding_commutes_with_circular_shifts(transforms):
    # The signal extended periodically: a circular shift by whole output samples (the stride,
    # 2**J here) shifts every channel circularly; the other modes break this near the ends.
    x = _x((2, 128), seed=2)
    for mode, S in transforms.items():
        out = np.asarray(S(x))
        error = rel_l2(np.asarray(S(np.roll(x, 3 * 16, axis=-1))), np.roll(out, 3, axis=-1))
        assert error <= 1e-5 if mode == "periodic" else error >= 1e-2, (mode, error)


@pytest.mark.parametrize("mode", MODES)
def test_global_order0_sums_the_padded_signal(mode):
    S = scatterjax.TimeFrequencyScattering(J=3, J_fr=1, Q=2, shape=40, T="global", pad_mode=mode)
    plan = S.bank.time.plan
    x = _x((2, 40), seed=3, dtype=np.float64)
    padded = np.pad(x, ((0, 0), (plan.pad_left, plan.pad_right)), mode=NUMPY_MODES[mode])
    np.testing.assert_allclose(np.asarray(S(x.astype(np.float32)))[:, 0, 0], padded.sum(-1), rtol=1e-5, atol=1e-5)


def test_jit_equals_eager_and_vmap_equals_loop():
    S = scatterjax.TimeFrequencyScattering(J=3, J_fr=1, Q=2, shape=32, pad_mode="zero")
    x = _x((3, 32), seed=4)
    eager = np.asarray(S(x))
    jitted = jax.jit(scatterjax.time_frequency_scattering)(x, S.bank)
    np.testing.assert_allclose(np.asarray(jitted), eager, rtol=1e-6, atol=1e-7)
    looped = np.stack([np.asarray(S(row)) for row in x])
    np.testing.assert_allclose(np.asarray(jax.vmap(S)(jnp.asarray(x))), looped, rtol=1e-5, atol=1e-7)


def test_gradients_match_finite_differences():
    with jax.enable_x64(True):
        S = scatterjax.TimeFrequencyScattering(J=3, J_fr=1, Q=2, shape=32, pad_mode="periodic")
        x = jnp.asarray(_x(32, seed=5, dtype=np.float64))
        check_grads(lambda x: S(x).sum(), (x,), order=1, modes=["rev"], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("bad", ["edge", "wrap", None])
def test_bad_pad_mode_names_the_argument_and_the_choices(bad):
    choices = "'reflect', 'symmetric', 'zero', 'periodic'"
    with pytest.raises(ValueError, match=f"pad_mode must be one of {choices}; got {bad!r}"):
        scatterjax.TimeFrequencyScattering(J=3, J_fr=1, Q=2, shape=32, pad_mode=bad)


def test_setting_is_static_and_in_the_repr():
    S = scatterjax.TimeFrequencyScattering(J=3, J_fr=1, Q=2, shape=32, pad_mode="symmetric")
    assert "pad_mode='symmetric'" in repr(S)
    leaves, treedef = jax.tree_util.tree_flatten(S)
    assert jax.tree_util.tree_unflatten(treedef, leaves).pad_mode == "symmetric"


def test_equinox_adapter_equals_core():
    seqx = pytest.importorskip("scatterjax.equinox")
    x = _x((2, 32), seed=6)
    core = scatterjax.TimeFrequencyScattering(J=3, J_fr=1, Q=2, shape=32, pad_mode="zero")
    module = seqx.TimeFrequencyScattering(J=3, J_fr=1, Q=2, shape=32, pad_mode="zero")
    assert module.transform.pad_mode == "zero"
    np.testing.assert_allclose(np.asarray(module(jnp.asarray(x))), np.asarray(core(x)), rtol=1e-6, atol=1e-7)
