"""Scattering1D as a JAX citizen: jit, compile caching, filters as arguments, vmap, grad, dtypes."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import compiled_programs
from jax.test_util import check_grads

import scatterjax


@pytest.fixture(scope="module")
def small():
    return scatterjax.Scattering1D(J=4, shape=256, Q=4)


def _x(shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def test_jit_equals_eager(small):
    x = _x((3, 256))
    eager = np.asarray(scatterjax.scattering1d(jnp.asarray(x), small.bank))
    jitted = np.asarray(jax.jit(lambda S, x: S(x))(small, x))
    np.testing.assert_allclose(jitted, eager, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(np.asarray(small(x)), eager, rtol=1e-6, atol=1e-7)


def test_numpy_and_jax_inputs_agree(small):
    x = _x((2, 256))
    np.testing.assert_array_equal(np.asarray(small(x)), np.asarray(small(jnp.asarray(x))))


def test_one_program_serves_every_batch_size():
    S = scatterjax.Scattering1D(J=3, shape=128, Q=2)
    S(_x((2, 128)))  # compiles the program for the eager chunks
    with compiled_programs() as names:
        for batch in (1, 3, 5, 8, 33, 40, 64, 200):
            S(_x((batch, 128)))
        S(_x((2, 3, 128)))
        # A second object with the same configuration reuses the compiled program.
        scatterjax.Scattering1D(J=3, shape=128, Q=2)(_x((2, 128)))
    assert "scattering1d" not in names, names


def test_filters_are_arguments_not_constants():
    S = scatterjax.Scattering1D(J=6, shape=4096, Q=8)
    x = _x((1, 4096))
    hlo = jax.jit(lambda S, x: S(x)).lower(S, x).as_text()
    filter_bytes = sum(leaf.nbytes for leaf in jax.tree_util.tree_leaves(S.bank))
    assert filter_bytes > 1_000_000
    # The program text stays far smaller than the filters it would embed as constants.
    assert len(hlo) < filter_bytes / 10
    n_arguments = len(jax.tree_util.tree_leaves(S.bank)) + 1
    lowered = jax.jit(lambda S, x: S(x)).lower(S, x)
    assert len(jax.tree_util.tree_leaves(lowered.args_info)) == n_arguments


def test_vmap_equals_loop(small):
    x = _x((4, 256))
    batched = np.asarray(jax.vmap(small)(x))
    looped = np.stack([np.asarray(small(row)) for row in x])
    np.testing.assert_allclose(batched, looped, rtol=1e-6, atol=1e-7)


def test_vmap_over_transform_objects_is_a_pytree_map():
    S = scatterjax.Scattering1D(J=3, shape=64, Q=2)
    leaves, treedef = jax.tree_util.tree_flatten(S)
    rebuilt = jax.tree_util.tree_unflatten(treedef, leaves)
    x = _x((2, 64))
    np.testing.assert_array_equal(np.asarray(rebuilt(x)), np.asarray(S(x)))
    assert treedef == jax.tree_util.tree_structure(scatterjax.Scattering1D(J=3, shape=64, Q=2))


@pytest.mark.parametrize("T", [None, 0, 64])  # 64: averages with few samples, computed in time
def test_gradients_match_finite_differences(T):
    with jax.enable_x64(True):
        S = scatterjax.Scattering1D(J=3, shape=64, Q=2, T=T, out_type="array" if T != 0 else "list")
        if T == 64:
            assert any(lowpass.direct for lowpass in S.bank.plan.lowpasses)
        x = jnp.asarray(_x((64,), seed=3, dtype=np.float64))

        def loss(x):
            out = S(x)
            coefficients = out if T != 0 else jnp.concatenate([d["coef"] for d in out])
            return jnp.sum(coefficients**2)

        check_grads(loss, (x,), order=1, modes=["fwd", "rev"], atol=1e-6, rtol=1e-6)


def test_gradient_finite_at_zero_input():
    S = scatterjax.Scattering1D(J=4, shape=128, Q=4)
    grad = jax.grad(lambda x: jnp.sum(S(x)))(jnp.zeros(128))
    assert np.all(np.isfinite(np.asarray(grad)))
    assert np.asarray(S(jnp.zeros((2, 128)))).max() == 0.0


def test_float64_end_to_end():
    with jax.enable_x64(True):
        S = scatterjax.Scattering1D(J=4, shape=256, Q=4)
        assert all(leaf.dtype in (jnp.float64, jnp.int32)
                   for leaf in jax.tree_util.tree_leaves(S.bank))
        out = S(_x((2, 256), dtype=np.float64))
        assert out.dtype == jnp.float64
        out32 = S(_x((2, 256), dtype=np.float32))
        assert out32.dtype == jnp.float32


def test_float32_by_default():
    S = scatterjax.Scattering1D(J=4, shape=256, Q=4)
    assert S(_x((2, 256), dtype=np.float32)).dtype == jnp.float32
    # float64 input without x64 is computed in float32, like every JAX function.
    assert S(_x((2, 256), dtype=np.float64)).dtype == jnp.float32


def test_nan_propagates(small):
    x = _x((2, 256))
    x[0, 10] = np.nan
    out = np.asarray(small(x))
    assert np.isnan(out[0]).any()
    assert np.all(np.isfinite(out[1]))


def test_pytree_is_immutable(small):
    with pytest.raises(AttributeError, match="immutable"):
        small.J = 5


def test_list_and_dict_outputs_carry_kymatio_metadata():
    S = scatterjax.Scattering1D(J=3, shape=64, Q=(2, 1), out_type="list")
    out = S(_x((2, 64)))
    assert out[0]["j"] == () and out[0]["n"] == ()
    assert out[1]["n"] == (0,)
    assert all(d["coef"].shape == (2, 8) for d in out)
    D = scatterjax.Scattering1D(J=3, shape=64, Q=(2, 1), out_type="dict")(_x((2, 64)))
    assert list(D.keys()) == S.meta()["key"]
