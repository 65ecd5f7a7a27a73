"""The pure 1D scattering transform: ``scattering1d(x, bank)``.

The traversal follows kymatio 0.3.0's math (its ``scattering1d`` core) but is organised by groups rather
than path by path: every first-order wavelet sharing a subsampling exponent goes through one batched
gather-multiply-fold and one batched inverse FFT, and every second-order path sharing ``(k1, k2)``
likewise. Real signals (the padded input, every modulus) use real FFTs; averaging with few output
samples is computed in time, as the product with the decimated low-pass kernel (``_direct_average``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._core.amplitude import amplitude_exponents, from_normal_amplitude, to_normal_amplitude
from .._core.bilinear import bilinear_map
from .._core.complex_input import join_modulus, join_spectra, stack_parts
from .._core.empty_batch import empty_batch_output, is_empty_batch
from .._core.frozen import frozen
from .._core.lax_ops import fft_last_axes
from .._core.modulus import modulus_of_parts
from .._core.padding import pad_signal
from .._core.promotion import default_promotion
from .._core.reductions import pairwise_sum
from .._core.remat_chunks import map_in_chunks_differentiable
from .._core.validation import check_real_input
from .bank import FilterBank1D, Lowpass, Plan1D
from .fourier import fold_each, fold_together, inverse_fft_parts
from .order3 import third_order

# Signals go through the transform in chunks whose intermediates take about this many bytes: on CPU
# a chunk that stays in cache runs about twice as fast as the whole batch (see _chunking).
CHUNK_BYTES = 4 * 2**20


def _column_sums(u: jax.Array, kernel: jax.Array) -> jax.Array:
    """``u @ kernel`` as plain reductions, column by column and unrolled (no loop for reverse mode
    to transpose): ``_direct_average``'s derivative."""
    kernel = kernel.astype(u.dtype)
    return jnp.stack([(u * kernel[:, k]).sum(axis=-1) for k in range(kernel.shape[-1])], axis=-1)


@bilinear_map(_column_sums)
def _direct_average(u: jax.Array, kernel: jax.Array) -> jax.Array:
    """``u @ kernel`` for ``u`` (B, P, L) and ``kernel`` (L, K), each column a :func:`pairwise_sum`;
    (B, P, K).

    The columns go through one traced tree in a loop (``lax.map``): written out, the ``K`` trees
    of ``log2(L)`` levels each made thousands of small ops for XLA to compile (JTFS J=8 J_fr=3
    N=2048, chunk program: 6.0 -> 3.8 s of XLA compile). Differentiated, the value runs the same
    loop (the plain call's bits) and the derivative is plain reductions, as ``pairwise_sum``'s."""
    kernel = kernel.astype(u.dtype)
    return jnp.moveaxis(jax.lax.map(lambda column: pairwise_sum(u * column), kernel.T), 0, -1)


def lowpass_average(u: jax.Array, u_half: jax.Array | None, lowpass: Lowpass, leaf, plan: Plan1D):
    """Average real ``u`` (B, P, L) at resolution ``lowpass.level``; decimate; crop to the signal."""
    length = u.shape[-1]
    if lowpass.direct:
        return _direct_average(u, leaf)
    if u_half is None:
        u_half = fft_last_axes(u, "rfft")
    out_length = length // 2**lowpass.a
    averaged = fft_last_axes(fold_each(u_half, leaf), "irfft", n=out_length)
    out_level = lowpass.level + lowpass.a
    return averaged[..., plan.average_start[out_level] : plan.average_end[out_level]]


def _crop(u: jax.Array, level: int, plan: Plan1D) -> jax.Array:
    return u[..., plan.ind_start[level] : plan.ind_end[level]]


def first_order(x: jax.Array, bank: FilterBank1D, *, complex_input: bool = False):
    """Padding, the input's half spectrum and every first-order modulus.

    Args:
      x: real array of shape ``(B, N)``.
      complex_input: ``x`` holds the real parts of ``B // 2`` complex signals, then their
        imaginary parts (see :mod:`scatterjax._core.complex_input`); ``u1`` and ``u1_half`` are
        then those of the complex signals (``B // 2`` rows), ``padded`` and ``x_half`` of ``B``.

    Returns:
      ``(padded (B, N_padded), x_half (B, N_padded/2 + 1), u1, u1_half)``: per first-order group
      ``U1`` of shape ``(B, P_group, N_padded / 2**k1)``, and its half spectrum (``None`` for a group
      with no second-order children).
    """
    plan = bank.plan
    padded = pad_signal(x, ((0, 0), (plan.pad_left, plan.pad_right)), plan.pad_mode)
    x_half = fft_last_axes(padded, "rfft")
    has_children = {group2.order1_group for group2 in plan.order2}
    u1, u1_half = [], []
    spectra = fold_together(x_half[:, None], bank.psi1)
    for g, spectrum in enumerate(spectra):
        if complex_input:
            spectrum = join_spectra(spectrum)
        u = modulus_of_parts(*inverse_fft_parts(spectrum))
        u1.append(u)
        u1_half.append(fft_last_axes(u, "rfft") if g in has_children else None)
    return padded, x_half, u1, u1_half


