"""The pure joint time-frequency scattering transform: ``time_frequency_scattering(x, bank)``.

Order of operations (JTFS.md §4), with the time axis computed by the 1D transform's own pieces
(``first_order``, ``second_order_spectra``, ``_average``) and every frequency filter of a block
applied as one matrix product along ``n1``:

1. ``S0``; ``U1 = |x * psi1|``; ``S1 = U1 * phi_T`` at the output resolution ``s``.
2. ``Y2 = U1 * psi2`` (complex, no modulus) at resolution ``j2``, stacked as ``(n2, n1)`` blocks.
3. Along ``n1``: ``|A Z|`` for ``Z = S1`` (spins >= 0) and ``Z = Y2`` (all spins).
4. The frequency low-pass (or global sum, or nothing) and the row crop, as a real row map.
5. Time: order 2 averaged by ``phi_T`` (or summed for 'global', or left at ``j2`` for T=0).

Steps 4 and 5 are linear maps on different axes and commute; step 4 runs first because it leaves
far fewer rows for the time average. Results are kymatio main's up to float rounding.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._bank_jtfs import BlockPlan, FilterBankJTFS, FrequencyOperators
from ._chunking import map_in_chunks
from ._modulus import modulus
from ._scattering1d import _average, first_order, second_order_spectra
from ._validation import check_real_input

# Batch chunks sized so a chunk's largest intermediate stays near this many bytes (see _chunking).
CHUNK_BYTES = 16 * 2**20


def _frequency_scattering(z: jax.Array, ops: FrequencyOperators, block: BlockPlan) -> list[jax.Array]:
    """``|A z|`` then each path's row map, for ``z`` of shape ``(..., M, L)`` (real or complex).

    Returns one array ``(..., keep, L)`` per path of ``block`` (by ``n_fr``).
    """
    dtype = z.real.dtype
    analysis = jax.lax.complex(ops.analysis_real.astype(dtype), ops.analysis_imag.astype(dtype))
    w = jnp.einsum("rm,...ml->...rl", analysis, z.astype(analysis.dtype), precision="highest")
    v = modulus(w)
    outputs = []
    for path in block.paths:
        rows = v[..., path.row_start : path.row_start + path.rows, :]
        if path.post < 0:
            outputs.append(rows[..., : path.keep, :])
        else:
            post = ops.post[path.post].astype(dtype)
            outputs.append(jnp.einsum("kr,...rl->...kl", post, rows, precision="highest"))
    return outputs


def _time_step(blocks: list[jax.Array], level: int, bank: FilterBankJTFS) -> list[jax.Array]:
    """Finish order-2 paths in time: average to resolution ``s`` ('local'), sum ('global') or crop
    at ``level`` (T=0). ``blocks``: arrays ``(B, n, keep, L)`` at resolution ``level``."""
    plan, tplan = bank.plan, bank.time.plan
    if plan.averaging == "global":
        return [b.sum(axis=-1, keepdims=True) for b in blocks]
    if plan.averaging == "none":
        return [b[..., tplan.ind_start[level] : tplan.ind_end[level]] for b in blocks]
    sizes = [b.shape[1] * b.shape[2] for b in blocks]
    stacked = jnp.concatenate([b.reshape(b.shape[0], -1, b.shape[-1]) for b in blocks], axis=1)
    index = tplan.lowpass_index(level, plan.log2_stride - level, True)
    averaged = _average(stacked, None, tplan.lowpasses[index], bank.time.lowpass[index], tplan)
    averaged = averaged * 2.0**level  # the summed low-pass level (JTFS.md §0)
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    return [
        averaged[:, start : start + size].reshape(b.shape[:-1] + averaged.shape[-1:])
        for b, start, size in zip(blocks, starts, sizes)
    ]


def jtfs_paths(x: jax.Array, bank: FilterBankJTFS):
    """Every JTFS path of a batch, as the plan lists them.

    Args:
      x: real array ``(B, N)``.

    Returns:
      ``(order0, order1, order2)``: ``order0`` of shape ``(B, 1, L0)``; ``order1`` a list (by
      ``n_fr``) of ``(B, keep, L)``; ``order2`` a list (by block, then ``n2``, then ``n_fr``) of
      ``(B, keep, L)``. ``keep`` is each path's kept rows along ``n1`` (``PathPlan.keep``).
    """
    plan, time = bank.plan, bank.time
    tplan = time.plan
    padded, x_half, u1, u1_half = first_order(x, time)

    def average(u, u_half, level, a, non_negative=True):
        index = tplan.lowpass_index(level, a, non_negative)
        return _average(u, u_half, tplan.lowpasses[index], time.lowpass[index], tplan)

    if plan.averaging == "global":
        order0 = padded[:, None].sum(axis=-1, keepdims=True)
    elif plan.averaging == "none":
        order0 = x[:, None]
    else:
        order0 = average(padded[:, None], x_half[:, None], 0, tplan.k0, False)

    s1 = jnp.concatenate(
        [average(u, h, group.k1, group.a1) for group, u, h in zip(tplan.order1, u1, u1_half)], axis=1
    )
    order1 = _frequency_scattering(s1, bank.order1, plan.order1)
    if plan.averaging == "global":
        order1 = [p.sum(axis=-1, keepdims=True) for p in order1]

    order2 = []
    spectra = {level: spectrum for level, spectrum, _ in second_order_spectra(u1_half, time)}
    for block, ops in zip(plan.order2, bank.order2):
        y2 = jnp.fft.ifft(spectra[block.level], axis=-1)
        y2 = y2[:, jnp.asarray(block.row_order)].reshape(y2.shape[0], len(block.n2), block.M, y2.shape[-1])
        paths = _time_step(_frequency_scattering(y2, ops, block), block.level, bank)
        order2 += [p[:, i] for i in range(len(block.n2)) for p in paths]
    return order0, order1, order2


def time_frequency_scattering(x: jax.Array, bank: FilterBankJTFS):
    """Joint time-frequency scattering of a batch of real signals (kymatio main's numbers).

    Args:
      x: real float32/float64 array of shape ``(*batch, N)``.
      bank: a :class:`FilterBankJTFS`, e.g. ``TimeFrequencyScattering(...).bank``.

    Returns:
      ``format='time'``: an array ``(*batch, C, L_out)`` (order 0, then first-order channels by
      ``(n_fr, n1)``, then second-order channels by ``(n2, n_fr, n1)``; see ``meta()``), or with
      ``T=0`` a list of ``C`` arrays ``(*batch, L_i)``.
      ``format='joint'``: an array ``(*batch, C_joint, R, L_out)``, one channel per path (no order 0).
    """
    plan = bank.plan
    x = check_real_input(x, (bank.time.plan.N,))
    batch_shape = x.shape[:-1]
    flat = x.reshape((-1, bank.time.plan.N))
    order0, order1, order2 = map_in_chunks(
        lambda chunk: jtfs_paths(chunk, bank), flat, signal_bytes(bank, x.dtype), CHUNK_BYTES
    )
    paths = [*order1, *order2]
    if plan.format == "joint":
        out = jnp.stack(paths, axis=1)
        return out.reshape(batch_shape + out.shape[1:])
    path_plans = [*plan.order1.paths, *(p for block in plan.order2 for _ in block.n2 for p in block.paths)]
    channels = [order0[:, 0]] + [
        path[:, i] for path, path_plan in zip(paths, path_plans) for i in range(path_plan.channels)
    ]
    if plan.averaging == "none":
        return [c.reshape(batch_shape + c.shape[1:]) for c in channels]
    out = jnp.stack(channels, axis=1)
    return out.reshape(batch_shape + out.shape[1:])


def signal_bytes(bank: FilterBankJTFS, dtype) -> int:
    """Bytes of the largest complex intermediate of one signal: a block's stacked ``A Y2``."""
    tplan = bank.time.plan
    sizes = [tplan.N_padded * 4]
    for block in bank.plan.order2:
        sizes.append(len(block.n2) * block.analysis_rows * (tplan.N_padded >> block.level))
    return max(sizes) * 2 * jnp.dtype(dtype).itemsize
