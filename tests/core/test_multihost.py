"""Two processes (two CPU devices each) joined by ``jax.distributed`` compute one sharded global batch.

Both processes start on loopback with ``--xla_force_host_platform_device_count=2``; each holds
half of an 8-signal batch (3 real rows + 1 padding row per process), runs ``sharded_apply`` over the
global 4-device mesh and saves its own rows. Their concatenation must equal this process's
single-device result.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time

import numpy as np

import scatterjax

_WORKER = textwrap.dedent(
    """
    import sys
    import jax

    process_id, port, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    jax.distributed.initialize(
        coordinator_address=f"127.0.0.1:{port}", num_processes=2, process_id=process_id,
        initialization_timeout=60,
    )
    import numpy as np
    import scatterjax
    from scatterjax import make_batch_mesh, replicate, shard_batch, sharded_apply

    assert jax.process_count() == 2 and jax.device_count() == 4 and jax.local_device_count() == 2
    mesh = make_batch_mesh()
    S = replicate(scatterjax.Scattering1D(J=4, shape=256, Q=4), mesh)
    x = np.random.default_rng(0).standard_normal((6, 256)).astype(np.float32)
    local = x[3 * process_id : 3 * (process_id + 1)]
    x_sharded, n_valid = shard_batch(local, mesh)
    assert x_sharded.shape == (8, 256), x_sharded.shape
    y = sharded_apply(S, x_sharded, mesh)
    assert y.sharding == x_sharded.sharding
    shards = sorted(y.addressable_shards, key=lambda shard: shard.index[0].start)
    rows = np.concatenate([np.asarray(shard.data) for shard in shards])
    np.save(out, rows[:n_valid])
    jax.distributed.shutdown()
    """
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_processes_match_one(tmp_path):
    worker = tmp_path / "worker.py"
    worker.write_text(_WORKER)
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu")
    port = _free_port()
    outputs = [tmp_path / f"rows{i}.npy" for i in range(2)]
    start = time.monotonic()
    processes = [
        subprocess.Popen(
            [sys.executable, str(worker), str(i), str(port), str(outputs[i])],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(2)
    ]
    logs = []
    try:
        for process in processes:
            remaining = max(1.0, 120 - (time.monotonic() - start))
            logs.append(process.communicate(timeout=remaining)[0])
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    for i, process in enumerate(processes):
        assert process.returncode == 0, f"process {i} failed:\n{logs[i][-3000:] if i < len(logs) else ''}"

    S = scatterjax.Scattering1D(J=4, shape=256, Q=4)
    x = np.random.default_rng(0).standard_normal((6, 256)).astype(np.float32)
    reference = np.asarray(S(x), np.float64)
    ours = np.concatenate([np.load(path) for path in outputs]).astype(np.float64)
    assert ours.shape == reference.shape
    assert np.linalg.norm(ours - reference) / np.linalg.norm(reference) <= 1e-6
