"""The tour (``python -m scatterjax``) runs on built-in data, prints what it computed, writes figures."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from scatterjax.examples import chirp_and_am_tone, exponential_chirps, molecule_density, texture_image


def test_tour_runs_and_writes_figures(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "scatterjax", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "output shape: (374, 32)" in out
    assert "order 0: 1, order 1: 70, order 2: 303" in out
    assert "first call" in out and "second call" in out
    assert "output shape: (81, 8, 8)" in out and "order 0: 1, order 1: 16, order 2: 64" in out
    assert "output shape: (6, 3, 2)" in out
    change = float(out.split("the coefficients by ")[1].split("%")[0]) / 100
    assert change < 0.01  # a rotated molecule gives nearly the same 3D coefficients
    jtfs = out.split("== JTFS")[1]
    assert "output shape: (2, 32, 22, 64)" in jtfs and "order 0: 0, order 1: 4, order 2: 28" in jtfs
    assert "into 209 channels" in jtfs and "second call" in jtfs
    ratios = {line.split(" chirp:")[0].strip(): float(line.split("= ")[1].split()[0])
              for line in jtfs.splitlines() if "spin +1 / spin -1 =" in line}
    assert set(ratios) == {"rising", "falling"}
    # Spin +1 follows rising pitch, spin -1 falling pitch: the ratios are far on either side of 1.
    assert ratios["rising"] > 10 > 1 > 0.1 > ratios["falling"]
    for name in ("scatterjax_tour_1d.png", "scatterjax_tour_2d.png", "scatterjax_tour_jtfs.png"):
        png = tmp_path / name
        assert png.exists() and png.stat().st_size > 20_000
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_example_signal_is_deterministic():
    a, rate = chirp_and_am_tone()
    b, _ = chirp_and_am_tone()
    assert rate == 16000.0 and a.dtype.name == "float32" and (a == b).all()


def test_example_image_and_molecule():
    image = texture_image(32)
    assert image.shape == (32, 32) and image.dtype.name == "float32" and 0 <= image.min() < image.max() <= 1
    density = molecule_density([[16.0, 16.0, 16.0]], [2.0], size=32, width=1.5)
    # A unit-mass Gaussian times the charge: the density integrates to the charge.
    assert abs(float(density.sum()) - 2.0) < 1e-3


def test_example_chirps_rise_and_fall():
    chirps = exponential_chirps(4096)
    assert chirps.shape == (2, 4096) and chirps.dtype.name == "float32"
    assert (chirps == exponential_chirps(4096)).all()
    rising, falling = chirps
    np.testing.assert_array_equal(falling, rising[::-1])
    assert np.abs(rising).max() <= 1.0

    def crossings(segment):  # zero crossings: twice the number of cycles
        return int(np.count_nonzero(np.diff(np.signbit(segment))))

    quarter = 4096 // 4
    # 0.002 -> 0.45 cycles/sample geometrically: the last quarter has far more cycles than the first.
    assert crossings(rising[-quarter:]) > 10 * crossings(rising[:quarter]) > 0
    assert crossings(falling[:quarter]) > 10 * crossings(falling[-quarter:])
    with pytest.raises(ValueError, match="cycles per sample"):
        exponential_chirps(1024, low=0.3, high=0.2)


def test_an_unwritable_out_is_one_line_before_the_tour_runs(tmp_path):
    (tmp_path / "a_file").write_text("")
    result = subprocess.run(
        [sys.executable, "-m", "scatterjax", "--out", str(tmp_path / "a_file")],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert f"--out '{tmp_path / 'a_file'}': cannot write figures there (File exists)" in result.stderr
    assert "scatterjax tour" not in result.stdout  # refused before computing anything


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: chirp_and_am_tone(0), ValueError, "n_samples must be >= 1, got 0"),
        (lambda: chirp_and_am_tone(2.5), TypeError, "n_samples must be an integer, got 2.5"),
        (lambda: chirp_and_am_tone(1024, 0), ValueError, "sample_rate must be a finite number > 0, got 0"),
        (lambda: exponential_chirps(0), ValueError, "n_samples must be >= 1, got 0"),
        (lambda: texture_image(-3), ValueError, "size must be >= 1, got -3"),
        (lambda: texture_image(10**7), ValueError, "size=10000000 needs at least"),
        (lambda: molecule_density(np.zeros((2, 2)), np.ones(2)), ValueError, "positions must have shape (atoms, 3)"),
        (lambda: molecule_density(np.zeros((2, 3)), np.ones(3)), ValueError, "charges (atoms,); got (2, 3) and (3,)"),
        (lambda: molecule_density(np.full((1, 3), np.nan), np.ones(1)), ValueError, "must be finite"),
        (lambda: molecule_density(np.zeros((1, 3)), np.ones(1), width=0), ValueError, "width must be a finite number"),
    ],
)
def test_example_data_refuses_bad_arguments_naming_them(make, error, message):
    with pytest.raises(error, match=re.escape(message)):
        make()
