"""Writes ``attributes_jtfs.npz`` (kymatio main's ``TimeFrequencyScattering`` attributes and filters)
and ``extended_levels.npz`` (its outputs where it lacks a filter level, with every level built).

Run with kymatio's ``main`` branch (commit 11552ed5) importable, e.g. ``PYTHONPATH=<checkout>
python make_jtfs_attributes.py``; SciPy >= 1.15 needs the ``sph_harm`` shim below for kymatio to
import. The file holds, per configuration ``c``: ``c/kwargs`` (JSON), ``c/attributes`` (JSON: the
resolved settings, padding and indices) and one float64 array per filter level, named by its place
in ``phi_f``, ``psi1_f``, ``psi2_f`` and ``filters_fr`` (``c/psi2_f/3/levels/1``), with the
filters' ``xi``, ``sigma``, ``j`` (and ``N``) in ``c/filters`` (JSON).

``extended_levels.npz``: kymatio main raises IndexError on a ``stride`` coarser than ``T`` or on
``Q2 > Q1``, because its filter factory stops building levels (``2**-k`` resolutions) before the
ones those read. Run again with the factory building every level of its power-of-two time filters
(that one step replaced), its outputs are the oracle for ours: per configuration ``c``,
``c/cls``, ``c/kwargs`` (JSON), ``c/x`` and ``c/Sx`` (float64).
"""

import json
import math

import numpy as np
import scipy.special

if not hasattr(scipy.special, "sph_harm"):
    scipy.special.sph_harm = lambda m, n, az, pol: scipy.special.sph_harm_y(n, m, pol, az)

import kymatio.scattering1d.filter_bank as kymatio_filter_bank  # noqa: E402
import kymatio.scattering1d.frontend.base_frontend as kymatio_frontend  # noqa: E402
from kymatio.numpy import Scattering1D, TimeFrequencyScattering  # noqa: E402

CONFIGS = [
    dict(J=4, J_fr=2, Q=4, shape=128),
    dict(J=4, J_fr=2, Q=[4, 2], shape=128, T="global", F=4, Q_fr=2),
    dict(J=4, J_fr=1, Q=4, shape=128, T=0, F=0, out_type="list"),
    dict(J=4, J_fr=3, Q=[4, 1], shape=150, T=16, F="global", format="joint", out_type="dict"),
    dict(J=4, J_fr=3, Q=[6, 1], shape=200, T=16, stride=16, F=8, stride_fr=4),
]
ATTRIBUTES = [
    "T", "F", "stride", "stride_fr", "average", "average_fr", "log2_T", "log2_F", "log2_stride",
    "log2_stride_fr", "Q_fr", "Q", "max_order", "oversampling_fr", "r_psi", "sigma0", "alpha",
    "pad_left", "pad_right", "_N_padded", "_N_padded_fr",
]


EXTENDED = [
    ("TimeFrequencyScattering", dict(J=6, J_fr=2, Q=4, shape=256, T=4, stride=16)),
    ("TimeFrequencyScattering", dict(J=5, J_fr=2, Q=4, shape=256, T=2, stride=8)),
    ("TimeFrequencyScattering", dict(J=6, J_fr=2, Q=[1, 2], shape=256)),
    ("Scattering1D", dict(J=6, Q=4, shape=256, T=16, stride=32)),
]


def every_level(factory):
    """kymatio main's filter factory, building every level of power-of-two-length filters."""

    def build(N, J, Q, T, filterbank, _reduction=np.sum):
        filters = factory(N, J, Q, T, filterbank, _reduction)
        if N & (N - 1) == 0:
            for f in [filters[0], *(psi for layer in filters[1:] for psi in layer)]:
                full = f["levels"][0]
                f["levels"] = [full] + [_reduction(full.reshape(2**k, -1), axis=0) for k in range(1, int(math.log2(N)))]
        return filters

    return build


def write_extended_levels() -> None:
    kymatio_frontend.scattering_filter_factory = every_level(kymatio_filter_bank.scattering_filter_factory)
    arrays = {}
    for c, (name, kwargs) in enumerate(EXTENDED):
        args = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
        x = np.random.default_rng(c).standard_normal((2, kwargs["shape"]))
        cls = TimeFrequencyScattering if name == "TimeFrequencyScattering" else Scattering1D
        arrays.update({f"{c}/cls": np.array(name), f"{c}/kwargs": np.array(json.dumps(kwargs)),
                       f"{c}/x": x, f"{c}/Sx": np.asarray(cls(**args)(x), np.float64)})
    np.savez_compressed("extended_levels.npz", **arrays)


def main() -> None:
    arrays = {}
    for c, kwargs in enumerate(CONFIGS):
        args = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
        S = TimeFrequencyScattering(**args)
        attributes = {name: getattr(S, name) for name in ATTRIBUTES}
        attributes["ind_start"] = sorted(S.ind_start.items())
        attributes["ind_end"] = sorted(S.ind_end.items())
        filters = {}
        named = {"phi_f": [S.phi_f], "psi1_f": S.psi1_f, "psi2_f": S.psi2_f,
                 "filters_fr/0": [S.filters_fr[0]], "filters_fr/1": S.filters_fr[1]}
        for group, entries in named.items():
            for n, entry in enumerate(entries):
                key = group if group in ("phi_f", "filters_fr/0") else f"{group}/{n}"
                filters[key] = {k: float(v) if k != "N" else int(v) for k, v in entry.items() if k != "levels"}
                for level, values in enumerate(entry["levels"]):
                    arrays[f"{c}/{key}/levels/{level}"] = np.asarray(values, np.float64)
        arrays[f"{c}/kwargs"] = np.array(json.dumps(kwargs))
        arrays[f"{c}/attributes"] = np.array(json.dumps(attributes))
        arrays[f"{c}/filters"] = np.array(json.dumps(filters))
    np.savez_compressed("attributes_jtfs.npz", **arrays)
    write_extended_levels()  # last: it replaces kymatio's filter factory


if __name__ == "__main__":
    main()
