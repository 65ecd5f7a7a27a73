"""How the transforms are differentiated: the chunk loops become per-core branches of one
computation, the Fourier-domain folds and the batched 3D inverse FFT have their own derivative
rules, and none of it changes a number: gradients equal kymatio-jax's and each sample's own."""

from __future__ import annotations

import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import kymatio, rel_l2
from jax.test_util import check_grads

import scatterjax
from scatterjax._core import chunking
from scatterjax._core.chunking import (
    branch_count,
    chunk_size,
    in_branches,
    map_in_chunks,
    without_branches,
)
from scatterjax._core.cpu_threads import cpu_threads
from scatterjax._harmonic3d.core import _ifftn_each
from scatterjax._scattering1d.core import CHUNK_BYTES, signal_bytes
from scatterjax._scattering2d.core import _folded_product


# --- in_branches ----------------------------------------------------------------------------------
def test_branch_count_is_cores_capped_on_cpu():
    assert branch_count() == max(1, min(cpu_threads(), chunking.MAX_BRANCHES))


def test_in_branches_equals_the_function_and_splits_the_batch(monkeypatch):
    monkeypatch.setattr(chunking, "MAX_BRANCHES", 3)
    monkeypatch.setattr(chunking, "cpu_threads", lambda: 8)
    seen = []

    def fn(rows):
        seen.append(rows.shape[0])
        return {"sum": rows.sum(axis=1), "rows": rows * 2}

    x = jnp.arange(14.0).reshape(7, 2)
    out = jax.jit(in_branches(fn))(x)
    assert seen == [2, 3, 2]  # three consecutive parts of the batch, in order
    np.testing.assert_array_equal(out["sum"], x.sum(axis=1))
    np.testing.assert_array_equal(out["rows"], x * 2)


def test_in_branches_nested_does_not_split_again(monkeypatch):
    monkeypatch.setattr(chunking, "MAX_BRANCHES", 2)
    monkeypatch.setattr(chunking, "cpu_threads", lambda: 2)
    inner_sizes = []

    def inner(rows):
        inner_sizes.append(rows.shape[0])
        return rows + 1

    outer = in_branches(lambda rows: in_branches(inner)(rows) * 3)
    x = jnp.ones((4, 3))
    np.testing.assert_array_equal(jax.jit(outer)(x), (x + 1) * 3)
    assert inner_sizes == [2, 2]  # one call per outer branch, none split again


def test_in_branches_single_row_and_empty_batch_pass_through(monkeypatch):
    monkeypatch.setattr(chunking, "cpu_threads", lambda: 4)
    calls = []

    def fn(rows):
        calls.append(rows.shape[0])
        return rows * 2

    for count in (0, 1):
        x = jnp.ones((count, 5))
        assert in_branches(fn)(x).shape == (count, 5)
    assert calls == [0, 1]


def test_in_branches_takes_a_number_of_parts(monkeypatch):
    """``parts`` overrides the per-core count: more parts than cores, or 1 (no split)."""
    monkeypatch.setattr(chunking, "cpu_threads", lambda: 2)
    sizes = []

    def fn(rows):
        sizes.append(rows.shape[0])
        return rows * 2

    x = jnp.arange(10.0).reshape(5, 2)
    for parts, expected in ((4, [1, 1, 2, 1]), (1, [5]), (8, [1] * 5)):
        sizes.clear()
        np.testing.assert_array_equal(jax.jit(in_branches(fn, parts))(x), x * 2)
        assert sizes == expected


