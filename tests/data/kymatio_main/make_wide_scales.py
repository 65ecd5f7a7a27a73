"""Writes ``wide_scales.npz``: kymatio main's ``TimeFrequencyScattering`` outputs for largest
scales ``2**J`` beyond the signal (``J > log2 N``), which kymatio main accepts.

Run with kymatio's ``main`` branch (commit 11552ed5) importable, e.g. ``PYTHONPATH=<checkout>
python make_wide_scales.py``; SciPy >= 1.15 needs the ``sph_harm`` shim below for kymatio to import.
The file holds, per configuration ``c``: ``c/kwargs`` (JSON), ``c/x`` (float64 input) and ``c/Sx``
(kymatio main's NumPy frontend, float64).
"""

import json

import numpy as np
import scipy.special

if not hasattr(scipy.special, "sph_harm"):
    scipy.special.sph_harm = lambda m, n, az, pol: scipy.special.sph_harm_y(n, m, pol, az)

from kymatio.numpy import TimeFrequencyScattering  # noqa: E402

CONFIGS = [
    dict(J=10, J_fr=3, Q=8, shape=1000),
    dict(J=9, J_fr=2, Q=4, shape=300, T=300, format="joint"),
    dict(J=8, J_fr=2, Q=1, shape=200, T=128, F=2),
    dict(J=9, J_fr=1, Q=4, shape=256, stride=256),
]


def main() -> None:
    arrays = {}
    for c, kwargs in enumerate(CONFIGS):
        x = np.random.default_rng(c).standard_normal((2, kwargs["shape"]))
        Sx = TimeFrequencyScattering(**kwargs)(x)
        assert Sx.size and np.isfinite(Sx).all()
        arrays[f"{c}/kwargs"] = np.asarray(json.dumps(kwargs))
        arrays[f"{c}/x"] = x
        arrays[f"{c}/Sx"] = Sx
    np.savez_compressed("wide_scales.npz", **arrays)


if __name__ == "__main__":
    main()
