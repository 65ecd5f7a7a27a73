"""TimeFrequencyScattering: internal consistency over a grid, kymatio main's bugs fixed, JAX-native.

Kymatio main has no stored output for most configurations, so the grid checks what must hold by
construction: the 'time' and 'joint' formats carry the same numbers, 'list', 'dict' and 'array'
agree, and ``meta()`` describes every channel of the output.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import scatterjax

# (kwargs) — every option combination kymatio main accepts, at small sizes.
GRID = [
    dict(J=3, J_fr=1, Q=2, shape=64),
    dict(J=4, J_fr=0, Q=4, shape=128),
    dict(J=4, J_fr=2, Q=4, shape=100),
    dict(J=5, J_fr=2, Q=8, shape=256, T=32),
    dict(J=5, J_fr=2, Q=8, shape=256, T=24.5),
    dict(J=5, J_fr=2, Q=8, shape=256, stride=8),
    dict(J=5, J_fr=2, Q=8, shape=256, T="global"),
    dict(J=5, J_fr=2, Q=8, shape=256, T=0),
    dict(J=5, J_fr=2, Q=8, shape=300, F=2),
    dict(J=5, J_fr=2, Q=8, shape=256, F=4, stride_fr=2),
    dict(J=5, J_fr=2, Q=8, shape=256, F=0),
    dict(J=5, J_fr=2, Q=8, shape=256, F="global"),
    dict(J=5, J_fr=3, Q=(8, 2), shape=256, Q_fr=2),
    dict(J=5, J_fr=3, Q=(8, 2), shape=256, Q_fr=2, F=4),
    dict(J=5, J_fr=3, Q=8, shape=257, F=8, stride_fr=16),
    dict(J=6, J_fr=2, Q=(6, 1), shape=777),
    dict(J=4, J_fr=1, Q=(4, 2), shape=96, T="global", F=0),
    dict(J=4, J_fr=1, Q=3, shape=128, T=0, F="global"),
    dict(J=6, J_fr=4, Q=2, shape=512, Q_fr=2),
    dict(J=5, J_fr=5, Q=4, shape=256),
    dict(J=4, J_fr=2, Q=(8,), shape=200, T=12, F=3),
    dict(J=6, J_fr=1, Q=1, shape=1024),
]


def _ids(kwargs):
    return "-".join(f"{k}{v}" for k, v in kwargs.items())


def _signal(n, batch=(2,), seed=0):
    return np.random.default_rng(seed).standard_normal(batch + (n,)).astype(np.float32)


@functools.cache
def _transform(items, **extra):
    return scatterjax.TimeFrequencyScattering(**dict(items), **extra)


def transform(kwargs, **extra):
    return _transform(tuple(kwargs.items()), **extra)


@pytest.mark.parametrize("kwargs", GRID, ids=_ids)
def test_formats_and_out_types_agree(kwargs):
    """'time' channels are rows of the 'joint' paths; list, dict and array carry the same numbers."""
    x = _signal(kwargs["shape"])
    unaveraged = kwargs.get("T") == 0
    S_time = transform(kwargs, out_type="list")
    time_list = S_time(x)
    meta = S_time.meta()
    assert len(time_list) == S_time.output_size() == len(meta["key"])
    time_dict = transform(kwargs, out_type="dict")(x)
    assert list(time_dict) == meta["key"]  # dict keys in array order
    joint = transform(kwargs, out_type="dict", format="joint")(x)
    joint_meta = transform(kwargs, out_type="dict", format="joint").meta()
    assert list(joint) == joint_meta["key"]
    np.testing.assert_array_equal(joint[()], time_dict[()])
    for c, (entry, key) in enumerate(zip(time_list, meta["key"])):
        np.testing.assert_array_equal(np.asarray(entry["coef"]), np.asarray(time_dict[key]))
        assert entry["n"] == key[:-1] if key else entry["n"] == ()
        assert entry["order"] == meta["order"][c] == (len(key) - 1 if key else 0)  # B2
        if not key:
            continue
        assert entry["n_fr"] == (key[-1],) and entry["spin"] == meta["spin"][c]
        n1 = key[0]
        path = joint[key[1:]]
        # The path's rows are n1 = row * stride; this channel is one of them.
        stride = _stride(joint_meta, key[1:])
        assert n1 % stride == 0
        np.testing.assert_allclose(np.asarray(entry["coef"]), np.asarray(path[..., n1 // stride, :]), rtol=0, atol=0)
        assert meta["xi"][c, 0] == S_time.bank.time.xi1[n1]
        if len(key) == 3:
            assert meta["j"][c, 1] == S_time.bank.time.j2[key[1]]
    if not unaveraged:
        array = np.asarray(transform(kwargs)(x))
        assert array.shape == (2, len(time_list), time_list[0]["coef"].shape[-1])
        np.testing.assert_array_equal(array, np.stack([np.asarray(e["coef"]) for e in time_list], axis=1))


def _stride(joint_meta, path_key):
    row = joint_meta["key"].index(path_key)
    return int(joint_meta["n1_stride"][row])


def test_joint_array_is_the_uncropped_joint_list():
    kwargs = dict(J=5, J_fr=2, Q=8, shape=256)
    x = _signal(256)
    array = np.asarray(transform(kwargs, format="joint")(x))
    listed = transform(kwargs, format="joint", out_type="list")(x)
    assert listed[0]["order"] == 0 and array.shape[1] == len(listed) - 1
    for c, entry in enumerate(listed[1:]):
        rows = entry["coef"].shape[-2]
        # The same numbers; the array's uncropped row maps round differently (float32).
        np.testing.assert_allclose(array[:, c, :rows], np.asarray(entry["coef"]), rtol=1e-5, atol=1e-7)
        assert entry["n1_max"] >= (rows - 1) * entry["n1_stride"]


# --- kymatio main's bugs, fixed ---------------------------------------------------------------


def test_B1_meta_rows_describe_channels_and_output_size_counts_them():
    kwargs = dict(J=5, J_fr=2, Q=8, shape=256)
    S = transform(kwargs)
    out = S(_signal(256))
    meta = S.meta()
    assert out.shape[-2] == S.output_size() == len(meta["key"]) == len(meta["order"])
    assert S.output_size(detail=True) == [1, int((meta["order"] == 1).sum()), int((meta["order"] == 2).sum())]
    joint = transform(kwargs, format="joint")
    assert joint(_signal(256)).shape[-3] == joint.output_size() == len(joint.meta()["key"])
    assert () not in joint.meta()["key"]


def test_B2_list_order_field_is_one_and_two():
    entries = transform(dict(J=5, J_fr=2, Q=8, shape=256), out_type="list")(_signal(256))
    assert sorted({e["order"] for e in entries}) == [0, 1, 2]
    assert all(e["order"] == len(e["n"]) for e in entries)


def test_B3_T0_time_format_keeps_first_order_channels():
    kwargs = dict(J=5, J_fr=2, Q=8, shape=256)
    x = _signal(256)
    unaveraged = transform(dict(kwargs, T=0), out_type="dict")(x)
    averaged = transform(kwargs, out_type="dict")(x)  # T = 2**J: the same first order (B7)
    first = [k for k in unaveraged if len(k) == 2]
    assert first
    for key in first:
        assert unaveraged[key].shape[-1] == 8
        np.testing.assert_allclose(np.asarray(unaveraged[key]), np.asarray(averaged[key]), rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(np.asarray(unaveraged[()]), x)  # order 0 is the signal
    second = [k for k in unaveraged if len(k) == 3]
    time = transform(kwargs).bank.time
    for key in second:
        level = time.j2[key[1]]
        assert unaveraged[key].shape[-1] == time.plan.ind_end[level] - time.plan.ind_start[level] > 8


def test_B4_spin0_channels_report_their_true_n1():
    kwargs = dict(J=6, J_fr=3, Q=8, shape=512, F=4)  # s_fr = 2 < J_fr = 3
    x = _signal(512)
    S = transform(kwargs, out_type="dict")
    out = S(x)
    joint = transform(kwargs, format="joint")(x)  # complete and consistent (kymatio's too)
    meta = S.meta()
    spin0 = [k for k, s in zip(meta["key"], meta["spin"]) if s == 0 and len(k) == 2]
    # Kymatio's count, ceil(K1 / 2**J_fr), at the true spacing 2**s_fr.
    K1 = len(S.bank.time.xi1)
    assert [k[0] for k in spin0] == [4 * i for i in range(-(-K1 // 8))]
    for i, key in enumerate(spin0):
        np.testing.assert_allclose(np.asarray(out[key]), np.asarray(joint[:, 0, i]), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(J=6, J_fr=2, Q=8, shape=1024, T=8), "stride"),  # s < j2
        (dict(J=6, J_fr=2, Q=8, shape=1024, T=16, stride=8), "stride"),
        (dict(J=6, J_fr=2, Q=8, shape=1024, stride=128), "stride"),  # s > max(log2 T, J)
        (dict(J=6, J_fr=3, Q=8, shape=1024, F=8, stride_fr=1), "stride_fr"),  # b != c
        (dict(J=6, J_fr=3, Q=8, shape=1024, stride_fr=16), "stride_fr"),  # 2**s_fr does not divide N_fr
        (dict(J=6, J_fr=2, Q=8, shape=1024, F=4.0), "F must be an int"),
        (dict(J=6, J_fr=2, Q=8, shape=1024, F=56), "F=56"),  # N_fr not divisible by 2**log2 F
        (dict(J=6, J_fr=2, Q=8, shape=1024, F="global", format="joint"), "same number"),
        (dict(J=6, J_fr=2, Q=8, shape=1024, F=8, format="joint"), "same number"),
        (dict(J=6, J_fr=2, Q=8, shape=1024, T=0), "T=0"),
        (dict(J=6, J_fr=2, Q=8, shape=1024, F=0, format="joint"), "F=0"),
        (dict(J=6, J_fr=2, Q=8, shape=1024, T="global", stride=4), "stride"),
        (dict(J=6, J_fr=2, Q=8, shape=1024, F=0, stride_fr=2), "stride_fr"),
        (dict(J=6, J_fr=2, Q=8, shape=1024, T=2000), "T=2000"),
        (dict(J=6, J_fr=2, Q=8, shape=1024, T="local"), "T must be"),
        (dict(J=6, J_fr=2, Q=8, shape=1024, F=100), "F=100"),
        (dict(J=6, J_fr=2, Q=8, shape=1024, Q_fr=1.0), "Q_fr"),
        (dict(J=6, J_fr=2, Q=[8], shape=1024), "Q must be"),
        (dict(J=6, J_fr=2, Q=8, shape=1024, out_type="tensor"), "out_type"),
        (dict(J=6, J_fr=2, Q=8, shape=1024, format="frequency"), "format"),
        (dict(J=11, J_fr=2, Q=8, shape=1024), "J=11"),
    ],
    ids=lambda v: v if isinstance(v, str) else _ids(v),
)
def test_B5_bad_configurations_raise_value_error_up_front(kwargs, match):
    with pytest.raises(ValueError, match=match):
        scatterjax.TimeFrequencyScattering(**kwargs)


def test_B5_levels_kymatio_cannot_fold_are_supported():
    """Q2 > Q1 (kymatio main: IndexError or AssertionError) runs and is finite."""
    for Q in [(1, 2), (2, 4)]:
        S = scatterjax.TimeFrequencyScattering(J=6, J_fr=1, Q=Q, shape=512)
        out = np.asarray(S(_signal(512)))
        assert out.shape == (2, S.output_size(), 8) and np.isfinite(out).all()


@pytest.mark.parametrize(
    "x, error",
    [
        (np.zeros((2, 256), np.int32), TypeError),
        (np.zeros((2, 256), np.complex64), TypeError),
        (np.zeros((2, 256), np.float16), TypeError),
        (np.zeros((2, 255), np.float32), ValueError),
    ],
)
def test_bad_input_raises(x, error):
    with pytest.raises(error):
        transform(dict(J=5, J_fr=2, Q=8, shape=256))(x)


# --- JAX-native ---------------------------------------------------------------------------------

SMALL = dict(J=4, J_fr=1, Q=4, shape=128)


def test_jit_equals_eager_and_filters_are_arguments():
    S = transform(SMALL)
    x = jnp.asarray(_signal(128))
    eager = np.asarray(S(x))
    lowered = jax.jit(lambda S, x: S(x)).lower(S, x)
    jitted = np.asarray(lowered.compile()(S, x))
    np.testing.assert_allclose(jitted, eager, rtol=1e-6, atol=1e-7)
    # Every filter array is an argument of the compiled program (not a baked-in constant).
    main = next(line for line in lowered.as_text().splitlines() if "func.func public @main" in line)
    assert main.count("%arg") == len(jax.tree_util.tree_leaves(S)) + 1 > 5


def test_compiles_once_per_input_shape():
    S = transform(SMALL)
    traces = []

    @jax.jit
    def run(S, x):
        traces.append(1)
        return S(x)

    for seed in range(3):
        run(S, jnp.asarray(_signal(128, seed=seed)))
    assert len(traces) == 1
    run(S, jnp.asarray(_signal(128, batch=(3,))))
    assert len(traces) == 2


def test_vmap_equals_loop_and_batch_ranks():
    S = transform(SMALL)
    x = _signal(128, batch=(3, 2))
    looped = np.stack([np.asarray(S(row)) for row in x])
    np.testing.assert_allclose(np.asarray(jax.vmap(S)(jnp.asarray(x))), looped, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(np.asarray(S(x)), looped, rtol=1e-5, atol=1e-7)
    assert S(x[0, 0]).shape == (S.output_size(), 8)


def test_gradients_float64():
    with jax.enable_x64(True):
        S = scatterjax.TimeFrequencyScattering(J=3, J_fr=1, Q=2, shape=32)
        x = jnp.asarray(np.random.default_rng(1).standard_normal(32))
        check_grads(lambda x: S(x).sum(), (x,), order=1, modes=("rev",), atol=1e-5, rtol=1e-5)
        check_grads(lambda x: S(x)[5:9, 2].sum(), (x,), order=1, modes=("fwd",), atol=1e-5, rtol=1e-5)
        zero_grad = jax.grad(lambda x: S(x).sum())(jnp.zeros(32))
        assert np.isfinite(np.asarray(zero_grad)).all()


def test_gradient_recomputes_time_chunks_instead_of_storing_them():
    # N=16384 is long enough for the frequency scattering to run in time chunks (a lax.map). Stored
    # for the backward pass, every chunk's product and modulus made the gradient's working memory
    # 8.9x the forward's (264 MB); recomputed, 2.5x (74 MB).
    S = scatterjax.TimeFrequencyScattering(J=6, J_fr=2, Q=8, shape=16384)
    x = jax.ShapeDtypeStruct((1, 16384), jnp.float32)

    def temporaries(fn, *args):
        return jax.jit(fn).lower(*args).compile().memory_analysis().temp_size_in_bytes

    forward = temporaries(lambda S, x: S(x), S, x)
    gradient = temporaries(jax.grad(lambda x, S: jnp.sum(S(x) ** 2)), x, S)
    assert gradient < 4 * forward, (gradient / 2**20, forward / 2**20)


def test_gradient_through_time_chunks_equals_the_unchunked_gradient(monkeypatch):
    from scatterjax._jtfs import core

    S = scatterjax.TimeFrequencyScattering(J=6, J_fr=2, Q=8, shape=2048)
    x = jnp.asarray(np.random.default_rng(2).standard_normal((1, 2048)), jnp.float32)
    target = S(x[:, ::-1])
    chunk_length = core._chunk_length
    splits = []  # (chunk, length) of each product formed

    def recorded(bytes_per_sample, length):
        splits.append((chunk_length(bytes_per_sample, length), length))
        return splits[-1][0]

    monkeypatch.setattr(core, "_chunk_length", recorded)

    def gradient(product_bytes):
        monkeypatch.setattr(core, "_PRODUCT_BYTES", product_bytes)
        splits.clear()
        jax.clear_caches()
        return np.asarray(jax.jit(jax.grad(lambda x, S: jnp.sum((S(x) - target) ** 2)))(x, S))

    whole = gradient(2**62)  # the whole time axis in one product
    assert splits and all(chunk == length for chunk, length in splits), splits
    chunked = gradient(2**16)  # a few products' samples: the time axis goes through the lax.map in chunks
    assert any(chunk < length for chunk, length in splits), splits
    assert np.linalg.norm(chunked - whole) <= 1e-5 * np.linalg.norm(whole)


def test_float64_mode():
    with jax.enable_x64(True):
        S = scatterjax.TimeFrequencyScattering(**SMALL)
        x = _signal(128).astype(np.float64)
        out = S(x)
        assert out.dtype == jnp.float64
        assert S.bank.order1.analysis_real.dtype == jnp.float64
        # float32 input is computed in float32 even with x64 on.
        assert S(x.astype(np.float32)).dtype == jnp.float32
