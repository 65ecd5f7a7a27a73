"""The pure 3D solid harmonic scattering transform: ``harmonic_scattering3d(x, bank)``.

Kymatio 0.3.0's math (its ``scattering3d`` core), organised for few large operations:

- ``X = fftn(x)`` once (from ``rfftn``: the input is real);
- first order, a Python loop over the scale ``j1`` (``J + 1`` steps): every wavelet of every
  degree ``l`` and order ``m`` at that scale is applied with one batched multiply and one batched
  inverse FFT; the rotation-covariant modulus ``U1 = sqrt(sum_m |x * psi_{l,m,j1}|^2)`` is
  formed for every ``l`` at once, integrated (``sum U1^p``) and, for ``max_order=2``,
  transformed (``rfftn``);
- second order: for each ``j1``, one ``lax.map`` over the wider scales ``j2 > j1`` applies the
  wavelets at ``j2`` to the spectrum of ``U1[l, j1]`` (same degree ``l``), then integrates.

In the Hermitian layout (all sides even, see :mod:`scatterjax._harmonic3d.bank`) the orders ``m`` and
``-m`` share one complex inverse FFT and the real order-0 responses of two degrees share another,
which halves kymatio's FFT work; kymatio's asymmetric Nyquist planes are added back exactly with
2D FFTs. Samples never share an FFT, so each sample's output depends on that sample only (a NaN
stays in its sample). XLA runs each CPU FFT call on one thread but runs independent calls
concurrently, so on even grids every batched FFT is issued as up to ``FFT_PIECES`` independent
calls. On grids with an odd side it is one call: there the pieces made a sample's bits depend on the
batch it was in. Volume sums are fixed-order passes of aligned slices on every grid, for the same
reason (XLA's reductions).

Gradients are finite everywhere, including at ``x = 0`` where kymatio's are NaN: the derivative
of ``sqrt`` at 0 and of ``u^p`` (``p < 1``) at ``u = 0`` are taken to be 0 (the minimal-norm
subgradient of the modulus; see :func:`safe_sqrt` and :func:`safe_power`). The filters get no
gradient (``stop_gradient``).
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._core.amplitude import amplitude_exponents, from_normal_amplitude, to_normal_amplitude
from .._core.empty_batch import empty_batch_output, is_empty_batch
from .._core.frozen import frozen
from .._core.lax_ops import fft_last_axes, where_scalar
from .._core.promotion import default_promotion
from .._core.reductions import blocked_sum
from .._core.validation import check_real_input
from .bank import FilterBank3D

# XLA's CPU FFT runs each FFT call on one thread, and runs independent calls concurrently: a
# batched FFT is issued as up to this many independent calls (whole volumes each).
FFT_PIECES = 8


def _odd_grid(shape) -> bool:
    """Whether a side of the grid is odd (the layout without Hermitian symmetry)."""
    return any(side % 2 for side in shape)


def _pieces(fft, a: jax.Array, grid, split: bool = True) -> jax.Array:
    """``fft(a)`` over the leading axis of volumes, issued as up to ``FFT_PIECES`` calls (one call
    when ``split`` is False).

    Differentiated, the value still comes from the pieces (the plain call's bits; one call rounded
    some volumes differently) and the derivative is one call: the pieces' slices and concatenation
    would be transposed into a pad per piece, and every piece adds to the program (3D J=2 L=2
    64^3, ``jit(value_and_grad)``: compile 80 s -> 53 s on a loaded machine, same run time).

    On a ``grid`` with an odd side it is one call too: there the pieces (whose sizes follow the
    batch size) rounded some volumes differently from the same volume transformed alone, so a
    signal's bits depended on its batch.
    The wavelet responses of ``rotation_covariant=False`` (degree ``l``'s order ``m = l`` alone,
    first and second order) take one call on every grid: with pieces, a few coefficients of a
    batch of 5 or more differed in jit from the eager call (measured on 16^3, 20^3, 24^3 and 32^3,
    L=3, up to 2.5e-8 of the largest coefficient; not understood further, and never seen with
    rotation covariance).
    """
    # One call for a symbolic batch (jax.export, jax2tf), and on an odd grid.
    if not split or jax.export.is_symbolic_dim(a.shape[0]) or _odd_grid(grid):
        return fft(a)
    count = min(a.shape[0], FFT_PIECES)
    if count <= 1:
        return fft(a)
    edges = [round(i * a.shape[0] / count) for i in range(count + 1)]

    @jax.custom_jvp
    def piecewise(a):
        return jnp.concatenate([fft(a[start:stop]) for start, stop in zip(edges, edges[1:])])

    @piecewise.defjvp
    @default_promotion
    def _piecewise_jvp(primals, tangents):  # the FFT is linear: its derivative is itself
        # The value from the pieces, as evaluated: one call would round some volumes differently.
        (a,), (da,) = primals, tangents
        return piecewise(a), fft(da)

    return piecewise(a)


def _ifftn(a: jax.Array, split: bool = True) -> jax.Array:
    return _pieces(partial(fft_last_axes, kind="ifft", axes=3), a, a.shape[-3:], split)


def _rfftn(a: jax.Array) -> jax.Array:
    """``rfftn`` over the last three axes of ``(V, M, N, O)`` or ``(B, V, M, N, O)`` volumes."""
    flat = a.reshape((-1,) + a.shape[-3:])
    return _pieces(partial(fft_last_axes, kind="rfft", axes=3), flat, a.shape[-3:]).reshape(a.shape[:-1] + (-1,))


@partial(jax.custom_jvp, nondiff_argnums=(1,))
def _ifftn_each(blocks: list[jax.Array], split: bool = True) -> list[jax.Array]:
    """``[ifftn(b) for b in blocks]`` (volumes over the last three axes, equal shapes).

    Evaluated, the blocks go through one batched inverse FFT (issued as :func:`_pieces`, with
    ``split``).
    Differentiated, each block is transformed on its own: reverse mode would otherwise turn every
    block's slice of the batched result into a zero-padded copy of the whole batch (3D J=2 L=2 64^3,
    ``jit(value_and_grad)``: 70 ms of 390 in those pads).
    """
    responses = _ifftn(jnp.concatenate(blocks), split)
    edges = np.cumsum([0] + [b.shape[0] for b in blocks])
    return [responses[start:stop] for start, stop in zip(edges, edges[1:])]


@_ifftn_each.defjvp
@default_promotion
def _ifftn_each_jvp(split, primals, tangents):  # linear: the derivative is the map itself
    (blocks,), (d_blocks,) = primals, tangents
    ifftn = partial(fft_last_axes, kind="ifft", axes=3)
    return _ifftn_each(blocks, split), [ifftn(d) for d in d_blocks]


def _irfftn(a: jax.Array, shape) -> jax.Array:
    return _pieces(partial(fft_last_axes, kind="irfft", axes=3, n=shape[-1]), a, shape)


# --- pointwise functions with finite derivatives at 0 ---------------------------------------------
@jax.custom_jvp
def safe_sqrt(s: jax.Array) -> jax.Array:
    """``sqrt(s)`` for ``s >= 0``, with derivative 0 (instead of infinity) at ``s = 0``."""
    return jnp.sqrt(s)


@safe_sqrt.defjvp
@default_promotion
def _safe_sqrt_jvp(primals, tangents):
    (s,), (ds,) = primals, tangents
    root = jnp.sqrt(s)
    not_positive = jax.lax.bitwise_not(s > 0)  # s <= 0, and NaN
    return root, where_scalar(not_positive, 0, ds / (2 * where_scalar(not_positive, 1, root)))


@partial(jax.custom_jvp, nondiff_argnums=(1,))
def safe_power(u: jax.Array, p: float) -> jax.Array:
    """``u ** p`` for a Python float ``p > 0``; for ``p < 1`` the derivative at ``u = 0`` is 0.

    (For ``p >= 1`` the usual derivative ``p u^(p-1)`` is finite and is kept; it is 1 at ``u = 0``
    for ``p = 1``.) Negative ``u`` with a non-integer ``p`` gives NaN, like ``numpy``.
    """
    return _power(u, p)


@safe_power.defjvp
@default_promotion
def _safe_power_jvp(p, primals, tangents):
    (u,), (du,) = primals, tangents
    value = _power(u, p)
    if p == 1:
        return value, du
    if p > 1:
        return value, p * _power(u, p - 1) * du
    at_zero = u == 0
    derivative = p * _power(where_scalar(at_zero, 1, u), p - 1)
    return value, where_scalar(at_zero, 0, derivative) * du


def _power(u: jax.Array, p: float) -> jax.Array:
    if p == 1:
        return u
    if p == 2:
        return u * u
    if float(p).is_integer():
        return jax.lax.integer_pow(u, int(p))
    if p == 0.5:
        # The same bits as ``power(u, 0.5)`` (XLA's CPU power rounds it as sqrt), but an
        # elementwise sqrt fuses with the volume sum, where XLA's CPU backend handed the power to
        # its YNNPACK library with a materialised broadcast of the exponent (3D J=2 L=2 128^3 x 2,
        # forward inside jit: 1.02 -> 0.82 s).
        return jnp.sqrt(u)
    return jnp.power(u, jnp.asarray(p, u.dtype))


def _volume_sum(v: jax.Array) -> jax.Array:
    """Sum over the last three axes in fixed-order passes of aligned slices (:func:`blocked_sum`):
    each volume's bits depend on that volume only. XLA's reductions rounded a volume differently
    depending on how many shared the call, on odd grids and on even ones (40^3, 48^3, 64^3, 128^3: a
    batch of 2 or 3 in jit against one volume at a time)."""
    return blocked_sum(v.reshape(v.shape[:-3] + (-1,)))


def _integrals(energy: jax.Array, powers: tuple[float, ...]) -> jax.Array:
    """``sum_voxels U^p`` for ``U = sqrt(energy)``; energy ``(..., M, N, O)`` -> ``(..., P)``."""
    modulus = safe_sqrt(energy)
    # U^2 is the energy itself, without the rounding of sqrt then square.
    return jnp.stack([_volume_sum(energy if p == 2 else safe_power(modulus, p)) for p in powers], axis=-1)


@default_promotion
def order0_integrals(x: jax.Array, integral_powers) -> jax.Array:
    """Order-0 harmonic scattering coefficients: ``sum_voxels x^p`` for each ``p``.

    Kymatio computes these separately from ``HarmonicScattering3D`` (its tests call the backend's
    ``compute_integrals(x, integral_powers)``); this is the same quantity.

    Args:
      x: real float32/float64 array of shape ``(*batch, M, N, O)``.
      integral_powers: sequence of Python floats ``p > 0``.

    Returns:
      array of shape ``(*batch, P)`` in ``x``'s dtype. Negative voxels with a non-integer ``p``
      give NaN, as in kymatio. The derivative of ``x^p`` at ``x = 0`` for ``p < 1`` is taken as 0.

    Example:
      >>> import jax.numpy as jnp
      >>> order0_integrals(jnp.ones((2, 4, 4, 4)), (1.0, 2.0)).tolist()
      [[64.0, 64.0], [64.0, 64.0]]
    """
    powers = tuple(float(p) for p in integral_powers)
    shift = amplitude_exponents(x, 3)
    x = to_normal_amplitude(x, shift)
    return _rescaled_integrals(jnp.stack([_volume_sum(safe_power(x, p)) for p in powers], axis=-1), shift, powers)


# --- spectra ------------------------------------------------------------------------------------
def _negate_index(a: jax.Array, axis: int) -> jax.Array:
    """``a[..., (-k) mod n, ...]`` along ``axis``."""
    return jnp.roll(jnp.flip(a, axis=axis), 1, axis=axis)


def _hermitian_extend(half: jax.Array, O: int) -> jax.Array:
    """The full spectrum of real volumes from their ``rfftn`` (last axis ``O // 2 + 1`` bins).

    The missing bins ``n2 > O/2`` are ``conj(X[-n])``.
    """
    mirrored = half[..., 1 : O - O // 2][..., ::-1]
    tail = jnp.conj(_negate_index(_negate_index(mirrored, -3), -2))
    return jnp.concatenate([half, tail], axis=-1)


def _nyquist_planes(spectrum: jax.Array, shape) -> tuple[jax.Array, jax.Array, jax.Array]:
    """The three Nyquist planes ``n0 = M/2``, ``n1 = N/2``, ``n2 = O/2`` of full spectra."""
    M, N, O = shape
    return spectrum[..., M // 2, :, :], spectrum[..., :, N // 2, :], spectrum[..., :, :, O // 2]


def _alternating(n: int, dtype) -> jax.Array:
    return jnp.asarray(np.where(np.arange(n) % 2 == 0, 1.0, -1.0), dtype)


def _nyquist_corrections(spectrum_planes, filter_planes, shape, real_dtype):
    """``ifftn(X * D_r)`` for filters ``D_r`` supported on the Nyquist planes, via 2D inverse FFTs.

    With ``D`` split into the disjoint planes ``n0 = M/2``, ``n1 = N/2``, ``n2 = O/2``, each plane
    contributes ``(-1)^{t_k} / size_k * ifft2(X D on the plane)``, constant along its axis ``k``.

    Args:
      spectrum_planes: the planes of ``X``, ``(B, R, N, O)``, ``(B, R, M, O)``, ``(B, R, M, N)``
        (or ``1`` for ``R``: the same spectrum for every filter).
      filter_planes: ``(R, N, O)``, ``(R, M, O)``, ``(R, M, N)``.

    Returns:
      ``(planes, volumes)``: the three complex plane responses ``(B, R, ., .)``, and a function of
      such planes (any rows of them) giving the complex volumes ``(B, rows, M, N, O)``. The volumes
      are formed where they are used (XLA fuses the broadcast sum into the consumer), a whole
      group of rows at once: reverse mode then sums each plane's cotangent over its axis in one
      reduction per group, where volumes formed one wavelet at a time took three reductions per
      wavelet (3D J=2 L=2 64^3, ``jit(value_and_grad)``: 363 -> 243 fused kernels, compile
      4.6-5.2 s -> 3.2 s, same run time).
    """
    M, N, O = shape
    planes = tuple(
        fft_last_axes(x * d, "ifft", 2) / size
        for x, d, size in zip(spectrum_planes, filter_planes, shape)
    )
    sign0 = _alternating(M, real_dtype)[:, None, None]
    sign1 = _alternating(N, real_dtype)[None, :, None]
    sign2 = _alternating(O, real_dtype)[None, None, :]

    def volumes(a0, a1, a2) -> jax.Array:
        return a0[:, :, None, :, :] * sign0 + a1[:, :, :, None, :] * sign1 + a2[:, :, :, :, None] * sign2

    return planes, volumes


def _abs2(z: jax.Array) -> jax.Array:
    return jnp.real(z) ** 2 + jnp.imag(z) ** 2


# --- one scale of wavelets applied to a batch of real volumes -----------------------------------
def _energies(spectrum, filters, bank: FilterBank3D) -> jax.Array:
    """``sum_m |u_l * psi_{l,m}|^2`` per degree (or ``|u_l * psi_{l,-l}|^2``), at one scale.

    Args:
      spectrum: ``fftn`` of the real volumes ``u``, complex ``(B, D, M, N, O)``: ``D = 1`` (the
        same volume for every degree) or ``D = L + 1`` (volume ``u_l`` for degree ``l``).
      filters: ``(psi_real, psi_complex, psi_nyquist)`` at one scale (see :class:`FilterBank3D`);
        ``psi_nyquist`` may be None (negligible at this scale).

    Returns:
      real ``(B, L + 1, M, N, O)``.
    """
    psi_real, psi_complex, psi_nyquist = filters
    # The stack is split once into its volumes: reverse mode transposes the split into one
    # concatenation of their cotangents, where a slice per product became a zero-padded copy of the
    # whole stack (27 of them, 29 ms of a 3D J=2 L=2 64^3 jit(value_and_grad)).
    volumes = _unstack(spectrum)

    def volume(l):  # the spectrum degree l works on
        return volumes[l if len(volumes) > 1 else 0]

    shape = bank.shape
    if not bank.hermitian:
        orders = bank.orders
        responses = _ifftn_each([volume(l) * psi_complex[r] for r, (l, _) in enumerate(orders)])
        energies = [0.0] * (bank.L + 1)
        for (l, _), response in zip(orders, responses):
            energies[l] = energies[l] + _abs2(response)
        return jnp.stack(energies, axis=1)

    # x * psi_{l,0} is real (Hermitian wavelet): these responses are packed two degrees per
    # complex inverse FFT (an odd one out takes a real inverse FFT); then one complex inverse
    # FFT per order m > 0. Every product is written once, straight into the FFT's input.
    real_degrees = bank.real_degrees

    def real_product(k):
        """``(re, im)`` of ``X * psi_{l,0} = X * (-i)^l * psi_real``, in real arithmetic."""
        l = real_degrees[k]
        v = volume(l)
        g = psi_real[k] if l % 4 in (0, 3) else -psi_real[k]  # (-i)^l = +-1 or +-i
        re, im = jnp.real(v) * g, jnp.imag(v) * g
        return (-im, re) if l % 2 else (re, im)

    def packed_pair(k):  # A + iB for the two Hermitian products A, B
        (a_re, a_im), (b_re, b_im) = real_product(2 * k), real_product(2 * k + 1)
        return jax.lax.complex(a_re - b_im, a_im + b_re)

    n_pairs = len(real_degrees) // 2
    blocks = [packed_pair(k) for k in range(n_pairs)]
    complex_orders = bank.complex_orders
    blocks += [volume(l) * psi_complex[c] for c, (l, _) in enumerate(complex_orders)]
    responses = _ifftn_each(blocks, bank.rotation_covariant) if blocks else None  # see _pieces

    real_response = {}
    for k in range(n_pairs):
        real_response[real_degrees[2 * k]] = jnp.real(responses[k])
        real_response[real_degrees[2 * k + 1]] = jnp.imag(responses[k])
    if len(real_degrees) % 2:
        O = shape[-1]
        last = jax.lax.complex(*real_product(len(real_degrees) - 1))[..., : O // 2 + 1]
        real_response[real_degrees[-1]] = _irfftn(last, shape)
    complex_response = {order: responses[n_pairs + c] for c, order in enumerate(complex_orders)}

    if psi_nyquist is not None:
        return _energies_with_nyquist(spectrum, psi_nyquist, real_response, complex_response, bank)
    energies = []
    for l in range(bank.L + 1):
        if not bank.rotation_covariant:  # |x * psi_{l,-l}| = |x * psi_{l,l}| off the Nyquist planes
            energies.append(_abs2(real_response[0] if l == 0 else complex_response[(l, l)]))
            continue
        energy = _abs2(real_response[l])
        for m in range(1, l + 1):  # orders m and -m: |x * psi_{l,-m}| = |x * psi_{l,m}|
            energy = energy + 2 * _abs2(complex_response[(l, m)])
        energies.append(energy)
    return jnp.stack(energies, axis=1)


def _energies_with_nyquist(spectrum, psi_nyquist, real_response, complex_response, bank):
    """:func:`_energies`' sum over the orders at a scale whose wavelets reach the Nyquist planes.

    Each response gets its Nyquist-plane part added (:func:`_nyquist_corrections`), one group of
    orders at a time: the orders ``m = 0`` (real responses), ``m > 0`` (the complex responses ``z``)
    and ``m < 0``, whose response is ``(-1)^m conj(z)`` plus its own plane part ``c``, so that
    ``|(-1)^m conj(z) + c| = |z + (-1)^m conj(c)|``: the conjugation is done on the planes.
    """
    order_index = {order: r for r, order in enumerate(bank.orders)}
    zero_orders = [(l, 0) for l in bank.real_degrees]
    complex_orders = list(bank.complex_orders)
    positive_orders = complex_orders if bank.rotation_covariant else []
    negative_orders = [(l, -m) for l, m in complex_orders]
    grouped = zero_orders + positive_orders + negative_orders
    spectrum_planes = _nyquist_planes(spectrum, bank.shape)
    if spectrum.shape[1] > 1:  # the volume of degree l for each order (l, m); else broadcast
        spectrum_planes = [p[:, [l for l, _ in grouped]] for p in spectrum_planes]
    wavelet_rows = np.asarray([order_index[order] for order in grouped])
    real_dtype = real_response[0].dtype
    planes, volumes = _nyquist_corrections(
        spectrum_planes,
        [p[wavelet_rows] for p in psi_nyquist],
        bank.shape,
        real_dtype,
    )
    n_zero, n_positive = len(zero_orders), len(positive_orders)

    def group(start, stop):
        return [a[:, start:stop] for a in planes]

    real_stack = jnp.stack([real_response[l] for l, _ in zero_orders], axis=1)
    zero_energy = _abs2(real_stack + volumes(*group(0, n_zero)))
    pair_energy = None
    if complex_orders:
        z = jnp.stack([complex_response[order] for order in complex_orders], axis=1)
        signs = jnp.asarray([(-1.0) ** m for _, m in complex_orders], real_dtype)[:, None, None]
        negative = [jnp.conj(a) * signs for a in group(n_zero + n_positive, len(grouped))]
        pair_energy = _abs2(z + volumes(*negative))
        if positive_orders:
            pair_energy = _abs2(z + volumes(*group(n_zero, n_zero + n_positive))) + pair_energy
    energies = [0.0] * (bank.L + 1)
    for (l, _), energy in zip(zero_orders, _unstack(zero_energy)):
        energies[l] = energy
    if pair_energy is not None:
        for (l, _), energy in zip(complex_orders, _unstack(pair_energy)):
            energies[l] = energies[l] + energy
    return jnp.stack(energies, axis=1)


def _unstack(a: jax.Array) -> list[jax.Array]:
    """``a`` ``(B, K, ...)`` as ``K`` arrays ``(B, ...)``."""
    return [jnp.squeeze(v, 1) for v in jnp.split(a, a.shape[1], axis=1)]


def _filters(bank: FilterBank3D, dtype):
    """The bank's leaves in the computation's precision."""
    complex_dtype = jnp.result_type(dtype, jnp.complex64)
    real = None if bank.psi_real is None else bank.psi_real.astype(dtype)
    nyquist = None
    if bank.psi_nyquist is not None:
        nyquist = tuple(p.astype(complex_dtype) for p in bank.psi_nyquist)
    return real, bank.psi_complex.astype(complex_dtype), nyquist


def _at_scale(filters, j, with_nyquist: bool):
    real, complex_, nyquist = filters
    return (
        None if real is None else real[j],
        complex_[j],
        jax.tree_util.tree_map(lambda a: a[j], nyquist) if with_nyquist else None,
    )


def _map_jobs(step, scales: list[int], bank: FilterBank3D):
    """``step(job, with_nyquist)`` over jobs ``0..len(scales)-1`` with ``lax.map``; ``scales[job]``
    is the wavelet scale job ``job`` uses. Jobs whose scale keeps Nyquist planes and the others go
    through two maps (two small loop bodies, whatever ``J``); results are stacked in job order.
    ``job`` is a traced index in a map, a Python int where a group holds one job (called directly:
    for ``J = 2`` every group does, and XLA drops loops of one step anyway, but JAX would still trace,
    linearize and transpose each as a scan; 3D J=2 L=2 64^3, ``jit(value_and_grad)``: trace and
    lowering 0.78-1.00 s -> 0.51-0.77 s, the same compiled program and bits)."""
    cut = bank.nyquist_scales
    parts, produced = [], []
    for with_nyquist in (True, False):
        group = [job for job, j in enumerate(scales) if (j < cut) == with_nyquist]
        if group:
            step_group = partial(step, with_nyquist=with_nyquist)
            if len(group) == 1:  # a loop of one step would only add a scan to trace and differentiate
                parts.append(jax.tree_util.tree_map(lambda a: a[None], step_group(group[0])))
            else:
                parts.append(jax.lax.map(step_group, jnp.asarray(group)))
            produced += group
    if produced == sorted(produced):  # no reordering (the narrow scales come first): no gather
        return jax.tree_util.tree_map(lambda *a: jnp.concatenate(a), *parts)
    order = np.argsort(produced)
    return jax.tree_util.tree_map(lambda *a: jnp.concatenate(a)[order], *parts)


def _materialised(a: jax.Array) -> jax.Array:
    return jax.lax.optimization_barrier(a)


def _scattering(x: jax.Array, bank: FilterBank3D) -> jax.Array:
    """``(B, M, N, O)`` -> ``(B, K, L + 1, P)``.

    A Python loop over the first-order scale ``j1`` (``J + 1`` steps; each applies every degree's
    wavelets at once): the modulus ``U1`` is integrated and, for ``max_order=2``, its spectrum goes
    through every wider wavelet ``j2 > j1`` in a ``lax.map``. Only one scale's ``U1`` is alive at a
    time.
    """
    powers, O = bank.integral_powers, bank.shape[-1]
    filters = _filters(bank, x.dtype)
    # Full spectra are materialised once (the barrier keeps XLA from recomputing the Hermitian
    # extension, with its reversed reads, inside every product that uses them).
    x_spectrum = _materialised(_hermitian_extend(_rfftn(x), O))[:, None]
    first, second = [], {}
    for j1 in range(bank.J + 1):
        with_nyquist = j1 < bank.nyquist_scales
        energy = _energies(x_spectrum, _at_scale(filters, j1, with_nyquist), bank)
        first.append(_integrals(energy, powers))  # (B, L+1, P)
        wider = list(range(j1 + 1, bank.J + 1)) if bank.max_order == 2 else []
        if not wider:
            continue
        u1_spectrum = _materialised(
            _hermitian_extend(_rfftn(safe_sqrt(energy)), O)
        )  # (B, L+1, M, N, O)

        def second_order(job, with_nyquist, u1_spectrum=u1_spectrum, wider=wider):
            j2 = wider[job] if isinstance(job, int) else jnp.asarray(wider)[job]
            return _integrals(_energies(u1_spectrum, _at_scale(filters, j2, with_nyquist), bank),
                              powers)

        s2 = _map_jobs(second_order, wider, bank)  # (len(wider), B, L+1, P)
        second.update({(j1, j2): s2[k] for k, j2 in enumerate(wider)})
    rows = first + [second[pair] for pair in bank.order2_pairs]
    return jnp.stack(rows, axis=1)


def volume_bytes(bank: FilterBank3D, itemsize: int) -> int:
    """Bytes of the largest intermediate of one volume: the complex responses to one scale's
    ``(L + 1)**2`` wavelets (every degree ``l``, every order ``m``)."""
    return (bank.L + 1) ** 2 * math.prod(bank.shape) * 2 * itemsize


@default_promotion
def harmonic_scattering3d(
    x: Float[ArrayLike, "*batch m n o"], bank: FilterBank3D
) -> Float[Array, "*batch rows degrees powers"]:
    """3D solid harmonic scattering of a batch of real volumes (kymatio 0.3.0's numbers).

    Args:
      x: real float32/float64 array of shape ``(*batch, M, N, O)``.
      bank: a :class:`FilterBank3D` (e.g. ``HarmonicScattering3D(...).bank``).

    Returns:
      array of shape ``(*batch, K, L + 1, P)`` in ``x``'s dtype: ``K = J + 1`` first-order rows
      (``j1 = 0..J``) then, for ``max_order=2``, ``J (J + 1) / 2`` second-order rows ``(j1, j2)``,
      ``j1 < j2``, in lexicographic order; ``l = 0..L``; ``P = len(integral_powers)``. Each entry
      is ``sum_voxels U^p`` of the (rotation-covariant) modulus ``U``. Order 0 is not included
      (see :func:`order0_integrals`).

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from scatterjax._harmonic3d.bank import filter_bank_3d
      >>> bank = filter_bank_3d(1, (8, 8, 8), 1, 1.0, 2, True, (1.0, 2.0))
      >>> jax.jit(harmonic_scattering3d)(jnp.ones((2, 8, 8, 8)), bank).shape
      (2, 3, 2, 2)
    """
    x = check_real_input(x, tuple(bank.shape))
    if is_empty_batch(x, 3):
        return empty_batch_output(harmonic_scattering3d, x, bank, 3)
    batch_shape = x.shape[:-3]
    flat = x.reshape((-1,) + tuple(bank.shape))
    shift = amplitude_exponents(flat, 3)  # tiny or huge volumes: see scatterjax._core.amplitude
    out = _scattering(to_normal_amplitude(flat, shift), frozen(bank))
    out = _rescaled_integrals(out, shift, bank.integral_powers)
    return out.reshape(batch_shape + out.shape[1:])


def _rescaled_integrals(integrals: jax.Array, shift: jax.Array, powers) -> jax.Array:
    """Integrals ``(B, ..., P)`` of volumes scaled by ``2^shift``, brought back: ``sum U^p`` scales
    as ``2^(shift p)``."""
    return jnp.stack(
        [from_normal_amplitude(integrals[..., i], shift, p) for i, p in enumerate(powers)], axis=-1
    )
