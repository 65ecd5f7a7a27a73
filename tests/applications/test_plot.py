"""scatterjax.plot: every function returns a Figure with labelled (log-frequency) axes and colorbars."""

from __future__ import annotations

import sys

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import scatterjax  # noqa: E402
from scatterjax import plot  # noqa: E402
from scatterjax.examples import chirp_and_am_tone  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def signal_1d():
    x, rate = chirp_and_am_tone(2**12)
    S = scatterjax.Scattering1D(J=6, shape=x.shape[-1], Q=8)
    return x, rate, S, np.asarray(S(x))


@pytest.fixture(scope="module")
def image_2d():
    from scatterjax import Scattering2D

    rows, cols = np.mgrid[:32, :32]
    image = ((rows - 16) ** 2 + (cols - 12) ** 2 < 60).astype(np.float32) + 0.5 * (abs(rows - cols) < 2)
    S = Scattering2D(J=2, shape=(32, 32), L=4)
    return image.astype(np.float32), S, np.asarray(S(image))


def _plot_axes(fig):
    """The figure's axes other than colorbars."""
    return [ax for ax in fig.axes if not hasattr(ax, "_colorbar")]


def _colorbars(fig):
    return [ax for ax in fig.axes if hasattr(ax, "_colorbar")]


def _check(fig, tmp_path, *, colorbars: int, log_frequency: bool = True) -> None:
    assert isinstance(fig, Figure)
    panels = _plot_axes(fig)
    assert panels
    for ax in panels:
        assert ax.get_xlabel() and ax.get_ylabel(), ax.get_title()
    if log_frequency:
        assert any("log" in (ax.get_xscale(), ax.get_yscale()) for ax in panels)
        frequency_axes = [label for ax in panels for label in (ax.get_xlabel(), ax.get_ylabel())
                          if "frequency" in label]
        assert frequency_axes and all("(Hz)" in label or "(cycles/sample)" in label for label in frequency_axes)
    bars = _colorbars(fig)
    assert len(bars) == colorbars
    assert all(bar.get_ylabel() for bar in bars)
    path = tmp_path / "figure.png"
    fig.savefig(path, dpi=60)
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 8_000


def test_filter_bank_shows_every_wavelet_and_a_littlewood_paley_sum(signal_1d, tmp_path):
    _, rate, S, _ = signal_1d
    fig = plot.filter_bank(S, sample_rate=rate)
    _check(fig, tmp_path, colorbars=0)
    order1, order2 = _plot_axes(fig)
    # One curve per wavelet, plus the low-pass and the sum.
    assert len(order1.lines) == len(S.bank.xi1) + 2
    assert len(order2.lines) == len(S.bank.xi2) + 2
    assert all(ax.get_xscale() == "log" for ax in (order1, order2))
    # Up to the highest centre frequency, the bank covers every frequency: no hole, no large gain.
    frequency, total = order1.lines[-1].get_xdata(), order1.lines[-1].get_ydata()
    band = total[frequency <= max(S.bank.xi1) * rate]
    assert 0.3 < band.min() and band.max() < 2.0


def test_filter_bank_in_cycles_per_sample(signal_1d, tmp_path):
    _, _, S, _ = signal_1d
    fig = plot.filter_bank(S)
    assert "cycles/sample" in _plot_axes(fig)[0].get_xlabel()


@pytest.mark.parametrize("T, expected", [(None, 64), (32, 32), ("global", 64)])
def test_low_pass_width_follows_T(T, expected, tmp_path):
    # S.T reads back as a number or 'global' (whose low-pass is the 2**J one): both plots say which.
    S = scatterjax.Scattering1D(J=6, shape=1024, Q=4, T=T)
    fig = plot.filter_bank(S)
    assert any(f"T={expected} samples" in text.get_text() for text in _plot_axes(fig)[0].get_legend().get_texts())
    Sx = S(np.random.default_rng(0).standard_normal(1024).astype(np.float32))
    fig = plot.first_order(Sx, S)
    _check(fig, tmp_path, colorbars=1)
    assert f"T={expected} samples" in _plot_axes(fig)[0].get_title()


