"""Flax linen adapter: same numbers and gradients as the core, filters in their own collection."""

import importlib
import sys

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from adapter_cases import CONFIGS, reference  # noqa: E402
from conftest import rel_l2  # noqa: E402

import scatterjax.flax.linen as slinen  # noqa: E402


@pytest.mark.parametrize("dim", CONFIGS)
def test_forward_and_input_gradient_match_core(dim):
    name, kwargs, _ = CONFIGS[dim]
    core, x, y, expected = reference(dim)
    module = getattr(slinen, name)(**kwargs)
    x = jnp.asarray(x)
    variables = module.init(jax.random.key(0), x)
    assert set(variables) == {"filters"}
    # The filters stored in the collection are the core's, leaf for leaf.
    stored = jax.tree_util.tree_leaves(variables["filters"])
    assert len(stored) == len(jax.tree_util.tree_leaves(core))
    assert all(np.array_equal(a, b) for a, b in zip(stored, jax.tree_util.tree_leaves(core)))
    assert rel_l2(module.apply(variables, x), y) <= 1e-6
    assert rel_l2(jax.jit(module.apply)(variables, x), y) <= 1e-6
    got = jax.grad(lambda x: jnp.sum(module.apply(variables, x) ** 2))(x)
    assert rel_l2(got, expected) <= 1e-5


def test_time_frequency_scattering_fields_follow_the_core_signature():
    import dataclasses
    import inspect

    import scatterjax

    fields = [f for f in dataclasses.fields(slinen.TimeFrequencyScattering) if f.name not in ("parent", "name")]
    parameters = inspect.signature(scatterjax.TimeFrequencyScattering).parameters
    # Every core argument but ``frontend`` (kymatio's entry point, which picks an adapter).
    assert [f.name for f in fields] == [name for name in parameters if name != "frontend"]
    for field in fields:
        default = parameters[field.name].default
        assert field.default == (dataclasses.MISSING if default is inspect.Parameter.empty else default)
    module = slinen.TimeFrequencyScattering(3, 1, 2, 64, format="joint")
    core = module.core()
    assert (core.J, core.J_fr, core.shape, core.format) == (3, 1, (64,), "joint")
    assert slinen.TimeFrequencyScattering(J=3, J_fr=1, Q=2, shape=64, format="joint").core() is core  # cached


class Model(nn.Module):
    @nn.compact
    def __call__(self, x):
        s = slinen.Scattering1D(J=4, shape=256, Q=4)(x)
        return nn.Dense(3)(s.reshape(s.shape[0], -1))


def test_training_with_adamw_leaves_filters_bit_identical():
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((8, 256)), jnp.float32)
    y = jnp.asarray(rng.integers(0, 3, 8))
    model = Model()
    variables = model.init(jax.random.key(0), x)
    assert set(variables) == {"params", "filters"}
    params, filters = variables["params"], variables["filters"]
    assert "Scattering1D_0" not in params
    tx = optax.adamw(1e-2, weight_decay=1e-1)
    opt_state = tx.init(params)

    def objective(params, filters):
        logits = model.apply({"params": params, "filters": filters}, x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    # Gradients with respect to the filters are zero (stop_gradient in the call).
    filter_grads = jax.grad(lambda f: objective(params, f), allow_int=True)(filters)
    float_grads = [
        g for g in jax.tree_util.tree_leaves(filter_grads) if jnp.issubdtype(g.dtype, jnp.inexact)
    ]
    assert float_grads and all(not np.any(np.asarray(g)) for g in float_grads)

    @jax.jit
    def step(params, opt_state):
        value, grads = jax.value_and_grad(objective)(params, filters)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, value

    new_params, losses = params, []
    for _ in range(4):
        new_params, opt_state, value = step(new_params, opt_state)
        losses.append(float(value))
    assert losses[-1] < losses[0]
    kernel = new_params["Dense_0"]["kernel"]
    assert not np.array_equal(kernel, params["Dense_0"]["kernel"])
    # Filters are untouched and can be re-created identically by a fresh init.
    again = model.init(jax.random.key(1), x)["filters"]
    for a, b in zip(jax.tree_util.tree_leaves(filters), jax.tree_util.tree_leaves(again)):
        assert np.array_equal(a, b)


def test_missing_flax_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "flax.linen", None)
    monkeypatch.delitem(sys.modules, "scatterjax.flax.linen", raising=False)
    with pytest.raises(ImportError, match=r"scatterjax\[flax\]"):
        importlib.import_module("scatterjax.flax.linen")
