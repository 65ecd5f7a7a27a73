"""Same input, same bits: joint time-frequency scattering across calls, batch sizes, jit and vmap.

Its time axis shares the 1D transform's pieces, including the inverse FFT taken from real FFTs
(see tests/scattering1d/test_determinism.py); its second-order inverse FFTs (N=256 pads to 1024:
lengths 512 and below) are the ones XLA's CPU FFT would round by position in the batch.

Not guaranteed: bitwise equality between the eager call and one jitted or vmapped program. The
products along ``n1`` are matrix products, and XLA's CPU matrix kernels round a row by its place
in their tiles; eager calls run fixed chunk shapes, a caller's program other shapes (measured:
3.5% of the coefficients differ in their last bit, so the test below holds them to 1e-6).
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

import scatterjax

BATCH = 7


@pytest.fixture(scope="module")
def S():
    return scatterjax.TimeFrequencyScattering(J=5, J_fr=2, Q=8, shape=256)


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(0).standard_normal((BATCH, 256)).astype(np.float32)


@pytest.fixture(scope="module")
def reference(S, x):
    return np.asarray(S(x))


def test_repeated_calls_give_the_same_bits(S, x, reference):
    for _ in range(5):
        np.testing.assert_array_equal(np.asarray(S(x)), reference)


def test_every_batch_size_gives_a_row_the_same_bits(S, x, reference):
    singles = np.stack([np.asarray(S(x[i : i + 1]))[0] for i in range(BATCH)])
    np.testing.assert_array_equal(singles, reference)
    np.testing.assert_array_equal(np.concatenate([np.asarray(S(x[:3])), np.asarray(S(x[3:]))]), reference)


def test_jit_and_vmap_equal_eager_to_rounding_and_repeat_bitwise(S, x, reference):
    program = jax.jit(lambda S, x: S(x))
    jitted = np.asarray(program(S, x))
    np.testing.assert_allclose(jitted, reference, rtol=1e-6, atol=1e-7 * np.abs(reference).max())
    np.testing.assert_array_equal(np.asarray(program(S, x)), jitted)
    mapped = np.asarray(jax.jit(jax.vmap(lambda row: S(row)))(x))
    np.testing.assert_allclose(mapped, reference, rtol=1e-6, atol=1e-7 * np.abs(reference).max())
