"""Batch sharding: ``sharded_apply`` over a 4-device CPU mesh equals the unsharded transform.

The multi-device checks run in a subprocess with ``XLA_FLAGS=--xla_force_host_platform_device_count=4``
(this pytest process has already initialised JAX with one CPU device).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import scatterjax
from scatterjax._core.sharding import batch_sharding, make_batch_mesh, shard_batch, sharded_apply

COLLECTIVES = ("all-gather", "all-reduce", "reduce-scatter", "all-to-all", "collective-permute")

_SCRIPT = textwrap.dedent(
    """
    import json
    import jax
    import numpy as np
    import scatterjax
    from scatterjax._core.sharding import _sharded_call, make_batch_mesh, shard_batch, sharded_apply

    COLLECTIVES = COLLECTIVES_PLACEHOLDER
    mesh = make_batch_mesh()
    transforms = [("1d", lambda: scatterjax.Scattering1D(J=4, shape=256, Q=4), (7, 256))]
    transforms.append(("2d", lambda: scatterjax.Scattering2D(J=2, shape=(16, 16), L=4), (7, 16, 16)))
    transforms.append(
        ("3d", lambda: scatterjax.HarmonicScattering3D(J=1, shape=(8, 8, 8), L=1), (7, 8, 8, 8))
    )
    report = {"devices": jax.device_count()}
    for name, build, shape in transforms:
        S = build()
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        x_sharded, n_valid = shard_batch(x, mesh)
        hlo = _sharded_call.lower(S, x_sharded, mesh=mesh, axis_name="batch").compile().as_text()
        y = sharded_apply(S, x_sharded, mesh)
        reference = np.asarray(S(x), np.float64)
        ours = np.asarray(y, np.float64)
        # Plain jit on a sharded input: right numbers and sharding, but XLA gathers each FFT.
        y_jit = jax.jit(lambda S, x: S(x))(S, x_sharded)
        # A plain eager call on a batch-sharded input is routed through sharded_apply.
        y_eager = S(x_sharded)
        hlo_jit = jax.jit(lambda S, x: S(x)).lower(S, x_sharded).compile().as_text()
        # An input committed to one device other than the default one: computed and returned there.
        y_device2 = S(jax.device_put(x, jax.devices()[2]))
        report[name] = {
            "padded_rows": int(x_sharded.shape[0]),
            "n_valid": n_valid,
            "same_sharding": y.sharding == x_sharded.sharding,
            "shard_rows": sorted({s.data.shape[0] for s in y.addressable_shards}),
            "collectives": [c for c in COLLECTIVES if c in hlo],
            "rel_error": float(np.linalg.norm(ours[:n_valid] - reference) / np.linalg.norm(reference)),
            "padding_rows_finite": bool(np.isfinite(ours[n_valid:]).all()),
            "jit_rel_error": float(
                np.linalg.norm(np.asarray(y_jit, np.float64)[:n_valid] - reference) / np.linalg.norm(reference)
            ),
            "jit_same_sharding": y_jit.sharding.is_equivalent_to(x_sharded.sharding, y_jit.ndim),
            "jit_all_gather": "all-gather" in hlo_jit,
            "eager_rel_error": float(
                np.linalg.norm(np.asarray(y_eager, np.float64)[:n_valid] - reference) / np.linalg.norm(reference)
            ),
            "eager_same_sharding": y_eager.sharding == x_sharded.sharding,
            "eager_shard_rows": sorted({s.data.shape[0] for s in y_eager.addressable_shards}),
            "committed_devices": sorted(d.id for d in y_device2.devices()),
            "committed_same_bits": bool(np.array_equal(np.asarray(y_device2), np.asarray(S(x)))),
        }
    print("REPORT" + json.dumps(report))
    """
).replace("COLLECTIVES_PLACEHOLDER", repr(COLLECTIVES))


@pytest.fixture(scope="module")
def four_device_report():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, timeout=150
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("REPORT"))
    return json.loads(line[len("REPORT") :])


@pytest.mark.parametrize("name", ["1d", "2d", "3d"])
def test_sharded_apply_matches_unsharded(four_device_report, name):
    result = four_device_report[name]
    assert four_device_report["devices"] == 4
    assert result["padded_rows"] == 8 and result["n_valid"] == 7
    assert result["rel_error"] <= 1e-6
    assert result["same_sharding"]
    assert result["shard_rows"] == [2]  # each device holds its own 2 rows, none holds the batch
    assert result["collectives"] == []  # no all-gather (nor any other collective) in the program
    assert result["padding_rows_finite"]


@pytest.mark.parametrize("name", ["1d", "2d", "3d"])
def test_plain_jit_on_sharded_input_is_correct(four_device_report, name):
    """``jax.jit(S)`` on a sharded batch: right numbers, output sharded like the input.

    (XLA's SPMD partitioner replicates FFTs, so that program gathers: that is why ``sharded_apply``
    exists; the flag is recorded so a future XLA that partitions FFTs along batch shows up here.)
    """
    result = four_device_report[name]
    assert result["jit_rel_error"] <= 1e-6
    assert result["jit_same_sharding"]


@pytest.mark.parametrize("name", ["1d", "2d", "3d"])
def test_eager_call_on_sharded_input_stays_sharded(four_device_report, name):
    """``S(x)`` on a batch-sharded array runs per device (no gather) and keeps the sharding."""
    result = four_device_report[name]
    assert result["eager_rel_error"] <= 1e-6
    assert result["eager_same_sharding"]
    assert result["eager_shard_rows"] == [2]


@pytest.mark.parametrize("name", ["1d", "2d", "3d"])
def test_eager_call_keeps_a_committed_inputs_device(four_device_report, name):
    """``S(x)`` on an array committed to device 2 answers on device 2, as ``jax.jit`` and
    ``jax.numpy`` do (the eager chunks used to go to the default device)."""
    result = four_device_report[name]
    assert result["committed_devices"] == [2]
    assert result["committed_same_bits"]


def test_shard_batch_pads_and_reports_valid_rows():
    mesh = make_batch_mesh()
    x = np.arange(5 * 8, dtype=np.float32).reshape(5, 8)
    x_sharded, n_valid = shard_batch(x, mesh, pad_to=6)
    assert n_valid == 5
    assert x_sharded.shape == (6, 8)
    assert x_sharded.sharding == batch_sharding(mesh)
    np.testing.assert_array_equal(np.asarray(x_sharded)[:5], x)
    np.testing.assert_array_equal(np.asarray(x_sharded)[5:], 0)


def test_sharded_apply_single_device_matches_call():
    S = scatterjax.Scattering1D(J=3, shape=64, Q=2)
    x = np.random.default_rng(1).standard_normal((3, 64)).astype(np.float32)
    x_sharded, n_valid = shard_batch(x)
    ours = np.asarray(sharded_apply(S, x_sharded))[:n_valid]
    np.testing.assert_allclose(ours, np.asarray(S(x)), rtol=1e-6, atol=1e-7)


def test_sharded_apply_rejects_list_output_and_bad_sizes():
    S = scatterjax.Scattering1D(J=3, shape=64, T=0, out_type="list")
    with pytest.raises(ValueError, match="out_type"):
        sharded_apply(S, np.zeros((2, 64), np.float32))
    with pytest.raises(ValueError, match="batch axis"):
        shard_batch(np.float32(1.0))
    with pytest.raises(ValueError, match="at least one device"):
        make_batch_mesh([])
