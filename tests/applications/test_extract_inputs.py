"""``scatterjax extract``'s inputs: WAV without soundfile, linked folders, changed files, float32 overflow, JTFS."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

import scatterjax
import scatterjax._applications.io as files_io  # only to inject a file change between two reads
from scatterjax.extract import main as extract_main
from scatterjax.extract import read

ARGS_2D = ["--dim", "2", "--J", "2", "--L", "2", "--batch-size", "2", "--quiet"]


@pytest.fixture
def no_soundfile(monkeypatch):
    """Make ``import soundfile`` fail, whether or not it is installed: the SciPy path is the one tested."""
    monkeypatch.setitem(sys.modules, "soundfile", None)


@pytest.mark.parametrize(
    "dtype, scale",
    [("float32", None), ("float64", None), ("int16", 2.0**15), ("int32", 2.0**31), ("uint8", None)],
)
def test_wav_without_soundfile(tmp_path, no_soundfile, dtype, scale):
    rng = np.random.default_rng(4)
    stereo = rng.uniform(-0.9, 0.9, (300, 2))
    if dtype.startswith("float"):
        samples = stereo.astype(dtype)
        expected = samples.astype(np.float64).mean(axis=1)
    elif dtype == "uint8":
        samples = np.round(stereo * 127 + 128).astype(np.uint8)
        expected = ((samples.astype(np.float64) - 128) / 128).mean(axis=1)
    else:
        samples = np.round(stereo * (scale - 1)).astype(dtype)
        expected = (samples / scale).mean(axis=1)
    wavfile.write(str(tmp_path / "sound.wav"), 22050, samples)
    data, rate = read(tmp_path / "sound.wav")
    assert rate == 22050 and data.shape == (300,)
    np.testing.assert_allclose(data, expected, rtol=1e-6, atol=1e-7)
    (tmp_path / "sound.flac").write_bytes(b"")
    with pytest.raises(ValueError, match="FLAC needs soundfile"):
        read(tmp_path / "sound.flac")


def _images(folder: Path, count: int, seed: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        np.save(folder / f"image{i}.npy", rng.standard_normal((16, 16)).astype(np.float32))


def test_linked_folders_are_followed_and_loops_reported(tmp_path, capsys):
    _images(tmp_path / "data" / "own", 1, 5)
    _images(tmp_path / "elsewhere", 2, 6)
    os.symlink(tmp_path / "elsewhere", tmp_path / "data" / "linked")
    os.symlink(tmp_path / "data", tmp_path / "data" / "own" / "loop")  # back to an enclosing folder
    out = tmp_path / "data" / "features.npy"  # inside the input folder: never read as an input
    assert extract_main([str(tmp_path / "data"), "--out", str(out), *ARGS_2D]) == 0
    files = json.loads(out.with_suffix(".json").read_text())["files"]
    names = [Path(entry["path"]).relative_to(tmp_path).as_posix() for entry in files]
    assert names == ["data/linked/image0.npy", "data/linked/image1.npy", "data/own/image0.npy"]
    message = capsys.readouterr().err
    assert f"{tmp_path / 'data' / 'own' / 'loop'}: links to {tmp_path / 'data'}, a folder already searched" in message
    # A second run reads the same list (its own output is not an input): nothing to do, nothing changed.
    before = out.read_bytes()
    assert extract_main([str(tmp_path / "data"), "--out", str(out), *ARGS_2D]) == 0
    assert out.read_bytes() == before

    os.symlink(tmp_path / "gone.npy", tmp_path / "data" / "broken.npy")
    assert extract_main([str(tmp_path / "data"), "--out", str(tmp_path / "o.npy"), *ARGS_2D]) == 2
    message = capsys.readouterr().err
    assert "broken.npy: cannot read: No such file or directory" in message, message


def test_float64_beyond_float32_is_bad_input(tmp_path, capsys):
    _images(tmp_path / "data", 1, 7)
    huge = np.zeros((16, 16))
    huge[3, 4] = 1e39
    huge[5, 6] = -np.finfo(np.float64).max
    np.save(tmp_path / "data" / "huge.npy", huge)
    out = tmp_path / "features.npy"
    assert extract_main([str(tmp_path / "data"), "--out", str(out), *ARGS_2D]) == 2
    message = capsys.readouterr().err
    assert "huge.npy: has 2 value(s) beyond float32's range" in message and "at index (3, 4)" in message, message
    assert not out.exists()
    assert extract_main([str(tmp_path / "data"), "--out", str(out), *ARGS_2D, "--skip-bad"]) == 0
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert [Path(entry["path"]).name for entry in sidecar["skipped"]] == ["huge.npy"]
    assert np.isfinite(np.load(out)).all() and np.load(out).shape[0] == 1
    before = out.read_bytes()
    assert extract_main([str(tmp_path / "data"), "--out", str(out), *ARGS_2D, "--overwrite"]) == 2
    assert out.read_bytes() == before  # --overwrite replaces the output only once the new run can start
    capsys.readouterr()

    # Values that fit float32 but overflow inside the transform: refused too, never NaN rows with exit 0.
    np.save(tmp_path / "data" / "large.npy", np.full((16, 16), 3e38))
    out = tmp_path / "features2.npy"
    assert extract_main([str(tmp_path / "data"), "--out", str(out), *ARGS_2D, "--skip-bad"]) == 2
    message = capsys.readouterr().err
    assert "large.npy: signal 0, frame 0 gives NaN or Inf features" in message, message
    assert json.loads(out.with_suffix(".json").read_text())["progress"]["items_done"] == 0


def test_file_rewritten_mid_run_with_same_size_and_mtime_is_refused(tmp_path, capsys, monkeypatch):
    _images(tmp_path / "data", 3, 8)
    victim = tmp_path / "data" / "image2.npy"
    real_load = files_io.load
    loads = []

    def load_then_tamper(path, **kwargs):
        contents = real_load(path, **kwargs)
        loads.append(Path(path).name)
        if loads.count("image2.npy") == 1 and Path(path) == victim:  # after the scan, before its rows are read
            stat = victim.stat()
            np.save(victim, np.zeros((16, 16), np.float32))  # same shape, same size
            os.utime(victim, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the old mtime: only the hash tells
        return contents

    monkeypatch.setattr(files_io, "load", load_then_tamper)
    out = tmp_path / "features.npy"
    assert extract_main([str(tmp_path / "data"), "--out", str(out), *ARGS_2D]) == 2
    message = capsys.readouterr().err
    assert "image2.npy changed since this extraction started (sha256 " in message and "--overwrite" in message
    progress = json.loads(out.with_suffix(".json").read_text())["progress"]
    assert progress["items_done"] == 2 and not progress["complete"]  # the batch holding image2 was not written

    # Between runs: a size or mtime change is caught before anything is read.
    os.utime(victim, ns=(0, 10**18))
    assert extract_main([str(tmp_path / "data"), "--out", str(out), *ARGS_2D]) == 2
    message = capsys.readouterr().err
    assert "inputs changed since the run started" in message and "image2.npy" in message, message
    monkeypatch.undo()
    assert extract_main([str(tmp_path / "data"), "--out", str(out), *ARGS_2D, "--overwrite"]) == 0
    expected = scatterjax.Scattering2D(J=2, shape=(16, 16), L=2)(
        np.stack([np.load(tmp_path / "data" / f"image{i}.npy") for i in range(3)])
    )
    np.testing.assert_allclose(np.load(out), np.asarray(expected), atol=1e-6)


def test_jtfs_rows_are_time_frequency_scattering(tmp_path):
    rng = np.random.default_rng(9)
    signals = rng.standard_normal((3, 2, 64)).astype(np.float32)
    for i, block in enumerate(signals):
        np.save(tmp_path / f"signal{i}.npy", block)
    out = tmp_path / "out" / "jtfs.npy"
    options = ["--J", "3", "--J-fr", "1", "--Q", "2", "--Q-fr", "2", "--F", "2", "--format", "joint"]
    assert extract_main([str(tmp_path), "--out", str(out), "--dim", "jtfs", *options, "--batch-size", "4"]) == 0
    S = scatterjax.TimeFrequencyScattering(J=3, J_fr=1, Q=2, shape=64, Q_fr=2, F=2, format="joint")
    expected = np.asarray(S(signals.reshape(6, 64)))
    features = np.load(out)
    assert features.shape == expected.shape
    np.testing.assert_allclose(features, expected, rtol=1e-5, atol=1e-6 * np.abs(expected).max())
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["config"]["transform"] == {
        "class": "TimeFrequencyScattering", "J": 3, "J_fr": 1, "Q": [2], "T": None, "stride": None,
        "Q_fr": 2, "F": 2, "stride_fr": None, "format": "joint",
    }
    assert len(sidecar["meta"]["order"]) == S.output_size() == features.shape[1]


@pytest.mark.parametrize(
    "arguments, problem",
    [
        (["--dim", "jtfs", "--J", "3"], "--dim jtfs needs --J-fr"),
        (["--dim", "1", "--J", "3", "--J-fr", "2"], "--J-fr applies to --dim jtfs only; got --dim 1"),
        (["--dim", "2", "--J", "2", "--Q", "8"], "--Q applies to --dim 1 and jtfs only; got --dim 2"),
        (["--dim", "jtfs", "--J", "3", "--J-fr", "2", "--F", "99"], "invalid transform settings"),
    ],
)
def test_options_of_another_transform_are_refused(tmp_path, capsys, arguments, problem):
    np.save(tmp_path / "signal.npy", np.zeros(64, np.float32))
    assert extract_main([str(tmp_path / "signal.npy"), "--out", str(tmp_path / "o.npy"), *arguments]) == 2
    assert problem in capsys.readouterr().err
