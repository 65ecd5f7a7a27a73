"""HarmonicScattering3D as a JAX citizen: jit, vmap, pytree, gradients, dtypes, outputs, bad input."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import compiled_programs
from jax.test_util import check_grads

from scatterjax import HarmonicScattering3D, harmonic_scattering3d, order0_integrals
from scatterjax._core.cpu_threads import cpu_threads

SHAPE = (8, 10, 12)


@pytest.fixture(scope="module")
def S():
    return HarmonicScattering3D(J=2, shape=SHAPE, L=2, integral_powers=(0.5, 1.0, 2.0))


def _volumes(batch, shape=SHAPE, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(batch + shape).astype(dtype)


# --- JAX transformations ---------------------------------------------------------------------
def test_jit_equals_eager():
    # Small settings: eager mode dispatches (and compiles) every operation one by one.
    S = HarmonicScattering3D(J=1, shape=(4, 6, 8), L=1, integral_powers=(0.5, 2.0))
    x = _volumes((2,), (4, 6, 8))
    eager = np.asarray(harmonic_scattering3d(jnp.asarray(x), S.bank))
    jitted = np.asarray(jax.jit(harmonic_scattering3d)(x, S.bank))
    np.testing.assert_allclose(eager, jitted, rtol=1e-6, atol=1e-7 * np.abs(jitted).max())
    # The object call splits the batch over the cores: programs for another batch size round differently.
    np.testing.assert_allclose(np.asarray(S(x)), jitted, rtol=1e-5, atol=1e-6 * np.abs(jitted).max())


def test_transform_object_passes_through_jit(S):
    x = _volumes((2,))
    through = jax.jit(lambda S, x: S(x))(S, x)
    eager = np.asarray(S(x))
    np.testing.assert_allclose(np.asarray(through), eager, rtol=1e-5, atol=1e-6 * np.abs(eager).max())


def test_filters_are_arguments_not_constants():
    S = HarmonicScattering3D(J=2, shape=(32, 32, 32), L=2, integral_powers=(1.0, 2.0))
    x = _volumes((1,), (32, 32, 32))
    text = jax.jit(lambda S, x: S(x)).lower(S, x).as_text()
    bank_bytes = sum(leaf.nbytes for leaf in jax.tree_util.tree_leaves(S.bank))
    assert bank_bytes > 2_000_000
    # A baked-in bank would put megabytes of dense constants in the program text.
    assert len(text) < bank_bytes / 4
    assert max(len(line) for line in text.splitlines()) < 5_000
    assert not re.search(r'dense<"0x[0-9A-F]{2000,}', text)


def test_compiles_once_for_every_batch_size():
    cores = cpu_threads()
    S = HarmonicScattering3D(J=1, shape=(8, 8, 8), L=1, integral_powers=(1.5,))
    x = _volumes((2,), (8, 8, 8))
    S(x)
    with compiled_programs() as names:
        S(x + 1)
        # A new object with the same settings reuses the compiled program.
        HarmonicScattering3D(J=1, shape=(8, 8, 8), L=1, integral_powers=(1.5,))(x)
        for count in (1, 3 * cores, 4 * cores, 9 * cores - 1, 40):
            S(_volumes((count,), (8, 8, 8)))
    assert "harmonic_scattering3d" not in names, names

def test_vmap_equals_loop(S):
    xs = _volumes((3, 2))
    mapped = np.asarray(jax.vmap(S)(xs))
    looped = np.stack([np.asarray(S(x)) for x in xs])
    np.testing.assert_allclose(mapped, looped, rtol=1e-5, atol=1e-6 * np.abs(looped).max())


def test_pytree_and_immutability(S):
    leaves, treedef = jax.tree_util.tree_flatten(S)
    assert all(isinstance(leaf, jax.Array) for leaf in leaves)
    assert sum(leaf.nbytes for leaf in jax.tree_util.tree_leaves(S.bank)) == sum(leaf.nbytes for leaf in leaves)
    rebuilt = jax.tree_util.tree_unflatten(treedef, leaves)
    assert isinstance(rebuilt, HarmonicScattering3D) and rebuilt.J == S.J
    with pytest.raises(AttributeError, match="immutable"):
        S.J = 3


def test_batch_dims_any_rank(S):
    x = _volumes((2, 1, 2))
    out = np.asarray(S(x))
    assert out.shape == (2, 1, 2, S.output_size(), 3, 3)
    single = np.asarray(S(x[1, 0, 1]))  # no batch dimension at all
    assert single.shape == (S.output_size(), 3, 3)
    np.testing.assert_allclose(out[1, 0, 1], single, rtol=1e-5, atol=1e-6 * np.abs(single).max())


# --- dtypes -----------------------------------------------------------------------------------
def test_float32_in_float32_out(S):
    assert S(_volumes((1,))).dtype == np.float32


def test_float64_mode_returns_float64():
    with jax.enable_x64(True):
        S = HarmonicScattering3D(J=1, shape=(8, 8, 8), L=1, integral_powers=(1.0,))
        assert all(leaf.dtype in (np.float64, np.complex128) for leaf in jax.tree_util.tree_leaves(S))
        out = S(_volumes((1,), (8, 8, 8), dtype=np.float64))
        assert out.dtype == np.float64
        # float32 input stays float32 even with x64 on.
        assert S(_volumes((1,), (8, 8, 8))).dtype == np.float32


# --- gradients ---------------------------------------------------------------------------------
@pytest.mark.parametrize("shape, covariant", [((8, 8, 8), True), ((8, 8, 8), False),
                                              ((5, 6, 7), True)])
def test_check_grads_away_from_zero(shape, covariant):
    with jax.enable_x64(True):
        S = HarmonicScattering3D(J=1, shape=shape, L=1, rotation_covariant=covariant,
                                 integral_powers=(0.5, 1.0, 2.0))
        x = jnp.asarray(_volumes((1,), shape, seed=3, dtype=np.float64))
        weights = jnp.asarray(np.random.default_rng(4).standard_normal(S(x).shape))

        def loss(x):
            return jnp.sum(weights * S(x)) + jnp.sum(order0_integrals(jnp.abs(x) + 1, (0.5, 2.0)))

        modes = ("rev", "fwd") if covariant and shape == (8, 8, 8) else ("rev",)
        check_grads(loss, (x,), order=1, modes=modes, atol=1e-6, rtol=1e-5, eps=1e-5)


@pytest.mark.parametrize("shape, covariant", [((8, 8, 8), True), ((8, 8, 8), False),
                                              ((5, 6, 7), True)])
def test_gradient_finite_at_zero(shape, covariant):
    S = HarmonicScattering3D(J=1, shape=shape, L=1, rotation_covariant=covariant,
                             integral_powers=(0.5, 1.0, 2.0))
    x = jnp.zeros((1,) + shape, jnp.float32)
    grad = jax.grad(lambda x: jnp.sum(S(x)) + jnp.sum(S.order0(x)))(x)
    assert np.all(np.isfinite(np.asarray(grad)))
    # The order-0 p = 1 term is sum(x): its gradient (1 everywhere) survives; the others are 0.
    np.testing.assert_allclose(np.asarray(grad), 1.0)
    if covariant:  # forward mode too
        _, tangent = jax.jvp(lambda x: S(x), (x,), (jnp.ones_like(x),))
        assert np.all(np.isfinite(np.asarray(tangent)))


def test_filters_receive_no_gradient():
    S = HarmonicScattering3D(J=1, shape=(4, 6, 8), L=1, integral_powers=(1.0,))
    x = _volumes((1,), (4, 6, 8))
    grads = jax.grad(lambda S: jnp.sum(S(x)))(S)
    for leaf in jax.tree_util.tree_leaves(grads):
        assert not np.any(np.asarray(leaf))


# --- outputs, meta() and output_size() ----------------------------------------------------------
@pytest.mark.parametrize("max_order", [1, 2])
def test_meta_and_output_size_match_layout(max_order):
    J, L, powers = 3, 2, (0.5, 2.0)
    S = HarmonicScattering3D(J=J, shape=(8, 8, 8), L=L, max_order=max_order,
                             integral_powers=powers)
    meta = S.meta()
    K = S.output_size()
    assert K == (J + 1) + (J * (J + 1) // 2 if max_order == 2 else 0)
    assert S.output_size(detail=True) == ([J + 1, J * (J + 1) // 2] if max_order == 2 else [J + 1])
    out = S(_volumes((2,), (8, 8, 8)))
    assert out.shape[1:] == (K, L + 1, len(powers))
    for field in ("order", "j1", "j2", "l", "power", "sigma1", "sigma2"):
        assert meta[field].shape == out.shape[1:]
    assert len(meta["key"]) == K
    expected_keys = [(j,) for j in range(J + 1)]
    if max_order == 2:
        expected_keys += [(a, b) for a in range(J + 1) for b in range(a + 1, J + 1)]
    assert meta["key"] == expected_keys
    for k, key in enumerate(meta["key"]):
        assert np.all(meta["order"][k] == len(key))
        assert np.all(meta["j1"][k] == key[0])
        if len(key) == 2:
            assert np.all(meta["j2"][k] == key[1])
            assert np.all(meta["sigma2"][k] == 2.0 ** key[1])
        else:
            assert np.all(np.isnan(meta["j2"][k])) and np.all(np.isnan(meta["sigma2"][k]))
    np.testing.assert_array_equal(meta["l"][0, :, 0], np.arange(L + 1))
    np.testing.assert_array_equal(meta["power"][0, 0], powers)


def test_dict_and_list_outputs_match_array():
    kwargs = dict(J=2, shape=(8, 8, 8), L=1, integral_powers=(1.0, 2.0))
    x = _volumes((2,), (8, 8, 8))
    array = np.asarray(HarmonicScattering3D(**kwargs)(x))
    as_dict = HarmonicScattering3D(**kwargs, out_type="dict")(x)
    as_list = HarmonicScattering3D(**kwargs, out_type="list")(x)
    keys = HarmonicScattering3D(**kwargs).meta()["key"]
    assert list(as_dict) == keys
    assert [entry["j"] for entry in as_list] == keys
    assert [entry["order"] for entry in as_list] == [len(k) for k in keys]
    for k, key in enumerate(keys):
        np.testing.assert_array_equal(np.asarray(as_dict[key]), array[:, k])
        np.testing.assert_array_equal(np.asarray(as_list[k]["coef"]), array[:, k])


def test_order0_integrals():
    x = np.random.default_rng(5).uniform(0.5, 2.0, (2, 4, 6, 8)).astype(np.float32)
    got = np.asarray(order0_integrals(x, (0.5, 1.0, 2.0)))
    expected = np.stack([(x.astype(np.float64) ** p).sum((-3, -2, -1)) for p in (0.5, 1, 2)], -1)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    S = HarmonicScattering3D(J=1, shape=(4, 6, 8), L=1, integral_powers=(0.5, 1.0, 2.0))
    np.testing.assert_allclose(np.asarray(S.order0(x)), got, rtol=1e-7)
    # Negative voxels with a non-integer power give NaN, as in kymatio.
    assert np.isnan(np.asarray(order0_integrals(-x, (0.5,)))).all()


def test_nan_propagates(S):
    x = _volumes((2,))
    x[1, 0, 0, 0] = np.nan
    out = np.asarray(S(x))
    assert np.all(np.isfinite(out[0])) and np.all(np.isnan(out[1]))


# --- bad input -----------------------------------------------------------------------------------
def test_input_of_wrong_rank(S):
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 8, 10, 12\)"):
        S(np.zeros((10, 12), np.float32))


def test_input_of_wrong_trailing_shape(S):
    with pytest.raises(ValueError, match="8, 10, 12"):
        S(np.zeros((2, 8, 10, 11), np.float32))


def test_complex_input(S):
    with pytest.raises(TypeError, match="real"):
        S(np.zeros((1,) + SHAPE, np.complex64))


def test_integer_input(S):
    with pytest.raises(TypeError, match="float32 or float64"):
        S(np.zeros((1,) + SHAPE, np.int32))


def test_negative_J():
    with pytest.raises(ValueError, match="J must be >= 0"):
        HarmonicScattering3D(J=-1, shape=(8, 8, 8))


def test_non_integer_J():
    with pytest.raises(TypeError, match="J must be an integer"):
        HarmonicScattering3D(J=1.5, shape=(8, 8, 8))


def test_J_too_large():
    # 2**J beyond the volume is kymatio's (and ours, tested for parity); float32 overflow is not.
    assert HarmonicScattering3D(J=4, shape=(8, 6, 4), L=1).output_size() == 15
    with pytest.raises(ValueError, match=r"J=80 is too large for sigma_0=1.0: .* J <= 74"):
        HarmonicScattering3D(J=80, shape=(8, 6, 4), L=0)


def test_negative_L():
    with pytest.raises(ValueError, match="L must be >= 0"):
        HarmonicScattering3D(J=1, shape=(8, 8, 8), L=-1)


@pytest.mark.parametrize("sigma_0", [0, -1.0, float("nan"), "1"])
def test_bad_sigma_0(sigma_0):
    with pytest.raises(ValueError, match="sigma_0 must be a positive finite number"):
        HarmonicScattering3D(J=1, shape=(8, 8, 8), sigma_0=sigma_0)


def test_empty_integral_powers():
    with pytest.raises(ValueError, match="integral_powers must not be empty"):
        HarmonicScattering3D(J=1, shape=(8, 8, 8), integral_powers=())


@pytest.mark.parametrize("powers", [(1.0, 0.0), (-0.5,), (float("inf"),)])
def test_non_positive_integral_powers(powers):
    with pytest.raises(ValueError, match="integral_powers must be positive and finite"):
        HarmonicScattering3D(J=1, shape=(8, 8, 8), integral_powers=powers)


def test_scalar_integral_powers():
    with pytest.raises(ValueError, match="sequence"):
        HarmonicScattering3D(J=1, shape=(8, 8, 8), integral_powers=2.0)


def test_unknown_method():
    with pytest.raises(ValueError, match="method must be one of 'integral'"):
        HarmonicScattering3D(J=1, shape=(8, 8, 8), method="standard")


def test_points_rejected():
    with pytest.raises(ValueError, match="points must be None"):
        HarmonicScattering3D(J=1, shape=(8, 8, 8), points=np.zeros((4, 3)))


def test_bad_max_order():
    with pytest.raises(ValueError, match="max_order must be <= 2"):
        HarmonicScattering3D(J=1, shape=(8, 8, 8), max_order=3)


def test_an_L_whose_wavelets_overflow_is_refused_naming_L():
    # |w|^L sigma^L is float32 (kymatio's filters are NaN here); L=12 is the largest test elsewhere.
    with np.errstate(over="ignore"), pytest.raises(ValueError, match="L=32 is too large for shape=.8, 8, 8."):
        HarmonicScattering3D(J=1, shape=(8, 8, 8), L=32)
    # The design stops at the first degree that overflows (|w|^2 <= 3 pi^2 here: degree 27), so an
    # absurd L is refused before its (L + 1)^2 wavelets are designed.
    with np.errstate(over="ignore"), pytest.raises(ValueError, match=r"degree-27 wavelets .* use L < 27"):
        HarmonicScattering3D(J=1, shape=(8, 8, 8), L=300)
    with np.errstate(over="ignore"):
        S = HarmonicScattering3D(J=0, shape=(8, 8, 8), L=26)
    leaves = [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(S.bank)]
    assert all(np.isfinite(leaf).all() for leaf in leaves if np.issubdtype(leaf.dtype, np.inexact))


def test_an_absurd_L_is_refused_before_any_wavelet_is_designed(monkeypatch):
    # |w|^27 overflows on any grid; the check reads only the radial parts (one array per degree),
    # so L=300 no longer designs the 378 wavelets of degrees 0..26 first.
    from scatterjax._harmonic3d.design import HarmonicGrid

    designed = []
    original = HarmonicGrid.spherical_harmonic
    monkeypatch.setattr(
        HarmonicGrid, "spherical_harmonic", lambda grid, l, m: designed.append((l, m)) or original(grid, l, m)
    )
    with pytest.raises(ValueError, match=r"degree-27 wavelets .* use L < 27"):
        HarmonicScattering3D(J=1, shape=(8, 8, 8), L=300)
    assert designed == []


@pytest.mark.parametrize("sigma", [3.0, 3.4, 4.0])
@pytest.mark.parametrize("orders", [lambda l: range(-l, l + 1), lambda l: range(l + 1)])
def test_the_overflow_check_is_exact_where_only_the_harmonic_overflows(sigma, orders):
    # At |w| ~ 2 and sigma ~ 3.5 the radial part (sigma |w|)^l exp(-(sigma |w|)^2 / 2) stays finite
    # past degree 57 while its product with Y_l^m (up to sqrt((2 l + 1) / 4 pi) ~ 3) does not: the
    # check must design that degree's orders, not trust the radial part.
    from scatterjax._harmonic3d.design import HarmonicGrid

    grid = HarmonicGrid(np.array([[2.0, 0.5, 0.0], [0.0, 0.0, 0.3], [0.0, 0.0, 0.0]], np.float32))
    with np.errstate(all="ignore"):
        by_definition = next(
            l
            for l in range(80)
            if any(not np.isfinite(grid.solid_harmonic(l, sigma, m)).all() for m in orders(l))
        )
    assert np.isfinite(grid.radial(by_definition, sigma)).all()
    assert grid.first_overflowing_degree(79, sigma, orders) == by_definition
    assert grid.first_overflowing_degree(by_definition - 1, sigma, orders) is None


def test_bad_shape():
    with pytest.raises(ValueError, match="shape must be a tuple of 3 ints"):
        HarmonicScattering3D(J=1, shape=(8, 8))


def test_bad_rotation_covariant():
    with pytest.raises(TypeError, match="rotation_covariant must be True or False"):
        HarmonicScattering3D(J=1, shape=(8, 8, 8), rotation_covariant="yes")


def test_bad_out_type():
    with pytest.raises(ValueError, match="out_type must be one of"):
        HarmonicScattering3D(J=1, shape=(8, 8, 8), out_type="tensor")
