"""The one call pipeline every transform shares, tried the way models call it.

A training step that closes over its batch traces the *filters* (they are module state) while the
batch stays a concrete array: the pipeline must then build one program, never dispatch chunks to
threads with traced filters (that raised ``UnexpectedTracerError``). Batches here are large
enough to be split into several chunks when concrete.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from conftest import rel_l2
from flax import nnx

import scatterjax
import scatterjax.equinox
import scatterjax.flax

# (class name, constructor arguments, batch shape): batches that concrete calls split into chunks.
CASES = {
    "1d": ("Scattering1D", dict(J=5, shape=512, Q=4), (9,)),
    "2d": ("Scattering2D", dict(J=2, shape=(16, 16), L=4), (5,)),
    "3d": ("HarmonicScattering3D", dict(J=1, shape=(8, 8, 8), L=1, integral_powers=(1.0, 2.0)), (3,)),
    "jtfs": ("TimeFrequencyScattering", dict(J=5, J_fr=2, Q=4, shape=512), (5,)),
}


def _signal_shape(kwargs) -> tuple[int, ...]:
    shape = kwargs["shape"]
    return (shape,) if isinstance(shape, int) else tuple(shape)


def _batch(case, seed=0):
    _, kwargs, batch = CASES[case]
    return np.random.default_rng(seed).standard_normal(batch + _signal_shape(kwargs)).astype(np.float32)


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    name, kwargs, _ = CASES[request.param]
    return request.param, getattr(scatterjax, name)(**kwargs)


def test_jit_over_the_transform_with_a_closed_over_batch(case):
    key, S = case
    x = _batch(key)
    eager = np.asarray(S(x))
    traced = np.asarray(jax.jit(lambda S: S(x))(S))
    assert traced.shape == eager.shape
    assert rel_l2(traced, eager) < 1e-6


def test_the_filters_are_constants_of_every_pure_transform(case):
    """Every pure transform holds its bank constant (``stop_gradient``): ``jax.grad`` with respect
    to the transform object is zero for every filter, while the input gradient is not."""
    key, S = case
    x = jnp.asarray(_batch(key))
    grads = jax.jit(jax.grad(lambda S: jnp.sum(S(x) ** 2), allow_int=True))(S)
    # Integer leaves (gather indices) get float0 gradients; the filters are the inexact ones.
    leaves = [g for g in jax.tree_util.tree_leaves(grads) if jnp.issubdtype(g.dtype, jnp.inexact)]
    assert leaves and all(float(jnp.abs(g).max()) == 0.0 for g in leaves)
    input_grad = jax.jit(jax.grad(lambda x: jnp.sum(S(x) ** 2)))(x)
    assert np.isfinite(np.asarray(input_grad)).all() and float(jnp.abs(input_grad).max()) > 0


@pytest.mark.parametrize("key", sorted(CASES))
def test_nnx_training_step_closing_over_its_batch(key):
    name, kwargs, _ = CASES[key]
    x = jnp.asarray(_batch(key, seed=1))
    layer = getattr(scatterjax.flax, name)(**kwargs)
    features = int(np.prod(layer(x).shape[1:]))

    class Model(nnx.Module):
        def __init__(self, rngs):
            self.scattering = getattr(scatterjax.flax, name)(**kwargs)
            self.head = nnx.Linear(features, 1, rngs=rngs)

        def __call__(self, x):
            return self.head(self.scattering(x).reshape(x.shape[0], -1))

    model = Model(nnx.Rngs(0))
    optimizer = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)  # scale-free steps
    target = jnp.ones((x.shape[0], 1))

    @nnx.jit
    def step(model, optimizer):  # closes over x and target, as training loops usually do
        loss, grads = nnx.value_and_grad(lambda m: jnp.mean((m(x) - target) ** 2))(model)
        optimizer.update(model, grads)
        return loss

    filters_before = [np.asarray(v) for v in jax.tree_util.tree_leaves(nnx.state(model.scattering))]
    losses = [float(step(model, optimizer)) for _ in range(3)]
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]
    filters_after = [np.asarray(v) for v in jax.tree_util.tree_leaves(nnx.state(model.scattering))]
    assert all(np.array_equal(a, b) for a, b in zip(filters_before, filters_after))


@pytest.mark.parametrize("key", sorted(CASES))
def test_equinox_filter_jit_of_filter_grad_closing_over_its_batch(key):
    name, kwargs, _ = CASES[key]
    x = jnp.asarray(_batch(key, seed=2))
    layer = getattr(scatterjax.equinox, name)(**kwargs)

    @eqx.filter_jit
    @eqx.filter_grad
    def grad_of_energy(layer):
        return jnp.sum(layer(x) ** 2)

    grads = grad_of_energy(layer)
    # The filters are frozen inside the call: their gradients are exactly zero.
    filter_grads = [g for g in jax.tree_util.tree_leaves(grads) if g is not None]
    assert filter_grads and all(float(jnp.abs(g).max()) == 0.0 for g in filter_grads)
    # And the input gradient through the same layer, with the batch closed over, is the core's.
    core = getattr(scatterjax, name)(**kwargs)
    ours = eqx.filter_jit(jax.grad(lambda y: jnp.sum(layer(y) ** 2)))(x)
    reference = jax.grad(lambda y: jnp.sum(core(y) ** 2))(x)
    assert rel_l2(ours, reference) < 1e-5


@pytest.mark.parametrize("out_type", ["array", "list", "dict"])
def test_empty_batch_gives_an_empty_output_of_the_right_shape(case, out_type):
    key, S = case
    name, kwargs, _ = CASES[key]
    if out_type != "array":
        S = getattr(scatterjax, name)(**kwargs, out_type=out_type)
    one = _coefficient_shapes(S(_batch(key)[:1]))
    for batch in ((0,), (2, 0), (0, 3)):
        expected = [batch + shape[1:] for shape in one]
        empty = S(np.zeros(batch + _signal_shape(kwargs), np.float32))
        assert _coefficient_shapes(empty) == expected
        if out_type != "list":  # list entries hold Python ints, which jit cannot return
            traced = jax.jit(lambda x: S(x))(jnp.zeros(batch + _signal_shape(kwargs), jnp.float32))
            assert _coefficient_shapes(traced) == expected


def _coefficient_shapes(output) -> list[tuple[int, ...]]:
    if isinstance(output, dict):
        return [a.shape for a in output.values()]
    if isinstance(output, list):
        return [entry["coef"].shape for entry in output]
    return [output.shape]


def test_list_and_dict_outputs_equal_the_array_channels(case):
    key, S = case
    name, kwargs, _ = CASES[key]
    x = _batch(key)
    array = np.asarray(S(x))
    axis = {"1d": -2, "2d": -3, "3d": -3, "jtfs": -2}[key]
    channels = np.moveaxis(array, axis, 0)
    as_list = getattr(scatterjax, name)(**kwargs, out_type="list")(x)
    as_dict = getattr(scatterjax, name)(**kwargs, out_type="dict")(x)
    assert len(as_list) == len(as_dict) == channels.shape[0] == len(S.meta()["key"])
    for c, (entry, (dict_key, coef)) in enumerate(zip(as_list, as_dict.items())):
        np.testing.assert_array_equal(np.asarray(entry["coef"]), channels[c])
        np.testing.assert_array_equal(np.asarray(coef), channels[c])
        assert dict_key == S.meta()["key"][c]


def test_every_batch_size_gives_the_rows_of_one_call(case):
    """Chunking (and padding to a chunk size) never mixes rows: row i of any batch is the same."""
    key, S = case
    x = _batch(key)
    whole = np.asarray(S(x))
    for size in (1, 2, x.shape[0] - 1):
        part = np.asarray(S(x[:size]))
        assert rel_l2(part, whole[:size]) < 1e-6
