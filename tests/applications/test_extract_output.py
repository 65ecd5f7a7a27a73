"""``scatterjax extract``'s output under a hostile machine: locks, full disks, kills, truncation.

2D items throughout: the 2D transform is bit-stable, so byte-identity is a fair test of resuming.
"""

from __future__ import annotations

import collections
import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import scatterjax._applications.extract as extract_module  # only to set how often progress is saved
import scatterjax._applications.io as files_io  # only to interrupt a write
from scatterjax.extract import main as extract_main

ITEMS = 12
ARGS = ["--dim", "2", "--J", "2", "--L", "2", "--batch-size", "2", "--quiet"]  # 6 batches of 2 images


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(3)
    for i in range(4):
        np.save(folder / f"images{i}.npy", rng.standard_normal((3, 16, 16)).astype(np.float32))
    return folder


@pytest.fixture(scope="module")
def reference(images, tmp_path_factory) -> Path:
    """An uninterrupted run."""
    out = tmp_path_factory.mktemp("reference") / "features.npy"
    assert extract_main([str(images), "--out", str(out), *ARGS]) == 0
    return out


def _leftovers(folder: Path) -> list[str]:
    """Temporary files (ours are hidden ``.name.tmpPID``) and lock files left in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if ".tmp" in p.name or p.name.endswith(".lock"))


def _progress(out: Path) -> dict:
    return json.loads(out.with_suffix(".json").read_text())["progress"]


@pytest.fixture
def saves_after_every_batch(monkeypatch):
    """The progress saved after every batch (by default, at most once a second)."""
    monkeypatch.setattr(extract_module, "PROGRESS_INTERVAL_S", 0.0)
    monkeypatch.setattr(extract_module, "PROGRESS_MAX_SHARE", float("inf"))


def test_rows_are_the_transform_and_checksums_cover_them(images, reference):
    import scatterjax

    features = np.load(reference)
    x = np.concatenate([np.load(images / f"images{i}.npy") for i in range(4)])
    np.testing.assert_allclose(features, np.asarray(scatterjax.Scattering2D(J=2, shape=(16, 16), L=2)(x)), atol=1e-6)
    progress = _progress(reference)
    assert progress["items_done"] == ITEMS and progress["complete"] and len(progress["crc32"]) == 6
    assert _leftovers(reference.parent) == []  # the lock file goes with the run


def test_lock_names_the_holder_then_kill_and_resume_is_byte_identical(images, reference, tmp_path, capsys):
    out = tmp_path / "features.npy"
    env = dict(os.environ, _SCATTERJAX_EXTRACT_SLEEP="0.4", JAX_PLATFORMS="cpu")
    command = [sys.executable, "-m", "scatterjax", "extract", str(images), "--out", str(out), *ARGS]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            if out.with_suffix(".json").exists() and _progress(out)["items_done"] >= 2:
                break
            time.sleep(0.05)
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        # A second run, same or different settings (even --overwrite), is refused while the first holds the lock.
        for extra in ([], ["--overwrite", "--L", "3"]):
            assert extract_main([str(images), "--out", str(out), *ARGS, *extra]) == 75
            message = capsys.readouterr().err
            assert f"pid {process.pid} on host {socket.gethostname()}, started " in message, message
            assert "another extraction" in message and "Traceback" not in message
        assert json.loads(out.with_suffix(".json").read_text())["config"]["transform"]["L"] == 2
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    progress = _progress(out)
    assert 2 <= progress["items_done"] < ITEMS and not progress["complete"]
    assert (tmp_path / "features.npy.lock").exists()  # a killed holder leaves its file, but not its flock
    for stale in (".features.npy.tmp99999", ".features.json.tmp99999"):  # as a kill mid-creation would leave
        (tmp_path / stale).write_bytes(b"partial")

    assert extract_main([str(images), "--out", str(out), *ARGS]) == 0
    assert _progress(out)["complete"]
    assert out.read_bytes() == reference.read_bytes()
    assert _leftovers(tmp_path) == []


# The command as a script runs it, with Python's own SIGINT handler even when these tests run as a
# background job (which starts with SIGINT ignored, and a child keeps that).
_CLI = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from scatterjax._applications.cli import main; sys.exit(main())"
)


def _start_slow_run(images: Path, out: Path, seconds_per_batch: float) -> subprocess.Popen:
    env = dict(os.environ, _SCATTERJAX_EXTRACT_SLEEP=str(seconds_per_batch), JAX_PLATFORMS="cpu")
    command = [sys.executable, "-c", _CLI, "extract", str(images), "--out", str(out), *ARGS]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _wait_for_rows(process: subprocess.Popen, out: Path, items: int) -> None:
    """Until the sidecar of the running ``process`` says ``items`` rows are done."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        if out.with_suffix(".json").exists() and _progress(out)["items_done"] >= items:
            return
        time.sleep(0.02)
    assert process.poll() is None, process.stderr.read()[-2000:]
    raise AssertionError(f"no progress to {items} rows in 90 s")


