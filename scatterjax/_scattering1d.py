"""The pure 1D scattering transform: ``scattering1d(x, bank)``.

The traversal follows kymatio 0.3.0's math (KYMATIO.md §2.1.6) but is organised by groups rather
than path by path: every first-order wavelet sharing a subsampling exponent goes through one batched
multiply-fold-IFFT, and every second-order path sharing ``(k1, k2)`` likewise. Real signals (the
padded input, every modulus, every low-pass output) use real FFTs.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._bank1d import FilterBank1D, Plan1D
from ._fourier import hermitian_extend, periodize, periodize_half
from ._modulus import modulus


def _lowpass(
    u_half: jax.Array, phi_half: jax.Array, length: int, a: int, level: int, plan: Plan1D
) -> jax.Array:
    """Average a real signal (given by its rfft, length ``length``), decimate by ``2**a``, crop."""
    folded = periodize_half(u_half * phi_half, length, 2**a)
    averaged = jnp.fft.irfft(folded, n=length // 2**a, axis=-1)
    return averaged[..., plan.ind_start[level] : plan.ind_end[level]]


def _crop(u: jax.Array, level: int, plan: Plan1D) -> jax.Array:
    return u[..., plan.ind_start[level] : plan.ind_end[level]]


def _wavelet_modulus(spectrum: jax.Array, filters: jax.Array, factor: int) -> jax.Array:
    """``|ifft(D_factor(spectrum * filters))|``; spectrum (B, [P,] L), filters ([P,] L)."""
    return modulus(jnp.fft.ifft(periodize(spectrum * filters, factor), axis=-1))


def scattering1d_paths(x: jax.Array, bank: FilterBank1D) -> tuple[list[jax.Array], ...]:
    """Scattering coefficients grouped as the plan produces them.

    Args:
      x: real array of shape ``(B, N)``.
      bank: the filter bank.

    Returns:
      ``(order0, order1, order2)``: lists of arrays of shape ``(B, P_group, N_out)`` (order 0:
      ``(B, 1, N_out)``), in group order. Order-1 groups are in ``n1`` order; order-2 groups need
      ``plan.order2_permutation`` to reach kymatio's lexicographic order.
    """
    plan = bank.plan
    dtype = x.dtype
    padded = jnp.pad(x, ((0, 0), (plan.pad_left, plan.pad_right)), mode="reflect")
    x_half = jnp.fft.rfft(padded, axis=-1)
    x_full = hermitian_extend(x_half, plan.N_padded)

    def phi(level: int) -> jax.Array:
        return bank.phi_half[plan.phi_levels.index(level)].astype(dtype)

    if plan.averaged:
        order0 = [_lowpass(x_half, phi(0), plan.N_padded, plan.k0, plan.k0, plan)[:, None]]
    else:
        order0 = [x[:, None]]

    order1: list[jax.Array] = []
    order2: list[jax.Array] = []
    order2_by_group = [[] for _ in plan.order1]
    for index, group in enumerate(plan.order2):
        order2_by_group[group.order1_group].append(index)

    for g, group in enumerate(plan.order1):
        length1 = plan.N_padded // 2**group.k1
        u1 = _wavelet_modulus(x_full[:, None, :], bank.psi1[g].astype(dtype), 2**group.k1)
        if plan.averaged or order2_by_group[g]:
            u1_half = jnp.fft.rfft(u1, axis=-1)
        if plan.averaged:
            order1.append(_lowpass(u1_half, phi(group.k1), length1, group.a1, group.k1 + group.a1, plan))
        else:
            order1.append(_crop(u1, group.k1, plan))
        if not order2_by_group[g]:
            continue
        u1_full = hermitian_extend(u1_half, length1)
        psi2 = bank.psi2[plan.psi2_levels.index(group.k1)].astype(dtype)
        for index in order2_by_group[g]:
            group2 = plan.order2[index]
            spectrum = u1_full[:, jnp.asarray(group2.local_n1)]
            filters = psi2[jnp.asarray(group2.psi2_rows)]
            u2 = _wavelet_modulus(spectrum, filters, 2**group2.k2)
            level = group2.k1 + group2.k2
            if plan.averaged:
                u2_half = jnp.fft.rfft(u2, axis=-1)
                length2 = length1 // 2**group2.k2
                order2.append(_lowpass(u2_half, phi(level), length2, group2.a2, level + group2.a2, plan))
            else:
                order2.append(_crop(u2, level, plan))
    return order0, order1, order2


def scattering1d(x: jax.Array, bank: FilterBank1D) -> jax.Array | list[jax.Array]:
    """1D scattering transform of a batch of real signals.

    Args:
      x: real float32/float64 array of shape ``(*batch, N)``.
      bank: a :class:`FilterBank1D` from :func:`scatterjax.filter_bank_1d` (or ``Scattering1D.bank``).

    Returns:
      averaged transform: array of shape ``(*batch, C, N_out)``, channels in kymatio's order
      (order 0, then order 1 by ``n1``, then order 2 by ``(n1, n2)``).
      unaveraged transform: a list of ``C`` arrays of shape ``(*batch, N_i)`` in the same order.

    Example:
      >>> import jax, scatterjax
      >>> S = scatterjax.Scattering1D(J=6, shape=1024, Q=8)
      >>> Sx = jax.jit(scatterjax.scattering1d)(jax.numpy.ones((2, 1024)), S.bank)
      >>> Sx.shape
      (2, 126, 16)
    """
    plan = bank.plan
    batch_shape = x.shape[:-1]
    flat = x.reshape((-1, plan.N))
    order0, order1, order2 = scattering1d_paths(flat, bank)
    if plan.averaged:
        parts = [*order0, *order1]
        if order2:
            second = jnp.concatenate(order2, axis=1)
            parts.append(second[:, jnp.asarray(plan.order2_permutation)])
        out = jnp.concatenate(parts, axis=1)
        return out.reshape(batch_shape + out.shape[1:])
    paths = [p for block in (*order0, *order1) for p in _split_channels(block)]
    second = [p for block in order2 for p in _split_channels(block)]
    paths += [second[i] for i in plan.order2_permutation]
    return [p.reshape(batch_shape + p.shape[1:]) for p in paths]


def _split_channels(block: jax.Array) -> list[jax.Array]:
    return [block[:, i] for i in range(block.shape[1])]
