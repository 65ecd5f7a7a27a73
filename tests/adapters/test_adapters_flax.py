"""Flax NNX adapter: same numbers and gradients as the core, filters frozen under nnx.Optimizer."""

import importlib

import flax.nnx as nnx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from adapter_cases import CONFIGS, reference  # noqa: E402
from conftest import rel_l2  # noqa: E402

import scatterjax.flax as sflax  # noqa: E402


def loss(fn, x):
    return jnp.sum(fn(x) ** 2)


@pytest.mark.parametrize("dim", CONFIGS)
def test_forward_and_input_gradient_match_core(dim):
    name, kwargs, _ = CONFIGS[dim]
    core, x, y, expected = reference(dim)
    module = getattr(sflax, name)(**kwargs)
    x = jnp.asarray(x)
    assert rel_l2(module(x), y) <= 1e-6
    assert rel_l2(nnx.jit(lambda m, x: m(x))(module, x), y) <= 1e-6
    assert rel_l2(jax.grad(lambda x: loss(module, x))(x), expected) <= 1e-5
    assert module.output_size() == core.output_size()


@pytest.mark.parametrize("dim", ["1d", "jtfs"])
def test_filters_are_scattering_filters_with_zero_gradient(dim):
    name, kwargs, input_shape = CONFIGS[dim]
    module = getattr(sflax, name)(**kwargs)
    assert not jax.tree_util.tree_leaves(nnx.state(module, nnx.Param))
    filters = jax.tree_util.tree_leaves(nnx.state(module, sflax.ScatteringFilters))
    assert len(filters) == len(jax.tree_util.tree_leaves(module.transform))
    x = jnp.ones(input_shape, jnp.float32)
    # Differentiate with respect to the filters themselves (their inexact ones; some banks also
    # hold integer index tables): stop_gradient in the call makes every gradient zero.
    float_filters = nnx.All(
        sflax.ScatteringFilters, lambda path, v: jnp.issubdtype(v.dtype, jnp.inexact)
    )
    grads = nnx.grad(lambda m: loss(m, x), argnums=nnx.DiffState(0, float_filters))(module)
    assert jax.tree_util.tree_leaves(grads)
    assert all(not np.any(np.asarray(g)) for g in jax.tree_util.tree_leaves(grads))
    assert module.output_size() == module.transform.output_size()


class Model(nnx.Module):
    def __init__(self, rngs):
        self.scattering = sflax.Scattering1D(J=4, shape=256, Q=4)
        features = self.scattering.output_size() * 16
        self.head = nnx.Linear(features, 3, rngs=rngs)

    def __call__(self, x):
        s = self.scattering(x)
        return self.head(s.reshape(s.shape[0], -1))


def test_training_with_adamw_leaves_filters_bit_identical():
    model = Model(nnx.Rngs(0))
    optimizer = nnx.Optimizer(model, optax.adamw(1e-2, weight_decay=1e-1), wrt=nnx.Param)
    filters_before = [np.array(f) for f in jax.tree_util.tree_leaves(
        nnx.state(model, sflax.ScatteringFilters))]
    kernel_before = np.array(model.head.kernel[...])
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((8, 256)), jnp.float32)
    y = jnp.asarray(rng.integers(0, 3, 8))

    @nnx.jit
    def step(model, optimizer, x, y):
        def objective(model):
            return optax.softmax_cross_entropy_with_integer_labels(model(x), y).mean()

        value, grads = nnx.value_and_grad(objective)(model)
        optimizer.update(model, grads)
        return value

    losses = [float(step(model, optimizer, x, y)) for _ in range(4)]
    assert losses[-1] < losses[0]
    assert not np.array_equal(kernel_before, np.asarray(model.head.kernel[...]))
    filters_after = jax.tree_util.tree_leaves(nnx.state(model, sflax.ScatteringFilters))
    assert all(np.array_equal(a, np.asarray(b)) for a, b in zip(filters_before, filters_after))
    # The optimizer holds state (Adam's two moments) for the head's parameters only.
    param_size = sum(p.size for p in jax.tree_util.tree_leaves(nnx.state(model, nnx.Param)))
    moments = [v for v in jax.tree_util.tree_leaves(nnx.state(optimizer.opt_state)) if v.ndim]
    assert sum(v.size for v in moments) == 2 * param_size
    assert not jax.tree_util.tree_leaves(nnx.state(optimizer, sflax.ScatteringFilters))


def test_missing_flax_names_the_extra(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "flax.nnx", None)
    monkeypatch.delitem(__import__("sys").modules, "scatterjax.flax", raising=False)
    with pytest.raises(ImportError, match=r"scatterjax\[flax\]"):
        importlib.import_module("scatterjax.flax")
