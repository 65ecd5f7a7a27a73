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
    sizes, threads = _chunks_seen(monkeypatch, count, item_bytes=1, budget=32, cores=cores)
    assert sorted(sizes) == expected
    assert len(threads) == min(len(expected), cores)


@cpu_only
def test_jtfs_batch_sizes_1_to_30_share_two_programs_on_two_cores(monkeypatch):
    monkeypatch.setattr(chunking, "cpu_threads", lambda: 2)
    S = scatterjax.TimeFrequencyScattering(J=4, J_fr=2, Q=4, shape=256)
    item = signal_bytes(S.bank, np.float32)
    assert EAGER_CHUNK_BYTES // item >= 32  # the budget alone would allow chunks of 32
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
