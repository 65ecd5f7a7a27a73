"""Batches sharded over devices (and hosts) with JAX's own sharding: a mesh, placement, application.

Every scatterjax transform is a pure function of its filter bank and a batch of independent signals,
so the batch axis can be split across devices with no communication at all. Two facts shape this
module:

- ``S(x)`` on a batch-sharded ``x`` under ``jax.jit`` gives the right numbers, sharded like ``x``,
  but XLA's SPMD partitioner does not split FFTs along batch dimensions: it gathers each FFT's
  operand onto every device (``all-gather`` in the compiled program) and computes the whole batch
  everywhere. :func:`sharded_apply` avoids that with :func:`jax.shard_map`: each device runs the
  transform on its own block of the batch, and the compiled program has no collective at all.
- A host holds NumPy data for its own devices only. :func:`shard_batch` pads a ragged batch to a
  multiple of the local device count, places it (``jax.make_array_from_process_local_data``, so
  the same call builds a global array across hosts after ``jax.distributed.initialize``) and says
  how many rows are real.

Example (one host, every local device)::

    mesh = make_batch_mesh()
    S = scatterjax.Scattering1D(J=8, shape=4096, Q=8)
    x_sharded, n_valid = shard_batch(signals, mesh)    # signals: (B, 4096) NumPy
    Sx = sharded_apply(S, x_sharded, mesh)             # (B_padded, C, 16), sharded like x_sharded
    Sx = np.asarray(Sx)[:n_valid]
"""

from __future__ import annotations

from functools import partial

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

BATCH_AXIS = "batch"


def make_batch_mesh(devices=None, axis_name: str = BATCH_AXIS) -> Mesh:
    """A one-axis device mesh for batch parallelism.

    Args:
      devices: a sequence of devices, or ``None`` for ``jax.devices()`` (every device of every
        process: after ``jax.distributed.initialize`` that is the global set, ordered so that each
        process owns a contiguous block).
      axis_name: name of the mesh axis (``"batch"``).

    Returns:
      ``jax.sharding.Mesh`` of shape ``(len(devices),)``.

    Example:
      >>> mesh = make_batch_mesh()
      >>> mesh.axis_names
      ('batch',)
    """
    if devices is None:
        devices = jax.devices()
    devices = list(devices)
    if not devices:
        raise ValueError("devices must name at least one device; got an empty sequence.")
    # Group by process so that a process's devices hold consecutive blocks of the global batch,
    # which is what make_array_from_process_local_data expects of the local data.
    devices.sort(key=lambda d: (d.process_index, d.id))
    return Mesh(np.array(devices), (axis_name,))


def batch_sharding(mesh: Mesh | None = None, axis_name: str | None = None) -> NamedSharding:
    """``NamedSharding`` that splits axis 0 over the mesh's (single) axis and replicates the rest."""
    mesh = make_batch_mesh() if mesh is None else mesh
    axis_name = mesh.axis_names[0] if axis_name is None else axis_name
    return NamedSharding(mesh, P(axis_name))


def _local_device_count(mesh: Mesh) -> int:
    return sum(1 for d in mesh.devices.flat if d.process_index == jax.process_index())


