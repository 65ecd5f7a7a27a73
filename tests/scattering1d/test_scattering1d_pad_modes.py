"""Scattering1D(pad_mode=...): kymatio 0.3.0's algorithm with only its padding step swapped for
``np.pad(mode)`` is the oracle, for every mode; plus T='global', shifts, jit, vmap, grad, errors."""

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

# (J, Q, N, T, max_order, out_type): N=5 pads 1 and 2 samples (the widest relative to N that the
# padded length allows, pad < N), unaveraged paths (T=0) are cropped near the padding.
CONFIGS = [
    (2, 2, 5, None, 2, "array"),
    (4, 4, 150, 10, 2, "array"),
    (3, (4, 2), 100, 0, 2, "dict"),
]


@pytest.fixture
def kymatio_pad_mode(monkeypatch):
    """``use(mode)`` makes kymatio's NumPy 1D backend pad with ``np.pad(mode)``, nothing else changed."""
    kymatio()
    from kymatio.scattering1d.backend.numpy_backend import NumpyBackend1D

    def use(mode):
        def pad(cls, x, pad_left, pad_right):
            widths = ((0, 0),) * (x.ndim - 1) + ((pad_left, pad_right),)
            return np.pad(x, widths, mode=NUMPY_MODES[mode])

        monkeypatch.setattr(NumpyBackend1D, "pad", classmethod(pad))

    return use


def _flat(output, out_type) -> np.ndarray:
    if out_type == "array":
        return np.asarray(output).ravel()
    values = output.values() if out_type == "dict" else [d["coef"] for d in output]
    return np.concatenate([np.asarray(v).ravel() for v in values])


def _compare(config, mode, dtype, use) -> float:
    J, Q, N, T, max_order, out_type = config
    kwargs = dict(J=J, shape=N, Q=Q, T=T, max_order=max_order, out_type=out_type)
    use(mode)
    reference = kymatio().numpy.Scattering1D(**kwargs)
    ours = scatterjax.Scattering1D(**kwargs, pad_mode=mode)
    x = np.random.default_rng(N).standard_normal((2, N)).astype(dtype)
    got = ours(x)
    if out_type == "dict":
        assert list(got) == list(reference(x.astype(np.float64)))
    return rel_l2(_flat(got, out_type), _flat(reference(x.astype(np.float64)), out_type))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "J{}-Q{}-N{}-T{}-m{}-{}".format(*c))
def test_kymatio_with_np_pad_float32(config, mode, kymatio_pad_mode):
    assert _compare(config, mode, np.float32, kymatio_pad_mode) <= 2e-5


def test_kymatio_with_np_pad_float64(kymatio_pad_mode):
    with jax.enable_x64(True):
        assert _compare(CONFIGS[1], "symmetric", np.float64, kymatio_pad_mode) <= 1e-10


def test_default_is_reflect():
    x = np.random.default_rng(0).standard_normal((2, 32)).astype(np.float32)
    default = scatterjax.Scattering1D(J=2, shape=32, Q=2)
    assert default.pad_mode == "reflect" == default.bank.plan.pad_mode
    explicit = scatterjax.Scattering1D(J=2, shape=32, Q=2, pad_mode="reflect")
    np.testing.assert_array_equal(np.asarray(default(x)), np.asarray(explicit(x)))


@pytest.mark.parametrize("mode", MODES)
def test_global_order0_sums_the_padded_signal(mode):
    S = scatterjax.Scattering1D(J=3, shape=50, Q=2, T="global", max_order=1, pad_mode=mode)
    x = np.random.default_rng(1).standard_normal((3, 50))
    padded = np.pad(x, ((0, 0), (S.pad_left, S.pad_right)), mode=NUMPY_MODES[mode])
    np.testing.assert_allclose(np.asarray(S(x.astype(np.float32)))[:, 0, 0], padded.sum(-1), rtol=1e-5, atol=1e-5)


def test_periodic_padding_commutes_with_circular_shifts():
    # With the signal extended periodically, a circular shift by whole output samples shifts the
    # output circularly (up to the filters' negligible tails beyond the padding); reflect does not.
    x = np.random.default_rng(2).standard_normal((1, 512)).astype(np.float32)
    for mode, bound in (("periodic", lambda e: e <= 1e-5), ("reflect", lambda e: e >= 1e-2)):
        S = scatterjax.Scattering1D(J=4, shape=512, Q=4, pad_mode=mode)
        out = np.asarray(S(x))
        shifted = np.asarray(S(np.roll(x, 3 * 16, axis=-1)))
        assert bound(rel_l2(shifted, np.roll(out, 3, axis=-1))), mode


def test_jit_equals_eager_and_vmap_equals_loop():
    S = scatterjax.Scattering1D(J=2, shape=32, Q=2, pad_mode="zero")
    x = np.random.default_rng(3).standard_normal((3, 32)).astype(np.float32)
    eager = np.asarray(S(x))
    np.testing.assert_allclose(np.asarray(jax.jit(scatterjax.scattering1d)(x, S.bank)), eager, rtol=1e-6, atol=1e-7)
    looped = np.stack([np.asarray(S(row)) for row in x])
    np.testing.assert_allclose(np.asarray(jax.vmap(S)(jnp.asarray(x))), looped, rtol=1e-6, atol=1e-7)


def test_gradients_match_finite_differences():
    with jax.enable_x64(True):
        S = scatterjax.Scattering1D(J=2, shape=32, Q=1, pad_mode="symmetric")
        x = jnp.asarray(np.random.default_rng(4).standard_normal(32))
        check_grads(lambda x: jnp.sum(S(x) ** 2), (x,), order=1, modes=["rev"], atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("bad", ["edge", "constant", "wrap", None, 0])
def test_bad_pad_mode_names_the_argument_and_the_choices(bad):
    choices = "'reflect', 'symmetric', 'zero', 'periodic'"
    with pytest.raises(ValueError, match=f"pad_mode must be one of {choices}; got {bad!r}"):
        scatterjax.Scattering1D(J=2, shape=32, pad_mode=bad)


def test_setting_is_static_plain_and_immutable():
    S = scatterjax.Scattering1D(J=2, shape=32, pad_mode=np.str_("periodic"))
    assert type(S.pad_mode) is str and S.pad_mode == "periodic" == S.bank.plan.pad_mode
    assert "pad_mode='periodic'" in repr(S)
    S.pad_mode = "periodic"  # kymatio-style re-assignment of an equal value is a no-op
    with pytest.raises(AttributeError, match="immutable"):
        S.pad_mode = "zero"
    leaves, treedef = jax.tree_util.tree_flatten(S)
    assert jax.tree_util.tree_unflatten(treedef, leaves).pad_mode == "periodic"


def test_equinox_adapter_equals_core():
    seqx = pytest.importorskip("scatterjax.equinox")
    x = np.random.default_rng(5).standard_normal((2, 64)).astype(np.float32)
    core = scatterjax.Scattering1D(J=3, shape=64, Q=2, pad_mode="zero")
    module = seqx.Scattering1D(J=3, shape=64, Q=2, pad_mode="zero")
    assert module.transform.pad_mode == "zero"
    np.testing.assert_allclose(np.asarray(module(jnp.asarray(x))), np.asarray(core(x)), rtol=1e-6, atol=1e-7)
