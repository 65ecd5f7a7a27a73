"""Scattering2D against kymatio 0.3.0: a grid of configurations, every out_type, the filters,
meta(), output_size(), and kymatio's stored reference data."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from conftest import DATA, kymatio, rel_l2

from scatterjax import Scattering2D
from scatterjax._scattering2d import design as _morlet2d

# (J, shape, L, max_order, pre_pad, batch, out_type). Covers J 1..6; L 1, 2, 3, 4, 5, 6, 7, 8, 12;
# square, rectangular and odd shapes; 2**J equal to a side (reflect padding by the full size);
# pre_pad; max_order 1 and 2; batch dims of rank 0..3; every out_type.
GRID = [
    (1, (16, 16), 1, 2, False, (2,), "array"),
    (1, (2, 2), 2, 2, False, (), "array"),
    (1, (32, 48), 6, 1, True, (3,), "list"),
    (1, (5, 3), 12, 2, False, (2,), "dict"),
    (2, (32, 32), 4, 2, False, (2,), "dict"),
    (2, (4, 9), 2, 2, False, (1,), "array"),
    (2, (65, 97), 8, 2, False, (), "array"),
    (2, (48, 80), 12, 1, False, (2, 3), "array"),
    (2, (33, 20), 3, 2, True, (2,), "list"),
    (2, (16, 16), 8, 2, True, (2, 1, 2), "dict"),
    (2, (31, 31), 7, 2, False, (2,), "array"),
    (3, (8, 8), 2, 2, False, (2,), "array"),
    (3, (48, 80), 6, 2, False, (2,), "array"),
    (3, (128, 96), 4, 2, False, (1,), "array"),
    (3, (65, 97), 1, 2, True, (2,), "dict"),
    (3, (32, 32), 8, 1, False, (2, 3), "list"),
    (3, (17, 40), 5, 2, False, (), "list"),
    (3, (40, 8), 2, 2, False, (2,), "array"),
    (4, (32, 32), 8, 2, False, (2,), "array"),
    (4, (16, 16), 2, 2, True, (1,), "array"),
    (4, (48, 80), 4, 1, False, (2,), "dict"),
    (4, (20, 33), 6, 2, False, (3,), "list"),
    (5, (32, 32), 2, 2, False, (2,), "array"),
    (5, (64, 40), 1, 2, True, (), "dict"),
    (5, (33, 65), 4, 1, False, (2, 2), "array"),
    (6, (64, 64), 2, 2, False, (2,), "array"),
    (6, (64, 70), 1, 1, True, (1,), "list"),
    (6, (65, 97), 2, 2, False, (), "dict"),
]


def _config_id(config) -> str:
    J, shape, L, max_order, pre_pad, batch, out_type = config
    pad = "-prepad" if pre_pad else ""
    return f"J{J}-{shape[0]}x{shape[1]}-L{L}-m{max_order}{pad}-b{len(batch)}-{out_type}"


@functools.cache
def _kymatio_2d(J, shape, L=8, max_order=2, pre_pad=False, out_type="array"):
    return kymatio().numpy.Scattering2D(
        J=J, shape=shape, L=L, max_order=max_order, pre_pad=pre_pad, out_type=out_type
    )


def _channels(output, out_type):
    """Per-channel arrays and keys ((j, n, theta), or n for dicts) for any out_type."""
    if out_type == "array":
        return list(np.moveaxis(np.asarray(output), -3, 0)), None
    if out_type == "dict":
        return [np.asarray(v) for v in output.values()], list(output.keys())
    return [np.asarray(d["coef"]) for d in output], [(d["j"], d["n"], d["theta"]) for d in output]


@pytest.mark.parametrize("config", GRID, ids=_config_id)
def test_parity_float32(config):
    J, shape, L, max_order, pre_pad, batch, out_type = config
    ours = Scattering2D(J, shape, L=L, max_order=max_order, pre_pad=pre_pad, out_type=out_type)
    reference = _kymatio_2d(J, shape, L, max_order, pre_pad, "list")
    input_shape = (reference._M_padded, reference._N_padded) if pre_pad else shape
    assert (ours.M_padded, ours.N_padded) == (reference._M_padded, reference._N_padded)
    rng = np.random.default_rng(J * 1000 + shape[0] * 10 + L)
    x = rng.standard_normal(batch + input_shape).astype(np.float32)
    expected = reference(x.astype(np.float64))
    got = ours(x)

    channels, keys = _channels(got, out_type)
    expected_channels = [d["coef"] for d in expected]
    output_shape = batch + (shape[0] // 2**J, shape[1] // 2**J)
    assert len(channels) == ours.output_size() == len(expected)
    for channel in channels:
        assert channel.shape == output_shape
        assert channel.dtype == np.float32
    if out_type == "list":
        assert keys == [(d["j"], d["n"], d["theta"]) for d in expected]
    if out_type == "dict":
        assert keys == [d["n"] for d in expected]
    # Every order on its own: order 2 has far less energy than order 0.
    orders = np.array([len(d["n"]) for d in expected])
    for order in sorted(set(orders)):
        picked = np.flatnonzero(orders == order)
        error = rel_l2(np.stack([channels[c] for c in picked]),
                       np.stack([expected_channels[c] for c in picked]))
        assert error <= 1e-5, (order, error)


def test_stored_kymatio_reference():
    data = np.load(DATA / "test_data_2d.npz")
    x, Sx, J = data["x"], data["Sx"], int(data["J"])
    S = Scattering2D(J=J, shape=x.shape[-2:], pre_pad=bool(data["pre_pad"]))
    got = np.asarray(S(x))
    assert got.shape == Sx.shape
    assert np.allclose(got, Sx)  # kymatio's tolerance (rtol 1e-5, atol 1e-8)
    first_order = Scattering2D(J=J, shape=x.shape[-2:], max_order=1)
    got = np.asarray(first_order(x))
    assert got.shape == Sx.shape[:2] + (1 + J * 8,) + Sx.shape[-2:]
    assert np.allclose(got, Sx[..., : 1 + J * 8, :, :])


@pytest.mark.parametrize("J, shape, L", [(3, (48, 80), 6), (4, (32, 20), 5), (1, (9, 16), 1)])
def test_filters_are_kymatio_filters(J, shape, L):
    reference = _kymatio_2d(J, shape, L)
    M_padded, N_padded = reference._M_padded, reference._N_padded
    # The NumPy design reproduces kymatio's float32 filters bit for bit, at every level.
    design = _morlet2d.kymatio_filter_bank(M_padded, N_padded, J, L)
    for ours, theirs in zip(design["psi"], reference.psi, strict=True):
        assert (ours["j"], ours["theta"]) == (theirs["j"], theirs["theta"])
        assert len(ours["levels"]) == len(theirs["levels"])
        for a, b in zip(ours["levels"], theirs["levels"]):
            assert a.dtype == b.dtype == np.float32
            np.testing.assert_array_equal(a, b)
    assert len(design["phi"]["levels"]) == len(reference.phi["levels"]) == J
    for a, b in zip(design["phi"]["levels"], reference.phi["levels"]):
        np.testing.assert_array_equal(a, b)

    # The bank's leaves are those filters, at the resolutions the transform uses them.
    bank = Scattering2D(J, shape, L=L).bank
    for j in range(J):
        for l in range(L):
            np.testing.assert_array_equal(bank.psi1[j][l], reference.psi[j * L + l]["levels"][0])
    for (j1, j2), stack in zip(bank.plan.order2, bank.psi2, strict=True):
        for l in range(L):
            np.testing.assert_array_equal(stack[l], reference.psi[j2 * L + l]["levels"][j1])
    for r, half in enumerate(bank.phi_half):
        phi = reference.phi["levels"][r].astype(np.float64)
        mirrored = np.roll(phi[::-1, ::-1], (1, 1), axis=(0, 1))
        expected = (0.5 * (phi + mirrored))[:, : phi.shape[1] // 2 + 1]
        np.testing.assert_allclose(np.asarray(half), expected, rtol=0, atol=1e-7)


@pytest.mark.parametrize("J, L, max_order", [(3, 8, 2), (3, 5, 1), (1, 3, 2)])
def test_meta_and_output_size(J, L, max_order):
    shape = (16, 24)
    S = Scattering2D(J, shape, L=L, max_order=max_order)
    meta = S.meta()
    count = S.output_size()
    detail = S.output_size(detail=True)
    expected_detail = [1, J * L] + ([L * L * J * (J - 1) // 2] if max_order == 2 else [])
    assert detail == expected_detail
    assert count == sum(detail) == np.asarray(S(np.zeros(shape, np.float32))).shape[-3]
    for field in ("j", "theta", "angle", "n"):
        assert meta[field].shape == (count, max_order)
    assert meta["order"].shape == (count,)
    # kymatio's list output carries the same j, n and theta, channel by channel.
    expected = _kymatio_2d(J, shape, L, max_order, False, "list")(np.zeros(shape))
    assert meta["key"] == [d["n"] for d in expected]
    for c, d in enumerate(expected):
        order = len(d["n"])
        assert meta["order"][c] == order
        for field in ("j", "n", "theta"):
            assert tuple(meta[field][c, :order].astype(int)) == d[field]
            assert np.isnan(meta[field][c, order:]).all()
        angles = [(int(L - L / 2 - 1) - t) * np.pi / L for t in d["theta"]]
        np.testing.assert_allclose(meta["angle"][c, :order], angles, rtol=0, atol=1e-15)
    # The dict output's keys are meta()['key'].
    as_dict = Scattering2D(J, shape, L=L, max_order=max_order, out_type="dict")(
        np.zeros(shape, np.float32)
    )
    assert list(as_dict.keys()) == meta["key"]


def test_kymatio_attributes():
    S = Scattering2D(3, (48, 80), L=6)
    reference = _kymatio_2d(3, (48, 80), 6)
    assert (S.M, S.N) == (48, 80)
    assert (S.M_padded, S.N_padded) == (reference._M_padded, reference._N_padded)
    assert (S._M_padded, S._N_padded) == (reference._M_padded, reference._N_padded)
    assert repr(S) == (
        "Scattering2D(J=3, shape=(48, 80), L=6, max_order=2, pre_pad=False, out_type='array', "
        "pad_mode='reflect')"
    )
    with pytest.raises(AttributeError, match="immutable"):
        S.J = 2