def test_other_names_of_a_busy_output_are_refused_and_a_removed_lock_stops_its_holder(
    images, reference, tmp_path, capsys
):
    out = tmp_path / "features.npy"
    process = _start_slow_run(images, out, 0.5)
    named = f"pid {process.pid}" if Path("/proc/locks").exists() else "another extraction"
    try:
        _wait_for_rows(process, out, 2)
        (tmp_path / "link.npy").symlink_to(out.name)
        for name in ("hard.npy", "hard.json"):
            os.link(out.with_name(name.replace("hard", "features")), tmp_path / name)
        for alias in ("link.npy", "hard.npy"):
            assert extract_main([str(images), "--out", str(tmp_path / alias), *ARGS]) == 75
            message = capsys.readouterr().err
            assert f"pid {process.pid} on host" in message if alias == "link.npy" else named in message, message
        (tmp_path / "features.npy.lock").unlink()
        # A run that starts now takes a new lock file, but not the output file, which the first run holds.
        assert extract_main([str(images), "--out", str(out), *ARGS]) == 75
        assert named in capsys.readouterr().err
        _, message = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 75, message
    assert "features.npy.lock was removed" in message and "another run may be writing" in message, message
    assert _progress(out)["items_done"] < ITEMS
    assert extract_main([str(images), "--out", str(out), *ARGS]) == 0
    assert out.read_bytes() == reference.read_bytes()


@pytest.mark.parametrize(
    "signal_number, after_items, code",
    [(signal.SIGINT, 0, 130), (signal.SIGTERM, 2, 143)],
    ids=["SIGINT during the first batch's compile", "SIGTERM after two rows"],
)
def test_a_signal_stops_after_the_current_batch_and_the_rerun_resumes(
    images, reference, tmp_path, signal_number, after_items, code
):
    out = tmp_path / "features.npy"
    process = _start_slow_run(images, out, 0.4)
    try:
        _wait_for_rows(process, out, after_items)
        process.send_signal(signal_number)
        _, message = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == code, message
    assert "stopping after the current batch (press Ctrl-C again to stop now)" in message, message
    assert "interrupted; rerun the same command to resume." in message and "Traceback" not in message, message
    assert _progress(out)["items_done"] < ITEMS
    assert extract_main([str(images), "--out", str(out), *ARGS]) == 0
    assert out.read_bytes() == reference.read_bytes()


def test_interrupted_overwrite_says_to_resume_without_it(images, reference, tmp_path, capsys, monkeypatch):
    out = tmp_path / "features.npy"
    handler = signal.getsignal(signal.SIGINT)
    _recorded_writes(monkeypatch, interrupt_at=2)
    assert extract_main([str(images), "--out", str(out), *ARGS, "--overwrite"]) == 130
    assert "interrupted; rerun without --overwrite to resume." in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is handler  # the extraction's own handler is gone
    monkeypatch.undo()
    assert extract_main([str(images), "--out", str(out), *ARGS]) == 0
    assert "recomputing" not in capsys.readouterr().err
    assert out.read_bytes() == reference.read_bytes()


