"""The extractor's files: readers for its inputs, the lock and the preallocated rows of its output.

Inputs are NumPy arrays, audio (wav/flac) and images, read as float arrays.

:func:`load` reads a file's bytes once, hashes them (SHA-256) and decodes the same bytes, so the
extractor can tell whether a file changed between two reads of it. :func:`read` returns only
``(array, sample_rate)``; ``sample_rate`` is ``None`` except for audio. Failures raise
:class:`BadInput` naming the file and the problem.

Audio is read with soundfile (extra ``scatterjax[audio]``) when installed, else WAV with
``scipy.io.wavfile`` (integer PCM of 8 to 64 bits and float WAV; FLAC needs soundfile); images with
Pillow (extra ``scatterjax[images]``). Integer PCM is scaled to [-1, 1) (``x / 2**(bits - 1)``,
8-bit: ``(x - 128) / 128``), float WAV keeps its values. Multi-channel audio is mixed down to mono
(the mean of the channels); colour images are converted to grayscale in [0, 1] (16-bit and float
images keep their values).

The output side never maps the file into memory: rows are written with ``os.pwrite`` into a file
whose blocks were reserved up front, so a full disk or a file truncated by someone else is an
``OSError`` (a message), never a SIGBUS.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import math
import os
import re
import shutil
import socket
import time
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ARRAY_SUFFIXES = (".npy", ".npz")
AUDIO_SUFFIXES = (".wav", ".flac")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".pgm", ".ppm", ".webp")
SUFFIXES = ARRAY_SUFFIXES + AUDIO_SUFFIXES + IMAGE_SUFFIXES


class BadInput(ValueError):
    """An input file that cannot be used; ``str()`` names the file and the problem."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


@dataclass(frozen=True)
class FileContents:
    """A decoded input file and the identity of the bytes it was decoded from.

    ``data``: the array (any shape, floating dtype); ``sample_rate``: Hz for audio, else ``None``;
    ``sha256``: hex digest of the file's bytes; ``size`` (bytes) and ``mtime_ns``: the file's
    ``stat`` taken before reading.
    """

    data: np.ndarray
    sample_rate: int | None
    sha256: str
    size: int
    mtime_ns: int


# --- listing ------------------------------------------------------------------------------------
def list_inputs(paths, notes: list[str] | None = None) -> list[Path]:
    """Expand files and folders (recursively, sorted) into the input files with a known suffix.

    Symbolic links to folders are followed; a folder reached a second time (a link back to an
    enclosing folder, or two links to one folder) is searched once, and a line saying so is appended
    to ``notes``. Links to files count as files; a broken link (or a link loop) with a known suffix
    is kept, so that reading it fails with a message naming it. Inside folders, only regular files
    are listed: a FIFO, socket or device (or a link to one) with a known suffix is left out with a
    note, since reading it could block or never end.

    Raises :class:`BadInput` for a path that does not exist, a folder that cannot be listed, a folder
    with no usable file, an explicitly named file with an unknown suffix, or an explicitly named
    path that is not a regular file (a FIFO, socket or device).
    """
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = _walk(path, notes if notes is not None else [])
            if not found:
                raise BadInput(path, f"folder holds no input file (looked for {', '.join(SUFFIXES)})")
            files.extend(found)
        elif path.is_file():
            if path.suffix.lower() not in SUFFIXES:
                raise BadInput(path, f"unknown file type {path.suffix!r}; expected one of {', '.join(SUFFIXES)}")
            files.append(path)
        elif path.is_symlink() and not path.exists():
            raise BadInput(path, f"broken symbolic link (to {os.readlink(path)!r})")
        elif path.exists():
            raise BadInput(path, "not a regular file (a FIFO, socket or device); pass files or folders")
        else:
            raise BadInput(path, "no such file or folder")
    return files


