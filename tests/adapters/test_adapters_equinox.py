"""Equinox adapter: same numbers and gradients as the core, filters outside the trainable set."""

import importlib
import os
import subprocess
import sys

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from adapter_cases import CONFIGS, reference  # noqa: E402
from conftest import rel_l2  # noqa: E402

import scatterjax.equinox as seqx  # noqa: E402


@pytest.mark.parametrize("dim", CONFIGS)
def test_forward_and_input_gradient_match_core(dim):
    name, kwargs, _ = CONFIGS[dim]
    core, x, y, expected = reference(dim)
    module = getattr(seqx, name)(**kwargs)
    x = jnp.asarray(x)
    assert rel_l2(module(x), y) <= 1e-6
    assert rel_l2(eqx.filter_jit(lambda m, x: m(x))(module, x), y) <= 1e-6
    assert rel_l2(jax.grad(lambda x: jnp.sum(module(x) ** 2))(x), expected) <= 1e-5
    assert seqx.trainable_spec(module).transform is False  # the whole bank, whatever its leaves
    assert module.output_size() == core.output_size()


def make_model():
    scattering = seqx.Scattering1D(J=4, shape=256, Q=4)
    head = eqx.nn.Linear(scattering.output_size() * 16, 3, key=jax.random.key(0))
    return (scattering, head)


def forward(model, x):
    scattering, head = model
    s = scattering(x)
    return jax.vmap(head)(s.reshape(s.shape[0], -1))


def test_trainable_spec_excludes_filters_and_their_gradient_is_zero():
    model = make_model()
    spec = seqx.trainable_spec(model)
    assert spec[0].transform is False  # a False prefix over the whole filter bank
    assert spec[1].weight is True and spec[1].bias is True
    # A bare core object inside a model is recognised too.
    assert seqx.trainable_spec({"s": model[0].transform, "w": jnp.ones(2)}) == {
        "s": False, "w": True}
    x = jnp.ones((2, 256), jnp.float32)
    grads = eqx.filter_grad(lambda m: jnp.sum(forward(m, x)))(model)
    float_grads = [g for g in jax.tree_util.tree_leaves(grads[0]) if g is not None]
    assert float_grads and all(not np.any(np.asarray(g)) for g in float_grads)


def test_training_with_adamw_leaves_filters_bit_identical():
    model = make_model()
    params, static = eqx.partition(model, seqx.trainable_spec(model))
    assert not jax.tree_util.tree_leaves(params[0])
    tx = optax.adamw(1e-2, weight_decay=1e-1)
    opt_state = tx.init(params)
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((8, 256)), jnp.float32)
    y = jnp.asarray(rng.integers(0, 3, 8))

    @eqx.filter_jit
    def step(params, opt_state):
        def objective(params):
            logits = forward(eqx.combine(params, static), x)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

        value, grads = jax.value_and_grad(objective)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return eqx.apply_updates(params, updates), opt_state, value

    losses = []
    for _ in range(4):
        params, opt_state, value = step(params, opt_state)
        losses.append(float(value))
    assert losses[-1] < losses[0]
    trained = eqx.combine(params, static)
    assert not np.array_equal(trained[1].weight, model[1].weight)
    for a, b in zip(jax.tree_util.tree_leaves(model[0]), jax.tree_util.tree_leaves(trained[0])):
        assert np.array_equal(a, b)


def test_missing_equinox_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "equinox", None)
    monkeypatch.delitem(sys.modules, "scatterjax.equinox", raising=False)
    with pytest.raises(ImportError, match=r"scatterjax\[equinox\]"):
        importlib.import_module("scatterjax.equinox")


def test_importing_scatterjax_imports_no_framework():
    frameworks = ["torch", "tensorflow", "keras", "flax", "equinox", "sklearn"]
    code = (
        "import sys, scatterjax, scatterjax._adapters.common; "
        f"print([m for m in {frameworks!r} if m in sys.modules])"
    )
    root = os.path.dirname(os.path.dirname(seqx.__file__))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, env=env)
    assert result.stdout.strip() == "[]"
