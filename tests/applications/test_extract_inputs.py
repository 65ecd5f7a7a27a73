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
import scatterjax._applications.extract as extract_module  # only to lift the scan's bound on values
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


def test_a_loop_of_file_links_is_a_bad_input_named_and_skippable(tmp_path, capsys):
    _images(tmp_path / "data", 2, 5)
    os.symlink("b.npy", tmp_path / "data" / "a.npy")  # a.npy -> b.npy -> a.npy
    os.symlink("a.npy", tmp_path / "data" / "b.npy")
    out = tmp_path / "features.npy"
    assert extract_main([str(tmp_path / "data"), "--out", str(out), *ARGS_2D]) == 2
    message = capsys.readouterr().err
    assert "a.npy: cannot read: Too many levels of symbolic links" in message and "Traceback" not in message, message
    assert extract_main([str(tmp_path / "data"), "--out", str(out), *ARGS_2D, "--skip-bad"]) == 0
    skipped = json.loads(out.with_suffix(".json").read_text())["skipped"]
    assert [Path(entry["path"]).name for entry in skipped] == ["a.npy", "b.npy"]
    # --out a loop of links: refused, naming it.
    os.symlink("l2.npy", tmp_path / "l1.npy")
    os.symlink("l1.npy", tmp_path / "l2.npy")
    assert extract_main([str(tmp_path / "data"), "--out", str(tmp_path / "l1.npy"), *ARGS_2D]) == 2
    assert "is a loop of symbolic links; choose another --out" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifos_and_devices_are_not_read(tmp_path, capsys):
    # Opening a FIFO blocks until a writer comes (a run that SIGTERM could not stop), and a link to
    # /dev/zero reads without end: inside folders they are left out with a note; named, refused.
    _images(tmp_path / "data", 2, 5)
    os.mkfifo(tmp_path / "data" / "pipe.npy")
    if os.path.exists("/dev/zero"):
        os.symlink("/dev/zero", tmp_path / "data" / "zero.npy")
    out = tmp_path / "features.npy"
    assert extract_main([str(tmp_path / "data"), "--out", str(out), *ARGS_2D]) == 0
    message = capsys.readouterr().err
    assert f"{tmp_path / 'data' / 'pipe.npy'}: not a regular file (a FIFO, socket or device); not read" in message
    names = [Path(entry["path"]).name for entry in json.loads(out.with_suffix(".json").read_text())["files"]]
    assert names == ["image0.npy", "image1.npy"]
    assert extract_main([str(tmp_path / "data" / "pipe.npy"), "--out", str(tmp_path / "o.npy"), *ARGS_2D]) == 2
    assert "pipe.npy: not a regular file (a FIFO, socket or device)" in capsys.readouterr().err


def test_float64_beyond_float32_is_bad_input(tmp_path, capsys, monkeypatch):
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

    # Values that fit float32 but pass the extractor's bound (where 3D's sums of squares overflow): refused by
    # the scan, so that --skip-bad skips the file and --overwrite keeps the old output.
    np.save(tmp_path / "data" / "large.npy", np.full((16, 16), 3e38))
    assert extract_main([str(tmp_path / "data"), "--out", str(out), *ARGS_2D, "--overwrite", "--skip-bad"]) == 0
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert [Path(entry["path"]).name for entry in sidecar["skipped"]] == ["huge.npy", "large.npy"]
    assert "too large for the float32 transform of items of 256 samples" in sidecar["skipped"][1]["problem"]
    assert np.isfinite(np.load(out)).all() and np.load(out).shape[0] == 1
    (tmp_path / "data" / "huge.npy").unlink()
    before = out.read_bytes()
    assert extract_main([str(tmp_path / "data"), "--out", str(out), *ARGS_2D, "--overwrite"]) == 2
    assert "large.npy: has values up to 3e+38, too large" in capsys.readouterr().err
    assert out.read_bytes() == before

    # The check after the transform stays: with the scan's bound lifted, a batch whose features
    # overflow float32 is refused, not written. (2D images at 3e38 give finite features since the
    # transforms rescale extreme signals; the 3D integrals of U^2 of a volume at 1e20 do not fit.)
    monkeypatch.setattr(extract_module, "_largest_safe_value", lambda item_size: float("inf"))
    volumes = tmp_path / "volumes"
    volumes.mkdir()
    np.save(volumes / "large.npy", np.full((8, 8, 8), 1e20, np.float32))
    out = tmp_path / "features2.npy"
    args_3d = ["--dim", "3", "--J", "1", "--L", "1", "--batch-size", "2", "--quiet", "--skip-bad"]
    assert extract_main([str(volumes), "--out", str(out), *args_3d]) == 2
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
        (["--dim", "1", "--J", "3", "--T", "0"], "--T 0 (no time averaging) is not available here"),
        (["--dim", "jtfs", "--J", "3", "--J-fr", "1", "--T", "0"], "--T 0 (no time averaging) is not available here"),
    ],
)
def test_options_of_another_transform_are_refused(tmp_path, capsys, arguments, problem):
    np.save(tmp_path / "signal.npy", np.zeros(64, np.float32))
    assert extract_main([str(tmp_path / "signal.npy"), "--out", str(tmp_path / "o.npy"), *arguments]) == 2
    assert problem in capsys.readouterr().err