def _walk(folder: Path, notes: list[str]) -> list[Path]:
    # Path.rglob does not descend into linked folders before Python 3.13, so a folder of links to
    # datasets looked empty; walk by hand, following links, and remember each folder's identity
    # (device, inode) so that a link loop ends instead of recursing forever.
    found: list[Path] = []
    searched: dict[tuple[int, int], Path] = {}
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            stat = current.stat()
            with os.scandir(current) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as error:
            raise BadInput(current, f"cannot list folder: {error.strerror or error}") from error
        identity = (stat.st_dev, stat.st_ino)
        if identity in searched:
            notes.append(f"{current}: links to {searched[identity]}, a folder already searched; not read twice")
            continue
        searched[identity] = current
        subfolders = []
        for entry in entries:
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir()  # follows links
            except OSError:
                is_dir = False
            if is_dir:
                subfolders.append(path)
            elif path.suffix.lower() in SUFFIXES:
                if _regular_or_broken_link(entry):
                    found.append(path)
                else:
                    notes.append(f"{path}: not a regular file (a FIFO, socket or device); not read")
        pending.extend(reversed(subfolders))  # depth-first in name order: deterministic
    return sorted(found)


def _regular_or_broken_link(entry: os.DirEntry) -> bool:
    """Whether a folder entry is a regular file (links followed), or a link that leads nowhere (broken,
    or a loop): such a link is kept so that reading it fails with a message naming it."""
    try:
        return entry.is_file() or (entry.is_symlink() and not os.path.exists(entry.path))
    except OSError:
        return entry.is_symlink()