def second_order_spectra(u1_half: list, bank: FilterBank1D) -> list[tuple[int, jax.Array, jax.Array]]:
    """Periodised spectra of every second-order wavelet product, stacked per resolution.

    Returns:
      ``[(level, spectrum, scale)]`` by increasing ``level = k1 + k2``: ``spectrum`` (B, P, L) complex,
      rows in plan order (groups in ``plan.order2`` order, each group's paths in order), ready for
      an inverse FFT; ``scale`` (P,) the per-row factor of ``plan.level_scale``.
    """
    plan = bank.plan
    # The folds reading one first-order group's spectra go together (one gradient scatter each);
    # bank.psi2 holds them by first-order group (ascending), each group's in plan order.
    readers: dict[int, list[int]] = {}
    for index, group2 in enumerate(plan.order2):
        readers.setdefault(group2.order1_group, []).append(index)
    folded = {}
    for (source, indices), folds in zip(sorted(readers.items()), bank.psi2, strict=True):
        folded.update(zip(indices, fold_together(u1_half[source], folds), strict=True))
    parts: dict[int, list[jax.Array]] = {}
    scales: dict[int, list[float]] = {}
    for index, group2 in enumerate(plan.order2):
        level = group2.k1 + group2.k2
        parts.setdefault(level, []).append(folded[index])
        scales.setdefault(level, []).extend([plan.level_scale(group2.k1, group2.k2)] * len(group2.paths))
    return [
        (level, jnp.concatenate(parts[level], axis=1), jnp.asarray(scales[level]) if plan.sum_levels else 1.0)
        for level in sorted(parts)
    ]


def _scaled(u: jax.Array, scale) -> jax.Array:
    """``u`` times a per-row scale (a float or a (P,) vector); a no-op for 0.3.0's mean levels."""
    if isinstance(scale, float):
        return u if scale == 1.0 else u * scale
    return u * scale.astype(u.dtype)[:, None]


def scattering1d_paths(x: jax.Array, bank: FilterBank1D) -> tuple[list[jax.Array], ...]:
    """Scattering coefficients grouped as the plan produces them.

    Args:
      x: real array of shape ``(B, N)``.
      bank: the filter bank.

    Returns:
      ``(order0, order1, order2, order3)``: lists of arrays of shape ``(B, P_group, N_out)``
      (order 0: ``(B, 1, N_out)``). Order-1 groups are in ``n1`` order; order-2 blocks, one per
      resolution ``k1 + k2``, need ``plan.order2_permutation`` to reach kymatio's lexicographic
      order; order-3 blocks (empty below ``max_order=3``), ``plan.order3_permutation``.
    """
    plan = bank.plan

    def average(u, u_half, level, a, non_negative=True):
        index = plan.lowpass_index(level, a, non_negative)
        return lowpass_average(u, u_half, plan.lowpasses[index], bank.lowpass[index], plan)

    def finish(u, u_half, level, a):
        """Average, sum (T='global') or crop (T=0) a path block at resolution ``level``."""
        if plan.global_sum:
            return pairwise_sum(u)[..., None]
        if plan.averaged:
            return average(u, u_half, level, a)
        return _crop(u, level, plan)

    complex_input = jnp.iscomplexobj(x)  # static: real input runs exactly as before
    if complex_input:
        x = stack_parts(x)
    padded, x_half, u1, u1_half = first_order(x, bank, complex_input=complex_input)
    if plan.global_sum:
        order0 = [pairwise_sum(padded[:, None])[..., None]]
    elif plan.averaged:
        order0 = [average(padded[:, None], x_half[:, None], 0, plan.k0, False)]
    else:
        order0 = [x[:, None]]
    if complex_input:  # order 0 of a complex signal is the modulus |x ⋆ φ|
        order0 = [join_modulus(order0[0])]
    order1 = [
        _scaled(finish(u, u_half, group.k1, group.a1), plan.level_scale(group.k1))
        for group, u, u_half in zip(plan.order1, u1, u1_half)
    ]
    # Paths landing at the same resolution share one inverse FFT, modulus and average.
    decimation = {group2.k1 + group2.k2: group2.a2 for group2 in plan.order2}
    order2 = []
    u2_by_level = {}
    for level, spectrum, scale in second_order_spectra(u1_half, bank):
        u2 = modulus_of_parts(*inverse_fft_parts(spectrum))
        u2_by_level[level] = u2
        order2.append(_scaled(finish(u2, None, level, decimation[level]), scale))
    order3 = third_order(u2_by_level, bank, finish) if plan.order3 else []
    return order0, order1, order2, order3


