"""kymatio's torch filter buffers (``tensor0``, ``tensor1``, ...): their names and values for a core
transform, so that a ``state_dict`` saved with kymatio's torch modules loads into ours.

kymatio's torch modules register their filters as buffers, so ``model.state_dict()`` of a model
that holds one has keys ``<prefix>tensor0``, ``<prefix>tensor1``, ... Our torch modules have no
buffers (their filters live on the JAX side), so a kymatio checkpoint would fail a strict
``load_state_dict`` with "Unexpected key(s)" after the import change. The torch adapter therefore
accepts those keys when they hold exactly the filters this transform would have registered in
kymatio (kymatio 0.3.0's for 1D, 2D and 3D; kymatio main's for ``TimeFrequencyScattering``), and
reports a mismatch (a checkpoint saved with other settings) as a load error.

NumPy only: the names and arrays come from the core object's kymatio-layout filter attributes
(``phi_f``/``psi1_f``/``psi2_f``, ``filters_fr``, ``phi``/``psi``, ``filters``/``gaussian_filters``).
"""

from __future__ import annotations

import re

import numpy as np

# The buffer names kymatio's torch frontends register: tensor<n>, and 3D's Gaussians.
BUFFER_NAME = re.compile(r"tensor(?:\d+|_gaussian_filter)")

# A loaded buffer matches ours when every entry is within this fraction of the buffer's largest
# magnitude: kymatio stores float32 copies of filters that equal ours to ~1e-15 in float64.
RELATIVE_TOLERANCE = 1e-5


def _levels(filters) -> list:
    """Every level of a list of kymatio filter dicts, in kymatio's registration order."""
    return [level for f in filters for level in f["levels"]]


def _as_real_and_imaginary(a) -> np.ndarray:
    """A complex array as kymatio's torch 3D buffers hold it: a trailing axis (real, imaginary)."""
    a = np.asarray(a)
    return np.stack([a.real, a.imag], axis=-1).astype(np.float32)


def kymatio_buffers(class_name: str, core) -> dict[str, np.ndarray]:
    """``{buffer name: float32 array}``: what kymatio's torch module of ``class_name`` registers for
    the settings of ``core`` (a core transform object), in its order and shapes.

    1D (and JTFS): ``phi_f``'s levels, then every ``psi1_f`` level, then every ``psi2_f`` level
    (JTFS: then ``filters_fr``'s low-pass and wavelet levels), each ``(n, 1)``. 2D: ``phi``'s levels,
    then every ``psi`` level, each ``(m, n, 1)``. 3D: ``tensor<l>`` for degree ``l``,
    ``(J + 1, 2 l + 1, M, N, O, 2)``, and ``tensor_gaussian_filter`` ``(J + 2, M, N, O, 2)`` (kymatio
    keeps only the real part of its Gaussians).
    """
    if class_name == "HarmonicScattering3D":
        buffers = {f"tensor{l}": _as_real_and_imaginary(f) for l, f in enumerate(core.filters)}
        buffers["tensor_gaussian_filter"] = _as_real_and_imaginary(np.real(core.gaussian_filters))
        return buffers
    if class_name == "Scattering2D":
        levels = _levels([core.phi, *core.psi])
        return {f"tensor{n}": np.asarray(level, np.float32)[..., None] for n, level in enumerate(levels)}
    levels = _levels([core.phi_f, *core.psi1_f, *core.psi2_f])
    if class_name == "TimeFrequencyScattering":
        phi_fr, psis_fr = core.filters_fr
        levels += _levels([phi_fr, *psis_fr])
    return {f"tensor{n}": np.asarray(level, np.float32).reshape(-1, 1) for n, level in enumerate(levels)}


def buffer_mismatch(expected: dict[str, np.ndarray], loaded: dict[str, np.ndarray]) -> str | None:
    """``None`` when ``loaded`` holds exactly ``expected``'s buffers (names, shapes, and values to
    float32 rounding); otherwise a sentence saying the first difference found."""
    missing = [name for name in expected if name not in loaded]
    extra = [name for name in loaded if name not in expected]
    if missing or extra:
        return (
            f"it holds {len(loaded)} filter buffers where this transform's kymatio module has "
            f"{len(expected)}" + (f" (no {', '.join(missing[:3])})" if missing else "")
            + (f" (unknown {', '.join(extra[:3])})" if extra else "")
        )
    for name, ours in expected.items():
        theirs = np.asarray(loaded[name])
        if theirs.shape != ours.shape:
            return f"{name} has shape {theirs.shape}, where this transform's is {ours.shape}"
        scale = float(np.max(np.abs(ours), initial=0.0))
        difference = float(np.max(np.abs(theirs.astype(np.float64) - ours), initial=0.0))
        if not difference <= RELATIVE_TOLERANCE * scale:  # also catches NaN
            return f"{name} differs from this transform's filter by {difference:.3g} (largest entry {scale:.3g})"
    return None
