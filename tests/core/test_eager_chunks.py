"""How the eager call cuts a concrete batch: cache-sized chunks, every core busy, few programs."""

from __future__ import annotations

import threading
import time

import jax
import numpy as np
import pytest
from conftest import compiled_programs

import scatterjax
from scatterjax._core import chunking, compile_options, transform
from scatterjax._jtfs.core import EAGER_CHUNK_BYTES, signal_bytes

cpu_only = pytest.mark.skipif(jax.default_backend() != "cpu", reason="chunks are dispatched per CPU core")


def _chunks_seen(monkeypatch, count: int, item_bytes: int, budget: int, cores: int) -> tuple[list[int], set]:
    """Sizes of the chunks ``apply_in_chunks`` hands to ``apply``, and the threads that ran them."""
    monkeypatch.setattr(chunking, "cpu_threads", lambda: cores)
    sizes, threads, lock = [], set(), threading.Lock()

    def apply(chunk):
        time.sleep(0.02)  # long enough that no thread is idle when the next chunk is handed out
        with lock:
            sizes.append(chunk.shape[0])
            threads.add(threading.get_ident())
        return jax.numpy.asarray(chunk) * 2

    x = np.arange(count * 3, dtype=np.float32).reshape(count, 3)
    out = chunking.apply_in_chunks(apply, x, 1, item_bytes, budget)
    np.testing.assert_array_equal(np.asarray(out), 2 * x)
    return sizes, threads


@cpu_only
@pytest.mark.parametrize("count, cores, expected", [(30, 2, [8, 8, 8, 8]), (30, 4, [8, 8, 8, 8]), (5, 2, [8]),
                                                    (1, 2, [8]), (100, 2, [8] * 13)])
def test_cache_sized_chunks_do_not_depend_on_the_batch(monkeypatch, count, cores, expected):
    # The budget would allow 32 items a chunk; 8 (MIN_PADDED_CHUNK) already hold MIN_CHUNK_BYTES.
    item = chunking.MIN_CHUNK_BYTES // 8
    sizes, threads = _chunks_seen(monkeypatch, count, item_bytes=item, budget=32 * item, cores=cores)
    assert sorted(sizes) == expected
    assert len(threads) == min(len(expected), cores)