def test_scalogram(signal_1d, tmp_path):
    x, rate, _, _ = signal_1d
    fig = plot.scalogram(x, J=6, Q=8, sample_rate=rate, max_columns=256)
    _check(fig, tmp_path, colorbars=1)
    (ax,) = _plot_axes(fig)
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "time (s)"


def test_first_and_second_order(signal_1d, tmp_path):
    _, rate, S, Sx = signal_1d
    _check(plot.first_order(Sx, S, sample_rate=rate), tmp_path, colorbars=1)
    _check(plot.first_order(Sx, S, log=False), tmp_path, colorbars=1)
    fig = plot.second_order(Sx, S, sample_rate=rate)
    _check(fig, tmp_path, colorbars=1)
    (ax,) = _plot_axes(fig)
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert "modulation" in ax.get_xlabel()
    _check(plot.second_order(Sx, S, sample_rate=rate, normalize=True), tmp_path, colorbars=1)


def test_scattering1d_overview(signal_1d, tmp_path):
    x, rate, S, Sx = signal_1d
    fig = plot.scattering1d(Sx, S, x, sample_rate=rate)
    assert len(_plot_axes(fig)) == 3
    _check(fig, tmp_path, colorbars=2)
    assert len(_plot_axes(plot.scattering1d(Sx, S))) == 2


def test_draws_into_given_axes(signal_1d):
    _, rate, S, Sx = signal_1d
    fig, axes = plt.subplots(1, 2)
    assert plot.first_order(Sx, S, sample_rate=rate, ax=axes[0]) is fig
    assert plot.loss_history(np.logspace(0, -3, 50), ax=axes[1], label="run") is fig
    assert axes[1].get_yscale() == "log" and axes[1].get_legend() is not None


def test_loss_history(tmp_path):
    fig = plot.loss_history(np.logspace(0, -3, 400), ylabel="relative loss")
    _check(fig, tmp_path, colorbars=0, log_frequency=False)
    assert _plot_axes(fig)[0].get_ylabel() == "relative loss"


def test_scattering2d_by_scale_and_orientation(image_2d, tmp_path):
    image, S, Sx = image_2d
    fig = plot.scattering2d(Sx, S, image=image)
    assert isinstance(fig, Figure)
    maps = [ax for ax in _plot_axes(fig) if ax.images and ax.get_title().startswith("θ1=")]
    assert len(maps) == S.L  # one column title per orientation
    labelled = [ax for ax in _plot_axes(fig) if ax.get_xlabel() and ax.get_ylabel()]
    assert len(labelled) == 2  # the input image and the second-order matrix
    bars = _colorbars(fig)
    assert len(bars) == 3 and all(bar.get_ylabel() for bar in bars)
    path = tmp_path / "figure.png"
    fig.savefig(path, dpi=60)
    assert path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > 8_000
    # log colour scale, no image, and J=1 (no second order).
    assert len(_colorbars(plot.scattering2d(Sx, S, log=True))) == 2
    from scatterjax import Scattering2D

    S1 = Scattering2D(J=1, shape=(32, 32), L=4)
    assert len(_colorbars(plot.scattering2d(np.asarray(S1(image)), S1))) == 1


def test_bad_input_is_explained(signal_1d):
    x, _, S, Sx = signal_1d
    with pytest.raises(ValueError, match=r"Index the batch first"):
        plot.first_order(np.stack([Sx, Sx]), S)
    with pytest.raises(ValueError, match=r"channels"):
        plot.first_order(Sx[:10], S)
    with pytest.raises(ValueError, match=r"max_order=2"):
        S1 = scatterjax.Scattering1D(J=6, shape=x.shape[-1], Q=8, max_order=1)
        plot.second_order(np.asarray(S1(x)), S1)
    with pytest.raises(ValueError, match=r"one signal"):
        plot.scalogram(np.stack([x, x]), J=6)
    S_list = scatterjax.Scattering1D(J=6, shape=x.shape[-1], Q=8, out_type="list")
    with pytest.raises(TypeError, match=r"plots the array output \(out_type='array'\); got a list"):
        plot.scattering1d(S_list(x), S)
    for rate in (0, -8000, float("nan")):
        with pytest.raises(ValueError, match=r"sample_rate must be a finite number of samples per second > 0"):
            plot.first_order(Sx, S, sample_rate=rate)
        with pytest.raises(ValueError, match=r"sample_rate must be"):
            plot.filter_bank(S, sample_rate=rate)
    with pytest.raises(ValueError, match=r"losses must be one value per step, shape \(steps,\); got shape \(3, 3\)"):
        plot.loss_history(np.ones((3, 3)))


