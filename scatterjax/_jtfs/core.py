"""The pure joint time-frequency scattering transform: ``time_frequency_scattering(x, bank)``.

Order of operations (kymatio main's), with the time axis computed by the 1D transform's own pieces
(``first_order``, ``second_order_spectra``, ``lowpass_average``) and every frequency filter of a block
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
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._core.amplitude import amplitude_exponents, from_normal_amplitude, to_normal_amplitude
from .._core.bilinear import bilinear_map
from .._core.empty_batch import empty_batch_output, is_empty_batch
from .._core.frozen import frozen
from .._core.modulus import modulus_of_parts
from .._core.promotion import default_promotion
from .._core.reductions import pairwise_sum
from .._core.remat_chunks import map_in_chunks_differentiable
from .._core.validation import check_real_input
from .._scattering1d.core import first_order, lowpass_average, second_order_spectra
from .._scattering1d.fourier import inverse_fft
from .bank import BlockPlan, FilterBankJTFS, FrequencyOperators

# Inside a program (jit, grad), batch chunks sized so a chunk's largest intermediate stays near this
# many bytes (map_in_chunks_differentiable in time_frequency_scattering).
CHUNK_BYTES = 32 * 2**20
# The eager call S(x) cuts a concrete batch into chunks of about this many bytes (of signal_bytes
# each), one chunk per core at a time. A chunk of the whole CHUNK_BYTES ran on one core and spilled
# the cache; per signal, 2-core EPYC, J_fr=3 J=8: N=65536 x4 82-86 ms (chunks of 1) vs 101-108
# (the batch in one chunk); N=8192 x64 10-12 ms (4 or 8) vs 14-17 (32); J_fr=2 J=6 N=1024 x256
# 0.8 ms (16), 1.0 (32), 1.6 (256).
EAGER_CHUNK_BYTES = 4 * 2**20
# The product along n1 is formed a time chunk at a time, about this many bytes (within the last-level
# cache; measured on a 2-core EPYC with 32 MB L3: 1 MB 1.10 s, 4 MB 0.77 s, 16 MB 0.68 s, 64 MB
# 1.01 s for the benchmark workload), in chunks of at least _MIN_CHUNK samples.
_PRODUCT_BYTES = 16 * 2**20
_MIN_CHUNK = 64


def _broadcast_row_map(rows: jax.Array, post: jax.Array) -> jax.Array:
    """``_row_map`` as a broadcast product summed over ``r``: its derivative."""
    return (rows[..., None, :] * post).sum(axis=-1)


@bilinear_map(_broadcast_row_map)
def _row_map(rows: jax.Array, post: jax.Array) -> jax.Array:
    """``rows @ post.T`` over the last axis: ``(..., r)`` and ``(k, r)`` -> ``(..., k)``.

    Evaluated, one matrix product. Its derivative is written as a broadcast product summed over
    ``r``, so that reverse mode transposes it into a sum over the ``k`` outputs in a fixed order:
    the transpose of the matrix product (a product with ``post``, contracting ``k``) rounded a
    row's gradient by the number of rows in the call (J=5 J_fr=1 Q=4 N=256, a batch of 5 against
    its rows one at a time: 9e-8 of the largest entry; bit for bit with ``F=0``, which maps no
    rows, and with ``F='global'``, whose map has one output, so its transpose adds nothing up).
    The forward is the same program; the gradient ran no slower (J=8 J_fr=3 Q=8 N=2**16,
    ``jit(value_and_grad)``, fresh processes: 0.98-1.03 s against 0.83-1.11 s).
    """
    return jnp.einsum("...r,kr->...k", rows, post, precision="highest")


def _finish(v: jax.Array, ops: FrequencyOperators, block: BlockPlan) -> jax.Array:
    """Reduce ``v = |A z|`` ``(..., R)`` (rows last) to the block's kept rows ``(..., kept_rows)``:
    each finish group's paths at once, by a slice or a real row map."""
    lead = v.shape[:-1]
    parts = []
    for group in block.groups:
        rows = v[..., group.row_start : group.row_start + group.count * group.rows]
        rows = rows.reshape(lead + (group.count, group.rows))
        if group.post < 0:
            kept = rows[..., : group.keep]
        else:
            post = ops.post[group.post].astype(v.dtype)
            kept = _row_map(rows, post)
        parts.append(kept.reshape(lead + (group.count * group.keep,)))
    return jnp.concatenate(parts, axis=-1)