def test_in_branches_reverse_mode_joins_the_parts_cotangents_without_padding(monkeypatch):
    """The batch is cut by one ``split``, whose transpose concatenates the parts' cotangents; a
    slice per part would be transposed into a zero-padded copy of the whole batch per part."""
    monkeypatch.setattr(chunking, "cpu_threads", lambda: 4)
    x = jnp.arange(24.0).reshape(8, 3)
    loss = lambda x: jnp.sum(in_branches(jnp.sin)(x) ** 2)  # noqa: E731
    np.testing.assert_allclose(jax.grad(loss)(x), 2 * jnp.sin(x) * jnp.cos(x), rtol=1e-6)
    primitives = {e.primitive.name for e in jax.make_jaxpr(jax.grad(loss))(x).jaxpr.eqns}
    assert "split" in primitives and "concatenate" in primitives
    assert "pad" not in primitives


def test_without_branches_traces_one_computation_and_restores_splitting(monkeypatch):
    """The eager path's chunk programs (already one per core) are traced unsplit; afterwards, and
    in other programs, batches split again."""
    monkeypatch.setattr(chunking, "MAX_BRANCHES", 2)
    monkeypatch.setattr(chunking, "cpu_threads", lambda: 2)
    sizes = []

    def fn(rows):
        sizes.append(rows.shape[0])
        return rows * 2

    x = jnp.arange(12.0).reshape(6, 2)
    np.testing.assert_array_equal(jax.jit(without_branches(in_branches(fn)))(x), x * 2)
    assert sizes == [6]
    np.testing.assert_array_equal(jax.jit(in_branches(fn))(x), x * 2)
    assert sizes == [6, 3, 3]


def _primitive_names(jaxpr) -> list[str]:
    """Primitive names of ``jaxpr`` and of every jaxpr nested in its equations."""
    names = []
    for eqn in jaxpr.eqns:
        names.append(eqn.primitive.name)
        for inner in jax.extend.core.jaxprs_in_params(eqn.params):
            names += _primitive_names(inner)
    return names


def test_map_in_chunks_unrolls_a_loop_into_pieces_except_in_eager_chunk_programs():
    """``unrolled_pieces``: a batch of several chunks becomes that many pieces (one split, no loop)
    in a CPU program; the eager call's chunk programs (``without_branches``) keep the loop, and a
    batch of one chunk is one call either way. Same values throughout."""
    if jax.default_backend() != "cpu":
        pytest.skip("pieces are for XLA's CPU executor; elsewhere the loop stays")
    sizes = []

    def fn(rows):
        sizes.append(rows.shape[0])
        return jnp.sin(rows) * 2

    x = jnp.arange(40.0).reshape(20, 2)

    def mapped(x, **options):
        return map_in_chunks(fn, x, 8, 32, branches=False, **options)  # chunks of 4 rows

    for program, expected_sizes, loops in (
        (lambda x: mapped(x, unrolled_pieces=3), [7, 6, 7], 0),
        (lambda x: mapped(x, unrolled_pieces=8), [4] * 5, 0),  # at most one piece per chunk
        (lambda x: mapped(x), [4], 1),
        (without_branches(lambda x: mapped(x, unrolled_pieces=3)), [4], 1),
        (lambda x: mapped(x[:4], unrolled_pieces=3), [4], 0),
    ):
        sizes.clear()
        jaxpr = jax.make_jaxpr(program)(x)
        assert sizes == expected_sizes
        assert _primitive_names(jaxpr.jaxpr).count("scan") == loops
        rows = 4 if expected_sizes == [4] and loops == 0 else 20
        np.testing.assert_allclose(jax.jit(program)(x), jnp.sin(x[:rows]) * 2, rtol=1e-6)


def test_2d_second_order_stacks_are_pieces_inside_jit_and_loops_in_eager_chunk_programs():
    """Inside a caller's jit the 2D second-order stacks are unrolled pieces (work the CPU executor
    shares among its threads); the eager chunk programs keep their cache-sized loops; the bits are
    the same."""
    S = scatterjax.Scattering2D(J=3, shape=(64, 64), L=8)
    x = np.random.default_rng(2).standard_normal((1, 64, 64)).astype(np.float32)
    in_jit = _primitive_names(jax.make_jaxpr(lambda x: scatterjax.scattering2d(x, S.bank))(x).jaxpr)
    eager = _primitive_names(jax.make_jaxpr(without_branches(scatterjax.scattering2d))(x, S.bank).jaxpr)
    if jax.default_backend() == "cpu":
        assert "scan" not in in_jit and "scan" in eager
    np.testing.assert_array_equal(np.asarray(jax.jit(lambda S, x: S(x))(S, x)), np.asarray(S(x)))


