"""The public filter-bank builders check their arguments: a bad value raises a ValueError or TypeError
naming the argument before any filter is designed, and every bank the classes build is still built."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import scatterjax
from scatterjax import (
    HarmonicScattering3D,
    Scattering1D,
    Scattering2D,
    ShapeError,
    TimeFrequencyScattering,
    filter_bank_1d,
    filter_bank_2d,
    filter_bank_3d,
    filter_bank_jtfs,
)

ARGS_1D = dict(J=4, N=256, Q1=1, Q2=1, T=16.0, averaged=True, max_order=2, oversampling=0)
ARGS_2D = dict(J=2, M=32, N=32, L=4, max_order=2, pre_pad=False)
ARGS_3D = dict(
    J=1, shape=(8, 8, 8), L=1, sigma_0=1.0, max_order=2, rotation_covariant=True, integral_powers=(1.0, 2.0)
)
ARGS_JTFS = dict(
    J=6, J_fr=2, N=1024, Q1=8, Q2=1, Q_fr=1, T=64.0, averaging="local", log2_stride=6, F=4.0,
    averaging_fr="local", log2_stride_fr=2, format="time", joint_array=False,
)


def assert_same_bank(ours, theirs) -> None:
    """Same pytree structure (static plans included) and bit-identical leaves."""
    leaves, treedef = jax.tree_util.tree_flatten(ours)
    their_leaves, their_treedef = jax.tree_util.tree_flatten(theirs)
    assert treedef == their_treedef
    assert len(leaves) == len(their_leaves)
    for leaf, their_leaf in zip(leaves, their_leaves):
        assert leaf.dtype == their_leaf.dtype
        np.testing.assert_array_equal(np.asarray(leaf), np.asarray(their_leaf))


@pytest.mark.parametrize(
    "change, error, match",
    [
        (dict(Q1=0), ValueError, "Q1 must be >= 1, got 0"),
        (dict(Q2=-2), ValueError, "Q2 must be >= 1"),
        (dict(Q1=10**9), ValueError, "Q1=1000000000.*memory"),
        (dict(T=0), ValueError, r"T must be a number in \[1, 256\], got 0"),
        (dict(T=-5), ValueError, r"T must be a number in \[1, 256\], got -5"),
        (dict(T=1e9), ValueError, r"T must be a number in \[1, 256\], got 1000000000"),
        (dict(T=float("nan")), ValueError, "T must be"),
        (dict(T="64"), TypeError, "T must be a real number"),
        (dict(averaged=False, T=100.0), ValueError, "T=100.0 with averaged=False.*T=16"),
        (dict(stride_log2=-1), ValueError, "stride_log2 must be >= 0, got -1"),
        (dict(stride_log2=20), ValueError, "stride_log2 must be <= 4, got 20"),
        (dict(stride_log2=2, oversampling=1), ValueError, "oversampling=1.*stride_log2"),
        (dict(stride_log2=2, averaged=False), ValueError, "stride_log2=2 needs averaged=True"),
        (dict(global_sum=True), ValueError, "global_sum=True.*averaged=False"),
        (dict(sum_levels=True, oversampling=1), ValueError, "oversampling=1.*sum_levels"),
        (dict(J=-1), ValueError, "J must be >= 0, got -1"),
        (dict(J=20), ShapeError, r"J=20 is too large for a signal of length N=256.*J <= 8"),
        (dict(J=2.0), TypeError, "J must be an integer"),
        (dict(N=0), ValueError, "N must be >= 1, got 0"),
        (dict(pad_mode="bogus"), ValueError, "pad_mode must be one of .*got 'bogus'"),
        (dict(averaged="x"), TypeError, "averaged must be True or False; got 'x'"),
        (dict(prune_paths=1), TypeError, "prune_paths must be True or False"),
        (dict(max_order=7), ValueError, "max_order must be <= 3, got 7"),
        (dict(max_order=0), ValueError, "max_order must be >= 1, got 0"),
        (dict(oversampling=-1), ValueError, "oversampling must be >= 0, got -1"),
        (dict(oversampling=11), ValueError, "oversampling must be <= 10, got 11"),
    ],
)
def test_filter_bank_1d_rejects(change, error, match):
    with pytest.raises(error, match=match):
        filter_bank_1d(**{**ARGS_1D, **change})


@pytest.mark.parametrize(
    "change, error, match",
    [
        (dict(L=0), ValueError, "L must be >= 1, got 0"),
        (dict(L=10**9), ValueError, "L=1000000000.*memory"),
        (dict(M=0), ValueError, "M must be >= 1, got 0"),
        (dict(N=-4), ValueError, "N must be >= 1, got -4"),
        (dict(J=0), ValueError, "J must be >= 1, got 0"),
        (dict(J=6), ShapeError, r"J=6 is too large for images of shape=\(32, 32\).*J <= 5"),
        (dict(J=2.5), TypeError, "J must be an integer"),
        (dict(max_order=3), ValueError, "max_order must be <= 2, got 3"),
        (dict(pre_pad="yes"), TypeError, "pre_pad must be True or False"),
        (dict(pad_mode="bogus"), ValueError, "pad_mode must be one of .*got 'bogus'"),
    ],
)
def test_filter_bank_2d_rejects(change, error, match):
    with pytest.raises(error, match=match):
        filter_bank_2d(**{**ARGS_2D, **change})


@pytest.mark.parametrize(
    "change, error, match",
    [
        (dict(L=-1), ValueError, "L must be >= 0, got -1"),
        (dict(L=10**6), ValueError, "L=1000000.*memory"),
        (dict(sigma_0=0), ValueError, r"sigma_0 must be a positive finite number .*got 0\."),
        (dict(sigma_0=float("inf")), ValueError, "sigma_0 must be a positive finite number"),
        (dict(sigma_0="1"), ValueError, "sigma_0 must be a positive finite number .*got '1'"),
        (dict(integral_powers=()), ValueError, r"integral_powers must not be empty"),
        (dict(integral_powers=2.0), ValueError, "integral_powers must be a sequence.*got the single number 2.0"),
        (dict(integral_powers=(1.0, -1.0)), ValueError, r"integral_powers must be positive and finite .*got -1.0"),
        (dict(integral_powers=(1.0, "2")), ValueError, "integral_powers must hold real numbers; got '2'"),
        (dict(J=-1), ValueError, "J must be >= 0, got -1"),
        (dict(J=75, L=0, max_order=1), ValueError, r"J=75 is too large for sigma_0=1.0: .* j=75 .* J <= 74"),
        (dict(shape=(8, 8)), ValueError, "shape must be a tuple of 3 ints"),
        (dict(shape=(8, 0, 8)), ValueError, r"shape\[1\] must be >= 1, got 0"),
        (dict(max_order=3), ValueError, "max_order must be <= 2, got 3"),
        (dict(rotation_covariant=None), TypeError, "rotation_covariant must be True or False"),
        (dict(hermitian="no"), TypeError, "hermitian must be True or False"),
        (dict(hermitian=True, shape=(7, 8, 8)), ValueError, "hermitian=True: .* needs every side even"),
    ],
)
def test_filter_bank_3d_rejects(change, error, match):
    with pytest.raises(error, match=match):
        filter_bank_3d(**{**ARGS_3D, **change})


@pytest.mark.parametrize(
    "change, error, match",
    [
        (dict(F=0), ValueError, r"F must be a number in \[1, 56\], got 0.*or 2\*\*J_fr = 4"),
        (dict(F=57.0), ValueError, r"F must be a number in \[1, 56\], got 57"),
        (dict(F=2.5), ValueError, "F must be an integer number of frequency rows, got 2.5"),
        (dict(F=8.0, averaging_fr="none"), ValueError, "F=8.0 with averaging_fr='none'.*F=4"),
        (dict(T=0), ValueError, r"T must be a number in \[1, 1024\], got 0"),
        (dict(T=128.0, averaging="global"), ValueError, "T=128.0 with averaging='global'.*T=64"),
        (dict(log2_stride=-3), ValueError, "log2_stride must be >= 0, got -3"),
        (dict(log2_stride=50), ValueError, "log2_stride must be <= 6, got 50"),
        (dict(log2_stride=2), ValueError, "the time stride 2\\*\\*2 is finer than the largest second-order scale"),
        (dict(averaging="none", log2_stride=5), ValueError, "log2_stride=5 with averaging='none'.*log2_stride=6"),
        (dict(log2_stride_fr=-1), ValueError, "log2_stride_fr must be >= 0, got -1"),
        (dict(J_fr=5, F=16.0, log2_stride_fr=2), ValueError, "F=16.0 with stride_fr=4: .* j_fr=3"),
        (dict(log2_stride_fr=6), ValueError, "log2_stride_fr=6: the stride must divide"),
        (dict(averaging="bogus"), ValueError, "averaging must be one of .*got 'bogus'"),
        (dict(averaging_fr=0), ValueError, "averaging_fr must be one of .*got 0"),
        (dict(J_fr=10), ShapeError, r"J_fr=10 is too large for the 56 first-order frequency rows"),
        (dict(J_fr=-1), ValueError, "J_fr must be >= 0, got -1"),
        (dict(Q_fr=0), ValueError, "Q_fr must be >= 1, got 0"),
        (dict(Q_fr=57), ValueError, "Q_fr must be <= 56, got 57"),
        (dict(Q1=0), ValueError, "Q1 must be >= 1, got 0"),
        (dict(J=0), ValueError, "J must be >= 1, got 0"),
        (dict(J=15), ShapeError, r"J=15 is too large for a signal of length N=1024: .* J <= 10"),
        (dict(format="bogus"), ValueError, "format must be one of .*got 'bogus'"),
        (dict(joint_array=True), ValueError, "joint_array=True needs format='joint'"),
        (dict(joint_array="yes"), TypeError, "joint_array must be True or False"),
        (dict(pad_mode="bogus"), ValueError, "pad_mode must be one of .*got 'bogus'"),
    ],
)
def test_filter_bank_jtfs_rejects(change, error, match):
    with pytest.raises(error, match=match):
        filter_bank_jtfs(**{**ARGS_JTFS, **change})


def test_docstring_examples_build():
    bank = filter_bank_1d(J=6, N=1024, Q1=8, Q2=1, T=64, averaged=True, max_order=2, oversampling=0)
    assert (bank.plan.N_padded, len(bank.xi1), len(bank.xi2)) == (2048, 38, 7)
    assert filter_bank_2d(J=2, M=32, N=32, L=4, max_order=2, pre_pad=False).psi1[0].shape == (4, 40, 40)
    assert filter_bank_3d(1, (8, 8, 8), 1, 1.0, 2, True, (1.0, 2.0)).psi_real.shape == (2, 2, 8, 8, 8)
    assert filter_bank_jtfs(**{**ARGS_JTFS, "N": 4096}).plan.N_fr == 88


def test_numpy_settings_are_accepted():
    as_numpy = {key: np.int64(value) for key, value in ARGS_2D.items() if key != "pre_pad"}
    assert_same_bank(filter_bank_2d(**as_numpy, pre_pad=np.bool_(False)), filter_bank_2d(**ARGS_2D))


@pytest.mark.parametrize("J, shape, L, max_order, pre_pad", [(2, (32, 32), 4, 2, False), (3, (8, 8), 1, 1, True)])
def test_filter_bank_2d_matches_scattering2d(J, shape, L, max_order, pre_pad):
    S = Scattering2D(J=J, shape=shape, L=L, max_order=max_order, pre_pad=pre_pad)
    assert_same_bank(filter_bank_2d(J, *shape, L, max_order, pre_pad), S.bank)


@pytest.mark.parametrize(
    "kwargs, T, averaged, extra",
    [
        (dict(J=6, shape=1024, Q=8), 64.0, True, {}),
        (dict(J=4, shape=256, T=0, out_type="list"), 16.0, False, {}),
        (dict(J=4, shape=256, T=100, stride=8, levels="sum"), 100.0, True, dict(stride_log2=3, sum_levels=True)),
        (dict(J=4, shape=256, T="global"), 16.0, False, dict(global_sum=True)),
    ],
)
def test_filter_bank_1d_matches_scattering1d(kwargs, T, averaged, extra):
    S = Scattering1D(**kwargs)
    Q1, Q2 = S.Q
    assert_same_bank(filter_bank_1d(S.J, S.N, Q1, Q2, T, averaged, S.max_order, S.oversampling, **extra), S.bank)


def test_filter_bank_3d_matches_harmonic_scattering3d():
    S = HarmonicScattering3D(J=1, shape=(8, 8, 8), L=1, integral_powers=(1.0, 2.0))
    assert_same_bank(filter_bank_3d(1, (8, 8, 8), 1, 1.0, 2, True, (1.0, 2.0)), S.bank)


def test_filter_bank_jtfs_matches_time_frequency_scattering():
    S = TimeFrequencyScattering(J=6, J_fr=2, Q=8, shape=1024)
    assert_same_bank(filter_bank_jtfs(**ARGS_JTFS), S.bank)
    S = TimeFrequencyScattering(J=6, J_fr=2, Q=8, shape=1024, T="global", F=0, out_type="list")
    args = {**ARGS_JTFS, "T": 64.0, "averaging": "global", "F": 4.0, "averaging_fr": "none", "log2_stride_fr": 2}
    assert_same_bank(filter_bank_jtfs(**args), S.bank)
    # F=None resolves to 2**J_fr = 16, more than the (J + 1) Q1 = 14 frequency rows.
    S = TimeFrequencyScattering(J=6, J_fr=4, Q=2, shape=512)
    args = {**ARGS_JTFS, "J_fr": 4, "N": 512, "Q1": 2, "F": 16.0, "log2_stride_fr": 4}
    assert_same_bank(filter_bank_jtfs(**args), S.bank)


def test_builders_are_public():
    for name in ("filter_bank_1d", "filter_bank_2d", "filter_bank_3d", "filter_bank_jtfs"):
        assert callable(getattr(scatterjax, name))
