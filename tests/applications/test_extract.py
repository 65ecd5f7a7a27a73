"""``scatterjax extract``: features of files on disk, strict about bad input (resuming: test_extract_output.py)."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest

import scatterjax
from scatterjax._applications.cli import main as cli_main
from scatterjax.extract import item_index, read
from scatterjax.extract import main as extract_main

FRAME, HOP = 256, 128
ARGS = ["--J", "4", "--Q", "4", "--frame-length", str(FRAME), "--hop", str(HOP), "--batch-size", "4", "--quiet"]


def _write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    """16-bit PCM with the standard library; ``samples`` (n,) or (n, channels) in [-1, 1)."""
    samples = samples.reshape(len(samples), -1)
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(samples.shape[1])
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes((samples * 32767).astype("<i2").tobytes())


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(0)
    for i in range(3):  # 2 signals x 6 frames each
        np.save(folder / f"signal{i}.npy", rng.standard_normal((2, 1000)).astype(np.float32))
    _write_wav(folder / "mono.wav", 0.5 * rng.uniform(-1, 1, 1500), 8000)  # 10 frames
    _write_wav(folder / "stereo.wav", 0.5 * rng.uniform(-1, 1, (1500, 2)), 8000)  # 10 frames, mixed to mono
    return folder


@pytest.fixture(scope="module")
def reference(inputs, tmp_path_factory) -> Path:
    """An uninterrupted run."""
    out = tmp_path_factory.mktemp("reference") / "features.npy"
    assert extract_main([str(inputs), "--out", str(out), *ARGS]) == 0
    return out


def test_output_matches_transform_and_index_maps_items(inputs, reference):
    sidecar = json.loads(reference.with_suffix(".json").read_text())
    features = np.load(reference)
    S = scatterjax.Scattering1D(J=4, shape=FRAME, Q=4)
    assert features.shape == (56, S.output_size(), 16)
    assert sidecar["progress"]["items_done"] == 56 and sidecar["progress"]["complete"]
    assert [Path(entry["path"]).name for entry in sidecar["files"]] == [
        "mono.wav", "signal0.npy", "signal1.npy", "signal2.npy", "stereo.wav"
    ]
    assert [p["path"] for p in sidecar["config"]["inputs"]] == [e["path"] for e in sidecar["files"]]
    assert sidecar["files"][0]["sample_rate"] == 8000
    assert len(sidecar["meta"]["order"]) == S.output_size()
    assert sidecar["meta"]["key"][1] == [0]
    index = item_index(sidecar)
    assert index.shape == (56, 3)
    frames = []
    for file_number, signal_number, frame in index:
        data, _ = read(sidecar["files"][file_number]["path"])
        signals = np.asarray(data, np.float32).reshape(-1, data.shape[-1])
        frames.append(signals[signal_number, frame * HOP : frame * HOP + FRAME])
    expected = np.asarray(S(np.stack(frames)))
    np.testing.assert_allclose(features, expected, rtol=1e-5, atol=1e-6)


def test_complete_rerun_keeps_output_and_config_change_is_refused(inputs, reference, tmp_path, capsys):
    out = tmp_path / "features.npy"
    out.write_bytes(reference.read_bytes())
    out.with_suffix(".json").write_text(reference.with_suffix(".json").read_text())
    before = out.read_bytes()
    assert extract_main([str(inputs), "--out", str(out), *ARGS]) == 0
    changed = [a if a != "4" or i != 3 else "8" for i, a in enumerate(ARGS)]  # --Q 8
    assert changed[2:4] == ["--Q", "8"]
    assert extract_main([str(inputs), "--out", str(out), *changed]) == 2
    message = capsys.readouterr().err
    assert "different configuration" in message and "--overwrite" in message and "'Q': [8]" in message
    assert out.read_bytes() == before
    assert extract_main([str(inputs), "--out", str(out), *changed, "--overwrite"]) == 0
    assert json.loads(out.with_suffix(".json").read_text())["config"]["transform"]["Q"] == [8]


def test_existing_file_without_sidecar_is_refused(inputs, tmp_path, capsys):
    out = tmp_path / "features.npy"
    np.save(out, np.zeros(3))
    assert extract_main([str(inputs), "--out", str(out), *ARGS]) == 2
    assert "no sidecar" in capsys.readouterr().err


def _bad_case(tmp_path: Path, case: str) -> tuple[Path, list[str]]:
    folder = tmp_path / case
    folder.mkdir()
    good = np.random.default_rng(1).standard_normal(512).astype(np.float32)
    np.save(folder / "a_good.npy", good)
    if case == "unreadable":
        (folder / "b_bad.npy").write_bytes(b"not a numpy file")
    elif case == "nan":
        bad = good.copy()
        bad[17] = np.nan
        bad[20] = np.inf
        np.save(folder / "b_bad.npy", bad)
    elif case == "length":
        np.save(folder / "b_bad.npy", good[:300])
    elif case == "rate":
        _write_wav(folder / "a_good.wav", 0.1 * good, 8000)
        _write_wav(folder / "b_bad.wav", 0.1 * good, 16000)
    return folder, ["--J", "3", "--batch-size", "2", "--quiet"]


@pytest.mark.parametrize(
    "case, problem",
    [
        ("unreadable", "cannot read"),
        ("nan", "1 NaN and 1 Inf"),
        ("length", "does not match"),
        ("rate", "sample rate 16000 Hz differs from 8000 Hz"),
    ],
)
def test_bad_input_stops_naming_the_file(tmp_path, capsys, case, problem):
    folder, args = _bad_case(tmp_path, case)
    out = tmp_path / "out.npy"
    assert extract_main([str(folder), "--out", str(out), *args]) == 2
    message = capsys.readouterr().err
    assert "b_bad." in message and problem in message, message
    assert not out.exists()


def test_skip_bad_records_skipped_files(tmp_path):
    folder, args = _bad_case(tmp_path, "nan")
    out = tmp_path / "out.npy"
    assert extract_main([str(folder), "--out", str(out), *args, "--skip-bad"]) == 0
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert [Path(entry["path"]).name for entry in sidecar["skipped"]] == ["b_bad.npy"]
    assert "NaN" in sidecar["skipped"][0]["problem"]
    assert [Path(entry["path"]).name for entry in sidecar["files"]] == ["a_good.npy"]
    assert np.load(out).shape[0] == 1


def test_empty_folder_and_missing_path(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert extract_main([str(tmp_path / "empty"), "--out", str(tmp_path / "o.npy"), "--J", "3"]) == 2
    assert "empty" in (err := capsys.readouterr().err) and "no input file" in err
    assert extract_main([str(tmp_path / "missing"), "--out", str(tmp_path / "o.npy"), "--J", "3"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_images_2d(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(2)
    pixels = rng.integers(0, 256, (2, 32, 32), dtype=np.uint8)
    for i, image in enumerate(pixels):
        Image.fromarray(image).save(tmp_path / f"image{i}.png")
    out = tmp_path / "out" / "features.npy"
    command = ["extract", str(tmp_path), "--dim", "2", "--J", "2", "--L", "4", "--out", str(out), "--quiet"]
    assert cli_main(command) == 0
    S = scatterjax.Scattering2D(J=2, shape=(32, 32), L=4)
    expected = np.asarray(S(pixels.astype(np.float32) / 255))
    np.testing.assert_allclose(np.load(out), expected, rtol=1e-5, atol=1e-6)


def test_cli_usage(capsys):
    assert cli_main([]) == 2
    assert cli_main(["frobnicate"]) == 2
    assert "unknown command" in capsys.readouterr().err