# --- reading ------------------------------------------------------------------------------------
def load(path, *, npz_key: str | None = None) -> FileContents:
    """Read, hash and decode one input file; see :class:`FileContents` and the module docstring."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise BadInput(path, f"unknown file type {suffix!r}")
    try:
        with open(path, "rb") as handle:
            stat = os.fstat(handle.fileno())
            raw = handle.read()
    except OSError as error:
        raise BadInput(path, f"cannot read: {error.strerror or error}") from error
    try:
        if suffix in ARRAY_SUFFIXES:
            data, rate = _decode_array(path, raw, npz_key), None
        elif suffix in AUDIO_SUFFIXES:
            data, rate = _decode_audio(path, raw)
        else:
            data, rate = _decode_image(path, raw), None
    except BadInput:
        raise
    except Exception as error:  # each decoder (NumPy, SciPy, soundfile, PIL) raises its own types
        # A decoder may name the in-memory buffer it was given (soundfile: "Error opening
        # <_io.BytesIO object at 0x7f...>"): an address that would differ from run to run in the
        # message and in a --skip-bad sidecar.
        detail = re.sub(r"<_io\.BytesIO object at 0x[0-9a-fA-F]+>", "the file", str(error))
        raise BadInput(path, f"cannot read: {type(error).__name__}: {detail}") from error
    if not np.issubdtype(data.dtype, np.floating):
        if data.dtype.kind in "iub":  # integers and booleans; not timedelta64, which NumPy calls an integer type
            data = data.astype(np.float64)
        else:
            raise BadInput(path, f"holds {data.dtype} values; expected real numbers")
    digest = hashlib.sha256(raw).hexdigest()
    return FileContents(data, rate, digest, stat.st_size, stat.st_mtime_ns)


def read(path, *, npz_key: str | None = None) -> tuple[np.ndarray, int | None]:
    """``(array, sample_rate)`` of one input file (see :func:`load`)."""
    contents = load(path, npz_key=npz_key)
    return contents.data, contents.sample_rate


def _decode_array(path: Path, raw: bytes, npz_key: str | None) -> np.ndarray:
    if path.suffix.lower() == ".npy":
        return np.load(io.BytesIO(raw), allow_pickle=False)
    with np.load(io.BytesIO(raw), allow_pickle=False) as archive:
        keys = list(archive.keys())
        if npz_key is not None:
            if npz_key not in keys:
                raise BadInput(path, f"has no array {npz_key!r} (it holds {keys})")
            return archive[npz_key]
        if len(keys) != 1:
            raise BadInput(path, f"holds {len(keys)} arrays {keys}; choose one with --npz-key")
        return archive[keys[0]]


def _decode_audio(path: Path, raw: bytes) -> tuple[np.ndarray, int]:
    try:
        import soundfile
    except ImportError:
        soundfile = None
    is_wav = path.suffix.lower() == ".wav"
    # WAV goes through SciPy first, which reports a file shorter than its header says (a copy cut
    # short, a full disk); libsndfile silently returns the samples that are there.
    decoded = _decode_wav(path, raw, fall_back=soundfile is not None) if is_wav else None
    if decoded is not None:
        return decoded
    if soundfile is None:
        raise BadInput(path, "reading FLAC needs soundfile: pip install 'scatterjax[audio]'")
    data, rate = soundfile.read(io.BytesIO(raw), dtype="float32", always_2d=True)
    return data.mean(axis=1) if data.shape[1] > 1 else data[:, 0], int(rate)


def _decode_wav(path: Path, raw: bytes, *, fall_back: bool) -> tuple[np.ndarray, int] | None:
    """Samples (mono float) and rate of a WAV file read by SciPy; ``None`` if SciPy cannot decode
    its format and ``fall_back`` (soundfile may). A truncated file is a :class:`BadInput`."""
    from scipy.io import wavfile

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", wavfile.WavFileWarning)
        try:
            rate, samples = wavfile.read(io.BytesIO(raw))
        except ValueError:
            if fall_back:  # a WAV encoding SciPy does not read (compressed, for one)
                return None
            raise
    for warning in caught:
        if "prematurely" in str(warning.message):  # "Reached EOF prematurely; finished at ..."
            raise BadInput(path, f"truncated WAV: {warning.message} (an interrupted copy or a full disk?)")
    if samples.dtype == np.uint8:  # 8-bit WAV is unsigned, centred on 128
        samples = (samples.astype(np.float32) - 128.0) / 128.0
    elif np.issubdtype(samples.dtype, np.signedinteger):
        # SciPy returns 24-bit PCM left-justified in int32, so every width scales by its container.
        bits = 8 * samples.dtype.itemsize
        samples = samples.astype(np.float32) * np.float32(2.0 ** -(bits - 1))
    elif not np.issubdtype(samples.dtype, np.floating):
        raise BadInput(path, f"unsupported WAV sample type {samples.dtype}")
    if samples.ndim == 2:
        samples = samples.mean(axis=1) if samples.shape[1] > 1 else samples[:, 0]
    return samples, int(rate)


def _decode_image(path: Path, raw: bytes) -> np.ndarray:
    try:
        from PIL import Image
    except ImportError as error:
        raise BadInput(path, "reading images needs Pillow: pip install 'scatterjax[images]'") from error
    with Image.open(io.BytesIO(raw)) as image:
        frames = getattr(image, "n_frames", 1)
        if frames > 1:  # reading the first frame alone would drop the rest without a word
            raise BadInput(
                path,
                f"holds {frames} frames (an animation or a multi-page image); save each frame you want as its own file",
            )
        if image.mode in ("I", "I;16", "I;16B", "F"):
            return np.asarray(image, dtype=np.float32)
        return np.asarray(image.convert("L"), dtype=np.float32) / 255.0


# --- the output: lock -----------------------------------------------------------------------------
try:
    import fcntl
except ImportError:  # Windows: no flock; the lock below is then advisory only in name
    fcntl = None


def path_names_open_file(path, fd: int) -> bool:
    """Whether ``path`` names the file open as ``fd``: ``False`` once someone removed, renamed or
    replaced it (the open file lives on under no name, or under another)."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


class OutputLocked(RuntimeError):
    """Another process holds the output's lock; ``str()`` says which one and what to do."""


class LockLost(OutputLocked):
    """The lock file was removed (or replaced) while this process held it; ``str()`` says which."""


