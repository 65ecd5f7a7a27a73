"""The 1D Fourier-domain fold (a filter product followed by subsampling, as a gather table) against
its definition in float64 NumPy: ``out[b, p, m] = sum_t re(h[b, i]) w_re[p, t, m] + 1j im(h[b, i])
w_im[p, t, m]`` with ``i = index[p, t, m]``; and its derivatives (``check_grads``, both modes)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from scatterjax._scattering1d.fourier import SparseFold, SparseFolds, fold_each, fold_rows, fold_together, join_folds


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


def _joined(folds: list[SparseFold]) -> SparseFolds:
    return SparseFolds(
        jnp.asarray(join_folds([np.asarray(f.index) for f in folds])),
        tuple(f.weight_real for f in folds),
        tuple(f.weight_imag for f in folds),
    )


def _three_folds(rng, rows, bins, terms):
    """Three ``fold_rows`` tables over ``(B, rows, bins)`` spectra (the last one reads row 1 only)."""
    last = _fold(rng, filters=1, terms=terms, length=6, bins=bins)
    return [
        _fold(rng, filters=3, terms=terms, length=5, bins=rows * bins),
        _fold(rng, filters=2, terms=terms, length=4, bins=rows * bins),
        SparseFold(last.index + bins, last.weight_real, last.weight_imag),
    ]


def test_sparse_folds_give_back_their_tables():
    rng = np.random.default_rng(19)
    folds = _three_folds(rng, 2, 11, 2)
    for got, expected in zip(_joined(folds).folds(), folds, strict=True):
        for a, b in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(expected), strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("terms", [1, 2])
def test_fold_together_gives_the_bits_of_the_separate_folds(terms):
    rng = np.random.default_rng(20 + terms)
    half = jnp.asarray(_spectra(rng, (3, 2, 11)).astype(np.complex64))
    folds = _three_folds(rng, 2, 11, terms)
    together = jax.jit(fold_together)(half, _joined(folds))
    alone = [jax.jit(fold_rows)(half, f) for f in folds]
    for got, expected in zip(together, alone, strict=True):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(expected))


@pytest.mark.parametrize("terms", [1, 2])
def test_fold_together_derivatives(terms):
    """Both modes, second order, with respect to the spectra and to the filters' weights."""
    rng = np.random.default_rng(30 + terms)
    with jax.enable_x64(True):
        half = jnp.asarray(_spectra(rng, (2, 2, 7)))
        folds = _three_folds(rng, 2, 7, terms)
        index = _joined(folds).index

        def joined(h, weights):
            tables = SparseFolds(index, tuple(w for w, _ in weights), tuple(w for _, w in weights))
            return jnp.concatenate([o.reshape(-1) for o in fold_together(h, tables)])

        weights = [(f.weight_real, f.weight_imag) for f in folds]
        check_grads(joined, (half, weights), order=2, modes=("fwd", "rev"))
        # Against the separate folds' own derivatives.
        cotangent = jnp.asarray(_spectra(rng, joined(half, weights).shape))

        def separate(h):
            return jnp.concatenate([fold_rows(h, f).reshape(-1) for f in folds])

        expected = jax.vjp(separate, half)[1](cotangent)[0]
        got = jax.vjp(lambda h: joined(h, weights), half)[1](cotangent)[0]
        np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-12, atol=1e-12)


def test_fold_together_differentiates_into_one_scatter():
    """Reverse mode adds every fold's cotangent into the spectra with one scatter-add, not one
    zero-filled copy of the spectra per fold; the joined index is used as it is (no concatenation)."""
    rng = np.random.default_rng(40)
    half = jnp.asarray(_spectra(rng, (2, 2, 9)).astype(np.complex64))
    folds = _three_folds(rng, 2, 9, 2)
    joined = _joined(folds)

    def loss(h, joined):
        return sum(jnp.sum(jnp.abs(o) ** 2) for o in fold_together(h, joined))

    text = jax.jit(jax.grad(loss)).lower(half, joined).as_text()
    assert text.count("\"stablehlo.scatter\"(") == 1
    assert "stablehlo.concatenate" not in text
    separate = jax.jit(jax.grad(lambda h: sum(
        jnp.sum(jnp.abs(fold_rows(h, f)) ** 2) for f in folds
    ))).lower(half).as_text()
    assert separate.count("\"stablehlo.scatter\"(") == len(folds)