@default_promotion
def scattering1d(
    x: Float[ArrayLike, "*batch n"], bank: FilterBank1D
) -> Float[Array, "*batch channels time"] | list[Float[Array, "*batch time"]]:
    """1D scattering transform of a batch of real or complex signals.

    Args:
      x: float32/float64 or complex64/complex128 array of shape ``(*batch, N)``. Complex ``x``
        (analytic signals, IQ data): the wavelet products use its full spectrum (the analytic
        wavelets see its positive frequencies; ``conj(x)`` shows the negative ones), and order 0
        is the modulus ``|x ⋆ φ|`` (real ``x``: the signed
        ``x ⋆ φ``); see :mod:`scatterjax._core.complex_input`.
      bank: a :class:`FilterBank1D`, e.g. ``Scattering1D(...).bank``.

    Returns:
      averaged transform: array of shape ``(*batch, C, N_out)``, channels in kymatio's order
      (order 0, then order 1 by ``n1``, then order 2 by ``(n1, n2)``, then order 3 by
      ``(n1, n2, n3)``).
      unaveraged transform: a list of ``C`` arrays of shape ``(*batch, N_i)`` in the same order.

    Example:
      >>> import jax, jax.numpy as jnp, scatterjax
      >>> S = scatterjax.Scattering1D(J=6, shape=1024, Q=8)
      >>> jax.jit(scatterjax.scattering1d)(jnp.ones((2, 1024)), S.bank).shape
      (2, 126, 16)
    """
    plan = bank.plan
    x = check_real_input(x, (plan.N,), complex_ok=True)
    if is_empty_batch(x, 1):
        return empty_batch_output(scattering1d, x, bank, 1)
    bank = frozen(bank)
    batch_shape = x.shape[:-1]
    flat = x.reshape((-1, plan.N))
    # Tiny or huge signals go through at a normal amplitude (see scatterjax._core.amplitude).
    shift = amplitude_exponents(flat, 1)
    # Differentiated, the batch is one computation (map_in_chunks_differentiable's default), not one
    # independent copy per core: the copies ran no faster and doubled the program to compile.
    # jit(value_and_grad) of J=10 Q=8 T=N=65536 x4 on 2 cores, six alternating pairs of fresh
    # processes: one computation 358-497 ms, two 374-484 ms (pairwise differences -18 to +43 ms, no
    # consistent sign); first call 4.1-5.3 s against 4.9-6.6 s. x8: 783-1060 ms against 786-1078 ms
    # (three pairs); J=8 Q=8 N=4096 x32: 145-207 ms against 139-202 ms (nine pairs).
    order0, order1, order2, order3 = map_in_chunks_differentiable(
        scattering1d_paths, to_normal_amplitude(flat, shift), bank, signal_bytes(plan, x.dtype), CHUNK_BYTES,
    )
    if plan.averaged or plan.global_sum:
        parts = [*order0, *order1]
        if order2:
            second = jnp.concatenate(order2, axis=1)
            parts.append(second[:, jnp.asarray(plan.order2_permutation)])
        if order3:
            third = jnp.concatenate(order3, axis=1)
            parts.append(third[:, jnp.asarray(plan.order3_permutation)])
        out = from_normal_amplitude(jnp.concatenate(parts, axis=1), shift)
        return out.reshape(batch_shape + out.shape[1:])
    # Each block (one resolution's paths) is scaled before it is cut into paths: a few products to
    # compile, where one per path took XLA seconds (J=6 Q=(16, 4) N=3000 T=0, 757 paths: first
    # eager call 14-17 s -> 1.5-1.7 s).
    end1 = len(order0) + len(order1)
    end2 = end1 + len(order2)
    blocks = from_normal_amplitude([*order0, *order1, *order2, *order3], shift)
    first, order2, order3 = blocks[:end1], blocks[end1:end2], blocks[end2:]
    paths = [p for block in first for p in _split_channels(block)]
    second = [p for block in order2 for p in _split_channels(block)]
    paths += [second[i] for i in plan.order2_permutation]
    third = [p for block in order3 for p in _split_channels(block)]
    paths += [third[i] for i in plan.order3_permutation]
    return [p.reshape(batch_shape + p.shape[1:]) for p in paths]


def signal_bytes(plan: Plan1D, dtype) -> int:
    """Bytes of the largest complex intermediate of one signal (a group's wavelet products)."""
    first = [len(g.n1) * plan.N_padded // 2**g.k1 for g in plan.order1]
    second = [len(g.paths) * plan.N_padded // 2 ** (g.k1 + g.k2) for g in plan.order2]
    third = [len(g.paths) * plan.N_padded // 2 ** (g.level2 + g.k3) for g in plan.order3]
    return max(first + second + third + [plan.N_padded]) * 2 * jnp.dtype(dtype).itemsize


def _split_channels(block: jax.Array) -> list[jax.Array]:
    return [block[:, i] for i in range(block.shape[1])]