class OutputLock:
    """An exclusive ``flock`` on ``lock_path``, which names its holder (pid, host, start time).

    The kernel drops a ``flock`` when its process dies (even by SIGKILL), so a lock is never stale;
    the file itself is removed on :meth:`release`. Because a second process may open the file just
    before the holder removes it, :meth:`acquire` checks after locking that the path still names the
    file it locked, and tries again otherwise; :meth:`check_held` tells a holder whose lock file was
    removed by someone else. :meth:`hold` also locks the output file itself: see there why.

    Example:
      >>> import tempfile, pathlib
      >>> path = pathlib.Path(tempfile.mkdtemp()) / "features.npy.lock"
      >>> with OutputLock(path):
      ...     path.exists()
      True
    """

    def __init__(self, lock_path):
        self.path = Path(lock_path)
        self.fd: int | None = None
        self.held_fd: int | None = None  # the output file's, see hold()

    def acquire(self) -> None:
        """Take the lock, or raise :class:`OutputLocked` naming the holder."""
        while True:
            try:
                # Not through a link: a link planted at the lock's name would have its target overwritten.
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
            except OSError as error:
                if error.errno == errno.ELOOP:
                    problem = "the lock file is a symbolic link (lock files never are); remove it"
                    raise OSError(errno.ELOOP, problem, str(self.path)) from error
                raise
            if fcntl is None:
                break
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = self._holder(fd)
                os.close(fd)
                raise OutputLocked(
                    f"{self.path.with_suffix('')} is being written by another extraction ({holder}); wait for it "
                    f"to finish or choose another --out (lock file {self.path})."
                ) from None
            except BaseException:
                os.close(fd)
                raise
            if self._names(fd):
                break
            os.close(fd)  # the previous holder removed the file we locked: lock the new one
        try:
            started = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime())
            holder = {"pid": os.getpid(), "host": socket.gethostname(), "started": started}
            os.ftruncate(fd, 0)
            _pwrite_all(fd, json.dumps(holder).encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd

    @staticmethod
    def _holder(fd: int) -> str:
        try:
            holder = json.loads(_pread(fd, 4096, 0).decode())
            return f"pid {holder['pid']} on host {holder['host']}, started {holder['started']}"
        except (OSError, ValueError, KeyError, TypeError):
            return "a process that has not written its details yet"

    def _names(self, fd: int) -> bool:
        """Whether ``path`` still names the file open as ``fd`` (nobody removed or replaced it)."""
        return path_names_open_file(self.path, fd)

    def check_held(self) -> None:
        """Raise :class:`LockLost` when ``path`` no longer names the file this lock holds.

        Someone removed the lock file: a run started since then may have taken a new one for the
        same output, so the holder must stop writing.
        """
        if self.fd is not None and not self._names(self.fd):
            raise LockLost(
                f"the lock file {self.path} was removed while this extraction held it, so another run may be "
                f"writing {self.path.with_suffix('')}; stopped before writing more"
            )

    def hold(self, output) -> None:
        """Also lock the file ``output`` (a new one replaces the last), or raise :class:`OutputLocked`.

        The lock file is found by name, but a hard link gives the same output file another name, hence
        another lock file; a ``flock`` belongs to the file itself (its inode), so locking the output too
        stops a run through another name (and a run whose lock file was removed). Call it on a new
        output before renaming it into place, so that it is never in place unlocked.
        """
        if fcntl is None:
            return
        try:
            fd = os.open(output, os.O_RDWR)  # NFS emulates flock with write locks: they need write access
        except PermissionError:  # a read-only file that --overwrite replaces
            fd = os.open(output, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _flock_holder(os.fstat(fd))
            os.close(fd)
            raise OutputLocked(
                f"{self.path.with_suffix('')} is being written by another extraction ({holder}), through another "
                "name of the same file (a hard link) or after its lock file was removed; wait for it to finish or "
                "choose another --out."
            ) from None
        except BaseException:
            os.close(fd)
            raise
        if self.held_fd is not None:
            os.close(self.held_fd)
        self.held_fd = fd

    def release(self) -> None:
        if self.held_fd is not None:
            os.close(self.held_fd)
            self.held_fd = None
        if self.fd is None:
            return
        try:
            if self._names(self.fd):  # else it is another run's now: leave it
                self.path.unlink(missing_ok=True)  # while still locked: nobody can be holding the file we remove
        finally:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> OutputLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _flock_holder(stat: os.stat_result) -> str:
    """``pid N`` of the process holding a ``flock`` on the file of ``stat``, from Linux's ``/proc/locks``."""
    # Lines read "1: FLOCK  ADVISORY  WRITE 1234 fe:00:5678 0 EOF" (pid, device:inode). Matched on the
    # inode only: some file systems (btrfs) report another device number to stat.
    try:
        with open("/proc/locks") as table:
            for line in table:
                fields = line.split()
                if len(fields) > 5 and fields[1] == "FLOCK" and fields[5].rsplit(":", 1)[-1] == str(stat.st_ino):
                    return f"pid {fields[4]}"
    except OSError:
        pass
    return "a process this system does not name"


# --- the output: preallocated .npy rows -----------------------------------------------------------
NPY_DTYPE = np.dtype("<f4")


def npy_header(shape: tuple[int, ...]) -> bytes:
    """The ``.npy`` header (format 1.0, C order) of a float32 array of ``shape``, as ``np.save`` writes it."""
    buffer = io.BytesIO()
    header = {"descr": np.lib.format.dtype_to_descr(NPY_DTYPE), "fortran_order": False, "shape": tuple(shape)}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def _pwrite_all(fd: int, data, offset: int) -> None:
    view = memoryview(data).cast("B")
    while view:
        if hasattr(os, "pwrite"):
            written = os.pwrite(fd, view, offset)
        else:  # Windows: one thread writes the output, so seek + write is as good
            os.lseek(fd, offset, os.SEEK_SET)
            written = os.write(fd, view)
        view, offset = view[written:], offset + written


def _pread(fd: int, length: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, length, offset)
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, length)


def _reserve(fd: int, offset: int, length: int) -> None:
    """Make bytes ``[offset, offset + length)`` of ``fd`` real zero-filled blocks (not a sparse hole)."""
    if length <= 0:
        return
    if hasattr(os, "posix_fallocate"):
        try:
            os.posix_fallocate(fd, offset, length)
            return
        except OSError as error:
            if error.errno not in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                raise  # ENOSPC above all: the caller reports it
    zeros = bytes(min(length, 1 << 23))
    end = offset + length
    while offset < end:
        count = min(len(zeros), end - offset)
        _pwrite_all(fd, zeros[:count], offset)
        offset += count


def check_free_space(folder, needed: int, what: str) -> None:
    """Raise ``OSError(ENOSPC)`` when ``folder``'s file system has fewer than ``needed`` bytes free."""
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise OSError(
            errno.ENOSPC,
            f"{what} needs {_size(needed)} but only {_size(free)} are free there; free some space or choose "
            "another --out",
            str(folder),
        )


def _size(count: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if count < 1024 or unit == "TiB":
            return f"{count} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError


def temporary_path(path: Path) -> Path:
    """A temporary name beside ``path`` owned by this process (hidden, removed on failure)."""
    return path.with_name(f".{path.name}.tmp{os.getpid()}")


def stands_for(path) -> Path:
    """The file a :func:`temporary_path` stands for (``path`` itself for any other name), for messages."""
    path = Path(os.fsdecode(path))
    match = re.fullmatch(r"\.(.+)\.tmp\d+", path.name)
    return path.with_name(match.group(1)) if match else path


def remove_stale_temporaries(path: Path) -> None:
    """Remove temporaries of ``path`` left by killed runs (call only while holding the output's lock)."""
    for stale in path.parent.glob(f".{path.name}.tmp*"):
        stale.unlink(missing_ok=True)


def fsync_folder(folder: Path) -> None:
    """Make a rename inside ``folder`` durable (no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def create_npy(path: Path, shape: tuple[int, ...]) -> None:
    """Create ``path``: a float32 ``.npy`` of ``shape`` whose data blocks are reserved and zero.

    Checks the free space first. Give a temporary ``path`` and rename it into place afterwards, so
    that the real name only ever holds a full-size file. On any error ``path`` is removed and the
    ``OSError`` propagates (``ENOSPC`` for a full disk).
    """
    header = npy_header(shape)
    total = len(header) + math.prod(shape) * NPY_DTYPE.itemsize
    check_free_space(path.parent, total, f"the output {stands_for(path)}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        _pwrite_all(fd, header, 0)
        _reserve(fd, len(header), total - len(header))
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    os.close(fd)


def sha256_of(path) -> str:
    """The SHA-256 of the bytes of the file ``path`` (hex), read in blocks."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


class NpyRows:
    """Rows of an existing float32 C-order ``.npy``, written and read with ``pwrite``/``pread``.

    ``NpyRows(path, shape)`` checks the header against ``shape`` and raises ``ValueError`` saying what
    differs; ``rows_present`` counts the whole rows the file holds (fewer than ``shape[0]`` when it
    was truncated). Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, path: Path, shape: tuple[int, ...]):
        self.path = Path(path)
        self.shape = tuple(shape)
        with open(self.path, "rb") as handle:
            try:
                version = np.lib.format.read_magic(handle)
                if version == (1, 0):
                    found_shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
                else:
                    found_shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
            except ValueError as error:
                raise ValueError(f"{self.path} is not a readable .npy file ({error})") from error
            self.offset = handle.tell()
        if tuple(found_shape) != self.shape or dtype != NPY_DTYPE or fortran:
            order = "Fortran" if fortran else "C"
            raise ValueError(
                f"{self.path} holds a {found_shape} {dtype} ({order} order) array, not the {self.shape} float32 "
                "(C order) its sidecar describes"
            )
        self.row_bytes = math.prod(self.shape[1:]) * NPY_DTYPE.itemsize
        self.size = os.stat(self.path).st_size
        self.expected_size = self.offset + self.shape[0] * self.row_bytes
        if self.size > self.expected_size:
            raise ValueError(
                f"{self.path} has {self.size} bytes, more than the {self.expected_size} of its {self.shape} float32 "
                "array"
            )
        self.rows_present = (self.size - self.offset) // self.row_bytes if self.row_bytes else self.shape[0]
        self.fd = os.open(self.path, os.O_RDWR)

    def restore_size(self) -> None:
        """Re-reserve the blocks a truncation removed (their rows read as zeros until rewritten)."""
        if self.size < self.expected_size:
            check_free_space(self.path.parent, self.expected_size - self.size, f"restoring {self.path}")
            _reserve(self.fd, self.size, self.expected_size - self.size)
            os.fsync(self.fd)
            self.size = self.expected_size

    def write(self, start: int, rows: np.ndarray) -> int:
        """Write ``rows`` (float32, ``(n, *shape[1:])``) at row ``start``; returns their CRC-32."""
        data = np.ascontiguousarray(rows, dtype=NPY_DTYPE)
        _pwrite_all(self.fd, data, self.offset + start * self.row_bytes)
        return zlib.crc32(data)

    def checksum(self, start: int, stop: int) -> int | None:
        """CRC-32 of rows ``[start, stop)`` as stored, or ``None`` when the file ends before ``stop``."""
        length = (stop - start) * self.row_bytes
        data = _pread(self.fd, length, self.offset + start * self.row_bytes)
        return zlib.crc32(data) if len(data) == length else None

    def still_at_path(self) -> bool:
        """Whether ``path`` still names the file being written (nobody removed, renamed or replaced it)."""
        return path_names_open_file(self.path, self.fd)

    def sync(self) -> None:
        (os.fdatasync if hasattr(os, "fdatasync") else os.fsync)(self.fd)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> NpyRows:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
