"""The tour (``python -m scatterjax``) runs on built-in data, prints what it computed, writes figures."""

from __future__ import annotations

import subprocess
import sys

from scatterjax.examples import chirp_and_am_tone


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
    png = tmp_path / "scatterjax_tour_1d.png"
    assert png.exists() and png.stat().st_size > 20_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_example_signal_is_deterministic():
    a, rate = chirp_and_am_tone()
    b, _ = chirp_and_am_tone()
    assert rate == 16000.0 and a.dtype.name == "float32" and (a == b).all()
