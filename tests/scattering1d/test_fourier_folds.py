"""The 1D Fourier-domain fold (a filter product followed by subsampling, as a gather table) against
its definition in float64 NumPy: ``out[b, p, m] = sum_t re(h[b, i]) w_re[p, t, m] + 1j im(h[b, i])
w_im[p, t, m]`` with ``i = index[p, t, m]``; and its derivatives (``check_grads``, both modes)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from scatterjax._scattering1d.fourier import SparseFold, fold_each, fold_rows


def _fold(rng, filters: int, terms: int, length: int, bins: int) -> SparseFold:
    return SparseFold(
        index=jnp.asarray(rng.integers(0, bins, (filters, terms, length)), jnp.int32),
        weight_real=jnp.asarray(rng.standard_normal((filters, terms, length))),
        weight_imag=jnp.asarray(rng.standard_normal((filters, terms, length))),
    )


def _spectra(rng, shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def _definition(flat, fold):
    index, w_re, w_im = (np.asarray(a, np.float64) for a in (fold.index, fold.weight_real, fold.weight_imag))
    gathered = flat[:, index.astype(int)]  # (B, P, T, M)
    return (gathered.real * w_re).sum(axis=-2) + 1j * (gathered.imag * w_im).sum(axis=-2)


@pytest.mark.parametrize("terms", [1, 2, 3])
def test_fold_rows_and_fold_each_equal_their_definition(terms):
    rng = np.random.default_rng(terms)
    rows, bins = 3, 17
    half = _spectra(rng, (4, rows, bins))
    fold = _fold(rng, filters=5, terms=terms, length=6, bins=rows * bins)
    with jax.enable_x64(True):
        got = np.asarray(jax.jit(fold_rows)(jnp.asarray(half), fold))
    np.testing.assert_allclose(got, _definition(half.reshape(4, -1), fold), rtol=1e-12, atol=1e-12)

    one = _fold(rng, filters=1, terms=terms, length=6, bins=bins)
    with jax.enable_x64(True):
        got = np.asarray(fold_each(jnp.asarray(half), one))
    expected = np.stack([_definition(half[:, r], one)[:, 0] for r in range(rows)], axis=1)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("terms", [1, 2])
def test_fold_rows_derivatives(terms):
    rng = np.random.default_rng(10 + terms)
    with jax.enable_x64(True):
        fold = _fold(rng, filters=4, terms=terms, length=5, bins=2 * 9)
        half = jnp.asarray(_spectra(rng, (2, 2, 9)))
        check_grads(lambda h: fold_rows(h, fold), (half,), order=2, modes=("fwd", "rev"))
