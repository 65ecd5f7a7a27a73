"""The tour (``python -m scatterjax``) runs on built-in data, prints what it computed, writes figures."""

from __future__ import annotations

import subprocess
import sys

from scatterjax.examples import chirp_and_am_tone, molecule_density, texture_image


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
    for name in ("scatterjax_tour_1d.png", "scatterjax_tour_2d.png"):
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