def test_a_file_listed_twice_and_options_without_effect_are_said(tmp_path, capsys):
    _images(tmp_path / "data", 2, 5)
    image = tmp_path / "data" / "image0.npy"
    out = tmp_path / "features.npy"
    args = [str(tmp_path / "data"), str(image), "--out", str(out), *ARGS_2D, "--sample-rate", "8000", "--npz-key", "x"]
    assert extract_main(args) == 0
    message = capsys.readouterr().err
    assert f"{image} is the file {image}, listed before: its rows appear twice in the output" in message, message
    assert "--sample-rate applies to audio files, and no input is one: it has no effect" in message
    assert "--npz-key applies to .npz files, and no input is one: it has no effect" in message
    assert np.load(out).shape[0] == 3


def test_a_stray_first_file_does_not_set_the_shape_that_skips_the_rest(tmp_path, capsys):
    _images(tmp_path / "data", 3, 5)  # image0..2, 16x16
    np.save(tmp_path / "data" / "a_small.npy", np.ones((8, 8), np.float32))  # sorted first
    np.save(tmp_path / "data" / "a_empty.npy", np.ones((0, 16), np.float32))  # empty rows: before it
    out = tmp_path / "features.npy"
    assert extract_main([str(tmp_path / "data"), "--out", str(out), *ARGS_2D, "--skip-bad"]) == 2
    message = capsys.readouterr().err
    assert "the item shape (8, 8) was taken from the first usable file" in message, message
    assert "3 file(s) of another shape would be skipped" in message and "pass --shape" in message, message
    assert extract_main([str(tmp_path / "data"), "--out", str(out), *ARGS_2D, "--skip-bad", "--shape", "16,16"]) == 0
    skipped = json.loads(out.with_suffix(".json").read_text())["skipped"]
    assert {Path(entry["path"]).name: entry["problem"] for entry in skipped} == {
        "a_empty.npy": "holds empty signals (shape (0, 16))",
        "a_small.npy": "shape (8, 8) does not match the expected (16, 16) (see --shape)",
    }
    assert np.load(out).shape[0] == 3


@pytest.mark.parametrize(
    "values",
    [
        np.ones((16, 16), np.complex64),
        np.ones((16, 16), "m8[s]"),  # NumPy counts timedelta64 as an integer type
        np.ones((16, 16), "M8[s]"),
        np.full((16, 16), "a"),
    ],
    ids=lambda values: str(values.dtype),
)
def test_values_that_are_not_real_numbers_are_refused(tmp_path, capsys, values):
    _images(tmp_path / "data", 1, 5)
    np.save(tmp_path / "data" / "odd.npy", values)
    out = tmp_path / "features.npy"
    assert extract_main([str(tmp_path / "data"), "--out", str(out), *ARGS_2D]) == 2
    assert f"odd.npy: holds {values.dtype} values; expected real numbers" in capsys.readouterr().err
    assert extract_main([str(tmp_path / "data"), "--out", str(out), *ARGS_2D, "--skip-bad"]) == 0
    assert np.load(out).shape[0] == 1


@pytest.mark.parametrize("soundfile_installed", [False, True])
def test_a_truncated_wav_is_a_bad_input_named_and_skippable(tmp_path, capsys, monkeypatch, soundfile_installed):
    if soundfile_installed:
        pytest.importorskip("soundfile")  # libsndfile alone returns a cut file's samples without a word
    else:
        monkeypatch.setitem(sys.modules, "soundfile", None)
    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(6)
    for name in ("a.wav", "b.wav"):
        wavfile.write(str(data / name), 8000, np.round(rng.uniform(-1, 1, 512) * 3000).astype(np.int16))
    whole = (data / "b.wav").read_bytes()
    (data / "b.wav").write_bytes(whole[: len(whole) - 200])  # a copy cut short: 412 of 512 samples
    with pytest.raises(ValueError, match="b.wav: truncated WAV: .*prematurely"):
        read(data / "b.wav")
    assert read(data / "a.wav")[0].shape == (512,)
    out = tmp_path / "features.npy"
    args = [str(data), "--out", str(out), "--dim", "1", "--J", "3", "--frame-length", "128", "--quiet"]
    assert extract_main(args) == 2
    message = capsys.readouterr().err
    assert "b.wav: truncated WAV" in message and "Traceback" not in message, message
    assert extract_main([*args, "--skip-bad"]) == 0
    assert np.load(out).shape[0] == 4  # a.wav's 4 frames; b.wav skipped, not read in part
    skipped = json.loads(out.with_suffix(".json").read_text())["skipped"]
    assert [Path(entry["path"]).name for entry in skipped] == ["b.wav"]


