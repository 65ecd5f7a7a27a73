"""The same bits under differentiation: the output that ``jax.vjp`` / ``jax.jvp`` /
``jax.value_and_grad`` computes on the way is the plain call's output, bit for bit, and a batch's
gradients are its rows' gradients, bit for bit (joint time-frequency scattering with
``T='global'``: to float32 rounding, see ``test_jtfs_global_batch_gradients_agree_to_rounding``).

A training step that reports its loss from ``value_and_grad`` and an evaluation that calls ``S(x)``
must see the same coefficients; the settings below reach the code paths whose value is a fixed-order
sum (1D averages computed in time, 1D ``T='global'``, 3D volume sums, 3D FFTs issued in pieces, the
frequency low-pass of joint time-frequency scattering).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scatterjax

CASES = {
    # T = 2**J: every average but level 0's is computed in time (few output samples).
    "1d_averages_in_time": (lambda: scatterjax.Scattering1D(J=6, shape=512, Q=4), (5, 512)),
    "1d_global": (lambda: scatterjax.Scattering1D(J=5, shape=256, Q=4, T="global"), (5, 256)),
    "1d_fourier_averages": (lambda: scatterjax.Scattering1D(J=4, shape=256, Q=4, T=4), (5, 256)),
    "2d": (lambda: scatterjax.Scattering2D(J=2, shape=(32, 32), L=4), (5, 32, 32)),
    # An even grid and a batch above one: the FFTs go in pieces.
    "3d": (lambda: scatterjax.HarmonicScattering3D(J=1, shape=(8, 8, 8), L=1), (5, 8, 8, 8)),
    "jtfs": (lambda: scatterjax.TimeFrequencyScattering(J=5, J_fr=1, Q=4, shape=256), (5, 256)),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    make, shape = CASES[request.param]
    S = make()
    x = jnp.asarray(np.random.default_rng(1).standard_normal(shape).astype(np.float32))
    return request.param, S, x


def _same_bits(a, b) -> bool:
    return bool(np.array_equal(np.asarray(a), np.asarray(b)))


def test_vjp_and_jvp_outputs_are_the_plain_outputs(case):
    _, S, x = case
    plain = jax.jit(S)(x)
    assert _same_bits(S(x), plain)
    assert _same_bits(jax.jit(lambda x: jax.vjp(S, x)[0])(x), plain)
    assert _same_bits(jax.jit(lambda x, v: jax.jvp(S, (x,), (v,))[0])(x, jnp.ones_like(x)), plain)
    # Eager, outside any jit, too.
    assert _same_bits(jax.vjp(S, x)[0], plain)


def test_value_and_grad_reports_the_loss_of_the_plain_output(case):
    _, S, x = case
    target = jax.jit(S)(x) * 0.5
    per_row_loss = jax.jit(lambda y: ((y - target) ** 2).reshape(len(y), -1).sum(axis=1))

    def loss(x):
        return per_row_loss(S(x)).sum(), S(x)

    (_, output), gradient = jax.jit(jax.value_and_grad(loss, has_aux=True))(x)
    assert _same_bits(output, jax.jit(S)(x))
    assert bool(jnp.all(jnp.isfinite(gradient)))


def _gradients(S, x):
    """Gradients of ``sum_rows ||S(x_row) - t_row||^2`` over the batch, and row by row."""
    target = jax.jit(S)(x) * 0.5

    @jax.jit
    def gradient(x, target):
        return jax.grad(lambda x: ((S(x) - target) ** 2).sum())(x)

    batch = gradient(x, target)
    rows = jnp.concatenate([gradient(x[i : i + 1], target[i : i + 1]) for i in range(len(x))])
    return batch, rows


def test_batch_gradients_are_the_rows_gradients(case):
    _, S, x = case
    batch, rows = _gradients(S, x)
    assert float(jnp.abs(batch).max()) > 0
    assert _same_bits(batch, rows)


def test_jtfs_global_batch_gradients_agree_to_rounding():
    # Not bit for bit with T='global', whatever F (so not the frequency low-pass; not traced down
    # further): ~5e-8 of the largest entry.
    S = scatterjax.TimeFrequencyScattering(J=5, J_fr=1, Q=4, shape=256, T="global")
    x = jnp.asarray(np.random.default_rng(1).standard_normal((5, 256)).astype(np.float32))
    batch, rows = _gradients(S, x)
    scale = float(jnp.abs(rows).max())
    assert float(jnp.abs(batch - rows).max()) <= 1e-5 * scale
