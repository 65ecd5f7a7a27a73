"""Scattering2D(pad_mode=...): kymatio 0.3.0's algorithm with only its ``Pad`` step swapped for
``np.pad(mode)`` is the oracle, for every mode, including pads as wide as the image; plus
``S.pad``, ``pre_pad``, jit, vmap, grad, errors and an adapter."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import kymatio, rel_l2
from jax.test_util import check_grads

import scatterjax

MODES = ("reflect", "symmetric", "zero", "periodic")
NUMPY_MODES = {"reflect": "reflect", "symmetric": "symmetric", "zero": "constant", "periodic": "wrap"}

# (J, shape, L, max_order). (4, 7) with J=2 pads the rows by 4 = M each side (the widest the
# padded shape allows: a pad never exceeds the image, but can equal it); (2, 3) with J=1 likewise.
CONFIGS = [
    (2, (20, 36), 4, 2),
    (2, (4, 7), 2, 2),
    (1, (2, 3), 2, 1),
]


@pytest.fixture
def kymatio_pad_mode(monkeypatch):
    """``use(mode)`` makes kymatio's NumPy 2D ``Pad`` use ``np.pad(mode)``, nothing else changed."""
    kymatio()
    from kymatio.scattering2d.backend.numpy_backend import Pad

    def use(mode):
        def call(self, x):
            (top, bottom, left, right) = self.pad_size
            return np.pad(x, ((0, 0), (top, bottom), (left, right)), mode=NUMPY_MODES[mode])

        monkeypatch.setattr(Pad, "__call__", call)

    return use


def _compare(config, mode, dtype, use) -> float:
    J, shape, L, max_order = config
    use(mode)
    reference = kymatio().numpy.Scattering2D(J=J, shape=shape, L=L, max_order=max_order)
    ours = scatterjax.Scattering2D(J=J, shape=shape, L=L, max_order=max_order, pad_mode=mode)
    x = np.random.default_rng(sum(shape)).standard_normal((2, *shape)).astype(dtype)
    return rel_l2(np.asarray(ours(x)), reference(x.astype(np.float64)))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "J{}-{}x{}-L{}-m{}".format(c[0], *c[1], *c[2:]))
def test_kymatio_with_np_pad_float32(config, mode, kymatio_pad_mode):
    assert _compare(config, mode, np.float32, kymatio_pad_mode) <= 2e-5


def test_kymatio_with_np_pad_float64(kymatio_pad_mode):
    with jax.enable_x64(True):
        assert _compare(CONFIGS[1], "periodic", np.float64, kymatio_pad_mode) <= 1e-10


def test_jnp_pad_is_np_pad_for_every_width():
    # The transform pads with jnp.pad; np.pad defines the modes, also for pads wider than the
    # signal (repeated reflection, wrapping more than once). One program for every case.
    signals = [np.arange(1.0, length + 1) for length in (2, 3)]
    cases = [
        (i, (before, before + extra), mode)
        for i, x in enumerate(signals)
        for before in range(2 * x.size + 2)
        for extra in (0, 1)
        for mode in NUMPY_MODES.values()
    ]
    padded = jax.jit(lambda xs: [jnp.pad(xs[i], widths, mode=mode) for i, widths, mode in cases])(signals)
    for (i, widths, mode), got in zip(cases, padded):
        np.testing.assert_array_equal(np.asarray(got), np.pad(signals[i], widths, mode=mode))


@pytest.mark.parametrize("mode", MODES)
def test_pad_method_uses_the_mode_and_feeds_pre_pad(mode):
    S = scatterjax.Scattering2D(J=2, shape=(4, 7), L=2, max_order=1, pad_mode=mode)
    x = np.random.default_rng(1).standard_normal((2, 4, 7)).astype(np.float32)
    (top, bottom), (left, right) = S.bank.plan.pad_rows, S.bank.plan.pad_cols
    expected = np.pad(x, ((0, 0), (top, bottom), (left, right)), mode=NUMPY_MODES[mode])
    padded = S.pad(x)
    assert isinstance(padded, np.ndarray)
    np.testing.assert_array_equal(padded, expected)
    np.testing.assert_array_equal(np.asarray(S.pad(jnp.asarray(x))), expected)
    # A pre_pad transform never pads (any pad_mode): fed S.pad(x), it gives S(x).
    pre = scatterjax.Scattering2D(J=2, shape=(4, 7), L=2, max_order=1, pre_pad=True)
    assert pre.pad(padded) is padded
    np.testing.assert_allclose(np.asarray(pre(padded)), np.asarray(S(x)), rtol=1e-6, atol=1e-7)


def test_default_is_reflect():
    x = np.random.default_rng(2).standard_normal((1, 8, 8)).astype(np.float32)
    default = scatterjax.Scattering2D(J=1, shape=(8, 8), L=2)
    assert default.pad_mode == "reflect" == default.bank.plan.pad_mode
    explicit = scatterjax.Scattering2D(J=1, shape=(8, 8), L=2, pad_mode="reflect")
    np.testing.assert_array_equal(np.asarray(default(x)), np.asarray(explicit(x)))


def test_jit_equals_eager_and_vmap_equals_loop():
    S = scatterjax.Scattering2D(J=1, shape=(8, 8), L=2, pad_mode="symmetric")
    x = np.random.default_rng(3).standard_normal((3, 8, 8)).astype(np.float32)
    eager = np.asarray(S(x))
    np.testing.assert_allclose(np.asarray(jax.jit(scatterjax.scattering2d)(x, S.bank)), eager, rtol=1e-6, atol=1e-7)
    looped = np.stack([np.asarray(S(image)) for image in x])
    np.testing.assert_allclose(np.asarray(jax.vmap(S)(jnp.asarray(x))), looped, rtol=1e-6, atol=1e-7)


def test_gradients_match_finite_differences():
    with jax.enable_x64(True):
        S = scatterjax.Scattering2D(J=1, shape=(8, 8), L=2, pad_mode="periodic")
        x = jnp.asarray(np.random.default_rng(4).standard_normal((8, 8)))
        check_grads(lambda x: jnp.sum(S(x) ** 2), (x,), order=1, modes=["rev"], atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("bad", ["edge", "constant", None])
def test_bad_pad_mode_names_the_argument_and_the_choices(bad):
    choices = "'reflect', 'symmetric', 'zero', 'periodic'"
    with pytest.raises(ValueError, match=f"pad_mode must be one of {choices}; got {bad!r}"):
        scatterjax.Scattering2D(J=1, shape=(8, 8), pad_mode=bad)


def test_setting_is_static_and_in_the_repr():
    S = scatterjax.Scattering2D(J=1, shape=(8, 8), L=2, pad_mode="zero")
    assert "pad_mode='zero'" in repr(S)
    leaves, treedef = jax.tree_util.tree_flatten(S)
    assert jax.tree_util.tree_unflatten(treedef, leaves).pad_mode == "zero"


def test_equinox_adapter_equals_core():
    seqx = pytest.importorskip("scatterjax.equinox")
    x = np.random.default_rng(5).standard_normal((2, 8, 8)).astype(np.float32)
    core = scatterjax.Scattering2D(J=1, shape=(8, 8), L=2, pad_mode="zero")
    module = seqx.Scattering2D(J=1, shape=(8, 8), L=2, pad_mode="zero")
    assert module.transform.pad_mode == "zero"
    np.testing.assert_allclose(np.asarray(module(jnp.asarray(x))), np.asarray(core(x)), rtol=1e-6, atol=1e-7)