def test_an_animated_or_multi_page_image_is_a_bad_input(tmp_path, capsys):
    image_module = pytest.importorskip("PIL.Image")
    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(7)
    frames = [image_module.fromarray((rng.uniform(0, 1, (16, 16)) * 255).astype(np.uint8)) for _ in range(3)]
    frames[0].save(data / "still.png")
    frames[0].save(data / "moving.gif", save_all=True, append_images=frames[1:])
    frames[0].save(data / "pages.tif", save_all=True, append_images=frames[1:])
    with pytest.raises(ValueError, match="moving.gif: holds 3 frames"):
        read(data / "moving.gif")
    out = tmp_path / "features.npy"
    assert extract_main([str(data), "--out", str(out), *ARGS_2D]) == 2
    assert "holds 3 frames (an animation or a multi-page image)" in capsys.readouterr().err
    assert extract_main([str(data), "--out", str(out), *ARGS_2D, "--skip-bad"]) == 0
    assert np.load(out).shape[0] == 1
    np.testing.assert_allclose(read(data / "still.png")[0], np.asarray(frames[0], np.float32) / 255.0)


def test_a_value_just_above_the_bound_is_shown_above_it(tmp_path, capsys):
    # The bound used to be rounded up (2 digits) and the value (3 digits) could read as smaller.
    limit = extract_module._largest_safe_value(256)
    _images(tmp_path / "data", 1, 7)
    np.save(tmp_path / "data" / "large.npy", np.full((16, 16), limit * 1.0001))
    assert extract_main([str(tmp_path / "data"), "--out", str(tmp_path / "f.npy"), *ARGS_2D]) == 2
    message = capsys.readouterr().err
    shown_value = float(message.split("has values up to ")[1].split(",")[0])
    shown_bound = float(message.split("(at most ")[1].split(":")[0])
    assert shown_bound <= limit and shown_bound < shown_value, message


def test_a_decoder_naming_its_memory_buffer_gives_the_same_message_every_run(tmp_path, monkeypatch):
    # soundfile says "Error opening <_io.BytesIO object at 0x7f...>": an address in a --skip-bad sidecar
    # would differ from run to run.
    def failing_decoder(path, raw):
        import io

        raise RuntimeError(f"Error opening {io.BytesIO(raw)!r}: Format not recognised.")

    monkeypatch.setattr(files_io, "_decode_audio", failing_decoder)
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(files_io.BadInput) as caught:
        files_io.load(tmp_path / "empty.wav")
    expected = "cannot read: RuntimeError: Error opening the file: Format not recognised."
    assert str(caught.value).endswith(expected), caught.value


def test_a_touched_input_with_the_same_bytes_resumes(tmp_path, capsys, monkeypatch):
    # A new mtime alone (touch, a checkout rewriting the same bytes) used to refuse the resume as a
    # different configuration, leaving only --overwrite, which threw the finished rows away.
    _images(tmp_path / "data", 5, 4)
    reference = tmp_path / "reference.npy"
    assert extract_main([str(tmp_path / "data"), "--out", str(reference), *ARGS_2D]) == 0
    write, starts = files_io.NpyRows.write, []

    def interrupted_write(rows, start, block):
        starts.append(start)
        if len(starts) == 2:
            for name in ("image0.npy", "image4.npy"):  # one read already, one not yet
                os.utime(tmp_path / "data" / name, ns=(10**18, 10**18))
            raise KeyboardInterrupt
        return write(rows, start, block)

    monkeypatch.setattr(files_io.NpyRows, "write", interrupted_write)
    out = tmp_path / "features.npy"
    assert extract_main([str(tmp_path / "data"), "--out", str(out), *ARGS_2D]) == 130
    monkeypatch.undo()
    capsys.readouterr()
    assert extract_main([str(tmp_path / "data"), "--out", str(out), *ARGS_2D]) == 0
    message = capsys.readouterr().err
    assert "2 input file(s) have a new modification time but the same bytes" in message, message
    assert out.read_bytes() == reference.read_bytes()
    # New bytes of the same size are still a change: refused, naming the file.
    np.save(tmp_path / "data" / "image4.npy", np.zeros((16, 16), np.float32))
    assert extract_main([str(tmp_path / "data"), "--out", str(out), *ARGS_2D]) == 2
    message = capsys.readouterr().err
    assert "inputs changed since the run started" in message and "image4.npy" in message, message
