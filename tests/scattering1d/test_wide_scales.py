"""Scattering1D with 2**J > N, as kymatio 0.3.0 accepts it: parity where kymatio computes numbers,
and a ShapeError naming J and the largest J that fits where kymatio crashes, returns NaN or
returns an empty time axis."""

from __future__ import annotations

import re
import warnings

import jax
import numpy as np
import pytest
from conftest import kymatio, rel_l2
from test_scattering1d_parity import _compare

import scatterjax
from scatterjax import ShapeError
from scatterjax._scattering1d.scales import largest_J_considered

# (J, Q, N, T, oversampling, max_order, out_type), every one with 2**J > N: T given (N, smaller,
# not a power of two), T=None where the average keeps an output sample, T=0 (no averaging), up to
# J = log2(N_padded) + 3 (Q=1, where kymatio's filters are still all nonzero).
WIDE_GRID = [
    (2, 1, 2, 2, 0, 2, "array"),
    (4, 2, 3, 2, 0, 2, "array"),
    (4, 8, 9, 0, 0, 2, "list"),
    (7, 1, 100, 64, 0, 2, "array"),
    (7, 8, 100, None, 0, 2, "array"),
    (9, (8, 2), 256, 17, 0, 2, "array"),
    (9, (8, 2), 256, 256, 2, 2, "dict"),
    (10, 8, 1000, None, 0, 2, "array"),
    (10, 1, 300, 32, 0, 2, "list"),
    (11, 8, 256, 100, 1, 1, "array"),
    (12, 1, 256, 16, 0, 2, "array"),
    (12, (4, 2), 1000, 128, 1, 2, "array"),
    (14, 1, 1000, 1000, 0, 2, "array"),
    (10, 4, 300, 0, 1, 2, "list"),
]


def _ids(config):
    return "J{}-Q{}-N{}-T{}-o{}-m{}-{}".format(*config)


@pytest.mark.parametrize("config", WIDE_GRID, ids=_ids)
def test_wide_scales_match_kymatio(config):
    """Numbers, meta(), output_size() and keys as kymatio's (see test_scattering1d_parity)."""
    assert _compare(*config, np.float32) <= 1e-5


@pytest.mark.parametrize("config", WIDE_GRID[::3], ids=_ids)
def test_wide_scales_match_kymatio_float64(config):
    with jax.enable_x64(True):
        assert _compare(*config, np.float64) <= 1e-10


@pytest.mark.parametrize("config", WIDE_GRID[:6], ids=_ids)
def test_wide_scales_padding_attributes_are_kymatios(config):
    J, Q, N, T, oversampling, max_order, out_type = config
    kwargs = dict(J=J, shape=N, Q=Q, T=T, oversampling=oversampling, max_order=max_order, out_type=out_type)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kymatio warns that the signal is short for its filters
        reference = kymatio().numpy.Scattering1D(**kwargs)
    ours = scatterjax.Scattering1D(**kwargs)
    padding = (reference._N_padded, reference.pad_left, reference.pad_right)
    assert (ours.N_padded, ours.pad_left, ours.pad_right) == padding
    assert ours.ind_start == dict(reference.ind_start) and ours.ind_end == dict(reference.ind_end)


def test_wide_scales_jit_grad_and_eager_agree():
    S = scatterjax.Scattering1D(J=9, shape=256, Q=(8, 2), T=17)
    x = np.random.default_rng(0).standard_normal((3, 256)).astype(np.float32)
    eager = np.asarray(S(x))
    np.testing.assert_array_equal(np.asarray(jax.jit(lambda x, S: S(x))(x, S)), eager)
    gradient = jax.grad(lambda x: (S(x) ** 2).sum())(x)
    assert gradient.shape == x.shape and np.isfinite(np.asarray(gradient)).all()


def _suggested_J(message: str) -> int:
    return int(re.search(r"Use J <= (\d+)", message).group(1))


