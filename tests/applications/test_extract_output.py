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
def test_full_disk_mid_run_keeps_a_resumable_state(images, reference, tmp_path, capsys, monkeypatch, failing):
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
