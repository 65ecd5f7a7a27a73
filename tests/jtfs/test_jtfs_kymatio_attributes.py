"""TimeFrequencyScattering reads back kymatio main's attributes and filters.

The oracle is ``tests/data/kymatio_main/attributes_jtfs.npz``, written by kymatio main itself
(``make_attributes_jtfs.py`` beside it): for five configurations, the resolved settings (``S.T`` is
``2**J`` for ``T=None``), the padding, and every level of ``phi_f``, ``psi1_f``, ``psi2_f`` and
``filters_fr`` with their ``xi``, ``sigma``, ``j``.
"""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest
from conftest import DATA

import scatterjax

STORED = np.load(DATA / "kymatio_main" / "attributes_jtfs.npz")
CONFIGS = sorted({int(key.split("/")[0]) for key in STORED.files})


def _build(c: int) -> scatterjax.TimeFrequencyScattering:
    kwargs = json.loads(str(STORED[f"{c}/kwargs"]))
    return scatterjax.TimeFrequencyScattering(**{k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()})


def _ours_by_key(S) -> dict[str, dict]:
    """Our filters under the stored keys (``psi2_f/3``, ``filters_fr/1/0``, ...)."""
    phi_F, filters_fr = S.filters_fr
    entries = {"phi_f": S.phi_f, "filters_fr/0": phi_F}
    entries.update({f"psi1_f/{n}": f for n, f in enumerate(S.psi1_f)})
    entries.update({f"psi2_f/{n}": f for n, f in enumerate(S.psi2_f)})
    entries.update({f"filters_fr/1/{n}": f for n, f in enumerate(filters_fr)})
    return entries


@pytest.mark.parametrize("c", CONFIGS)
def test_resolved_settings_and_padding_equal_kymatio_mains(c):
    S = _build(c)
    for name, expected in json.loads(str(STORED[f"{c}/attributes"])).items():
        ours = getattr(S, name)
        if name in ("ind_start", "ind_end"):
            ours = sorted(ours.items())
        if isinstance(ours, tuple):
            ours = list(ours)
        if isinstance(expected, list):
            expected = [tuple(e) if isinstance(e, list) else e for e in expected]
            ours = [tuple(o) if isinstance(o, list) else o for o in ours]
        assert ours == expected, (name, ours, expected)
        assert type(ours) is type(expected) or isinstance(expected, float), (name, type(ours))


@pytest.mark.parametrize("c", CONFIGS)
def test_filters_equal_kymatio_mains(c):
    S = _build(c)
    ours = _ours_by_key(S)
    stored_filters = json.loads(str(STORED[f"{c}/filters"]))
    assert sorted(ours) == sorted(stored_filters)
    for key, fields in stored_filters.items():
        entry = ours[key]
        assert set(entry) == {*fields, "levels"}, key
        for field, value in fields.items():
            assert entry[field] == pytest.approx(value, rel=1e-14, abs=1e-300), (key, field)
        levels = [STORED[name] for name in sorted(
            (n for n in STORED.files if n.startswith(f"{c}/{key}/levels/")), key=lambda n: int(n.rsplit("/", 1)[1])
        )]
        assert len(entry["levels"]) == len(levels), key
        for ours_level, level in zip(entry["levels"], levels):
            assert ours_level.dtype == np.float64 and ours_level.shape == level.shape, key
            np.testing.assert_allclose(ours_level, level, rtol=0, atol=1e-13 * np.abs(level).max(), err_msg=key)


def test_frequency_filters_pair_spins_as_meta_counts_them():
    # filters_fr[1] is indexed by n_fr: meta()'s xi_fr, sigma_fr, j_fr and spin read the same filters.
    S = scatterjax.TimeFrequencyScattering(J=6, J_fr=3, Q=8, shape=1024, Q_fr=2)
    _, filters = S.filters_fr
    meta = S.meta()
    for n_fr, xi_fr, j_fr, spin in zip(meta["n_fr"], meta["xi_fr"], meta["j_fr"], meta["spin"]):
        if np.isnan(n_fr):
            continue
        f = filters[int(n_fr)]
        assert (f["xi"], f["j"], np.sign(f["xi"])) == (xi_fr, j_fr, spin)
    up = [f for f in filters if f["xi"] > 0]
    down = [f for f in filters if f["xi"] < 0]
    assert [(-f["xi"], f["j"]) for f in down] == [(f["xi"], f["j"]) for f in up]
    assert len(filters) == 1 + 2 * len(up)


def test_given_settings_stay_in_the_repr_and_tell_averaging_modes_apart():
    kwargs = dict(J=5, J_fr=2, Q=4, shape=256)
    local, summed, none = (
        scatterjax.TimeFrequencyScattering(**kwargs, T=T, out_type="list") for T in (None, "global", 0)
    )
    assert local.T == summed.T == none.T == 32
    assert (local.average, summed.average, none.average) == ("local", "global", False)
    assert "T=None" in repr(local) and "T='global'" in repr(summed) and "T=0" in repr(none)
    assert local.stride == 32 and local.Q_fr == (1,) and local.F == 4 and local.stride_fr == 4
    local.T = None  # re-assigning the given value, or the resolved one, changes nothing
    local.T = 32
    with pytest.raises(AttributeError, match="immutable"):
        local.T = 16
    # Settings that differ only as given are different static metadata: no cache confusion.
    assert jax.tree_util.tree_structure(local) != jax.tree_util.tree_structure(none)


@pytest.mark.parametrize(
    "Q_fr, error, match",
    [(0.9, ValueError, "Q_fr must be >= 1"), ([1], ValueError, "Q_fr must be an integer or 1-tuple"),
     ((1, 2), NotImplementedError, "Q_fr must be an integer or 1-tuple"), (1.5, ValueError, "integer")],
)
def test_bad_Q_fr_raises_kymatio_mains_errors(Q_fr, error, match):
    with pytest.raises(error, match=match):
        scatterjax.TimeFrequencyScattering(J=6, J_fr=2, Q=8, shape=1024, Q_fr=Q_fr)



EXTENDED = np.load(DATA / "kymatio_main" / "extended_levels.npz")


@pytest.mark.parametrize("c", sorted({int(key.split("/")[0]) for key in EXTENDED.files}))
def test_where_kymatio_lacks_a_filter_level_we_equal_it_with_every_level_built(c):
    # kymatio main raises IndexError on these (a stride coarser than T, Q2 > Q1); with its filter
    # factory building every level, it computes what we do.
    kwargs = json.loads(str(EXTENDED[f"{c}/kwargs"]))
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
    extra = {"levels": "sum"} if str(EXTENDED[f"{c}/cls"]) == "Scattering1D" else {}
    with jax.enable_x64(True):
        S = getattr(scatterjax, str(EXTENDED[f"{c}/cls"]))(**kwargs, **extra)
        out = np.asarray(S(EXTENDED[f"{c}/x"]))
    reference = EXTENDED[f"{c}/Sx"]
    assert out.shape == reference.shape
    assert np.abs(out - reference).max() <= 1e-12 * np.abs(reference).max()
