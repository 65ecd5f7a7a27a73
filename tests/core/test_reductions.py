"""Row-stable sums: a row's bits never depend on the rows that share its call."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from scatterjax._core.reductions import SUM_BLOCK, add_aligned_slices, blocked_sum


@pytest.mark.parametrize("axis, count", [(-1, 4), (-2, 16), (1, 2), (0, 3)])
def test_aligned_slices_are_added_in_order(axis, count):
    # The adds are IEEE float32 adds in a fixed order, so NumPy doing the same adds gives the same bits.
    rng = np.random.default_rng(0)
    a = rng.standard_normal((6, 32, 48)).astype(np.float32)
    slices = np.split(a, count, axis=axis)
    expected = slices[0]
    for piece in slices[1:]:
        expected = expected + piece
    got = np.asarray(jax.jit(add_aligned_slices, static_argnums=(1, 2))(a, count, axis))
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("length", [1, 2, 17, 16 * 16, 1000, 37 * 41, 40**3])
def test_blocked_sum_against_float64_and_row_stable(length):
    rng = np.random.default_rng(length)
    v = rng.random((5, length)).astype(np.float32)
    total = np.asarray(jax.jit(blocked_sum)(v))
    exact = v.astype(np.float64).sum(-1)
    passes = max(1, int(np.ceil(np.log(length) / np.log(2))))
    np.testing.assert_allclose(total, exact, rtol=2e-7 * passes)
    for row in range(5):  # alone, and among other rows, the same bits
        np.testing.assert_array_equal(np.asarray(jax.jit(blocked_sum)(v[row : row + 1]))[0], total[row])
    assert SUM_BLOCK >= 2


def test_blocked_sum_derivative_is_the_sums():
    v = jnp.asarray(np.random.default_rng(1).standard_normal((3, 48)))
    check_grads(blocked_sum, (v,), order=2, modes=["fwd", "rev"], atol=1e-2, rtol=1e-2)
    np.testing.assert_array_equal(np.asarray(jax.grad(lambda v: blocked_sum(v).sum())(v)), np.ones((3, 48)))