def _frequency_scattering(z: jax.Array, ops: FrequencyOperators, block: BlockPlan) -> jax.Array:
    """``|A z|`` then the row maps, for ``z`` of shape ``(B, n, M, L)`` (real or complex).

    The complex product runs as real ones: ``[Ar; Ai] z`` for real ``z``; for complex ``z``, Gauss's
    three products ``Ar zr``, ``Ai zi`` and ``(Ar + Ai)(zr + zi)`` (one batched product, 3/4 of the
    arithmetic of the direct four). ``A z`` has ``R`` (hundreds of) rows per input row, so it is
    never formed whole: time is cut into chunks of ``_chunk_length`` samples, and each chunk goes
    through the product, the modulus and the row maps while it is in cache (a ``lax.map``). Inside
    a chunk time runs first and rows last, so every product contracts the last axis (no transposes).

    Returns ``(B, n, kept_rows, L)``: every path's kept rows (``PathPlan.out_start``).
    """
    dtype = z.real.dtype
    real, imag = ops.analysis_real.astype(dtype), ops.analysis_imag.astype(dtype)
    R = real.shape[0]
    B, n, M, L = z.shape
    if jnp.iscomplexobj(z):
        maps = jnp.stack([real, imag, real + imag])
        parts = jnp.stack([z.real, z.imag, z.real + z.imag])

        def modulus_of_product(zc):  # (3, B, n, l, M) -> (B, n, l, R)
            t = jnp.einsum("gbnlm,grm->gbnlr", zc, maps, precision="highest")
            return modulus_of_parts(t[0] - t[1], t[2] - t[0] - t[1])

    else:
        maps = jnp.concatenate([real, imag])
        parts = z[None]

        def modulus_of_product(zc):  # (1, B, n, l, M) -> (B, n, l, R)
            w = jnp.einsum("bnlm,rm->bnlr", zc[0], maps, precision="highest")
            return modulus_of_parts(w[..., :R], w[..., R:])

    def chunk(zc):
        return _finish(modulus_of_product(zc), ops, block)

    rows = parts.shape[0] * R
    # A symbolic batch (jax.export, the TensorFlow adapter's jax2tf) has no size to budget for:
    # the chunks are sized for one signal.
    batch = 1 if jax.export.is_symbolic_dim(B) else B
    length = _chunk_length(batch * n * rows * jnp.dtype(dtype).itemsize, L)
    if length == L:
        return jnp.swapaxes(chunk(jnp.swapaxes(parts, -1, -2)), -1, -2)
    chunks = parts.reshape(parts.shape[:-1] + (L // length, length))  # (g, B, n, M, c, l)
    chunks = jnp.moveaxis(chunks, (-2, -3), (0, -1))  # (c, g, B, n, l, M)
    # Differentiated, each chunk is recomputed in the backward pass (``jax.checkpoint``) rather than
    # its product and modulus stored for every chunk: the stacked residuals, hundreds of MB filled
    # and read back at memory speed, cost more than the recomputation (J=8 J_fr=3 Q=8 N=2**16,
    # jit(value_and_grad): 0.98 -> 0.58 s, XLA temporaries 1729 -> 179 MB, the same bits).
    # Evaluated, the checkpoint changes nothing.
    out = jax.lax.map(jax.checkpoint(chunk), chunks)  # (c, B, n, l, K)
    return jnp.moveaxis(out, (0, -1), (-2, -3)).reshape(B, n, block.kept_rows, L)


def _chunk_length(bytes_per_sample: int, length: int) -> int:
    """Time samples per chunk: a power of two dividing ``length`` whose product fits the budget."""
    chunk = length
    while chunk > _MIN_CHUNK and chunk * bytes_per_sample > _PRODUCT_BYTES and chunk % 2 == 0:
        chunk //= 2
    return chunk


def _global_sum(u: jax.Array) -> jax.Array:
    """``T='global'``: the sum over time ``(..., L) -> (..., 1)``, as a pairwise tree so that a
    signal's bits do not depend on the program it runs in (``S(x)`` and ``jax.jit(S)(x)``) or on
    the batch it shares (XLA's CPU reductions round differently in different programs)."""
    return pairwise_sum(u)[..., None]


def _time_step(u: jax.Array, level: int, bank: FilterBankJTFS) -> jax.Array:
    """Finish order-2 rows ``(B, n, K, L)`` at resolution ``level`` in time: average to resolution
    ``s`` ('local'), sum ('global') or crop at ``level`` (T=0)."""
    plan, tplan = bank.plan, bank.time.plan
    if plan.averaging == "global":
        return _global_sum(u)
    if plan.averaging == "none":
        return u[..., tplan.ind_start[level] : tplan.ind_end[level]]
    index = tplan.lowpass_index(level, plan.log2_stride - level, True)
    flat = u.reshape(u.shape[0], -1, u.shape[-1])
    averaged = lowpass_average(flat, None, tplan.lowpasses[index], bank.time.lowpass[index], tplan)
    return (averaged * 2.0**level).reshape(u.shape[:-1] + averaged.shape[-1:])  # kymatio main's summed levels


def jtfs_paths(x: jax.Array, bank: FilterBankJTFS):
    """Every JTFS path of a batch, block by block.

    Args:
      x: real array ``(B, N)``.

    Returns:
      ``(order0, order1, order2)``: ``order0`` of shape ``(B, 1, L0)``; ``order1`` ``(B, K1, L)``,
      the first-order block's kept rows; ``order2`` a list, per block of ``plan.order2``, of
      ``(B, n, K, L)`` (``n`` its ``n2``, ``K`` its kept rows). Path ``p`` of a block has its rows
      at ``p.out_start``.
    """
    plan, time = bank.plan, bank.time
    tplan = time.plan
    padded, x_half, u1, u1_half = first_order(x, time)

    def average(u, u_half, level, a, non_negative=True):
        index = tplan.lowpass_index(level, a, non_negative)
        return lowpass_average(u, u_half, tplan.lowpasses[index], time.lowpass[index], tplan)

    if plan.averaging == "global":
        order0 = _global_sum(padded[:, None])
    elif plan.averaging == "none":
        order0 = x[:, None]
    else:
        order0 = average(padded[:, None], x_half[:, None], 0, tplan.k0, False)

    s1 = jnp.concatenate(
        [average(u, h, group.k1, group.a1) for group, u, h in zip(tplan.order1, u1, u1_half)], axis=1
    )
    order1 = _frequency_scattering(s1[:, None], bank.order1, plan.order1)[:, 0]
    if plan.averaging == "global":
        order1 = _global_sum(order1)

    order2 = []
    spectra = {level: spectrum for level, spectrum, _ in second_order_spectra(u1_half, time)}
    for block, ops in zip(plan.order2, bank.order2):
        y2 = inverse_fft(spectra[block.level])
        y2 = y2[:, jnp.asarray(block.row_order)].reshape(y2.shape[0], len(block.n2), block.M, y2.shape[-1])
        order2.append(_time_step(_frequency_scattering(y2, ops, block), block.level, bank))
    return order0, order1, order2


def path_rows(plan) -> list[tuple[int, int, int, int]]:
    """Per path in output order (order 1 by ``n_fr``, then order 2 by ``(n2, n_fr)``):
    ``(block, start, keep, channels)``, with ``block`` -1 for order 1 and ``start`` the path's first
    row in its block's output flattened over ``(n, K)``."""
    rows = [(-1, p.out_start, p.keep, p.channels) for p in plan.order1.paths]
    for b, block in enumerate(plan.order2):
        for i in range(len(block.n2)):
            rows += [(b, i * block.kept_rows + p.out_start, p.keep, p.channels) for p in block.paths]
    return rows


@default_promotion
def time_frequency_scattering(
    x: Float[ArrayLike, "*batch n"], bank: FilterBankJTFS
) -> Float[Array, "*batch channels time"] | Float[Array, "*batch paths rows time"] | list[Array]:
    """Joint time-frequency scattering of a batch of real signals (kymatio main's numbers).

    Args:
      x: real float32/float64 array of shape ``(*batch, N)``.
      bank: a :class:`FilterBankJTFS`, e.g. ``TimeFrequencyScattering(...).bank``.

    Returns:
      ``format='time'``: an array ``(*batch, C, L_out)`` (order 0, then first-order channels by
      ``(n_fr, n1)``, then second-order channels by ``(n2, n_fr, n1)``; see ``meta()``), or with
      ``T=0`` a list of ``C`` arrays ``(*batch, L_i)``.
      ``format='joint'``: with ``out_type='array'`` an array ``(*batch, C_joint, R, L_out)``, one
      channel per path (no order 0); otherwise a list of arrays ``(*batch, rows_i, L_i)``, order 0
      first (rows cropped to the signal's ``n1``).
    """
    plan = bank.plan
    x = check_real_input(x, (bank.time.plan.N,))
    if is_empty_batch(x, 1):
        return empty_batch_output(time_frequency_scattering, x, bank, 1)
    bank = frozen(bank)
    batch_shape = x.shape[:-1]
    flat = x.reshape((-1, bank.time.plan.N))
    shift = amplitude_exponents(flat, 1)  # tiny or huge signals: see scatterjax._core.amplitude
    # Differentiated, the batch is one computation (as in 1D): one independent copy per core ran no
    # faster (J=8 J_fr=3 Q=8 N=65536 x4, jit(value_and_grad) on 2 cores, three alternating pairs of
    # fresh processes: 3.29-3.55 s one computation, 3.22-4.75 s two) and doubled the program to compile.
    order0, order1, order2 = map_in_chunks_differentiable(
        jtfs_paths, to_normal_amplitude(flat, shift), bank, signal_bytes(bank, x.dtype), CHUNK_BYTES,
        split_evaluation=False,
    )
    blocks = [order1] + [o.reshape(o.shape[0], -1, o.shape[-1]) for o in order2]
    paths = path_rows(plan)
    if plan.averaging == "none" or (plan.format == "joint" and not plan.joint_array):
        # Paths of different lengths (T=0) or row counts: one array per channel or path, cut from
        # the blocks once they are scaled (a few products, rather than one per path).
        order0, *blocks = from_normal_amplitude([order0, *blocks], shift)
        if plan.format == "joint":
            out = [order0[:, 0]] + [blocks[b + 1][:, start : start + keep] for b, start, keep, _ in paths]
        else:
            out = [order0[:, 0]] + [
                blocks[b + 1][:, start + i] for b, start, _, channels in paths for i in range(channels)
            ]
        return [o.reshape(batch_shape + o.shape[1:]) for o in out]
    rows = jnp.concatenate(([] if plan.format == "joint" else [order0]) + blocks, axis=1)
    offsets = np.cumsum([0 if plan.format == "joint" else 1] + [b.shape[1] for b in blocks])
    if plan.format == "joint":
        index = np.array([offsets[b + 1] + start + np.arange(keep) for b, start, keep, _ in paths])
    else:
        index = np.array([0] + [offsets[b + 1] + start + i for b, start, _, c in paths for i in range(c)])
    out = from_normal_amplitude(rows[:, index], shift)
    return out.reshape(batch_shape + out.shape[1:])


def signal_bytes(bank: FilterBankJTFS, dtype) -> int:
    """Bytes of the largest complex intermediate of one signal: a level's ``Y2`` (the product
    along ``n1`` is chunked in time)."""
    tplan = bank.time.plan
    sizes = [tplan.N_padded * 4]
    for block in bank.plan.order2:
        sizes.append(len(block.n2) * block.M * (tplan.N_padded >> block.level))
    return max(sizes) * 2 * jnp.dtype(dtype).itemsize