def _fake_disk_usage(free: int):
    usage = collections.namedtuple("usage", "total used free")

    def disk_usage(path):
        return usage(total=10**9, used=10**9 - free, free=free)

    return disk_usage


@pytest.mark.parametrize("where", ["free space check", "preallocation"])
def test_full_disk_at_start_leaves_nothing(images, tmp_path, capsys, monkeypatch, where):
    out = tmp_path / "features.npy"
    if where == "free space check":
        monkeypatch.setattr(shutil, "disk_usage", _fake_disk_usage(1000))
    else:

        def posix_fallocate(fd, offset, length):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(os, "posix_fallocate", posix_fallocate)
    assert extract_main([str(images), "--out", str(out), *ARGS]) == 74
    message = capsys.readouterr().err
    assert "disk full" in message and "Traceback" not in message and len(message.strip().splitlines()) == 1
    if where == "free space check":
        assert "needs" in message and "1000 bytes are free" in message, message
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("failing", ["rows", "sidecar"])
def test_full_disk_mid_run_keeps_a_resumable_state(
    images, reference, tmp_path, capsys, monkeypatch, failing, saves_after_every_batch
):
    out = tmp_path / "features.npy"
    calls = []
    if failing == "rows":
        real = os.fdatasync

        def fdatasync(fd):
            calls.append(fd)
            if len(calls) == 3:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real(fd)

        monkeypatch.setattr(os, "fdatasync", fdatasync)
    else:
        real = os.replace

        def replace(source, target):
            if str(target).endswith(".json"):
                calls.append(target)
                if len(calls) == 4:  # the creation, then batches 1 and 2 succeed
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(source))
            return real(source, target)

        monkeypatch.setattr(os, "replace", replace)
    assert extract_main([str(images), "--out", str(out), *ARGS]) == 74
    message = capsys.readouterr().err
    assert "disk full" in message and "rerun the same command" in message and "Traceback" not in message
    assert _progress(out)["items_done"] == 4 and len(_progress(out)["crc32"]) == 2
    assert _leftovers(tmp_path) == []
    assert out.stat().st_blocks * 512 >= out.stat().st_size  # rows not yet written are reserved, not a sparse hole
    monkeypatch.undo()
    assert extract_main([str(images), "--out", str(out), *ARGS]) == 0
    assert out.read_bytes() == reference.read_bytes()


def _copy(reference: Path, out: Path) -> None:
    out.write_bytes(reference.read_bytes())
    out.with_suffix(".json").write_text(reference.with_suffix(".json").read_text())