def _kymatio_output(**kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        S = kymatio().numpy.Scattering1D(**kwargs)
        return S(np.random.default_rng(0).standard_normal((1, kwargs["shape"])))


def test_an_empty_average_is_refused_where_kymatio_returns_an_empty_time_axis():
    assert _kymatio_output(J=9, shape=256).shape[-1] == 0  # T = 2**J = 512: no sample left
    empty = r"J=9 is too large .*averaging over T=512 samples leaves no output sample"
    with pytest.raises(ShapeError, match=empty) as record:
        scatterjax.Scattering1D(J=9, shape=256)
    assert _suggested_J(str(record.value)) == 8


def test_vanishing_wavelets_are_refused_where_kymatio_gives_nan():
    assert np.isnan(_kymatio_output(J=12, shape=256, Q=8, T=16)).any()
    with pytest.raises(ShapeError, match=r"J=12 .* 9 of its lowest-frequency wavelets .* vanish") as record:
        scatterjax.Scattering1D(J=12, shape=256, Q=8, T=16)
    largest = _suggested_J(str(record.value))
    assert largest == 11
    assert _compare(largest, 8, 256, 16, 0, 2, "array", np.float32) <= 1e-5


def test_filters_wider_than_the_padding_are_refused_where_kymatio_cannot_build_them():
    with pytest.raises(ValueError, match="cannot reshape"):  # kymatio's filter factory
        _kymatio_output(J=12, shape=256, Q=(4, 2), T=16)
    with pytest.raises(ShapeError, match=r"J=12 .* first-order wavelets with second-order children .* 512 samples"):
        scatterjax.Scattering1D(J=12, shape=256, Q=(4, 2), T=16)
    with pytest.raises(ValueError, match="cannot reshape"):
        _kymatio_output(J=7, shape=16, Q=8, T=0, out_type="list")
    with pytest.raises(ShapeError, match=r"J=7 .* low-pass would be subsampled by 2\*\*6 .* 32 samples"):
        scatterjax.Scattering1D(J=7, shape=16, Q=8, T=0, out_type="list")


@pytest.mark.parametrize("N", [1, 5, 100, 1000])
@pytest.mark.parametrize("Q", [1, (8, 2)])
@pytest.mark.parametrize("T", [None, 0, "N"])
def test_every_J_is_built_or_refused_with_a_J_that_is_built(N, Q, T):
    """From log2(N) up past the last J that can fit: the refusal names J and suggests a J that builds."""
    T = N if T == "N" else T
    out_type = "list" if T == 0 else "array"
    for J in range(int(np.log2(N)) + 1, largest_J_considered(N) + 3):
        try:
            S = scatterjax.Scattering1D(J=J, shape=N, Q=Q, T=T, out_type=out_type)
        except ShapeError as error:
            assert f"J={J} is too large for a signal of length N={N}" in str(error)
            suggested = _suggested_J(str(error))
            assert suggested < J
            scatterjax.Scattering1D(J=suggested, shape=N, Q=Q, T=T, out_type=out_type)
        else:
            if T != 0:  # (unaveraged outputs, one array per path, are compared in WIDE_GRID)
                out = np.asarray(S(np.ones((1, N), np.float32)))
                assert np.isfinite(out).all() and out.shape[-1] >= 1


def test_absurd_J_is_refused_at_once():
    with pytest.raises(ShapeError, match=r"J=1000000000 is too large .* Use J <= 8 \(2\*\*J <= N\)"):
        scatterjax.Scattering1D(J=10**9, shape=256)
    with pytest.raises(ShapeError, match=r"J=13 is too large"):
        scatterjax.filter_bank_1d(J=13, N=256, Q1=1, Q2=1, T=16, averaged=True, max_order=2, oversampling=0)


def test_the_bank_takes_T_equal_to_2_to_the_J_beyond_N():
    bank = scatterjax.filter_bank_1d(J=10, N=1000, Q1=8, Q2=1, T=1024, averaged=True, max_order=2, oversampling=0)
    assert bank.plan.N_padded == 2048
    with pytest.raises(ValueError, match=r"T must be a number in \[1, 1024\], got 2000"):
        scatterjax.filter_bank_1d(J=10, N=1000, Q1=8, Q2=1, T=2000, averaged=True, max_order=2, oversampling=0)
    reference = _kymatio_output(J=10, shape=1000, Q=8)
    assert rel_l2(np.asarray(scatterjax.Scattering1D(J=10, shape=1000, Q=8)(
        np.random.default_rng(0).standard_normal((1, 1000)))), reference) <= 1e-5