def shard_batch(x, mesh: Mesh | None = None, *, pad_to: int | None = None) -> tuple[jax.Array, int]:
    """Place this host's batch ``x`` on its devices of ``mesh``, split along axis 0.

    Args:
      x: NumPy (or array-like) batch of shape ``(B, ...)``: this process's rows. In a multi-host
        run each process passes its own rows; the global array is their concatenation in process
        order.
      mesh: a mesh from :func:`make_batch_mesh`; ``None`` builds one over every device.
      pad_to: pad the local batch to this many rows (rounded up to a multiple of the local device
        count); ``None`` pads only to the next multiple of the local device count. A fixed
        ``pad_to`` keeps one compiled program for a ragged last batch.

    Returns:
      ``(x_sharded, n_valid)``: a ``jax.Array`` of global shape ``(B_padded * processes, ...)``
      sharded with :func:`batch_sharding`, and ``n_valid = B``, the number of real local rows.
      Padding rows are zeros: trim outputs with ``y[:n_valid]`` (one process) or
      ``local_rows[:n_valid]`` (each host).

    Example:
      >>> x, n_valid = shard_batch(np.ones((5, 16), np.float32))
      >>> n_valid, x.shape[0] % len(jax.devices())
      (5, 0)
    """
    mesh = make_batch_mesh() if mesh is None else mesh
    x = np.asarray(x)
    if x.ndim < 1:
        raise ValueError(f"x must have a batch axis (shape (B, ...)); got a scalar of shape {x.shape}.")
    n_valid = x.shape[0]
    local_devices = _local_device_count(mesh)
    if local_devices == 0:
        raise ValueError(f"mesh has no device of this process (process_index={jax.process_index()}).")
    rows = n_valid if pad_to is None else max(int(pad_to), n_valid)
    rows = max(local_devices, -(-rows // local_devices) * local_devices)
    if rows != n_valid:
        padding = np.zeros((rows - n_valid,) + x.shape[1:], x.dtype)
        x = np.concatenate([x, padding], axis=0)
    sharding = batch_sharding(mesh)
    global_rows = rows * (mesh.devices.size // local_devices)
    array = jax.make_array_from_process_local_data(sharding, x, (global_rows,) + x.shape[1:])
    return array, n_valid


def replicate(tree, mesh: Mesh | None = None):
    """Copy every array leaf of ``tree`` (e.g. a transform's filter bank) to every device of ``mesh``.

    Every process must pass the same values (they are built from the same parameters).
    """
    mesh = make_batch_mesh() if mesh is None else mesh
    sharding = NamedSharding(mesh, P())
    if jax.process_count() == 1:
        return jax.device_put(tree, sharding)
    return jax.tree_util.tree_map(
        lambda leaf: jax.make_array_from_callback(np.shape(leaf), sharding, lambda index: np.asarray(leaf)[index]),
        tree,
    )


@partial(jax.jit, static_argnames=("mesh", "axis_name"))
def _sharded_call(transform, x, *, mesh: Mesh, axis_name: str):
    def per_device(transform, x_block):
        return transform(x_block)

    return jax.shard_map(
        per_device,
        mesh=mesh,
        in_specs=(P(), P(axis_name)),
        out_specs=P(axis_name),
        check_vma=False,
    )(transform, x)


def sharded_apply(transform, x, mesh: Mesh | None = None):
    """``transform(x)`` with the batch axis 0 of ``x`` split over ``mesh``, device by device.

    Each device applies ``transform`` to its block of rows (``jax.shard_map``): no all-gather, no
    other collective, and the output is sharded like the input (:func:`batch_sharding`). Works
    for every scatterjax transform with ``out_type='array'`` or ``'dict'``, on one host or many.

    Args:
      transform: a scatterjax transform (``Scattering1D``, ``Scattering2D``,
        ``HarmonicScattering3D``), or any pytree callable on a batch.
      x: ``(B, ...)`` array whose leading dimension is a multiple of the mesh size: a
        ``jax.Array`` from :func:`shard_batch` (global), or a NumPy array (single process only;
        it is placed with :func:`shard_batch` and must already have a suitable size).
      mesh: the mesh ``x`` is sharded over; ``None`` uses ``x``'s own mesh when it has one, else
        :func:`make_batch_mesh`.

    Returns:
      the transform's output, sharded over ``mesh`` along axis 0.

    Example:
      >>> import numpy as np, scatterjax
      >>> S = scatterjax.Scattering1D(J=4, shape=256)
      >>> x, n_valid = scatterjax.shard_batch(np.zeros((6, 256), np.float32))
      >>> scatterjax.sharded_apply(S, x).shape[1:]
      (13, 16)
    """
    if getattr(transform, "out_type", "array") == "list":
        raise ValueError(
            "sharded_apply needs out_type='array' or 'dict' (a 'list' output holds Python ints that "
            "cannot be sharded); build the transform with out_type='array'."
        )
    if mesh is None:
        sharding = getattr(x, "sharding", None)
        mesh = sharding.mesh if isinstance(sharding, NamedSharding) else make_batch_mesh()
    axis_name = mesh.axis_names[0]
    if not isinstance(x, jax.Array) or x.sharding != batch_sharding(mesh):
        if jax.process_count() > 1 and not isinstance(x, jax.Array):
            raise ValueError("in a multi-process run, place each host's rows with shard_batch(x, mesh) first.")
        x_host = np.asarray(x)
        if x_host.shape[0] % mesh.devices.size:
            raise ValueError(
                f"the batch size of x ({x_host.shape[0]}) must be a multiple of the mesh size "
                f"({mesh.devices.size}); pad it with shard_batch(x, mesh), which says how many rows to keep."
            )
        x, _ = shard_batch(x_host, mesh)
    if x.shape[0] % mesh.devices.size:
        raise ValueError(
            f"the batch size of x ({x.shape[0]}) must be a multiple of the mesh size ({mesh.devices.size}); "
            "pad it with shard_batch(x, mesh)."
        )
    return _sharded_call(transform, x, mesh=mesh, axis_name=axis_name)
