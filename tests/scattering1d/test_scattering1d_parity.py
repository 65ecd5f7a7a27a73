"""Scattering1D against kymatio 0.3.0: a grid of configurations, float32 and float64, every out_type,
meta(), output_size(), and kymatio's stored reference data."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from conftest import DATA, kymatio, rel_l2

import scatterjax

# (J, Q, N, T, oversampling, max_order, out_type). Covers J 0..12 (kymatio takes J=0: order 0 and
# one band of Q first-order wavelets); Q 1, 2, 8, 16, (8,1), (12,2),
# (16,4); N powers of two, 777, 1000, 3000 and just above 2**J; T None, 0, powers of two, other
# numbers and N; oversampling 0..2; max_order 1 and 2; every out_type.
GRID = [
    (0, 1, 64, None, 0, 2, "array"),
    (0, 8, 100, 4, 0, 1, "dict"),
    (0, (4, 2), 50, None, 1, 2, "list"),
    (1, 1, 100, None, 0, 2, "array"),
    (1, 2, 3, None, 0, 2, "array"),
    (2, 16, 300, 3, 0, 2, "array"),
    (2, 16, 300, 300, 2, 2, "dict"),
    (2, (8, 1), 5, None, 0, 1, "list"),
    (3, (2, 1), 64, None, 0, 2, "array"),
    (3, 16, 777, 8, 0, 1, "array"),
    (3, 8, 9, 0, 0, 2, "list"),
    (3, 1, 1000, 0, 2, 2, "dict"),
    (4, (12, 2), 3000, 100, 1, 2, "array"),
    (4, 8, 1000, 0, 0, 2, "list"),
    (4, 8, 1000, 0, 1, 2, "dict"),
    (4, (16, 4), 17, None, 0, 2, "array"),
    (4, 2, 256, 16, 2, 1, "list"),
    (5, (8, 1), 1000, None, 2, 2, "array"),
    (5, 16, 33, 33, 0, 2, "array"),
    (5, 1, 512, 10, 0, 2, "dict"),
    (5, (12, 2), 777, None, 1, 1, "array"),
    (6, 16, 512, None, 0, 2, "array"),
    (6, 2, 65, None, 0, 2, "array"),
    (6, (16, 4), 3000, 0, 0, 2, "list"),
    (6, 8, 1024, 1, 0, 2, "array"),
    (6, 1, 4096, 4096, 0, 2, "array"),
    (7, (16, 4), 2000, 2000, 0, 2, "array"),
    (7, 8, 129, None, 1, 2, "dict"),
    (7, (8, 1), 1000, 50, 0, 2, "list"),
    (7, 2, 3000, 0, 2, 1, "dict"),
    (8, 8, 4096, None, 0, 2, "array"),
    (8, (12, 2), 257, None, 0, 2, "array"),
    (8, 16, 1000, 200, 1, 2, "array"),
    (8, 1, 2048, 0, 0, 2, "list"),
    (9, 1, 1000, None, 0, 2, "array"),
    (9, 8, 513, 512, 2, 2, "dict"),
    (9, (16, 4), 3000, 3000, 0, 1, "array"),
    (10, 8, 4096, 4096, 0, 2, "array"),
    (10, 2, 1025, None, 0, 2, "list"),
    (10, (12, 2), 3000, 1000, 1, 2, "array"),
    (11, 1, 2049, None, 0, 2, "array"),
    (11, 8, 4096, 0, 1, 2, "dict"),
    (12, (16, 4), 4097, None, 0, 2, "array"),
    (12, 1, 8192, 8192, 2, 2, "array"),
    (12, 2, 5000, 4096, 0, 1, "list"),
]


def _flatten(output, out_type):
    """Channels as a list of arrays, plus the per-channel keys, for any out_type."""
    if out_type == "array":
        channels = list(np.moveaxis(np.asarray(output), -2, 0))
        return channels, None
    if out_type == "dict":
        return [np.asarray(v) for v in output.values()], list(output.keys())
    return [np.asarray(d["coef"]) for d in output], [(d["j"], d["n"]) for d in output]


def _compare(J, Q, N, T, oversampling, max_order, out_type, dtype):
    kwargs = dict(J=J, shape=N, Q=Q, T=T, oversampling=oversampling, max_order=max_order,
                  out_type=out_type)
    reference = kymatio().numpy.Scattering1D(**kwargs)
    ours = scatterjax.Scattering1D(**kwargs)
    x = np.random.default_rng(J * 1000 + N).standard_normal((2, N)).astype(dtype)
    expected = reference(x.astype(np.float64))
    got = ours(x)
    got_channels, got_keys = _flatten(got, out_type)
    expected_channels, expected_keys = _flatten(expected, out_type)
    assert got_keys == expected_keys
    assert len(got_channels) == len(expected_channels) == ours.output_size()
    for channel in got_channels:
        assert channel.dtype == np.dtype(dtype)
    error = rel_l2(np.concatenate([c.ravel() for c in got_channels]),
                   np.concatenate([c.ravel() for c in expected_channels]))
    # meta() and output_size() are kymatio's, field by field.
    expected_meta, got_meta = reference.meta(), ours.meta()
    assert got_meta["key"] == expected_meta["key"]
    for field in ("order", "xi", "sigma", "j", "n"):
        np.testing.assert_array_equal(got_meta[field], expected_meta[field])
    assert ours.output_size(detail=True) == reference.output_size(detail=True)
    return error


@pytest.mark.parametrize("config", GRID, ids=lambda c: "J{}-Q{}-N{}-T{}-o{}-m{}-{}".format(*c))
def test_parity_float32(config):
    assert _compare(*config, np.float32) <= 1e-5


@pytest.mark.parametrize("config", GRID[::4], ids=lambda c: "J{}-Q{}-N{}-T{}-o{}-m{}-{}".format(*c))
def test_parity_float64(config):
    with jax.enable_x64(True):
        assert _compare(*config, np.float64) <= 1e-10


def test_stored_kymatio_reference():
    data = np.load(DATA / "test_data_1d.npz")
    S = scatterjax.Scattering1D(J=int(data["J"]), shape=data["x"].shape[-1], Q=int(data["Q"]))
    Sx = np.asarray(S(data["x"]))
    assert Sx.shape == data["Sx"].shape
    np.testing.assert_allclose(Sx, data["Sx"], rtol=1e-5, atol=1e-8)  # kymatio's numpy tolerance


def test_batch_dims_of_any_rank():
    S = scatterjax.Scattering1D(J=4, shape=128, Q=4)
    reference = kymatio().numpy.Scattering1D(J=4, shape=128, Q=4)
    rng = np.random.default_rng(0)
    for batch in [(), (3,), (2, 3), (2, 1, 2)]:
        x = rng.standard_normal(batch + (128,)).astype(np.float32)
        got = np.asarray(S(x))
        assert got.shape == batch + (S.output_size(), 8)
        assert rel_l2(got, reference(x.astype(np.float64))) <= 1e-5
