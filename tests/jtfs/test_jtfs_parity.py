"""TimeFrequencyScattering and Scattering1D(levels='sum') against kymatio main's stored outputs.

Kymatio main (0.4.0.dev0, commit 11552ed5) is unreleased and not installable here, so its stored
outputs in ``tests/data/kymatio_main`` are the oracle (see tests/data/README.md).
"""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest
from conftest import DATA, rel_l2

import scatterjax

FILES = sorted(f for f in (DATA / "kymatio_main").glob("*.npz") if f.name.startswith(("jtfs_", "s1d_")))
JTFS_FILES = [f for f in FILES if f.name.startswith("jtfs_")]
S1D_FILES = [f for f in FILES if f.name.startswith("s1d_")]


def _load(path):
    data = np.load(path)
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(str(data["kwargs"])).items()}
    return data, kwargs


def _build(data, kwargs, **extra):
    if str(data["cls"]) == "Scattering1D":
        return scatterjax.Scattering1D(**kwargs, levels="sum", **extra)
    return scatterjax.TimeFrequencyScattering(**kwargs, **extra)


def _check(path, dtype, tolerance):
    data, kwargs = _load(path)
    S = _build(data, kwargs)
    out = np.asarray(S(data["x"].astype(dtype)))
    assert out.dtype == dtype
    reference = data["Sx"]
    assert rel_l2(out, reference) <= tolerance
    if dtype == np.float64:
        assert np.abs(out - reference).max() <= 1e-12 * np.abs(reference).max()
    if "Sx_joint" in data.files:
        joint = np.asarray(_build(data, kwargs, format="joint")(data["x"].astype(dtype)))
        assert rel_l2(joint, data["Sx_joint"]) <= tolerance


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_stored_kymatio_main_float32(path):
    _check(path, np.float32, 2e-5)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_stored_kymatio_main_float64(path):
    with jax.enable_x64(True):
        _check(path, np.float64, 1e-10)


def _stored(data, field):
    return np.asarray(data[field], dtype=float)


@pytest.mark.parametrize("path", JTFS_FILES, ids=lambda p: p.stem)
def test_jtfs_meta_matches_stored_array_order(path):
    data, kwargs = _load(path)
    S = _build(data, kwargs)
    meta = S.meta()
    count = data["Sx"].shape[-3 if kwargs.get("format") == "joint" else -2]
    assert S.output_size() == count == len(meta["key"])  # B1: one row per channel
    for field in ("order", "n_fr", "spin", "j_fr", "xi_fr", "sigma_fr"):
        np.testing.assert_array_equal(np.asarray(meta[field], dtype=float), _stored(data, field), err_msg=field)
    stored_keys = [tuple(k) for k in json.loads(str(data["key"]))]
    if kwargs.get("format") == "joint":
        np.testing.assert_array_equal(meta["n"][:, 1], _stored(data, "n2"))
        for field in ("xi", "sigma", "j"):
            np.testing.assert_array_equal(meta[field], _stored(data, field), err_msg=field)
        assert meta["key"] == stored_keys
        return
    # Time format. Bug B4: kymatio labels spin-0 rows n1 = i * 2**J_fr although they are i * 2**s_fr
    # apart; our n1 is the true one. Everything else equals kymatio's, bit for bit.
    n1_ours, n1_stored = meta["n"][:, 0], _stored(data, "n")[:, 0]
    spin0 = meta["spin"] == 0
    J_fr, s_fr = S.J_fr, S.bank.plan.log2_stride_fr
    corrected = np.where(spin0, n1_stored / 2**J_fr * 2 ** min(J_fr, s_fr), n1_stored)
    np.testing.assert_array_equal(n1_ours, corrected)
    np.testing.assert_array_equal(meta["n"][:, 1], _stored(data, "n")[:, 1])
    first = (S.bank.time.xi1, S.bank.time.sigma1, S.bank.time.j1)
    for field, table in zip(("xi", "sigma", "j"), first):
        np.testing.assert_array_equal(meta[field][:, 1], _stored(data, field)[:, 1], err_msg=field)
        expected = np.array([np.nan if np.isnan(n) else table[int(n)] for n in corrected])
        np.testing.assert_array_equal(meta[field][:, 0], expected, err_msg=field)
        if min(J_fr, s_fr) == J_fr:  # no B4 correction: kymatio's stored column as is
            np.testing.assert_array_equal(meta[field][:, 0], _stored(data, field)[:, 0], err_msg=field)
    expected_keys = [
        (int(n1),) + key[1:] if key else key for n1, key in zip(np.nan_to_num(corrected), stored_keys)
    ]
    assert meta["key"] == expected_keys


