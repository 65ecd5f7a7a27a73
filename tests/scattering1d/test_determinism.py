"""Same input, same bits: 1D scattering across calls, batch sizes, jit/eager and vmap/loop.

XLA's CPU FFT (DUCC) splits a batch of complex transforms across the intra-op pool when called
from the caller's thread and runs it on one thread when XLA schedules it from a pool thread; the
rows then fall differently into SIMD groups and a scalar remainder, which round differently
(lengths 512-2048). The transform pads such batches of rows so that every row is in a full group
under both splits (``inverse_fft``). What is guaranteed here, on x86-64 CPUs:

- every configuration: a signal's coefficients have the same bits whatever the call, the batch it
  is in and its position there, eager or inside ``jit``; under ``vmap`` they agree to float
  rounding only. Averages computed directly in time (``T`` near ``N``: at most 8 output samples)
  and ``T='global'`` sums are pairwise trees of elementwise adds, not XLA reductions, whose
  float32 bits may depend on how many rows share the call.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scatterjax
from scatterjax._core import fft_rows
from scatterjax._scattering1d import fourier

# Lengths 512-2048 are where DUCC's complex FFT rounds its SIMD groups and its remainder rows
# differently (float32 and float64); N=4096 pads to 8192, so second-order blocks land there.
CONFIG = dict(J=8, Q=8, shape=4096)
BATCH = 13


def _x(batch, n, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal((batch, n)).astype(dtype)


@pytest.fixture(scope="module")
def S():
    return scatterjax.Scattering1D(**CONFIG)


@pytest.fixture(scope="module")
def x():
    return _x(BATCH, CONFIG["shape"])


@pytest.fixture(scope="module")
def reference(S, x):
    return np.asarray(S(x))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_inverse_fft_gives_a_row_the_same_bits_wherever_it_sits(dtype):
    """A row alone, in a remainder of 3 rows or inside 72 rows at offset 3 or 8: equal bits."""
    with jax.enable_x64(dtype == "float64"):
        complex_dtype = np.complex64 if dtype == "float32" else np.complex128
        rng = np.random.default_rng(1)
        rows = (rng.standard_normal((64, 512)) + 1j * rng.standard_normal((64, 512))).astype(complex_dtype)
        inverse = jax.jit(fourier.inverse_fft)
        alone = np.stack([np.asarray(inverse(rows[i : i + 1]))[0] for i in range(64)])
        np.testing.assert_allclose(alone, np.fft.ifft(rows.astype(np.complex128)), rtol=0, atol=2e-7)
        for total, offset in ((72, 8), (72, 3), (3, 0)):
            block = np.zeros((total, 512), complex_dtype)
            count = min(64, total - offset)
            block[offset : offset + count] = rows[:count]
            np.testing.assert_array_equal(np.asarray(inverse(block))[offset : offset + count], alone[:count])


@pytest.mark.parametrize("length", [512, 1024, 2048])
@pytest.mark.parametrize("itemsize", [8, 16])
@pytest.mark.parametrize("threads", [1, 2, 3, 4, 6, 8, 16, 64])
def test_grouped_rows_fill_whole_groups_under_both_thread_splits(length, itemsize, threads):
    vlen = 32 // (itemsize // 2)
    for count in range(1, 300):
        rows = fft_rows.grouped_rows(count, length, itemsize // 2, threads)
        split = max(1, min(rows // vlen // (4 if length < 1000 else 1), threads))
        assert rows >= count and rows % vlen == 0 and (rows // split) % vlen == 0 and rows % split == 0
        assert rows - count < vlen * threads * 4, (count, rows)


def test_repeated_calls_give_the_same_bits(S, x, reference):
    for _ in range(10):
        np.testing.assert_array_equal(np.asarray(S(x)), reference)


def test_every_batch_size_gives_a_row_the_same_bits(S, x, reference):
    """Each signal alone, and every prefix and suffix split, eager and in one jitted program."""
    singles = np.stack([np.asarray(S(x[i : i + 1]))[0] for i in range(BATCH)])
    np.testing.assert_array_equal(singles, reference)
    transform = jax.jit(scatterjax.scattering1d)
    for split in (2, 5, 12):
        head = np.asarray(transform(jnp.asarray(x[:split]), S.bank))
        tail = np.asarray(transform(jnp.asarray(x[split:]), S.bank))
        np.testing.assert_array_equal(np.concatenate([head, tail]), reference)


def test_jit_equals_eager_bitwise(S, x, reference):
    np.testing.assert_array_equal(np.asarray(jax.jit(lambda S, x: S(x))(S, x)), reference)


def test_vmap_equals_loop_to_rounding(S, x, reference):
    """Not bitwise: under ``vmap`` the padding is sized per signal, not for the whole batch, so
    the FFT's split into threads may cut through SIMD groups (documented in ``inverse_fft``)."""
    mapped = np.asarray(jax.jit(jax.vmap(lambda row: S(row)))(x))
    np.testing.assert_allclose(mapped, reference, rtol=1e-6, atol=1e-7 * np.abs(reference).max())