@pytest.mark.parametrize("damage", ["truncated", "zeroed rows", "truncated inside a batch"])
def test_damaged_output_is_recomputed_not_resumed(images, reference, tmp_path, capsys, damage):
    out = tmp_path / "features.npy"
    _copy(reference, out)
    size = out.stat().st_size
    row_bytes = (size - 128) // ITEMS
    if damage == "truncated":  # to 5 rows: rows 4 on (batches 3 to 6) are gone
        os.truncate(out, 128 + 5 * row_bytes)
    elif damage == "truncated inside a batch":
        os.truncate(out, size - row_bytes // 2)
    else:  # rows 6 and 7 (batch 4) zero-filled: a resume that trusted the sidecar would keep them
        with open(out, "r+b") as handle:
            handle.seek(128 + 6 * row_bytes)
            handle.write(bytes(2 * row_bytes))
    assert extract_main([str(images), "--out", str(out), *ARGS]) == 0
    message = capsys.readouterr().err
    expected = {"truncated": "recomputing rows 4 to 12", "zeroed rows": "rows from 6 do not match"}
    assert expected.get(damage, "recomputing rows 10 to 12") in message, message
    assert out.read_bytes() == reference.read_bytes()


def test_output_of_another_shape_is_refused(images, reference, tmp_path, capsys):
    out = tmp_path / "features.npy"
    _copy(reference, out)
    np.save(out, np.zeros((ITEMS, 3), np.float32))
    assert extract_main([str(images), "--out", str(out), *ARGS]) == 2
    message = capsys.readouterr().err
    assert "(12, 3) float32" in message and "its sidecar describes" in message and "--overwrite" in message


def test_unwritable_output_is_one_line_and_an_exit_code(images, tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert extract_main([str(images), "--out", str(blocker / "features.npy"), *ARGS]) == 74
    message = capsys.readouterr().err
    assert str(blocker) in message and "Traceback" not in message and len(message.strip().splitlines()) == 1

    # A folder we may not write to (simulated: the tests may run as root, which ignores permissions).
    real = os.open

    def refusing_open(path, flags, *rest, **kwargs):
        if str(path).startswith(str(tmp_path / "readonly")) and flags & (os.O_WRONLY | os.O_RDWR):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real(path, flags, *rest, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    out = tmp_path / "readonly" / "features.npy"
    assert extract_main([str(images), "--out", str(out), *ARGS]) == 74
    message = capsys.readouterr().err
    assert "Permission denied" in message and "choose another --out" in message and "Traceback" not in message
    assert sorted(p.name for p in (tmp_path / "readonly").iterdir()) == []


@pytest.mark.parametrize("failure", ["file size limit", "too small a disk", "sidecar write"])
def test_os_errors_name_the_file(images, tmp_path, capsys, monkeypatch, failure):
    out = tmp_path / "features.npy"
    if failure == "file size limit":  # as under `ulimit -f`: the reservation fails, naming no file

        def posix_fallocate(fd, offset, length):
            raise OSError(errno.EFBIG, os.strerror(errno.EFBIG))

        monkeypatch.setattr(os, "posix_fallocate", posix_fallocate)
        expected = f"{out}: File too large (a limit on file sizes: see 'ulimit -f'"
    elif failure == "too small a disk":
        monkeypatch.setattr(shutil, "disk_usage", _fake_disk_usage(1000))
        expected = f"the output {out} needs"
    else:
        real = os.replace

        def replace(source, target):
            if str(target).endswith(".json"):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real(source, target)

        monkeypatch.setattr(os, "replace", replace)
        expected = f"{out.with_suffix('.json')}: No space left on device (disk full"
    assert extract_main([str(images), "--out", str(out), *ARGS]) == 74
    message = capsys.readouterr().err
    assert expected in message and ".tmp" not in message, message


@pytest.mark.parametrize("state", ["complete", "5 of 6 batches done"])
def test_damage_in_the_oldest_batch_is_recomputed(images, reference, tmp_path, capsys, state):
    out = tmp_path / "features.npy"
    _copy(reference, out)
    if state != "complete":
        side = out.with_suffix(".json")
        sidecar = json.loads(side.read_text())
        sidecar["progress"] = {"items_done": 10, "complete": False, "crc32": sidecar["progress"]["crc32"][:5]}
        side.write_text(json.dumps(sidecar))
    with open(out, "r+b") as handle:  # one byte of row 0
        handle.seek(128 + 100)
        handle.write(b"\xff")
    assert extract_main([str(images), "--out", str(out), *ARGS]) == 0
    assert "rows from 0 do not match their recorded checksums" in capsys.readouterr().err
    assert out.read_bytes() == reference.read_bytes()


@pytest.mark.parametrize(
    "damage, problem",
    [
        ("progress", "'progress' is missing"),
        ("files", "'files' is missing"),
        ("item_shape", "'item_shape' is missing"),
        ("output", "'output' is missing"),
        ("config", "'config' is missing"),
        ("crc32 a number", "'progress' 'crc32' is 5, not a list of CRC-32 values"),
        ("crc32 too long", "'progress' 'crc32' holds 16 checksums, but the output has only 6 batches"),
        ("a list", "it holds [1, 2], not a JSON object"),
        ("null", "it holds null, not a JSON object"),
    ],
)
def test_damaged_sidecar_is_refused_naming_it(images, reference, tmp_path, capsys, damage, problem):
    out = tmp_path / "features.npy"
    _copy(reference, out)
    side = out.with_suffix(".json")
    sidecar = json.loads(side.read_text())
    if damage in sidecar:
        del sidecar[damage]
    elif damage == "crc32 a number":
        sidecar["progress"]["crc32"] = 5
    elif damage == "crc32 too long":
        sidecar["progress"]["crc32"] += [0] * 10
    else:
        sidecar = [1, 2] if damage == "a list" else None
    side.write_text(json.dumps(sidecar))
    before = out.read_bytes()
    assert extract_main([str(images), "--out", str(out), *ARGS]) == 2
    message = capsys.readouterr().err
    assert f"{side}: damaged sidecar: {problem}; pass --overwrite" in message and "Traceback" not in message, message
    assert out.read_bytes() == before


def _swap_two_files(sidecar):
    first, second = sidecar["files"][2], sidecar["files"][3]
    for key in ("path", "sha256"):
        first[key], second[key] = second[key], first[key]


@pytest.mark.parametrize(
    "damage, problem",
    [
        # None of these was refused before: each filled rows from the wrong file, left the sidecar wrong
        # with exit 0, or raised a traceback.
        (_swap_two_files, "'files' entry 3 ('{images}/images2.npy') is not the next of the configuration's inputs"),
        (lambda s: s["files"][2].update(frames=-1), "'files' entry 2 ('{images}/images2.npy') holds 3 items of 3 "
                                                    "signals x -1 frames"),
        (lambda s: s["files"][2].update(first_item=7), "'files' entry 2 ('{images}/images2.npy') starts at item 7, "
                                                       "not 6"),
        (lambda s: s["files"].pop(1), "'files' entry 1 ('{images}/images2.npy') starts at item 6, not 3"),
        (lambda s: s["files"][3].update(path="elsewhere.npy"), "'files' entry 3 ('elsewhere.npy') is not the next"),
        (lambda s: s["files"][3].update(items=4, signals=4), "'files' holds 13 items, but the output has 12 rows"),
        (lambda s: s.update(files=[]), "'files' is empty"),
        (lambda s: s.update(item_shape=[16]), "'item_shape' [16] does not fit --dim 2"),
        (lambda s: s.pop("meta"), "'meta' is missing"),
        # Consistent on its face, contradicted by the file when it is read for the next batch.
        (lambda s: s.update(item_shape=[16, 8]), "its entry for {images}/images2.npy counts 3 signal(s) of 1 "
                                                 "frame(s), but the file holds 3 of 0 (items of shape (16, 8))"),
    ],
)
def test_damaged_files_table_is_refused_not_followed(images, reference, tmp_path, capsys, damage, problem):
    out = tmp_path / "features.npy"
    _copy(reference, out)
    side = out.with_suffix(".json")
    sidecar = json.loads(side.read_text())
    sidecar["progress"] = {"items_done": 6, "complete": False, "crc32": sidecar["progress"]["crc32"][:3]}
    damage(sidecar)
    side.write_text(json.dumps(sidecar))
    assert extract_main([str(images), "--out", str(out), *ARGS]) == 2
    message = capsys.readouterr().err
    assert problem.format(images=images) in message and "Traceback" not in message, message
    assert "damaged sidecar" in message and "pass --overwrite" in message, message
    assert np.array_equal(np.load(out)[:6], np.load(reference)[:6])  # the finished rows are untouched


def test_a_link_at_the_lock_files_name_is_refused_and_its_target_kept(images, tmp_path, capsys):
    # Opening the lock through a link would truncate and rewrite the link's target.
    precious = tmp_path / "precious.txt"
    precious.write_text("precious data")
    out = tmp_path / "features.npy"
    os.symlink(precious, tmp_path / "features.npy.lock")
    assert extract_main([str(images), "--out", str(out), *ARGS]) == 74
    message = capsys.readouterr().err
    assert "features.npy.lock: the lock file is a symbolic link (lock files never are); remove it" in message
    assert precious.read_text() == "precious data" and not out.exists()


def test_a_batch_size_beyond_the_item_count_computes_only_the_items(images, reference, tmp_path, monkeypatch):
    # Every batch is padded to one size (one compiled program), but never beyond the item count:
    # --batch-size 10**9 for 12 images once tried to allocate 10**9 images.
    from scatterjax._core import sharding

    padded = []
    real_shard_batch = sharding.shard_batch

    def recording_shard_batch(items, mesh, *, pad_to):
        padded.append(pad_to)
        return real_shard_batch(items, mesh, pad_to=pad_to)

    monkeypatch.setattr(sharding, "shard_batch", recording_shard_batch)
    out = tmp_path / "features.npy"
    args = [*ARGS[: ARGS.index("--batch-size")], "--batch-size", "1000000000", "--quiet"]
    assert extract_main([str(images), "--out", str(out), *args]) == 0
    assert padded == [12]
    assert np.array_equal(np.load(out), np.load(reference))  # the same bits as batches of 2


def test_out_of_memory_is_one_line_and_an_exit_code(images, tmp_path, capsys, monkeypatch):
    from scatterjax._core import sharding

    def no_memory(items, mesh, *, pad_to):
        raise MemoryError(f"Unable to allocate 954. GiB for an array with shape ({pad_to}, 16, 16)")

    monkeypatch.setattr(sharding, "shard_batch", no_memory)
    assert extract_main([str(images), "--out", str(tmp_path / "features.npy"), *ARGS]) == 74
    message = capsys.readouterr().err
    assert "error: out of memory (Unable to allocate 954. GiB" in message and "use a smaller --batch-size" in message
    assert "Traceback" not in message


def test_an_output_name_held_by_a_folder_is_refused_before_anything_is_written(images, tmp_path, capsys):
    (tmp_path / "features.npy").mkdir()
    for extra in ([], ["--overwrite"]):
        assert extract_main([str(images), "--out", str(tmp_path / "features.npy"), *ARGS, *extra]) == 2
        assert "exists and is not a regular file (a folder?)" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["features.npy"]  # no sidecar, no lock


def _recorded_writes(monkeypatch, interrupt_at: int | None = None) -> list:
    """The first row of every batch written from now on, in a list; with ``interrupt_at``, that
    write (counted from 1) raises ``KeyboardInterrupt`` instead, as a Ctrl-C there would."""
    write, starts = files_io.NpyRows.write, []

    def recorded_write(rows, start, block):
        starts.append(start)
        if len(starts) == interrupt_at:
            raise KeyboardInterrupt
        return write(rows, start, block)

    monkeypatch.setattr(files_io.NpyRows, "write", recorded_write)
    return starts


def _counting_sidecar_saves(monkeypatch) -> list:
    """A list that gets one entry per write of a sidecar from now on."""
    saves, write = [], extract_module.write_json_atomic

    def counted(path, content):
        saves.append(path)
        write(path, content)

    monkeypatch.setattr(extract_module, "write_json_atomic", counted)
    return saves


def test_progress_is_saved_at_most_once_a_second_and_when_the_run_stops(
    images, reference, tmp_path, monkeypatch, capsys
):
    # The sidecar holds the whole files table: rewritten after each of thousands of batches, it
    # cost more than the batches. Here 6 batches take well under a second: one save at the creation,
    # one at the end.
    out = tmp_path / "features.npy"
    saves = _counting_sidecar_saves(monkeypatch)
    assert extract_main([str(images), "--out", str(out), *ARGS]) == 0
    assert len(saves) == 2 and out.read_bytes() == reference.read_bytes()
    assert _progress(out) == _progress(reference)
    # A run that stops (here Ctrl-C at the 4th batch's write) records the 3 batches written before.
    out.unlink()
    out.with_suffix(".json").unlink()
    _recorded_writes(monkeypatch, interrupt_at=4)
    assert extract_main([str(images), "--out", str(out), *ARGS]) == 130
    capsys.readouterr()
    assert _progress(out)["items_done"] == 6 and len(_progress(out)["crc32"]) == 3
    monkeypatch.undo()
    starts = _recorded_writes(monkeypatch)
    assert extract_main([str(images), "--out", str(out), *ARGS]) == 0
    assert starts == [6, 8, 10]  # resumed after the recorded batches
    assert out.read_bytes() == reference.read_bytes()


@pytest.mark.parametrize("how", ["removed", "replaced"])
def test_an_output_removed_or_replaced_during_the_run_is_an_error_not_a_success(
    images, reference, tmp_path, monkeypatch, capsys, how
):
    out = tmp_path / "features.npy"
    shutil.copy(reference, tmp_path / "other.npy")
    write, starts = files_io.NpyRows.write, []

    def write_then_lose_the_output(rows, start, block):
        starts.append(start)
        if len(starts) == 2:
            if how == "removed":
                out.unlink()
            else:
                os.replace(tmp_path / "other.npy", out)  # another file at the output's path
        return write(rows, start, block)

    monkeypatch.setattr(files_io.NpyRows, "write", write_then_lose_the_output)
    assert extract_main([str(images), "--out", str(out), *ARGS]) == 2
    message = capsys.readouterr().err
    assert f"{out} was removed or replaced during the run" in message and "rerun the same command" in message, message
    assert "Traceback" not in message
    monkeypatch.undo()
    assert extract_main([str(images), "--out", str(out), *ARGS]) == 0
    assert out.read_bytes() == reference.read_bytes()


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
@pytest.mark.parametrize("content", ['{"mine": 1}', "not json", '{"config": {}}'])
def test_a_json_that_is_not_a_sidecar_is_never_replaced(images, tmp_path, capsys, overwrite, content):
    out = tmp_path / "settings.npy"
    (tmp_path / "settings.json").write_text(content)
    assert extract_main([str(images), "--out", str(out), *ARGS, *overwrite]) == 2
    message = capsys.readouterr().err
    assert "settings.json exists and is not the sidecar of an extraction" in message, message
    assert "choose another --out" in message and "--overwrite" not in message.split("error:")[1], message
    assert (tmp_path / "settings.json").read_text() == content
    assert not out.exists() and _leftovers(tmp_path) == []


def test_a_run_that_lost_its_lock_records_nothing_more(images, tmp_path, monkeypatch, capsys):
    # Stopping on a lost lock, the run must not save its progress: another run may own the output.
    out = tmp_path / "features.npy"
    monkeypatch.setattr(extract_module, "PROGRESS_INTERVAL_S", 3600.0)  # no save before the end
    saves = _counting_sidecar_saves(monkeypatch)
    check_held, checks = files_io.OutputLock.check_held, []

    def lost_at_the_third_batch(lock):  # from the third batch's check on, as a removed lock file is
        checks.append(1)
        if len(checks) >= 3:
            raise files_io.LockLost("the lock file was removed")
        return check_held(lock)

    monkeypatch.setattr(files_io.OutputLock, "check_held", lost_at_the_third_batch)
    assert extract_main([str(images), "--out", str(out), *ARGS]) == 75
    assert "the lock file was removed" in capsys.readouterr().err
    assert len(saves) == 1  # the creation only: not the two batches written before the loss
    assert _progress(out)["items_done"] == 0
