"""How the eager call cuts a concrete batch: cache-sized chunks, every core busy, few programs."""

from __future__ import annotations

import threading

import jax
import numpy as np
import pytest

import scatterjax
from scatterjax._core import chunking
from scatterjax._jtfs.core import EAGER_CHUNK_BYTES, signal_bytes

cpu_only = pytest.mark.skipif(jax.default_backend() != "cpu", reason="chunks are dispatched per CPU core")


def _chunks_seen(monkeypatch, count: int, item_bytes: int, budget: int, cores: int) -> tuple[list[int], set]:
    """Sizes of the chunks ``apply_in_chunks`` hands to ``apply``, and the threads that ran them."""
    monkeypatch.setattr(chunking, "cpu_threads", lambda: cores)
    sizes, threads, lock = [], set(), threading.Lock()

    def apply(chunk):
        with lock:
            sizes.append(chunk.shape[0])
            threads.add(threading.get_ident())
        return jax.numpy.asarray(chunk) * 2

    x = np.arange(count * 3, dtype=np.float32).reshape(count, 3)
    out = chunking.apply_in_chunks(apply, x, 1, item_bytes, budget)
    np.testing.assert_array_equal(np.asarray(out), 2 * x)
    return sizes, threads


@cpu_only
@pytest.mark.parametrize("count, cores, expected", [(30, 2, [16, 16]), (30, 4, [8, 8, 8, 8]), (5, 2, [8]),
                                                    (100, 2, [32, 32, 32, 32])])
def test_a_chunk_holds_at_most_a_cores_share(monkeypatch, count, cores, expected):
    # The budget would allow 32 items a chunk; a batch of 30 in one chunk would leave cores idle.
    item = chunking.MIN_SPLIT_BYTES // 8
    sizes, threads = _chunks_seen(monkeypatch, count, item_bytes=item, budget=32 * item, cores=cores)
    assert sorted(sizes) == expected
    assert len(threads) == min(len(expected), cores)


@cpu_only
def test_small_shares_are_not_split_off(monkeypatch):
    # 30 items of 1/20 of MIN_SPLIT_BYTES: a core's share (16) would hold less than MIN_SPLIT_BYTES.
    # (1D J=4 N=256, 40 KB a signal, is such a case.)
    item = chunking.MIN_SPLIT_BYTES // 20
    sizes, threads = _chunks_seen(monkeypatch, 30, item_bytes=item, budget=64 * item, cores=2)
    assert sizes == [32]
    assert len(threads) == 1
    # ... nor padded beyond the batch's own power of two.
    sizes, _ = _chunks_seen(monkeypatch, 3, item_bytes=item, budget=64 * item, cores=2)
    assert sizes == [8]


@cpu_only
def test_jtfs_batch_sizes_1_to_30_share_two_programs_on_two_cores(monkeypatch):
    monkeypatch.setattr(chunking, "cpu_threads", lambda: 2)
    S = scatterjax.TimeFrequencyScattering(J=4, J_fr=2, Q=4, shape=256)
    item = signal_bytes(S.bank, np.float32)
    assert EAGER_CHUNK_BYTES // item >= 32  # the budget alone would allow chunks of 32
    # As for signals of MIN_SPLIT_BYTES / 8 (J=6 N=1024, 80 KB, splits at 16), at a tenth of the cost.
    monkeypatch.setattr(chunking, "MIN_SPLIT_BYTES", 8 * item)
    sizes = set()
    real = chunking._pad_rows

    def recording(xp, rows, length):
        sizes.add(length)
        return real(xp, rows, length)

    monkeypatch.setattr(chunking, "_pad_rows", recording)
    rng = np.random.default_rng(0)
    S(rng.standard_normal((30, 256)).astype(np.float32))
    assert sizes == {16}
    for count in range(1, 30):
        S(rng.standard_normal((count, 256)).astype(np.float32))
    assert sizes == {8, 16}