def test_float64_every_batch_size_gives_a_row_the_same_bits():
    with jax.enable_x64(True):
        S = scatterjax.Scattering1D(J=6, Q=8, shape=2048)
        x = _x(7, 2048, dtype=np.float64)
        whole = np.asarray(S(x))
        singles = np.stack([np.asarray(S(x[i : i + 1]))[0] for i in range(7)])
        np.testing.assert_array_equal(singles, whole)


@pytest.mark.parametrize("T", [2048, "global"])
def test_direct_averages_and_global_sums_give_a_row_the_same_bits(T):
    """T = N (one output sample, averaged directly in time) and T='global' (summed): each signal
    alone, the whole batch eager and inside jit, and a prefix/suffix split give equal bits."""
    S = scatterjax.Scattering1D(J=6, Q=8, shape=2048, T=T)
    if T != "global":
        assert any(lowpass.direct for lowpass in S.bank.plan.lowpasses)
    x = _x(BATCH, 2048)
    whole = np.asarray(S(x))
    for _ in range(3):
        np.testing.assert_array_equal(np.asarray(S(x)), whole)
    np.testing.assert_array_equal(np.asarray(jax.jit(lambda S, x: S(x))(S, x)), whole)
    singles = np.stack([np.asarray(S(x[i : i + 1]))[0] for i in range(BATCH)])
    np.testing.assert_array_equal(singles, whole)
    transform = jax.jit(scatterjax.scattering1d)
    halves = [np.asarray(transform(jnp.asarray(part), S.bank)) for part in (x[:5], x[5:])]
    np.testing.assert_array_equal(np.concatenate(halves), whole)


def test_pairwise_sum_against_float64_and_its_derivatives():
    """The tree equals the float64 sum to float32 rounding (odd lengths included), its bits do not
    depend on the number of rows, and its derivative is the sum's."""
    from jax.test_util import check_grads

    from scatterjax._scattering1d.core import pairwise_sum

    rng = np.random.default_rng(3)
    for length in (1, 2, 7, 256, 1000, 2**17):
        v = rng.random((6, length)).astype(np.float32)
        total = np.asarray(pairwise_sum(jnp.asarray(v)))
        exact = v.astype(np.float64).sum(-1)
        np.testing.assert_allclose(total, exact, rtol=2e-7 * max(1, np.log2(length)))
        np.testing.assert_array_equal(np.asarray(jax.jit(pairwise_sum)(v[2:3]))[0], total[2])
    v = jnp.asarray(rng.standard_normal((3, 37)))
    check_grads(pairwise_sum, (v,), order=2, modes=["fwd", "rev"], atol=1e-2, rtol=1e-2)
    np.testing.assert_array_equal(np.asarray(jax.grad(lambda v: pairwise_sum(v).sum())(v)), np.ones((3, 37)))


def test_direct_average_against_float64_and_its_derivatives():
    """``u @ kernel`` column by column (pairwise trees in a loop): float64 agreement, a row's bits
    whatever the row count, and derivatives in both arguments (the filters may be trained)."""
    from jax.test_util import check_grads

    from scatterjax._scattering1d.core import _direct_average

    rng = np.random.default_rng(4)
    u = rng.standard_normal((5, 3, 512)).astype(np.float32)
    kernel = rng.standard_normal((512, 6)).astype(np.float32)
    got = np.asarray(jax.jit(_direct_average)(u, kernel))
    exact = np.einsum("bpl,lk->bpk", u.astype(np.float64), kernel.astype(np.float64))
    np.testing.assert_allclose(got, exact, rtol=1e-5, atol=1e-5 * np.abs(exact).max())
    np.testing.assert_array_equal(np.asarray(_direct_average(u[1:2], kernel))[0], got[1])
    with jax.enable_x64(True):
        u64, kernel64 = jnp.asarray(rng.standard_normal((2, 2, 16))), jnp.asarray(rng.standard_normal((16, 3)))
        check_grads(_direct_average, (u64, kernel64), order=2, modes=["fwd", "rev"])