def test_eager_call_equals_the_jitted_transform_bitwise():
    """``S(x)`` runs unsplit chunk programs, ``jax.jit(S)`` one split program: on the CPU the same
    bits (1D, 2D), every row's bits independent of the rows sharing its call. XLA:GPU fuses the two
    programs differently (seen on an H200: 19 of 145 coefficients one or two float32 ulps apart),
    so there they agree to float32 rounding."""
    for S, x in (
        (scatterjax.Scattering1D(J=4, Q=4, shape=512, T=512),
         np.random.default_rng(0).standard_normal((5, 512)).astype(np.float32)),
        (scatterjax.Scattering2D(J=2, shape=(32, 32), L=4),
         np.random.default_rng(1).standard_normal((5, 32, 32)).astype(np.float32)),
    ):
        jitted, eager = np.asarray(jax.jit(lambda S, x: S(x))(S, x)), np.asarray(S(x))
        if jax.default_backend() == "cpu":
            np.testing.assert_array_equal(jitted, eager)
        else:
            np.testing.assert_allclose(jitted, eager, rtol=0, atol=4 * np.finfo(np.float32).eps * np.abs(eager).max())


# --- the 2D fold's derivative rule ----------------------------------------------------------------
def _fold_reference(array, weights, row_factor, col_factor):
    """The definition: the product, cut into blocks, summed over the blocks (NumPy float64)."""
    product = np.broadcast_to(array * weights, np.broadcast_shapes(array.shape, weights.shape))
    m, n = product.shape[-2] // row_factor, product.shape[-1] // col_factor
    blocks = product.reshape(product.shape[:-2] + (row_factor, m, col_factor, n))
    return blocks.sum(axis=(-4, -2))


@pytest.mark.parametrize("row_factor, col_factor", [(1, 1), (2, 2), (4, 1), (4, 4), (8, 4)])
def test_folded_product_values_and_derivatives(row_factor, col_factor):
    """Unrolled (at most 16 blocks) and reduction forms; derivatives in both arguments, with the
    array broadcast over the weights' stack as the 2D transform does."""
    rng = np.random.default_rng(row_factor * 10 + col_factor)
    with jax.enable_x64(True):
        array = rng.standard_normal((2, 1, 8 * row_factor, 4 * col_factor))
        weights = rng.standard_normal((3, 8 * row_factor, 4 * col_factor))
        out = _folded_product(jnp.asarray(array), jnp.asarray(weights), row_factor, col_factor)
        np.testing.assert_allclose(out, _fold_reference(array, weights, row_factor, col_factor),
                                   rtol=1e-12, atol=1e-12)
        check_grads(lambda a, w: _folded_product(a, w, row_factor, col_factor), (array, weights),
                    order=2, modes=["fwd", "rev"], atol=1e-7, rtol=1e-7)


def test_folded_product_gradient_of_the_array_alone():
    """Frozen weights (no tangent): the array's cotangent is the tiled cotangent times the weights,
    summed over the broadcast stack."""
    rng = np.random.default_rng(3)
    array = rng.standard_normal((2, 1, 8, 8)).astype(np.float32)
    weights = rng.standard_normal((3, 8, 8)).astype(np.float32)
    cotangent = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    grad = jax.grad(lambda a: jnp.sum(_folded_product(a, weights, 2, 2) * cotangent))(array)
    expected = (np.tile(cotangent, (1, 1, 2, 2)) * weights).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-5)


