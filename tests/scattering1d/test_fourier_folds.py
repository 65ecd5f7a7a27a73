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
from scatterjax._scattering1d.windows import without_zero_tail


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
        tuple(f.length for f in folds),
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


def _with_zero_tail(rng, filters, terms, length, bins, tail):
    """A fold whose last ``tail`` output bins have zero weight in every filter."""
    fold = _fold(rng, filters=filters, terms=terms, length=length, bins=bins)
    keep = np.arange(length) < length - tail
    return SparseFold(fold.index, fold.weight_real * keep, fold.weight_imag * keep)


@pytest.mark.parametrize("terms", [1, 2])
def test_folds_without_their_zero_tail_give_the_same_bits(terms):
    """Tables cut where every filter's weights stop (``without_zero_tail``) give the full tables'
    output (to float32 rounding: a loop of another length may round its products differently), exact
    zeros in the cut bins, alone and together, and the same derivatives."""
    rng = np.random.default_rng(50 + terms)
    rows, bins = 2, 13
    half = jnp.asarray(_spectra(rng, (3, rows, bins)).astype(np.complex64))
    full = [_with_zero_tail(rng, 3, terms, 9, rows * bins, tail) for tail in (4, 0, 8)]
    cut = []
    for fold in full:
        index, weight_real, weight_imag, length = without_zero_tail(
            *(np.asarray(a) for a in (fold.index, fold.weight_real, fold.weight_imag))
        )
        cut.append(SparseFold(jnp.asarray(index), jnp.asarray(weight_real), jnp.asarray(weight_imag), length))
    assert [f.index.shape[-1] for f in cut] == [5, 9, 1]  # the last one keeps one bin
    def same(got, expected, tail):
        got, expected = np.asarray(got), np.asarray(expected)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
        assert not np.any(got[..., got.shape[-1] - tail:])  # written zeros

    for got, expected, tail in zip(cut, full, (4, 0, 8)):
        same(jax.jit(fold_rows)(half, got), jax.jit(fold_rows)(half, expected), tail)
    joined = _joined(cut)
    for got, expected, tail in zip(jax.jit(fold_together)(half, joined), full, (4, 0, 8), strict=True):
        same(got, fold_rows(half, expected), tail)
    cotangent = [jnp.asarray(_spectra(rng, (3, 3, 9)).astype(np.complex64)) for _ in full]

    def pulled(fn):
        return np.asarray(jax.vjp(fn, half)[1](cotangent)[0])

    np.testing.assert_allclose(
        pulled(lambda h: fold_together(h, joined)), pulled(lambda h: [fold_rows(h, f) for f in full]),
        rtol=1e-6, atol=1e-6,
    )
    with jax.enable_x64(True):
        half64 = jnp.asarray(_spectra(rng, (2, rows, bins)))
        check_grads(lambda h: fold_together(h, joined), (half64,), order=2, modes=("fwd", "rev"))


def test_the_banks_wavelet_tables_stop_where_their_weights_do():
    """Every first- and second-order table of a 1D bank ends with a non-zero weight and remembers
    the output length of its inverse FFT."""
    import scatterjax

    bank = scatterjax.Scattering1D(J=6, shape=2048, Q=8).bank
    plan = bank.plan
    groups = [bank.psi1] + list(bank.psi2)
    lengths = [plan.N_padded >> group.k1 for group in plan.order1]
    lengths += [plan.N_padded >> (group.k1 + group.k2) for group in plan.order2]
    assert [length for folds in groups for length in folds.lengths] == lengths
    for folds in groups:
        for weight_real, weight_imag, length in zip(folds.weight_real, folds.weight_imag, folds.lengths):
            last = np.asarray(weight_real)[..., -1] != 0
            assert weight_real.shape[-1] <= length and (last | (np.asarray(weight_imag)[..., -1] != 0)).any()
    cut = sum(w.shape[-1] < length for folds in groups for w, length in zip(folds.weight_real, folds.lengths))
    assert cut >= len(lengths) // 2  # most tables are shorter than their output



def _spectrum_sizes(bank) -> dict[str, list[int]]:
    """Per table of a 1D bank, the size of the (flattened) half spectra it is applied to, from the
    plan: ``N_padded / 2**level`` samples give ``N_padded / 2**(level + 1) + 1`` bins, per row."""
    plan = bank.plan

    def bins(level: int) -> int:
        return (plan.N_padded >> level) // 2 + 1

    second_rows = {}  # second-order paths at each resolution k1 + k2, in the transform's order
    for group in plan.order2:
        level = group.k1 + group.k2
        second_rows[level] = second_rows.get(level, 0) + len(group.paths)
    sources = sorted({group.order1_group for group in plan.order2})
    return {
        "psi1": [bins(0)],
        "psi2": [len(plan.order1[g].n1) * bins(plan.order1[g].k1) for g in sources],
        "lowpass": [bins(entry.level) for entry in plan.lowpasses if not entry.direct],
        "psi3": [second_rows[group.level2] * bins(group.level2) for group in plan.order3],
    }


@pytest.mark.parametrize(
    "build",
    [
        lambda sj: sj.Scattering1D(J=6, shape=2048, Q=8).bank,
        lambda sj: sj.Scattering1D(J=8, shape=1000, Q=(8, 2), oversampling=1).bank,
        lambda sj: sj.Scattering1D(J=5, shape=300, Q=(4, 2), max_order=3, T=0, out_type="list").bank,
        lambda sj: sj.Scattering1D(J=10, shape=65536, Q=8, T=65536).bank,
        lambda sj: sj.TimeFrequencyScattering(J=6, J_fr=2, Q=8, shape=1024).bank.time,
    ],
    ids=["J6-N2048", "Q8,2-N1000-oversampled", "order3-T0", "J10-N65536", "jtfs-time"],
)
def test_every_table_of_a_bank_reads_inside_its_spectra(build):
    """The folds promise XLA in-bounds indices (no clipping; out of range would be undefined): every
    index of a bank's tables is a position in the half spectra the transform applies it to."""
    import scatterjax

    bank = build(scatterjax)
    sizes = _spectrum_sizes(bank)
    tables = {
        "psi1": [bank.psi1.index],
        "psi2": [folds.index for folds in bank.psi2],
        "lowpass": [leaf.index for leaf, entry in zip(bank.lowpass, bank.plan.lowpasses) if not entry.direct],
        "psi3": [fold.index for fold in bank.psi3],
    }
    for name, indices in tables.items():
        assert len(indices) == len(sizes[name]), name
        for index, size in zip(indices, sizes[name]):
            index = np.asarray(index)
            assert index.min() >= 0 and index.max() < size, (name, index.max(), size)
    assert tables["psi2"] and (tables["lowpass"] or tables["psi3"])