def test_missing_matplotlib_names_the_extra(signal_1d, monkeypatch):
    _, _, S, _ = signal_1d
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"scatterjax\[plots\]"):
        plot.filter_bank(S)


# --- joint time-frequency scattering ----------------------------------------------------------------


@pytest.fixture(scope="module")
def jtfs_chirps():
    from scatterjax.examples import exponential_chirps

    chirps = exponential_chirps(2**12)
    S = scatterjax.TimeFrequencyScattering(J=6, J_fr=2, Q=8, shape=chirps.shape[-1], format="joint")
    return chirps, S, np.asarray(S(chirps))


def _grid(fig, rows, columns):
    """The figure's panels (colorbars excluded) as a rows x columns array, in subplot order."""
    return np.array(_plot_axes(fig), dtype=object).reshape(rows, columns)


def test_jtfs_joint_shows_every_path_as_an_n1_by_time_image(jtfs_chirps, tmp_path):
    _, S, Sx = jtfs_chirps
    meta = S.meta()
    assert Sx.shape == (2, 32, 22, 64)
    fig = plot.jtfs_joint(Sx[0], S)
    assert isinstance(fig, Figure)
    n2s = sorted({int(n) for n in meta["n"][meta["order"] == 2, 1]})
    assert n2s == [3, 4, 5, 6]
    # Rows: the 7 frequency filters by centre xi_fr: spin +1 (finest first), the low-pass, spin -1 (finest last).
    by_xi = sorted({(float(xi), int(n)) for xi, n in zip(meta["xi_fr"], meta["n_fr"])}, reverse=True)
    assert [n for _, n in by_xi] == [1, 2, 3, 0, 6, 5, 4]
    grid = _grid(fig, 7, 1 + len(n2s))
    assert len(_colorbars(fig)) == 1 + len(n2s)
    drawn = 0
    for k, (order, n2) in enumerate([(1, None)] + [(2, n) for n in n2s]):
        assert ("order 1" if order == 1 else f"n2={n2}") in grid[0, k].get_title()
        for r, (_, n_fr) in enumerate(by_xi):
            ax = grid[r, k]
            match = (meta["order"] == order) & (meta["n_fr"] == n_fr)
            if order == 2:
                match &= meta["n"][:, 1] == n2
            (channel,) = np.flatnonzero(match) if match.any() else (None,)
            if channel is None:  # order 1 has no spin -1 path
                assert order == 1 and meta["spin"][meta["n_fr"] == n_fr][0] == -1 and not ax.images
                continue
            (image,) = ax.images
            # The panel shows exactly the coefficients passed in: rows n1, time along x.
            np.testing.assert_array_equal(np.asarray(image.get_array()), Sx[0, channel])
            drawn += 1
    assert drawn == Sx.shape[1]
    assert grid[-1, 0].get_xlabel() == "time (samples)" and "spin +1" in grid[0, 0].get_ylabel()
    # Rows are n1 = row * 4 (N_fr = 88 over 22 rows), 0 at the top.
    left, right, bottom, top = grid[0, 1].images[0].get_extent()
    assert (left, right) == (0, 4096) and top == -2.0 and bottom == 86.0
    path = tmp_path / "jtfs.png"
    fig.savefig(path, dpi=50)
    assert path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > 8_000


def test_jtfs_joint_rising_chirp_is_brighter_in_spin_plus_one_panels(jtfs_chirps):
    _, S, Sx = jtfs_chirps
    for signal, brighter in ((0, "spin +1"), (1, "spin -1")):
        grid = _grid(plot.jtfs_joint(Sx[signal], S, n2=6, first_order=False), 7, 1)
        energy = {label: 0.0 for label in ("spin +1", "spin -1")}
        for ax, label in zip(grid[:, 0], ("spin +1",) * 3 + (None,) + ("spin -1",) * 3):
            assert label is None or ax.get_ylabel().startswith(label)
            if label:
                energy[label] += float((np.asarray(ax.images[0].get_array()) ** 2).sum())
        dimmer = "spin -1" if brighter == "spin +1" else "spin +1"
        assert energy[brighter] > 5 * energy[dimmer]


