"""``python -m scatterjax``: a tour of the transforms on built-in data, printing what it computes
and writing a figure per transform."""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

import jax
import numpy as np

from .._harmonic3d.frontend import HarmonicScattering3D
from .._jtfs.frontend import TimeFrequencyScattering
from .._scattering1d.frontend import Scattering1D
from .._scattering2d.frontend import Scattering2D
from ..examples import chirp_and_am_tone, exponential_chirps, molecule_density, texture_image, water_like_molecule


def _timed(fn, *args):
    start = time.perf_counter()
    out = jax.block_until_ready(fn(*args))
    return out, time.perf_counter() - start


def _run_and_report(S, x, axes: str):
    """Print the configuration, output shape, paths per order and first/second call times."""
    print(f"   configuration: {S}")
    Sx, first = _timed(S, x)
    _, second = _timed(S, x)
    counts = S.output_size(detail=True)
    print(f"   output shape: {tuple(Sx.shape)} ({axes}); paths per order: "
          f"order 0: {counts[0]}, order 1: {counts[1]}, order 2: {counts[2]}")
    print(f"   first call (compile + run): {first:.2f} s; second call: {second * 1e3:.1f} ms")
    return Sx


def tour_1d(out_dir: Path) -> Path | None:
    x, sample_rate = chirp_and_am_tone()
    J, Q = 10, 8
    S = Scattering1D(J=J, shape=x.shape[-1], Q=Q)
    print("== 1D: Scattering1D on a chirp (300 Hz -> 2 kHz) + a 4 kHz tone modulated at 30 Hz")
    print(f"   signal: {x.shape[-1]} samples at {sample_rate:.0f} Hz ({x.shape[-1] / sample_rate:.2f} s)")
    Sx = _run_and_report(S, x, "channels, time")

    meta = S.meta()
    Sx = np.asarray(Sx)
    order1 = np.flatnonzero(meta["order"] == 1)
    order2 = np.flatnonzero(meta["order"] == 2)
    energy1 = Sx[order1].mean(axis=-1)
    carrier = order1[np.argmax(energy1 * (meta["xi"][order1, 0] * sample_rate > 3000))]
    print(f"   strongest order-1 channel above 3 kHz: {meta['xi'][carrier, 0] * sample_rate:.0f} Hz "
          "(the AM carrier is at 4000 Hz)")
    children = order2[meta["n"][order2, 0] == meta["n"][carrier, 0]]
    if children.size:
        best = children[np.argmax(Sx[children].mean(axis=-1))]
        print(f"   its strongest order-2 child: modulation at {meta['xi'][best, 1] * sample_rate:.0f} Hz "
              "(the envelope is at 30 Hz)")
    return _figure_1d(x, sample_rate, S, Sx, meta, out_dir / "scatterjax_tour_1d.png")