@pytest.mark.parametrize("path", JTFS_FILES, ids=lambda p: p.stem)
def test_jtfs_meta_is_kymatios_sorted_meta_reordered(path):
    """Kymatio's own meta() (sorted keys, bug B1) is our meta() permuted by the stored map."""
    data, kwargs = _load(path)
    S = _build(data, kwargs)
    meta = S.meta()
    keys = meta["key"]
    if kwargs.get("format") != "joint":  # back to kymatio's B4 labels for spin-0 channels
        factor = 2**S.J_fr // 2 ** min(S.J_fr, S.bank.plan.log2_stride_fr)
        keys = [(k[0] * factor,) + k[1:] if k and spin == 0 else k for k, spin in zip(keys, meta["spin"])]
    kymatio_keys = [tuple(k) for k in json.loads(str(data["kymatio_meta_key"]))]
    if kwargs.get("format") == "joint":
        assert kymatio_keys[0] == ()  # kymatio's extra order-0 key in joint+array (B1)
        kymatio_keys = kymatio_keys[1:]
    assert kymatio_keys == sorted(keys, key=lambda k: (len(k), k))
    rows_to_channels = data["kymatio_meta_row_to_channel"]
    assert [keys[c] for c in rows_to_channels] == kymatio_keys


@pytest.mark.parametrize("path", S1D_FILES, ids=lambda p: p.stem)
def test_scattering1d_sum_levels_meta(path):
    data, kwargs = _load(path)
    meta = _build(data, kwargs).meta()
    assert [list(k) for k in meta["key"]] == json.loads(str(data["key"]))
    for field in ("order", "n", "xi", "sigma", "j"):
        np.testing.assert_array_equal(np.asarray(meta[field], dtype=float), _stored(data, field), err_msg=field)


# Largest scales 2**J beyond the signal, which kymatio main accepts (stored by
# kymatio_main/make_wide_scales.py; float64 outputs of kymatio main's NumPy frontend).
WIDE = np.load(DATA / "kymatio_main" / "wide_scales.npz")
WIDE_CONFIGS = sorted({name.split("/")[0] for name in WIDE.files})


@pytest.mark.parametrize("config", WIDE_CONFIGS)
@pytest.mark.parametrize("dtype, tolerance", [(np.float32, 2e-5), (np.float64, 1e-10)])
def test_wide_scales_match_stored_kymatio_main(config, dtype, tolerance):
    kwargs = json.loads(str(WIDE[f"{config}/kwargs"]))
    assert 2 ** kwargs["J"] > kwargs["shape"]
    with jax.enable_x64(dtype == np.float64):
        out = np.asarray(scatterjax.TimeFrequencyScattering(**kwargs)(WIDE[f"{config}/x"].astype(dtype)))
    assert out.dtype == dtype and out.shape == WIDE[f"{config}/Sx"].shape
    assert rel_l2(out, WIDE[f"{config}/Sx"]) <= tolerance


def test_a_wide_scale_whose_average_leaves_no_sample_is_refused():
    # kymatio main returns an empty time axis here (T = 2**J = 512 > N).
    with pytest.raises(scatterjax.ShapeError, match=r"J=9 is too large .* no output sample .* Use J <= 8"):
        scatterjax.TimeFrequencyScattering(J=9, J_fr=1, Q=4, shape=256)
