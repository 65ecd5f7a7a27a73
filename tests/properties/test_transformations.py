"""Every transform under JAX's other transformations, as a training or analysis script would use
them: forward mode, forward-over-reverse (Hessian-vector products), rematerialisation, a scan of
gradient steps, ``lax.cond`` branches, ``vmap`` of a per-example gradient. Each result is checked
against another way of computing the same number."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from adapter_cases import CONFIGS, core_class
from conftest import rel_l2

# The adapters' small configurations, one per transform.
CASES = [case for case in CONFIGS if case != "jtfs_joint"]


@pytest.fixture(scope="module", params=CASES)
def problem(request):
    """``(S, loss, x, v, w)``: a transform, ``loss(x) = sum(S(x)**2) / 2``, an input and two directions."""
    name, kwargs, shape = CONFIGS[request.param]
    S = core_class(name)(**kwargs)
    rng = np.random.default_rng(0)
    x, v, w = (jnp.asarray(rng.standard_normal(shape).astype(np.float32)) for _ in range(3))

    def loss(x):
        return 0.5 * jnp.sum(S(x) ** 2)

    return S, loss, x, v, w


def test_forward_mode_agrees_with_reverse_mode(problem):
    _, loss, x, v, _ = problem
    gradient = jax.jit(jax.grad(loss))(x)
    _, directional = jax.jit(lambda x, v: jax.jvp(loss, (x,), (v,)))(x, v)
    _, linear = jax.linearize(loss, x)
    expected = jnp.vdot(gradient, v)
    assert abs(directional - expected) <= 1e-4 * abs(expected)
    assert abs(linear(v) - expected) <= 1e-4 * abs(expected)


def test_hessian_vector_products_are_symmetric(problem):
    # Forward over reverse: w . (H v) == v . (H w) for the symmetric Hessian of the loss.
    _, loss, x, v, w = problem

    @jax.jit
    def hvp(x, v):
        return jax.jvp(jax.grad(loss), (x,), (v,))[1]

    hv, hw = hvp(x, v), hvp(x, w)
    assert bool(jnp.all(jnp.isfinite(hv)))
    left, right = jnp.vdot(w, hv), jnp.vdot(v, hw)
    assert abs(left - right) <= 1e-3 * max(abs(left), abs(right))


def test_rematerialised_gradient_equals_the_plain_one(problem):
    _, loss, x, _, _ = problem
    plain = jax.jit(jax.grad(loss))(x)
    rematerialised = jax.checkpoint(loss, policy=jax.checkpoint_policies.nothing_saveable)
    assert rel_l2(jax.jit(jax.grad(rematerialised))(x), plain) <= 1e-6


def test_a_scan_of_gradient_steps_equals_the_same_steps_one_by_one(problem):
    _, loss, x, _, _ = problem
    scale = 1e-2 / float(jnp.linalg.norm(jax.grad(loss)(x)))

    def step(x, _):
        value, gradient = jax.value_and_grad(loss)(x)
        return x - scale * gradient, value

    scanned, values = jax.jit(lambda x: jax.lax.scan(step, x, None, length=2))(x)
    one_step = jax.jit(lambda x: step(x, None))
    looped, expected_values = x, []
    for _ in range(2):
        looped, value = one_step(looped)
        expected_values.append(value)
    assert rel_l2(scanned, looped) <= 1e-6
    assert rel_l2(values, jnp.stack(expected_values)) <= 1e-6
    assert float(values[-1]) < float(values[0])  # the steps descend


def test_lax_cond_branches_give_the_transform(problem):
    S, _, x, _, _ = problem
    chosen = jax.jit(lambda x, flag: jax.lax.cond(flag, lambda x: S(x), lambda x: jnp.zeros_like(S(x)), x))
    assert rel_l2(chosen(x, True), S(x)) <= 1e-6
    assert not bool(jnp.any(chosen(x, False)))


def test_vmap_of_per_example_gradients_equals_the_loop(problem):
    _, loss, x, _, _ = problem

    def per_example(xi):
        return jax.grad(loss)(xi[None])[0]

    mapped = jax.jit(jax.vmap(per_example))(x)
    looped = jnp.stack([per_example(xi) for xi in x])
    assert rel_l2(mapped, looped) <= 1e-6


def test_callers_strict_promotion_settings_do_not_reach_the_transform(problem):
    # Codebases that catch broadcasting and mixed-type bugs turn these on; the transforms broadcast
    # filters against batches and multiply complex spectra by real filters on purpose, and used to
    # raise there. The caller's own code keeps its settings; the numbers are the default ones.
    S, loss, x, v, _ = problem
    expected = [np.asarray(S(x)), np.asarray(jax.jit(lambda x: S(x))(x)), np.asarray(jax.grad(loss)(x))]
    expected.append(np.asarray(jax.jvp(loss, (x,), (v,))[1]))
    with jax.numpy_rank_promotion("raise"), jax.numpy_dtype_promotion("strict"):
        found = [np.asarray(S(x)), np.asarray(jax.jit(lambda x: S(x))(x)), np.asarray(jax.grad(loss)(x))]
        found.append(np.asarray(jax.jvp(loss, (x,), (v,))[1]))
        with pytest.raises(ValueError, match="broadcast"):  # the caller's code: its setting holds
            jnp.ones((2, 3)) + jnp.ones(3)
    for ours, default in zip(found, expected):
        np.testing.assert_array_equal(ours, default)


def test_a_callers_transfer_guard_passes_every_call(problem):
    # Codebases that hunt hidden host-device copies run under jax.transfer_guard("disallow"), which
    # refuses implicit transfers. The eager call cuts a batch into chunks in NumPy on the CPU and
    # used to hand them to its program implicitly, so it raised there; its moves are now explicit.
    S, loss, x, _, _ = problem
    expected = [np.asarray(S(x)), np.asarray(S(np.asarray(x))), np.asarray(jax.jit(lambda x: S(x))(x))]
    expected.append(np.asarray(jax.jit(jax.grad(loss))(x)))
    with jax.transfer_guard("disallow"):
        found = [S(x), S(np.asarray(x)), jax.jit(lambda x: S(x))(x), jax.jit(jax.grad(loss))(x)]
        with pytest.raises(Exception, match="Disallowed host-to-device transfer"):  # the guard is on
            jnp.sin(x) + np.ones(x.shape, x.dtype)
    for ours, default in zip(found, expected):
        np.testing.assert_array_equal(np.asarray(ours), default)