def _figure_1d(x, sample_rate, S, Sx, meta, path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.colors import LogNorm
    except ImportError:
        print('   (matplotlib is not installed: pip install "scatterjax[plots]" for the figure)')
        return None
    order1 = np.flatnonzero(meta["order"] == 1)
    order2 = np.flatnonzero(meta["order"] == 2)
    duration = x.shape[-1] / sample_rate
    fig, axes = plt.subplots(3, 1, figsize=(9, 10), constrained_layout=True)

    t = np.arange(x.shape[-1]) / sample_rate
    axes[0].plot(t, x, lw=0.3)
    axes[0].set(title="Signal: chirp 300 Hz → 2 kHz + 4 kHz tone modulated at 30 Hz",
                xlabel="time (s)", ylabel="amplitude", xlim=(0, duration))

    frequencies = meta["xi"][order1, 0] * sample_rate
    image = Sx[order1]
    mesh = axes[1].pcolormesh(np.linspace(0, duration, image.shape[-1] + 1),
                              _edges(frequencies[::-1]), image[::-1],
                              norm=LogNorm(vmin=image.max() * 1e-3, vmax=image.max()))
    axes[1].set(yscale="log", title=f"First order S1 (J={S.J}, Q={S.Q[0]}, T={2 ** S.J} samples)",
                xlabel="time (s)", ylabel="wavelet centre frequency (Hz)")
    fig.colorbar(mesh, ax=axes[1], label="S1")

    xi1 = meta["xi"][order2, 0] * sample_rate
    xi2 = meta["xi"][order2, 1] * sample_rate
    carriers = np.unique(xi1)
    modulations = np.unique(xi2)
    grid = np.full((carriers.size, modulations.size), np.nan)
    for c, a, b in zip(order2, xi1, xi2):
        grid[np.searchsorted(carriers, a), np.searchsorted(modulations, b)] = Sx[c].mean()
    positive = grid[np.isfinite(grid) & (grid > 0)]
    mesh = axes[2].pcolormesh(_edges(modulations), _edges(carriers), grid,
                              norm=LogNorm(vmin=positive.max() * 1e-3, vmax=positive.max()))
    axes[2].set(xscale="log", yscale="log",
                title="Second order S2, averaged over time",
                xlabel="modulation frequency ξ2 (Hz)", ylabel="carrier frequency ξ1 (Hz)")
    fig.colorbar(mesh, ax=axes[2], label="time-averaged S2")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"   figure: {path}")
    return path


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges (geometric midpoints) for increasing positive centres, for pcolormesh."""
    centres = np.asarray(centres, dtype=float)
    if centres.size == 1:
        return np.array([centres[0] / 1.5, centres[0] * 1.5])
    mids = np.sqrt(centres[1:] * centres[:-1])
    first = centres[0] ** 2 / mids[0]
    last = centres[-1] ** 2 / mids[-1]
    return np.concatenate([[first], mids, [last]])


def tour_2d(out_dir: Path) -> Path | None:
    image = texture_image(32)
    # texture_image gives scikit-learn's first digit when scikit-learn is installed (the tour's own
    # install, ".[plots]", has no scikit-learn: then oriented stripes under a disk): say which.
    what = ("a handwritten 0 from scikit-learn's load_digits, upsampled 4x" if importlib.util.find_spec("sklearn")
            else "oriented stripes under a disk (with scikit-learn installed: one of its handwritten digits)")
    S = Scattering2D(J=2, shape=image.shape, L=8)
    print(f"== 2D: Scattering2D on a 32x32 image: {what}")
    Sx = _run_and_report(S, image, "channels, rows, columns")
    meta = S.meta()
    order1 = np.flatnonzero(meta["order"] == 1)
    energy = np.asarray(Sx)[order1].mean(axis=(-2, -1))
    best = order1[np.argmax(energy)]
    print(f"   strongest first-order channel: scale 2**{int(meta['j'][best, 0])} px, orientation "
          f"{np.degrees(meta['angle'][best, 0]):.1f} degrees")
    try:
        from .. import plot

        fig = plot.scattering2d(np.asarray(Sx), S, image=image)
    except ImportError:
        print('   (matplotlib is not installed: pip install "scatterjax[plots]" for the figure)')
        return None
    path = out_dir / "scatterjax_tour_2d.png"
    fig.savefig(path, dpi=110)
    print(f"   figure: {path}")
    return path


def tour_3d() -> float:
    positions, charges = water_like_molecule()
    size = 32
    centre = np.full(3, size / 2)
    rotation = rotation_matrix(axis=np.array([1.0, 2.0, 3.0]), angle=np.pi / 3)
    x = molecule_density(positions + centre, charges, size)
    x_rotated = molecule_density(positions @ rotation.T + centre, charges, size)
    S = HarmonicScattering3D(J=2, shape=x.shape, L=2, integral_powers=(1.0, 2.0))
    print("== 3D: HarmonicScattering3D on a synthetic molecule (3 Gaussian atoms on a 32^3 grid)")
    print(f"   configuration: {S}")
    Sx, first = _timed(S, x)
    _, second = _timed(S, x)
    print(f"   output shape: {tuple(Sx.shape)} (j paths, degree l, power p); order-0 integrals "
          f"sum x^p: {', '.join(f'{v:.4g}' for v in np.asarray(S.order0(x)))}")
    print(f"   first call (compile + run): {first:.2f} s; second call: {second * 1e3:.1f} ms")
    Sx, Sx_rotated = np.asarray(Sx, np.float64), np.asarray(S(x_rotated), np.float64)
    coefficient_change = np.linalg.norm(Sx - Sx_rotated) / np.linalg.norm(Sx)
    voxel_change = np.linalg.norm(x - x_rotated) / np.linalg.norm(x)
    print(f"   rotated by 60 degrees: the voxels change by {voxel_change:.0%}, the coefficients by "
          f"{coefficient_change:.2%} (rotation invariance up to grid sampling)")
    return coefficient_change


def rotation_matrix(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rodrigues' rotation about ``axis`` by ``angle`` radians."""
    axis = axis / np.linalg.norm(axis)
    cross = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * cross + (1 - np.cos(angle)) * cross @ cross