def test_jtfs_joint_options(jtfs_chirps):
    from matplotlib.colors import LogNorm

    _, S, Sx = jtfs_chirps
    fig = plot.jtfs_joint(Sx[0], S, n2=[5, 6], log=True, sample_rate=8000.0, title="a chirp")
    assert fig._suptitle.get_text() == "a chirp"
    grid = _grid(fig, 7, 3)
    assert isinstance(grid[0, 1].images[0].norm, LogNorm)
    assert "Hz" in grid[0, 1].get_title() and grid[-1, 0].get_xlabel() == "time (s)"
    assert grid[0, 1].images[0].get_extent()[1] == pytest.approx(4096 / 8000.0)
    # Two signals side by side in subfigures of one figure.
    outer = plt.figure(figsize=(10, 8))
    left, right = outer.subfigures(1, 2)
    assert plot.jtfs_joint(Sx[0], S, n2=6, fig=left) is outer
    assert plot.jtfs_joint(Sx[1], S, n2=6, fig=right) is outer
    assert len([ax for ax in _plot_axes(outer) if ax.images]) == 2 * (4 + 7)


def test_jtfs_joint_bad_input_is_explained(jtfs_chirps):
    chirps, S, Sx = jtfs_chirps
    with pytest.raises(ValueError, match=r"Index the batch first"):
        plot.jtfs_joint(Sx, S)
    with pytest.raises(ValueError, match=r"n2=\[2\].*available n2: \[3, 4, 5, 6\]"):
        plot.jtfs_joint(Sx[0], S, n2=2)
    with pytest.raises(ValueError, match=r"channels"):
        plot.jtfs_joint(Sx[0, :10], S)
    S_time = scatterjax.TimeFrequencyScattering(J=6, J_fr=2, Q=8, shape=chirps.shape[-1])
    with pytest.raises(ValueError, match=r"format='joint'"):
        plot.jtfs_joint(Sx[0], S_time)


def test_spin_energy_separates_rising_from_falling(jtfs_chirps):
    chirps, S, Sx = jtfs_chirps
    meta = S.meta()
    energy = plot.spin_energy(Sx, S)
    assert set(energy) == {1, 0, -1} and all(e.shape == (2,) for e in energy.values())
    # Sum of squares over the second-order paths of each spin, every n1 row and time sample.
    for spin in (1, 0, -1):
        paths = (meta["order"] == 2) & (meta["spin"] == spin)
        np.testing.assert_allclose(energy[spin], (Sx[:, paths].astype(np.float64) ** 2).sum(axis=(1, 2, 3)))
    ratio = energy[1] / energy[-1]
    assert ratio[0] > 10 and ratio[1] < 0.1
    # Order 1 has no spin -1; order=None adds both orders; one signal gives 0-d arrays.
    first = plot.spin_energy(Sx, S, order=1)
    assert (first[-1] == 0).all() and (first[1] > 0).all()
    both = plot.spin_energy(Sx, S, order=None)
    np.testing.assert_allclose(both[1], first[1] + energy[1])
    assert plot.spin_energy(Sx[0], S)[1].shape == ()
    # format='time' (one channel per n1): the same separation.
    S_time = scatterjax.TimeFrequencyScattering(J=6, J_fr=2, Q=8, shape=chirps.shape[-1])
    energy_time = plot.spin_energy(S_time(chirps), S_time)
    ratio_time = energy_time[1] / energy_time[-1]
    assert ratio_time[0] > 10 and ratio_time[1] < 0.1
    with pytest.raises(ValueError, match=r"209 channels"):
        plot.spin_energy(Sx, S_time)
    with pytest.raises(ValueError, match=r"order must be 1, 2 or None \(both\); got 3"):
        plot.spin_energy(Sx, S, order=3)
