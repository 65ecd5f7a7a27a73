"""Readers for the extractor: NumPy arrays, audio (wav/flac) and images, as float arrays.

Every reader returns ``(array, sample_rate)``: ``sample_rate`` is ``None`` except for audio.
Failures raise :class:`BadInput` naming the file and the problem. Audio is read with soundfile
(extra ``scatterjax[audio]``) when installed, else ``.wav`` with the standard library's ``wave``;
images with Pillow (extra ``scatterjax[images]``). Multi-channel audio is mixed down to mono;
colour images are converted to grayscale in [0, 1] (16-bit and float images keep their values).
"""

from __future__ import annotations

import os
import wave
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


def list_inputs(paths) -> list[Path]:
    """Expand files and folders (recursively, sorted) into the input files with a known suffix.

    Raises :class:`BadInput` for a path that does not exist, a folder with no usable file, or an
    explicitly named file with an unknown suffix.
    """
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
            if not found:
                raise BadInput(path, f"folder holds no input file (looked for {', '.join(SUFFIXES)})")
            files.extend(found)
        elif path.is_file():
            if path.suffix.lower() not in SUFFIXES:
                raise BadInput(path, f"unknown file type {path.suffix!r}; expected one of {', '.join(SUFFIXES)}")
            files.append(path)
        else:
            raise BadInput(path, "no such file or folder")
    return files


def read(path, *, npz_key: str | None = None) -> tuple[np.ndarray, int | None]:
    """Read one input file as a floating array; see the module docstring."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in ARRAY_SUFFIXES:
            data, rate = _read_array(path, npz_key), None
        elif suffix in AUDIO_SUFFIXES:
            data, rate = _read_audio(path)
        elif suffix in IMAGE_SUFFIXES:
            data, rate = _read_image(path), None
        else:
            raise BadInput(path, f"unknown file type {suffix!r}")
    except BadInput:
        raise
    except (OSError, ValueError, EOFError, wave.Error, KeyError) as error:
        raise BadInput(path, f"cannot read: {type(error).__name__}: {error}") from error
    except Exception as error:  # decoders raise their own types (soundfile, PIL)
        raise BadInput(path, f"cannot read: {type(error).__name__}: {error}") from error
    if not np.issubdtype(data.dtype, np.floating):
        if np.issubdtype(data.dtype, np.integer) or data.dtype == np.bool_:
            data = data.astype(np.float64)
        else:
            raise BadInput(path, f"holds {data.dtype} values; expected real numbers")
    return data, rate


def _read_array(path: Path, npz_key: str | None) -> np.ndarray:
    if path.suffix.lower() == ".npy":
        return np.load(path, mmap_mode="r", allow_pickle=False)
    with np.load(path, allow_pickle=False) as archive:
        keys = list(archive.keys())
        if npz_key is not None:
            if npz_key not in keys:
                raise BadInput(path, f"has no array {npz_key!r} (it holds {keys})")
            return archive[npz_key]
        if len(keys) != 1:
            raise BadInput(path, f"holds {len(keys)} arrays {keys}; choose one with --npz-key")
        return archive[keys[0]]


def _read_audio(path: Path) -> tuple[np.ndarray, int]:
    try:
        import soundfile
    except ImportError:
        soundfile = None
    if soundfile is not None:
        data, rate = soundfile.read(os.fspath(path), dtype="float32", always_2d=True)
        return data.mean(axis=1) if data.shape[1] > 1 else data[:, 0], int(rate)
    if path.suffix.lower() != ".wav":
        raise BadInput(path, "reading FLAC needs soundfile: pip install 'scatterjax[audio]'")
    with wave.open(os.fspath(path), "rb") as handle:
        channels, width, rate = handle.getnchannels(), handle.getsampwidth(), handle.getframerate()
        raw = handle.readframes(handle.getnframes())
    if width == 1:
        samples = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        samples = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    elif width == 3:
        bytes_ = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        ints = bytes_[:, 0] | (bytes_[:, 1] << 8) | (bytes_[:, 2] << 16)
        samples = (np.where(ints >= 1 << 23, ints - (1 << 24), ints)).astype(np.float32) / float(1 << 23)
    elif width == 4:
        samples = np.frombuffer(raw, "<i4").astype(np.float32) / float(1 << 31)
    else:
        raise BadInput(path, f"unsupported WAV sample width {width} bytes")
    samples = samples.reshape(-1, channels)
    return (samples.mean(axis=1) if channels > 1 else samples[:, 0]), int(rate)


def _read_image(path: Path) -> np.ndarray:
    try:
        from PIL import Image
    except ImportError as error:
        raise BadInput(path, "reading images needs Pillow: pip install 'scatterjax[images]'") from error
    with Image.open(path) as image:
        if image.mode in ("I", "I;16", "I;16B", "F"):
            return np.asarray(image, dtype=np.float32)
        return np.asarray(image.convert("L"), dtype=np.float32) / 255.0