def tour_jtfs(out_dir: Path) -> tuple[float, float]:
    """Joint time-frequency scattering of a rising and a falling chirp; returns their second-order
    energy ratios spin +1 / spin -1."""
    from ..plot import spin_energy

    chirps = exponential_chirps(2**12)
    S = TimeFrequencyScattering(J=6, J_fr=2, Q=8, shape=chirps.shape[-1], format="joint")
    print("== JTFS: TimeFrequencyScattering on a rising and a falling exponential chirp")
    print(f"   signals: 2 x {chirps.shape[-1]} samples, 0.002 -> 0.45 cycles/sample (rising) and reversed (falling)")
    Sx = _run_and_report(S, chirps, "chirps, paths, n1 rows, time")
    channels = TimeFrequencyScattering(J=6, J_fr=2, Q=8, shape=chirps.shape[-1]).output_size()
    print(f"   (format='time' splits the same paths along n1 into {channels} channels of one time series each)")
    energy = spin_energy(Sx, S, order=2)
    ratios = energy[1] / energy[-1]
    for name, ratio in zip(("rising", "falling"), ratios):
        print(f"   {name} chirp: second-order energy spin +1 / spin -1 = {ratio:.3g} ({'>' if ratio > 1 else '<'} 1)")
    print("   spin +1 paths follow rising pitch, spin -1 paths falling pitch")
    _figure_jtfs(np.asarray(Sx), S, out_dir / "scatterjax_tour_jtfs.png")
    return float(ratios[0]), float(ratios[1])


def _figure_jtfs(Sx, S, path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from .. import plot
    except ImportError:
        print('   (matplotlib is not installed: pip install "scatterjax[plots]" for the figure)')
        return None
    fig = plt.figure(figsize=(12, 9.5), layout="constrained")
    meta = S.meta()
    n2 = sorted({int(n) for n in meta["n"][meta["order"] == 2, 1]})[-2:]  # the two largest time scales
    for subfigure, coefficients, name in zip(fig.subfigures(1, 2, wspace=0.04), Sx, ("Rising", "Falling")):
        plot.jtfs_joint(coefficients, S, n2=n2, fig=subfigure,
                        title=f"{name} chirp: first order and the two largest second-order scales")
    fig.suptitle("Joint time-frequency scattering (J=6, J_fr=2, Q=8): one n1 × time image per path; "
                 "rows n1 = 0, 4, 8, … (0: highest frequency)\nbelow each dashed line: rows past the path's "
                 "last first-order filter (n1 axis zero-padded for the frequency wavelets); grey: no such path")
    fig.savefig(path, dpi=90)
    plt.close(fig)
    print(f"   figure: {path}")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scatterjax", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for the figures")
    args = parser.parse_args(argv)
    try:  # a folder the figures can be written to, checked before the tour spends a minute computing
        args.out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=args.out):
            pass
    except OSError as error:
        parser.error(f"--out {str(args.out)!r}: cannot write figures there ({error.strerror or error}); "
                     "choose a writable folder")
    print(f"scatterjax tour (jax {jax.__version__}, devices: {', '.join(map(str, jax.devices()))})")
    try:
        tour_1d(args.out)
        tour_2d(args.out)
        tour_3d()
        tour_jtfs(args.out)
    except OSError as error:  # a figure that cannot be written (a full disk): one line, not a traceback
        print(f"{parser.prog}: error: {error.filename or args.out}: {error.strerror or error}", file=sys.stderr)
        return 1
    return 0
