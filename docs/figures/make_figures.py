"""Write the figures of the documentation's transform pages into this folder.

Run from the repository root after changing a transform or a plot (``python docs/figures/make_figures.py``);
the PNGs are committed so that ``mkdocs build`` needs no computation for them. The 1D, 2D and JTFS
figures are the tour's (``python -m scatterjax``); the 3D one is drawn here.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from scatterjax import HarmonicScattering3D
from scatterjax._applications import tour
from scatterjax.examples import molecule_density, water_like_molecule

HERE = Path(__file__).parent


def figure_3d(path: Path) -> None:
    """A molecule, the same molecule rotated, and their (nearly equal) scattering coefficients."""
    positions, charges = water_like_molecule()
    size = 32
    centre = np.full(3, size / 2)
    rotation = tour.rotation_matrix(np.array([1.0, 2.0, 3.0]), np.pi / 3)
    x = molecule_density(positions + centre, charges, size)
    x_rotated = molecule_density(positions @ rotation.T + centre, charges, size)
    S = HarmonicScattering3D(J=2, shape=x.shape, L=2, integral_powers=(1.0, 2.0))
    coefficients = [np.asarray(S(v)).ravel() for v in (x, x_rotated)]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), layout="constrained", width_ratios=[1, 1, 2])
    for ax, volume, name in zip(axes, (x, x_rotated), ("molecule", "rotated by 60°")):
        ax.imshow(volume.sum(axis=0)[8:24, 8:24], cmap="viridis", extent=(7.5, 23.5, 23.5, 7.5))
        ax.set(title=f"{name}\n(density summed along z)", xlabel="y (voxels)", ylabel="x (voxels)")
    index = np.arange(coefficients[0].size)
    axes[2].semilogy(index, coefficients[0], "o", label="molecule")
    axes[2].semilogy(index, coefficients[1], "x", label="rotated")
    axes[2].set(title="HarmonicScattering3D(J=2, L=2, integral_powers=(1, 2)):\nevery coefficient (path, l, power)",
                xlabel="coefficient index (row-major over the output array)", ylabel="value")
    axes[2].legend()
    fig.savefig(path, dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    tour.tour_1d(HERE)
    tour.tour_2d(HERE)
    tour.tour_jtfs(HERE)
    figure_3d(HERE / "scatterjax_3d.png")
