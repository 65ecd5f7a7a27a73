"""1D filter design against kymatio 0.3.0: parameters, filters, levels, padding, crop indices."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import kymatio

from scatterjax._scattering1d import design as design

CONFIGS = [(1, 1, 100), (3, 16, 64), (4, (8, 2), 777), (6, 16, 512), (8, 8, 4096), (10, 8, 65536),
           (12, (16, 4), 4097), (5, (12, 2), 3000), (2, 16, 300)]


def _kymatio_1d(J, Q, N, T=None):
    return kymatio().numpy.Scattering1D(J=J, shape=N, Q=Q, T=T)


@pytest.mark.parametrize("J,Q,N", CONFIGS)
def test_wavelet_params_match_kymatio_exactly(J, Q, N):
    reference = _kymatio_1d(J, Q, N)
    Q1, Q2 = (Q, 1) if isinstance(Q, int) else Q
    for q, psis in ((Q1, reference.psi1_f), (Q2, reference.psi2_f)):
        ours = design.wavelet_params(J, q)
        assert list(ours.xi) == [p["xi"] for p in psis]
        assert list(ours.sigma) == [p["sigma"] for p in psis]
        assert list(ours.j) == [p["j"] for p in psis]


@pytest.mark.parametrize("J,Q,N", CONFIGS)
def test_filters_and_levels_match_kymatio(J, Q, N):
    reference = _kymatio_1d(J, Q, N)
    length = reference._N_padded
    for psi in reference.psi1_f + reference.psi2_f:
        ours = design.morlet_filter(length, psi["xi"], psi["sigma"])
        for level, expected in enumerate(psi["levels"]):
            np.testing.assert_allclose(design.period_average(ours, level), expected, rtol=0,
                                       atol=1e-15)
    phi = design.gaussian_filter(length, reference.phi_f["sigma"])
    for level, expected in enumerate(reference.phi_f["levels"]):
        np.testing.assert_allclose(design.period_average(phi, level), expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("N,T", [(100, 2), (777, 8), (777, 100), (1000, 32), (3000, 3000),
                                 (4096, 256), (5000, 1), (65536, 65536), (513, 512)])
def test_padding_and_crop_indices_match_kymatio(N, T):
    J = max(1, min(int(np.log2(T)) if T > 1 else 1, int(np.log2(N))))
    reference = _kymatio_1d(J, 1, N, T)
    support = design.temporal_support(N, T)
    padded = 2 ** design.padded_length_log2(N, support)
    assert padded == reference._N_padded
    pad_left = (padded - N) // 2
    assert pad_left == reference.pad_left
    assert padded - N - pad_left == reference.pad_right
    starts, ends = design.crop_indices(pad_left, N, max(reference.log2_T, J))
    assert starts == tuple(reference.ind_start[k] for k in range(len(starts)))
    assert ends == tuple(reference.ind_end[k] for k in range(len(ends)))


def test_filter_properties():
    """Kymatio's own filter unit tests, on our design: zero mean, decay, peak, symmetric phi."""
    length = 2048
    params = design.wavelet_params(8, 8)
    for xi, sigma in zip(params.xi, params.sigma):
        psi = design.morlet_filter(length, xi, sigma)
        assert abs(psi[0]) < 1e-12
        peak = np.argmax(psi[: length // 2]) / length
        assert abs(peak - xi) <= 0.01 * xi + 1.0 / length
    phi = design.gaussian_filter(length, 0.1 / 32)
    np.testing.assert_allclose(phi[1:], phi[1:][::-1], atol=1e-7)
    time_phi = np.abs(np.fft.ifft(phi))
    assert time_phi[length // 2] / time_phi.max() < 1e-3


def _periodized_gaussian_everywhere(length, center, sigma, n_periods):
    """The definition: every period evaluated on every bin, then the mean over the periods."""
    frequencies = np.arange((1 - n_periods) * length, n_periods * length, dtype=np.float64)
    frequencies = frequencies.reshape(2 * n_periods - 1, length) / length
    return np.exp(-((frequencies - center) ** 2) / (2.0 * sigma**2)).mean(axis=0)


@pytest.mark.parametrize("length", [7, 300, 4096, 2**15])
def test_periodized_gaussian_is_its_definition_bit_for_bit(length):
    # The design evaluates each period only where its Gaussian is not exactly 0.0.
    rng = np.random.default_rng(length)
    schedules = [design.wavelet_params(10, q) for q in (1, 8, 32)]
    cases = [pair for params in schedules for pair in zip(params.xi, params.sigma)]
    cases += [(0.0, design.SIGMA0 / T) for T in (1, 8, 1024)]
    cases += [(float(rng.uniform(-0.6, 0.6)), float(10 ** rng.uniform(-6, 0.5))) for _ in range(40)]
    for center, sigma in cases:
        n_periods = design._n_periods(sigma)
        expected = _periodized_gaussian_everywhere(length, center, sigma, n_periods)
        assert design._periodized_gaussian(length, center, sigma, n_periods).tobytes() == expected.tobytes()


def test_morlet_filters_equal_morlet_filter_bit_for_bit():
    params = design.wavelet_params(8, 12)
    batch = design.morlet_filters(4096, params.xi, params.sigma)
    assert len(batch) == len(params.xi)
    for filter_hat, xi, sigma in zip(batch, params.xi, params.sigma):
        assert filter_hat.tobytes() == design.morlet_filter(4096, xi, sigma).tobytes()


def test_a_filter_zero_on_every_bin_stays_zero_and_the_others_keep_their_bits():
    # A one-sample signal: the Morlet's only bin is its DC bin, which the zero mean cancels. Its L1
    # norm is 0; dividing would make it NaN (and warn), as kymatio's filter export shows.
    params = design.wavelet_params(0, 1)
    band = design._zero_mean_band(1, params.xi[0], params.sigma[0])
    assert not band.any()
    stack = np.stack([band, np.full(1, 0.75), np.full(1, -2.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        normalized = design._l1_normalize(stack)
    assert not normalized[0].any()
    responses = np.abs(np.fft.ifft(stack[1:], axis=-1)).sum(axis=-1, keepdims=True)
    assert normalized[1:].tobytes() == (stack[1:] / responses).tobytes()


def test_a_one_sample_transform_warns_nothing_and_exports_finite_filters():
    import scatterjax

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        S = scatterjax.Scattering1D(J=0, shape=1)
        out = np.asarray(S(np.ones((1, 1), np.float32)))
    assert np.isfinite(out).all()
    for group in (S.phi_f, *S.psi1_f, *S.psi2_f):
        assert all(np.isfinite(level).all() for level in group["levels"])