@cpu_only
@pytest.mark.parametrize("item_fraction, budget_items, expected", [(20, 64, 32), (20, 16, 16), (1, 64, 8), (1, 4, 4)])
def test_small_signals_fill_a_chunk_worth_a_call(monkeypatch, item_fraction, budget_items, expected):
    # Items of 1/20 of MIN_CHUNK_BYTES: 32 to a chunk, unless the budget holds fewer; large items:
    # MIN_PADDED_CHUNK, unless the budget holds fewer. (1D J=4 N=256 is the first.)
    item = chunking.MIN_CHUNK_BYTES // item_fraction
    for count in (1, 3, 30):
        sizes, _ = _chunks_seen(monkeypatch, count, item_bytes=item, budget=budget_items * item, cores=2)
        assert set(sizes) == {expected} and len(sizes) == -(-count // expected)


@cpu_only
@pytest.mark.parametrize("item_fraction, expected", [(100, 8), (3, 4), (1, 1), (0.1, 1)])
def test_transforms_that_chunk_inside_get_chunks_worth_a_call(monkeypatch, item_fraction, expected):
    item = int(chunking.MIN_CHUNK_BYTES / item_fraction)
    monkeypatch.setattr(chunking, "cpu_threads", lambda: 2)
    x = np.zeros((30, 3), np.float32)
    sizes = []
    chunking.apply_in_chunks(lambda c: sizes.append(c.shape[0]) or jax.numpy.asarray(c), x, 1, item,
                             chunking.NO_LIMIT, spread=True)
    assert set(sizes) == {expected}


@cpu_only
def test_jtfs_batch_sizes_1_to_30_share_one_program_on_two_cores(monkeypatch):
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
    expected = max(chunking.MIN_PADDED_CHUNK, -(-chunking.MIN_CHUNK_BYTES // item))
    for count in range(1, 31):
        S(rng.standard_normal((count, 256)).astype(np.float32))
    assert len(sizes) == 1 and sizes.pop() >= expected


UNAVERAGED = {
    "1d": (lambda: scatterjax.Scattering1D(J=4, shape=300, Q=(4, 2), T=0, out_type="list"), 300),
    "jtfs": (lambda: scatterjax.TimeFrequencyScattering(J=4, J_fr=1, Q=2, shape=128, T=0, out_type="dict"), 128),
}


@pytest.mark.parametrize("case", list(UNAVERAGED))
def test_unaveraged_channels_leave_the_eager_program_stacked_by_shape(case):
    # Channels of different lengths leave the eager program as one array per length (hundreds of
    # outputs took seconds to compile), and are split outside: same channels, order and bits as
    # the program a caller's jit runs, for a batch of two axes.
    make, n = UNAVERAGED[case]
    S = make()
    x = np.random.default_rng(0).standard_normal((2, 3, n)).astype(np.float32)
    eager, traced = S(x), jax.jit(lambda x: S(x))(x)
    if isinstance(eager, dict):  # (a dict returned by jax.jit comes back with its keys sorted)
        assert list(eager) == S.meta()["key"] and set(traced) == set(eager)
        eager, traced = list(eager.values()), [traced[key] for key in eager]
    else:
        eager, traced = [entry["coef"] for entry in eager], [entry["coef"] for entry in traced]
    assert len(eager) == len(traced) == S.output_size()
    for ours, expected in zip(eager, traced):
        assert ours.shape == expected.shape and ours.shape[:2] == (2, 3)
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(expected))
    lengths = {channel.shape[-1] for channel in eager}
    assert 1 < len(lengths) < len(eager)
    chunk = jax.ShapeDtypeStruct((8, n), np.float32)
    outputs = jax.eval_shape(transform._chunk_program(S._program), chunk, S.bank)
    assert len(outputs) == len(lengths)


def test_a_streak_of_one_signal_calls_earns_a_one_signal_program():
    calls = chunking.OneSignalCalls(streak=4)
    pattern = [1, 1, 1, 30, 1, 1, 1, 1, 1, 7, 1]
    assert [calls.runs_alone("S", count) for count in pattern] == [False] * 7 + [True, True, False, True]
    assert not calls.runs_alone("another program", 1)  # streaks are counted per program


def _coefficients(out) -> list:
    """The coefficient arrays of any ``out_type``."""
    if isinstance(out, list):
        return [entry["coef"] for entry in out]
    return list(out.values()) if isinstance(out, dict) else [out]


STREAK_CASES = {
    "1d": (lambda: scatterjax.Scattering1D(J=5, shape=1024, Q=8), (1024,), np.float32),
    "1d complex, list": (lambda: scatterjax.Scattering1D(J=4, shape=700, Q=4, T=0, out_type="list"), (700,),
                         np.complex64),
    "jtfs": (lambda: scatterjax.TimeFrequencyScattering(J=5, J_fr=2, Q=4, shape=512), (512,), np.float32),
}


@cpu_only
@pytest.mark.parametrize("case", list(STREAK_CASES))
def test_one_signal_loops_switch_programs_with_the_same_bits(monkeypatch, case):
    # A loop over single signals runs them unpadded after ONE_SIGNAL_STREAK calls; each output has
    # the bits the same signal gets in a padded chunk, and in a batch. A lone one-signal call after
    # batches (the last batch of an epoch) compiles nothing.
    monkeypatch.setattr(chunking, "ONE_SIGNAL_CALLS", chunking.OneSignalCalls(streak=3))
    make, shape, dtype = STREAK_CASES[case]
    S = make()
    rng = np.random.default_rng(1)
    signals = rng.standard_normal((5, *shape))
    if dtype == np.complex64:
        signals = signals + 1j * rng.standard_normal((5, *shape))
    signals = signals.astype(dtype)
    batch = _coefficients(S(signals))
    S(signals[:2])
    with compiled_programs() as lone:
        S(signals[:1])
    assert S._program.__wrapped__.__name__ not in lone, lone
    padded_sizes = []
    real = chunking._pad_rows
    monkeypatch.setattr(chunking, "_pad_rows", lambda xp, rows, n: padded_sizes.append(n) or real(xp, rows, n))
    for k in range(5):
        out = _coefficients(S(signals[k : k + 1]))
        for alone, batched in zip(out, batch, strict=True):
            np.testing.assert_array_equal(np.asarray(alone), np.asarray(batched)[k : k + 1])
    assert padded_sizes[-1] == 1 and padded_sizes[0] > 1, padded_sizes


# Transforms whose eager program compiles with other XLA options than a caller's jit (compile_options).
COMPILE_OPTION_CASES = {
    "1d": (lambda: scatterjax.Scattering1D(J=5, shape=512, Q=4), (512,)),
    "1d unaveraged": (UNAVERAGED["1d"][0], (UNAVERAGED["1d"][1],)),
    "1d averaged in time": (lambda: scatterjax.Scattering1D(J=6, shape=1024, Q=8, T=1024), (1024,)),
    "1d order 3": (lambda: scatterjax.Scattering1D(J=5, shape=512, Q=(4, 2), max_order=3), (512,)),
    "2d": (lambda: scatterjax.Scattering2D(J=2, shape=(16, 16), L=4), (16, 16)),
    "jtfs": (lambda: scatterjax.TimeFrequencyScattering(J=5, J_fr=2, Q=4, shape=512), (512,)),
}


@cpu_only
@pytest.mark.parametrize("case", list(COMPILE_OPTION_CASES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_eager_programs_compiled_with_faster_compiling_options_keep_the_bits(case, dtype):
    # The eager chunk program of these transforms compiles with options that shorten XLA's compile
    # (for real input): the same bits as the same program under XLA's defaults, which is how a
    # caller's jit compiles it.
    make, signal_shape = COMPILE_OPTION_CASES[case]
    with jax.enable_x64(dtype == np.float64):
        S = make()
        assert compile_options.LIGHT_LLVM_OPTIMIZATION[0] in S._eager_compile_options
        chunk = np.random.default_rng(0).standard_normal((4, *signal_shape)).astype(dtype)
        with_options = transform._chunk_program(S._program, S._eager_compile_options)(chunk, S.bank)
        defaults = transform._chunk_program(S._program)(chunk, S.bank)
        leaves = zip(jax.tree_util.tree_leaves(with_options), jax.tree_util.tree_leaves(defaults), strict=True)
        for ours, expected in leaves:
            assert ours.dtype == dtype
            np.testing.assert_array_equal(np.asarray(ours), np.asarray(expected))


@cpu_only
@pytest.mark.parametrize("case", ["1d", "2d"])
def test_complex_input_runs_eagerly_with_the_bits_of_a_callers_jit(case):
    # Complex 1D input rounds differently under XLA:CPU's older fusion emitters: the eager call
    # compiles it with XLA's defaults, as a caller's jit does.
    make, signal_shape = COMPILE_OPTION_CASES[case]
    S = make()
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((3, *signal_shape)) + 1j * rng.standard_normal((3, *signal_shape))).astype(np.complex64)
    np.testing.assert_array_equal(np.asarray(S(x)), np.asarray(jax.jit(lambda x: S(x))(x)))


def test_compile_options_this_jaxlib_does_not_know_fall_back_to_xlas_defaults():
    assert compile_options.eager_compile_options((("xla_cpu_no_such_option", True),)) is None
    assert compile_options.eager_compile_options(()) is None
    both = compile_options.LIGHT_LLVM_OPTIMIZATION + compile_options.OLDER_FUSION_EMITTERS
    expected = {"xla_backend_optimization_level": 1, "xla_cpu_use_fusion_emitters": False}
    assert compile_options.eager_compile_options(both) == (expected if jax.default_backend() == "cpu" else None)


@cpu_only
def test_a_transform_asking_for_unknown_options_runs_with_xlas_defaults(monkeypatch):
    S = scatterjax.Scattering1D(J=4, shape=256, Q=4)
    x = np.random.default_rng(1).standard_normal((3, 256)).astype(np.float32)
    expected = np.asarray(S(x))
    monkeypatch.setattr(scatterjax.Scattering1D, "_eager_compile_options", (("xla_cpu_no_such_option", True),))
    np.testing.assert_array_equal(np.asarray(S(x)), expected)