# --- the 3D batched inverse FFT's derivative rule -------------------------------------------------
def test_ifftn_each_equals_separate_transforms_and_differentiates():
    rng = np.random.default_rng(4)
    with jax.enable_x64(True):
        blocks = [rng.standard_normal((n, 4, 4, 6)) + 1j * rng.standard_normal((n, 4, 4, 6))
                  for n in (1, 3, 2)]
        outs = _ifftn_each([jnp.asarray(b) for b in blocks])
        for out, block in zip(outs, blocks):
            np.testing.assert_allclose(out, np.fft.ifftn(block, axes=(-3, -2, -1)), atol=1e-12)

        def loss(*blocks):
            return sum(jnp.sum(jnp.abs(o) ** 2 * (k + 1)) for k, o in enumerate(_ifftn_each(list(blocks))))

        check_grads(loss, tuple(blocks), order=1, modes=["fwd", "rev"], atol=1e-7, rtol=1e-7)


# --- 1D and JTFS: batches differentiated whole ----------------------------------------------------
def _per_sample_gradients(S, x, target, rows):
    one = jax.jit(jax.grad(lambda x, t, S: jnp.sum((S(x) - t) ** 2)))
    return [np.asarray(one(x[i : i + 1], target[i : i + 1], S))[0] for i in rows]


@pytest.fixture(scope="module")
def problem_1d():
    """A batch that the forward program maps over in several chunks."""
    N, batch = 4096, 24
    S = scatterjax.Scattering1D(J=5, shape=N, Q=4)
    assert chunk_size(batch, signal_bytes(S.bank.plan, np.float32), CHUNK_BYTES) < batch
    rng = np.random.default_rng(5)
    x = rng.standard_normal((batch, N)).astype(np.float32)
    target = np.asarray(S(rng.standard_normal((batch, N)).astype(np.float32)))
    return S, x, target


def test_1d_batch_gradient_equals_kymatio_jax_and_each_sample(problem_1d):
    S, x, target = problem_1d
    ours = np.asarray(jax.jit(jax.grad(lambda x, S: jnp.sum((S(x) - target) ** 2)))(x, S))
    kymatio()  # imported with the SciPy shim first
    K = importlib.import_module("kymatio.jax").Scattering1D(J=5, shape=x.shape[-1], Q=4)
    theirs = np.asarray(jax.jit(jax.grad(lambda x: jnp.sum((K(x) - target) ** 2)))(x))
    assert rel_l2(ours, theirs) <= 1e-5
    rows = (0, 11, 23)
    for i, alone in zip(rows, _per_sample_gradients(S, x, target, rows)):
        assert rel_l2(ours[i], alone) <= 1e-6


def test_1d_forward_mode_agrees_with_reverse_mode(problem_1d):
    S, x, target = problem_1d
    v = np.random.default_rng(6).standard_normal(x.shape).astype(np.float32)

    def loss(x):
        return jnp.sum((S(x) - target) ** 2)

    _, directional = jax.jit(lambda x, v: jax.jvp(loss, (x,), (v,)))(x, v)
    expected = float(jnp.vdot(jax.jit(jax.grad(loss))(x), v))
    assert abs(float(directional) - expected) <= 1e-4 * abs(expected)


def test_jtfs_batch_gradient_equals_each_sample():
    S = scatterjax.TimeFrequencyScattering(J=5, J_fr=2, Q=4, shape=1024)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((6, 1024)).astype(np.float32)
    target = np.asarray(S(rng.standard_normal((6, 1024)).astype(np.float32)))
    whole = np.asarray(jax.jit(jax.grad(lambda x, S: jnp.sum((S(x) - target) ** 2)))(x, S))
    assert np.isfinite(whole).all() and np.abs(whole).max() > 0
    for i, alone in zip((0, 5), _per_sample_gradients(S, x, target, (0, 5))):
        assert rel_l2(whole[i], alone) <= 1e-5
