"""``scatterjax extract``: files on disk -> one ``.npy`` of scattering features, resumable.

Inputs are ``.npy``/``.npz`` arrays, ``.wav``/``.flac`` audio (cut into frames of ``--frame-length``
samples every ``--hop``) and image files (2D). Each *item* is one signal (1D, JTFS), image (2D) or
volume (3D): a file holding an array of shape ``(..., *shape)`` gives one item per leading index
(times the frames, when framing). Folders are searched recursively, following symbolic links (a
folder reached twice is read once, and a note says so). The output ``OUT.npy`` (float32) has shape
``(items, *per_item_output)`` (for 1D ``(items, channels, time)``); ``OUT.json`` (the sidecar) holds:

- ``config``: every setting that decides the numbers, and the input files (path, size, mtime);
- ``meta``: the transform's ``meta()``, arrays as lists (NaN as ``null``);
- ``files``: for each used file, ``path``, ``sha256`` (of its bytes), ``first_item``, ``items``,
  ``signals`` and ``frames`` (items of a file are contiguous, signal-major: item
  ``first_item + s * frames + f`` is frame ``f``, starting at sample ``f * hop``, of signal ``s``),
  plus ``sample_rate`` for audio; :func:`item_index` turns this into an ``(items, 3)`` table
  ``[file, signal, frame]``;
- ``skipped``: files refused with ``--skip-bad``, and why;
- ``progress``: ``items_done``, ``complete`` and ``crc32``, the CRC-32 of each finished batch of
  ``batch_size`` rows as stored.

Safety. One extraction at a time per output: an exclusive ``flock`` on ``OUT.npy.lock`` (``OUT``
with symbolic links resolved: the sidecar and the lock sit beside the file itself) and on
``OUT.npy`` (which a hard link gives another name); a second one exits naming the holder (pid, host,
start time), and a run whose lock file is removed stops before writing its next batch. The output is
created at its full size with its blocks reserved (``posix_fallocate``, else written zeros) after
checking the free space, and rows are written with ``pwrite`` (no memory map: a full disk is a
message, never a SIGBUS). After a batch, at most once a second (and at the end, and when the run
stops on an error or a signal), the rows are synced, then the progress is recorded by replacing the
sidecar atomically (temporary file + ``os.replace``), so an interrupted run (Ctrl-C, kill, power
loss, full disk) restarts from its last recorded batch when the same command is run again, and ends
with a file byte-identical to an uninterrupted run. A run whose output file is removed or replaced
while it writes stops with an error (exit 2) rather than report a success. A ``OUT.json`` that is
not a sidecar (no ``OUT.npy`` beside it) is never replaced: the run stops and asks for another
``--out``. A resume (or a rerun on a complete output) first checks the output's header and size and
the checksums of all its finished batches; rows from the first that fails (a truncated or damaged
file) are recomputed. A damaged sidecar is refused. An input that changed since the run started (its
size, or the SHA-256 of its bytes recorded when it was first read) is refused rather than mixed in;
a new mtime alone (a ``touch``) is noted, and the run resumes. A different configuration against an
existing output is refused (``--overwrite`` starts afresh).

Bad input (unreadable file, wrong length or sample rate, NaN or Inf, float64 values beyond float32's
range, empty folder) stops with a message naming the file, or with ``--skip-bad`` is listed in the
sidecar. Ctrl-C (SIGINT) or SIGTERM stops after the current batch (a second one stops at once; the
files are consistent after every batch either way). Exit codes: 0 done, 2 bad input or arguments, 74
an operating-system error (full disk, unwritable output, ...), 75 the output is locked by another run
(or its lock file was removed), 130 interrupted (SIGINT), 143 terminated (SIGTERM). Out of memory
(a batch or an input file too large) is reported as an operating-system error (74).

Example::

    scatterjax extract sounds/ --dim 1 --J 10 --Q 8 --frame-length 65536 --hop 32768 --out feats.npy
    scatterjax extract sounds/ --dim jtfs --J 8 --J-fr 3 --Q 8 --frame-length 16384 --out jtfs.npy
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import math
import os
import signal
import sys
import threading
import time
from bisect import bisect_right
from pathlib import Path

import numpy as np

from . import io as files_io
from .io import BadInput
from .progress import progress_bar

FORMAT_VERSION = 2
EXIT_BAD_INPUT = 2
EXIT_OS_ERROR = 74  # sysexits.h EX_IOERR
EXIT_LOCKED = 75  # sysexits.h EX_TEMPFAIL: try again later
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it
EXIT_TERMINATED = 143  # 128 + SIGTERM
# The progress is saved after a batch when at least PROGRESS_INTERVAL_S passed since the last save,
# and the last save took at most PROGRESS_MAX_SHARE of that time (see _run_batches).
PROGRESS_INTERVAL_S = 1.0
PROGRESS_MAX_SHARE = 0.05
VERIFY_NOTE_BYTES = 1 << 30  # checking more finished rows than this on resume gets a note first

_ITEM_RANK = {"1": 1, "2": 2, "3": 3, "jtfs": 1}
# The transforms' pad_mode choices (scatterjax._core.padding.PAD_MODES, not imported: it imports JAX,
# and --help should not wait for it; a test checks the two agree).
PAD_MODES = ("reflect", "symmetric", "zero", "periodic")
# Which --dim each transform option applies to: giving one to another transform is an error, not a no-op.
_OPTION_DIMS = {
    "Q": ("1", "jtfs"),
    "T": ("1", "jtfs"),
    "stride": ("1", "jtfs"),
    "oversampling": ("1",),
    "levels": ("1",),
    "max_order": ("1", "2", "3"),
    "L": ("2", "3"),
    "pre_pad": ("2",),
    "sigma_0": ("3",),
    "integral_powers": ("3",),
    "J_fr": ("jtfs",),
    "Q_fr": ("jtfs",),
    "F": ("jtfs",),
    "stride_fr": ("jtfs",),
    "format": ("jtfs",),
    "pad_mode": ("1", "2", "jtfs"),
    "frame_length": ("1", "jtfs"),
    "hop": ("1", "jtfs"),
}


class ExtractError(Exception):
    """A problem reported to the user as one message, with exit code 2."""


class Interrupted(KeyboardInterrupt):
    """The extraction stopped after a finished batch because of a signal; ``exit_code`` is 128 + its number."""

    def __init__(self, signal_number: int):
        super().__init__(signal.Signals(signal_number).name)
        self.exit_code = 128 + signal_number


# --- command line ------------------------------------------------------------------------------
def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.replace("x", ",").split(",") if part.strip())
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected integers separated by commas; got {text!r}") from error


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas; got {text!r}") from error


def _scale(text: str) -> int | float | str:
    if text == "global":
        return text
    try:
        value = float(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected a number or 'global'; got {text!r}") from error
    return int(value) if value.is_integer() else value


def build_parser(prog: str = "scatterjax extract") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Compute scattering features of files (.npy/.npz, .wav/.flac, images) into one .npy.",
        epilog="Rerun the same command (without --overwrite) to resume an interrupted extraction. Exit codes: "
        "0 done, 2 bad input, 74 system error (disk full, unwritable output), 75 output locked by another run, "
        "130 interrupted, 143 terminated.",
    )
    parser.add_argument("inputs", nargs="+", help="input files and folders (searched recursively, links followed)")
    parser.add_argument("--out", required=True, help="output .npy path (the sidecar is the same path with .json)")
    group = parser.add_argument_group("transform (the constructor's arguments)")
    group.add_argument(
        "--dim",
        choices=tuple(_ITEM_RANK),
        default="1",
        help="1: Scattering1D, 2: Scattering2D, 3: HarmonicScattering3D, jtfs: TimeFrequencyScattering (default 1)",
    )
    group.add_argument("--J", type=int, required=True, help="log2 of the largest scale")
    group.add_argument("--shape", type=_ints, help="item shape, e.g. 65536 or 256,256 (default: from the inputs)")
    group.add_argument("--Q", type=_ints, help="1D/jtfs: wavelets per octave, Q or Q1,Q2 (default 1)")
    group.add_argument("--T", type=_scale, help="1D/jtfs: time averaging in samples (>= 1), or 'global' (default 2**J)")
    group.add_argument("--stride", type=int, help="1D/jtfs: time stride of the output, a power of two")
    group.add_argument("--max-order", type=int, help="1D/2D/3D: 1 or 2, or 3 in 1D (default 2)")
    group.add_argument("--oversampling", type=int, help="1D: oversampling (default 0)")
    group.add_argument("--levels", choices=("mean", "sum"), help="1D: 'mean' (kymatio 0.3.0, default) or 'sum'")
    group.add_argument("--L", type=int, help="2D: orientations (default 8); 3D: degree (default 3)")
    group.add_argument("--pre-pad", action="store_const", const=True, help="2D: the input is already padded")
    group.add_argument("--sigma-0", type=float, help="3D: width of the mother wavelet (default 1)")
    group.add_argument("--integral-powers", type=_floats, help="3D (default 0.5,1,2)")
    group.add_argument("--J-fr", type=int, help="jtfs: log2 of the largest scale along log-frequency (required)")
    group.add_argument("--Q-fr", type=int, help="jtfs: wavelets per octave along log-frequency (default 1)")
    group.add_argument("--F", type=_scale, help="jtfs: frequency averaging, 0 or 'global' (default 2**J_fr)")
    group.add_argument("--stride-fr", type=int, help="jtfs: frequency stride, a power of two")
    group.add_argument("--format", choices=("time", "joint"), help="jtfs: 'time' (default) or 'joint'")
    group.add_argument(
        "--pad-mode", choices=PAD_MODES, help="1D/2D/jtfs: what fills the border before the FFTs (default reflect)"
    )
    group = parser.add_argument_group("inputs")
    group.add_argument("--frame-length", type=int, help="1D/jtfs: cut signals into frames of this many samples")
    group.add_argument("--hop", type=int, help="1D/jtfs: samples between frame starts (default: the frame length)")
    group.add_argument("--sample-rate", type=int, help="audio: required sample rate (default: the first file's)")
    group.add_argument("--npz-key", help=".npz: which array to use when a file holds several")
    group.add_argument(
        "--skip-bad", action="store_true", help="skip bad files (listed in the sidecar) instead of stopping"
    )
    group = parser.add_argument_group("execution")
    group.add_argument("--batch-size", type=int, default=16, help="items per batch (default 16)")
    group.add_argument("--devices", type=int, help="number of local devices to use (default: all)")
    group.add_argument("--overwrite", action="store_true", help="replace an existing output instead of refusing")
    group.add_argument("--quiet", action="store_true", help="no progress bar (also off when stderr is not a TTY)")
    return parser


def main(argv=None, prog: str = "scatterjax extract") -> int:
    """Run the extractor with command-line arguments ``argv``; returns the exit code (see the module)."""
    args = build_parser(prog).parse_args(argv)
    resume = _resume_hint(args)
    try:
        extract(args, notes=lambda line: print(f"{prog}: note: {line}", file=sys.stderr), prog=prog)
    except (ExtractError, BadInput) as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except files_io.LockLost as error:
        print(f"{prog}: error: {error}; once no other run writes it, {resume}.", file=sys.stderr)
        return EXIT_LOCKED
    except files_io.OutputLocked as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return EXIT_LOCKED
    except OSError as error:
        print(f"{prog}: error: {describe_os_error(error, args.out, resume)}", file=sys.stderr)
        return EXIT_OS_ERROR
    except KeyboardInterrupt as error:
        print(f"\n{prog}: interrupted; {resume}.", file=sys.stderr)
        return getattr(error, "exit_code", EXIT_INTERRUPTED)
    except Exception as error:
        if not _out_of_memory(error):
            raise
        print(
            f"{prog}: error: out of memory ({str(error).splitlines()[0][:200]}); use a smaller --batch-size (a batch "
            f"holds --batch-size items, inputs and features) or split the largest input files; then {resume}.",
            file=sys.stderr,
        )
        return EXIT_OS_ERROR
    return 0


def _out_of_memory(error: Exception) -> bool:
    """Whether ``error`` is NumPy's or XLA's out-of-memory error (a batch or a file too large)."""
    if isinstance(error, MemoryError):
        return True
    import jax

    return isinstance(error, jax.errors.JaxRuntimeError) and "RESOURCE_EXHAUSTED" in str(error)


def _resume_hint(args) -> str:
    # The sidecar does not record --overwrite, so a rerun without it resumes; with it, starts over.
    if args.overwrite:
        return "rerun without --overwrite to resume"
    return "rerun the same command to resume"


def describe_os_error(error: OSError, out=None, resume: str = "rerun the same command to resume") -> str:
    """One line for an ``OSError``: the file, the system's words, and what to do when that is clear.

    The file is ``error.filename`` (a temporary named as the file it stands for), else ``out``: the
    system gives no name for a failed write, sync or reservation.
    """
    where = error.filename if error.filename else out
    where = f"{files_io.stands_for(where)}: " if where else ""
    text = f"{where}{error.strerror or error}"
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"{text} (disk full; free some space and {resume})"
    if error.errno == errno.EFBIG:
        return f"{text} (a limit on file sizes: see 'ulimit -f', or choose another --out; then {resume})"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{text} (cannot write there; choose another --out)"
    if error.errno in (errno.ENOTDIR, errno.EISDIR, errno.EEXIST):
        return f"{text} (check --out)"
    return text


# --- configuration -----------------------------------------------------------------------------
def _check_args(args) -> None:
    def positive(name, value):
        if value is not None and value < 1:
            raise ExtractError(f"--{name} must be >= 1; got {value}.")

    positive("batch-size", args.batch_size)
    positive("devices", args.devices)
    positive("frame-length", args.frame_length)
    positive("hop", args.hop)
    positive("sample-rate", args.sample_rate)
    for option, dims in _OPTION_DIMS.items():
        if getattr(args, option) is not None and args.dim not in dims:
            flag = "--" + option.replace("_", "-")
            raise ExtractError(f"{flag} applies to --dim {' and '.join(dims)} only; got --dim {args.dim}.")
    if args.dim == "jtfs" and args.J_fr is None:
        raise ExtractError("--dim jtfs needs --J-fr (log2 of the largest scale along log-frequency).")
    if args.hop is not None and args.frame_length is None:
        raise ExtractError("--hop needs --frame-length.")
    rank = _ITEM_RANK[args.dim]
    if args.shape is not None and len(args.shape) != rank:
        raise ExtractError(f"--shape must have {rank} number(s) for --dim {args.dim}; got {args.shape}.")
    if args.frame_length is not None and args.shape is not None and args.shape != (args.frame_length,):
        raise ExtractError(f"--shape {args.shape} contradicts --frame-length {args.frame_length}; give one of them.")
    if args.Q is not None and len(args.Q) not in (1, 2):
        raise ExtractError(f"--Q must be Q or Q1,Q2; got {args.Q}.")
    if args.T == 0:  # the transforms' T=0 (no averaging) gives paths of different lengths
        raise ExtractError(
            "--T 0 (no time averaging) is not available here: its paths have different lengths, which one "
            ".npy of features cannot hold. Give a T >= 1 (the averaging scale in samples) or 'global'."
        )


def _default(value, default):
    return default if value is None else value


def _transform_settings(args) -> dict:
    """The constructor's keyword arguments (lists for tuples) and ``class``, for ``config['transform']``."""
    settings = _dim_settings(args)
    # Recorded only when not the default, so outputs started before --pad-mode existed still resume.
    if args.pad_mode not in (None, "reflect"):
        settings["pad_mode"] = args.pad_mode
    return settings


def _dim_settings(args) -> dict:
    if args.dim == "1":
        return {
            "class": "Scattering1D",
            "J": args.J,
            "Q": list(_default(args.Q, (1,))),
            "T": args.T,
            "max_order": _default(args.max_order, 2),
            "oversampling": _default(args.oversampling, 0),
            "stride": args.stride,
            "levels": _default(args.levels, "mean"),
        }
    if args.dim == "2":
        return {
            "class": "Scattering2D",
            "J": args.J,
            "L": _default(args.L, 8),
            "max_order": _default(args.max_order, 2),
            "pre_pad": _default(args.pre_pad, False),
        }
    if args.dim == "3":
        return {
            "class": "HarmonicScattering3D",
            "J": args.J,
            "L": _default(args.L, 3),
            "sigma_0": _default(args.sigma_0, 1.0),
            "max_order": _default(args.max_order, 2),
            "integral_powers": list(_default(args.integral_powers, (0.5, 1.0, 2.0))),
        }
    return {
        "class": "TimeFrequencyScattering",
        "J": args.J,
        "J_fr": args.J_fr,
        "Q": list(_default(args.Q, (1,))),
        "T": args.T,
        "stride": args.stride,
        "Q_fr": _default(args.Q_fr, 1),
        "F": args.F,
        "stride_fr": args.stride_fr,
        "format": _default(args.format, "time"),
    }


def _configuration(args, files: list[Path], devices: int) -> dict:
    inputs = []
    for path in files:
        try:
            stat = path.stat()
            inputs.append({"path": str(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns})
        except OSError:  # a broken link: recorded as missing, refused (or skipped) by the scan
            inputs.append({"path": str(path), "size": None, "mtime_ns": None})
    return {
        "format": FORMAT_VERSION,
        "dim": args.dim,
        "transform": _transform_settings(args),
        "shape": None if args.shape is None else list(args.shape),
        "frame_length": args.frame_length,
        "hop": args.hop if args.hop is not None else args.frame_length,
        "sample_rate": args.sample_rate,
        "npz_key": args.npz_key,
        "skip_bad": args.skip_bad,
        "batch_size": args.batch_size,
        "devices": devices,
        "dtype": "float32",
        "inputs": inputs,
    }


def build_transform(settings: dict, shape: tuple[int, ...]):
    """The scatterjax transform described by ``config['transform']`` for items of ``shape``."""
    import scatterjax

    kwargs = {key: tuple(value) if isinstance(value, list) else value for key, value in settings.items()}
    transform_class = getattr(scatterjax, kwargs.pop("class"))
    try:
        return transform_class(shape=shape, **kwargs)
    except (ValueError, TypeError) as error:
        raise ExtractError(f"invalid transform settings for items of shape {shape}: {error}") from error


# --- scanning the inputs -----------------------------------------------------------------------
def _largest_safe_value(item_size: int) -> float:
    """The largest magnitude an input sample may have for the float32 features of items of
    ``item_size`` samples to stay finite: the 3D integrals of ``U^2`` sum squares over the item,
    which overflow near ``sqrt(3.4e38 / item_size)``; a quarter of that (measured before the
    transforms rescaled extreme signals: 1D and 3D outputs first became Inf between 1e19 and 1e21
    for 256 to 4096 samples). The other transforms reach larger amplitudes (1D and JTFS any float32
    amplitude, see ``scatterjax._core.amplitude``); one bound serves every transform, so they are
    held to it too."""
    return math.sqrt(float(np.finfo(np.float32).max) / max(item_size, 1)) / 4


def _round_down(limit: float) -> str:
    """``limit`` to 2 significant digits, rounded down (a rounded-up bound could read as larger
    than a refused value shown to 3 digits).

    >>> _round_down(2.8963e17)
    '2.8e+17'
    """
    exponent = math.floor(math.log10(limit)) - 1
    return f"{math.floor(limit / 10**exponent) * 10**exponent:.2g}"


def _check_values(path: Path, data: np.ndarray, item_size: int) -> None:
    """Refuse NaN, Inf and values too large for the float32 transform of items of ``item_size``
    samples (the features are float32): checked here, so that ``--skip-bad`` can skip the file."""
    finite = np.isfinite(data)
    if not finite.all():
        nan, inf = int(np.isnan(data).sum()), int(np.isinf(data).sum())
        first = tuple(int(i) for i in np.unravel_index(int(np.argmin(finite.reshape(-1))), data.shape))
        raise BadInput(path, f"contains {nan} NaN and {inf} Inf value(s) (first at index {first})")
    if data.dtype.itemsize > 4:
        with np.errstate(over="ignore"):
            overflow = np.isinf(data.astype(np.float32))
        if overflow.any():
            first = tuple(int(i) for i in np.unravel_index(int(np.argmax(overflow.reshape(-1))), data.shape))
            raise BadInput(
                path,
                f"has {int(overflow.sum())} value(s) beyond float32's range (+-3.4e38), e.g. {float(data[first]):g} "
                f"at index {first}; the features are float32: rescale the data",
            )
    largest = max(abs(float(data.min())), abs(float(data.max()))) if data.size else 0.0
    limit = _largest_safe_value(item_size)
    if largest > limit:
        raise BadInput(
            path,
            f"has values up to {largest:.3g}, too large for the float32 transform of items of {item_size} samples "
            f"(at most {_round_down(limit)}: where 3D's sums of squares overflow, applied to every transform); "
            "rescale the data",
        )


def _frame_count(length: int, frame_length: int, hop: int) -> int:
    """Frames of ``frame_length`` samples, ``hop`` apart, in a signal of ``length`` samples (0 if shorter):
    the scan counts them into the sidecar, and reading a file checks them against it."""
    return 1 + (length - frame_length) // hop if length >= frame_length else 0


def _scan(config: dict, files: list[Path]) -> tuple[list[dict], list[dict], tuple[int, ...]]:
    """Read and check every file; returns (used files table, skipped files, item shape)."""
    rank = _ITEM_RANK[config["dim"]]
    frame_length, hop = config["frame_length"], config["hop"]
    shape = tuple(config["shape"]) if config["shape"] is not None else None
    if frame_length is not None:
        shape = (frame_length,)
    sample_rate = config["sample_rate"]
    recorded = {entry["path"]: entry for entry in config["inputs"]}
    table: list[dict] = []
    skipped: list[dict] = []
    wrong_shape: list[Path] = []  # skipped for a shape other than the first usable file's
    shape_source = None
    first_item = 0
    for path in files:
        try:
            contents = files_io.load(path, npz_key=config["npz_key"])
            _check_unchanged(path, contents, recorded[str(path)], None)
            data, rate = contents.data, contents.sample_rate
            if rate is not None:
                if sample_rate is None:
                    sample_rate = rate
                elif rate != sample_rate:
                    raise BadInput(path, f"sample rate {rate} Hz differs from {sample_rate} Hz (see --sample-rate)")
            if data.ndim < rank:
                raise BadInput(path, f"has shape {data.shape}; a {rank}D item needs at least {rank} dimension(s)")
            item_shape = tuple(data.shape[data.ndim - rank :])
            if 0 in item_shape:
                raise BadInput(path, f"holds empty signals (shape {data.shape})")
            if frame_length is not None:
                length = item_shape[0]
                if length < frame_length:
                    raise BadInput(path, f"length {length} is shorter than the frame length {frame_length}")
                frames = _frame_count(length, frame_length, hop)
            else:
                if shape is not None and item_shape != shape:
                    what = "length" if rank == 1 else "shape"
                    wrong_shape.append(path)
                    raise BadInput(path, f"{what} {item_shape} does not match the expected {shape} (see --shape)")
                frames = 1
            signals = math.prod(data.shape[: data.ndim - rank])
            if signals * frames == 0:
                raise BadInput(path, f"holds no item (shape {data.shape})")
            _check_values(path, data, math.prod(item_shape if shape is None else shape))
        except BadInput as error:
            if not config["skip_bad"]:
                raise
            skipped.append({"path": str(path), "problem": error.problem})
            continue
        if shape is None:  # the first usable file's (not a skipped file's)
            shape, shape_source = item_shape, path
        entry = {"path": str(path), "sha256": contents.sha256, "first_item": first_item, "items": signals * frames}
        entry["signals"] = signals
        entry["frames"] = frames
        if rate is not None:
            entry["sample_rate"] = rate
        table.append(entry)
        first_item += signals * frames
    if len(wrong_shape) > len(table) and config["shape"] is None and frame_length is None:
        # Without --shape the first usable file sets it: a stray file first must not discard the rest.
        raise ExtractError(
            f"the item shape {shape} was taken from the first usable file, {shape_source}, and {len(wrong_shape)} "
            f"file(s) of another shape would be skipped (e.g. {wrong_shape[0]}) against {len(table)} used: "
            "pass --shape to say which items to extract."
        )
    if not table:
        raise ExtractError(f"no usable input: all {len(files)} file(s) were skipped ({skipped[:3]}...)")
    return table, skipped, shape


class OutputMoved(ExtractError):
    """The output file was removed or replaced while an extraction wrote it."""


class InputChanged(ExtractError):
    """An input file differs from the one recorded when the extraction started."""


def _check_unchanged(path, contents: files_io.FileContents, recorded: dict, sha256: str | None) -> None:
    found, expected = {"size": contents.size}, {"size": recorded["size"]}
    if sha256 is not None:  # the bytes decide (a file touched since the scan is still the same file)
        found["sha256"], expected["sha256"] = contents.sha256, sha256
    else:
        found["mtime_ns"], expected["mtime_ns"] = contents.mtime_ns, recorded["mtime_ns"]
    differences = [f"{key} {expected[key]} -> {found[key]}" for key in expected if expected[key] != found[key]]
    if differences:
        raise InputChanged(
            f"{path} changed since this extraction started ({'; '.join(differences)}); its rows would mix two versions "
            "of the file. Restore it and rerun the same command, or pass --overwrite to start afresh."
        )


def item_index(sidecar: dict) -> np.ndarray:
    """``(items, 3)`` int64 table ``[file, signal, frame]`` of every output row (``sidecar['files']``)."""
    rows = []
    for number, entry in enumerate(sidecar["files"]):
        signal, frame = np.divmod(np.arange(entry["items"]), entry["frames"])
        rows.append(np.stack([np.full(entry["items"], number), signal, frame], axis=1))
    return np.concatenate(rows).astype(np.int64)


class _ItemReader:
    """Loads rows ``[start, stop)`` of the output's items from the files, keeping the last file open.

    Every file is read again here, so its size, mtime and SHA-256 are checked against the sidecar:
    a file rewritten since the scan (even with same-shape content) raises :class:`InputChanged`.
    """

    def __init__(self, table: list[dict], config: dict, shape: tuple[int, ...]):
        self.table = table
        self.firsts = [entry["first_item"] for entry in table]
        self.config = config
        self.recorded = {entry["path"]: entry for entry in config["inputs"]}
        self.shape = shape
        self.cached: tuple[int, np.ndarray] | None = None

    def _signals(self, number: int) -> np.ndarray:
        if self.cached is None or self.cached[0] != number:
            entry = self.table[number]
            try:
                contents = files_io.load(entry["path"], npz_key=self.config["npz_key"])
            except BadInput as error:
                raise InputChanged(f"{error} (it was readable when this extraction started)") from error
            _check_unchanged(entry["path"], contents, self.recorded[entry["path"]], entry["sha256"])
            data = np.asarray(contents.data)
            rank = _ITEM_RANK[self.config["dim"]]
            signals = data.reshape((-1,) + data.shape[data.ndim - rank :])
            self._check_entry(entry, signals)
            self.cached = (number, signals)
        return self.cached[1]

    def _check_entry(self, entry: dict, signals: np.ndarray) -> None:
        """The file's signals and frames must be those its sidecar entry counts (and numbers rows by)."""
        length, hop = self.config["frame_length"], self.config["hop"]
        if length is None:
            frames = 1 if signals.shape[1:] == self.shape else 0
        else:
            frames = _frame_count(signals.shape[-1], length, hop)
        if (len(signals), frames) != (entry["signals"], entry["frames"]):
            raise ExtractError(
                f"damaged sidecar: its entry for {entry['path']} counts {entry['signals']} signal(s) of "
                f"{entry['frames']} frame(s), but the file holds {len(signals)} of {frames} (items of shape "
                f"{self.shape}); pass --overwrite to start afresh."
            )

    def locate(self, item: int) -> tuple[str, int, int]:
        """``(path, signal, frame)`` of output row ``item``."""
        entry = self.table[bisect_right(self.firsts, item) - 1]
        signal, frame = divmod(item - entry["first_item"], entry["frames"])
        return entry["path"], signal, frame

    def read(self, start: int, stop: int) -> np.ndarray:
        batch = np.empty((stop - start,) + self.shape, np.float32)
        hop, length = self.config["hop"], self.config["frame_length"]
        for row, item in enumerate(range(start, stop)):
            number = bisect_right(self.firsts, item) - 1
            entry = self.table[number]
            signal, frame = divmod(item - entry["first_item"], entry["frames"])
            signals = self._signals(number)
            if length is None:
                batch[row] = signals[signal]
            else:
                batch[row] = signals[signal, frame * hop : frame * hop + length]
        return batch


# --- sidecar -----------------------------------------------------------------------------------
def sidecar_path(out: Path) -> Path:
    return out.with_suffix(".json")


def lock_path(out: Path) -> Path:
    return out.with_name(out.name + ".lock")


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def write_json_atomic(path: Path, content: dict | str) -> None:
    """Replace ``path`` by ``content`` all at once (temporary + fsync + rename); no temporary is left on error."""
    text = content if isinstance(content, str) else json.dumps(content, indent=1)
    temporary = files_io.temporary_path(path)
    try:
        with open(temporary, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError) and not error.filename:
            error.filename = str(path)  # a failed write or sync names no file
        raise
    files_io.fsync_folder(path.parent)


# What the sidecar holds, with the JSON type each must have ("meta" and "skipped" are for readers).
_SIDECAR_KEYS = {
    "config": dict, "files": list, "item_shape": list, "output": dict, "progress": dict, "meta": dict, "skipped": list,
}
_FILE_KEYS = {"path": str, "sha256": str, "first_item": int, "items": int, "signals": int, "frames": int}
_JSON_NAMES = {dict: "an object", list: "a list", str: "a string", int: "an integer"}


def _may_be_our_sidecar(side: Path, out: Path) -> bool:
    """Whether the existing ``side`` may be a sidecar this tool wrote (perhaps damaged since): it is
    beside the output ``out``, or a JSON object with a config and a progress. Anything else (the
    user's own ``settings.json`` beside ``--out settings.npy``) must be neither read nor replaced."""
    if out.is_file():
        return True
    try:
        content = json.loads(side.read_bytes())
    except (OSError, ValueError):  # a folder, a dangling link, unreadable, not JSON
        return False
    return isinstance(content, dict) and "config" in content and "progress" in content


def _read_sidecar(side: Path, batch_size: int) -> dict:
    """The existing sidecar ``side``, checked to hold what a resume reads; else :class:`ExtractError`."""
    try:
        sidecar = json.loads(side.read_text())
    except ValueError as error:
        raise ExtractError(
            f"{side}: existing sidecar is unreadable ({error}); use --overwrite to start afresh."
        ) from error
    problem = _sidecar_problem(sidecar, batch_size)
    if problem is not None:
        raise ExtractError(f"{side}: damaged sidecar: {problem}; pass --overwrite to start afresh.")
    return sidecar


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _type_problem(where: str, container: dict, key: str, kind: type) -> str | None:
    if key not in container:
        return f"{where} is missing"
    value = container[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        return f"{where} is {json.dumps(value)[:40]}, not {_JSON_NAMES[kind]}"
    return None


def _sidecar_problem(sidecar, batch_size: int) -> str | None:
    """What makes a parsed sidecar unusable for a resume with ``batch_size`` (in words), or ``None``."""
    if not isinstance(sidecar, dict):
        return f"it holds {json.dumps(sidecar)[:40]}, not a JSON object"
    for key, kind in _SIDECAR_KEYS.items():
        if problem := _type_problem(repr(key), sidecar, key, kind):
            return problem
    for number, entry in enumerate(sidecar["files"]):
        if not isinstance(entry, dict):
            return f"'files' entry {number} is {json.dumps(entry)[:40]}, not an object"
        for key, kind in _FILE_KEYS.items():
            if problem := _type_problem(f"'files' entry {number} {key!r}", entry, key, kind):
                return problem
    if not all(map(_is_count, sidecar["item_shape"])):
        return f"'item_shape' {sidecar['item_shape']} is not a list of sizes"
    shape = sidecar["output"].get("shape")
    if not (isinstance(shape, list) and shape and all(map(_is_count, shape))):
        return f"'output' 'shape' is {json.dumps(shape)[:40]}, not a list of sizes"
    config, item_shape = sidecar["config"], sidecar["item_shape"]
    expected = [config["frame_length"]] if isinstance(config.get("frame_length"), int) else config.get("shape")
    if len(item_shape) != _ITEM_RANK.get(config.get("dim"), -1) or expected not in (None, item_shape):
        given = f" and the configured item shape {expected}" if expected is not None else ""
        return f"'item_shape' {item_shape} does not fit --dim {config.get('dim')}{given}"
    if problem := _files_table_problem(sidecar["files"], config, shape[0]):
        return problem
    checksums = sidecar["progress"].get("crc32", [])
    if not (isinstance(checksums, list) and all(_is_count(crc) and crc < 2**32 for crc in checksums)):
        return f"'progress' 'crc32' is {json.dumps(checksums)[:40]}, not a list of CRC-32 values"
    # Counted in the sidecar's own batches: a changed --batch-size is a change of configuration,
    # reported as such once the sidecar is read.
    recorded = sidecar["config"].get("batch_size")
    batches = math.ceil(shape[0] / (recorded if _is_count(recorded) and recorded > 0 else batch_size))
    if len(checksums) > batches:
        return f"'progress' 'crc32' holds {len(checksums)} checksums, but the output has only {batches} batches"
    return None


def _files_table_problem(files: list[dict], config: dict, rows: int) -> str | None:
    """What makes the ``files`` table inconsistent (in words), or ``None``: the table maps output rows to
    files, so a wrong entry would fill rows from the wrong file or frame without any error.

    Its entries must be the configuration's inputs, each once and in their order; hold ``signals *
    frames`` items each (at least one), numbered consecutively from 0 up to the output's ``rows``.
    Reading a file checks its signals and frames against its entry (:class:`_ItemReader`).
    """
    if not files:
        return "'files' is empty"
    inputs = config.get("inputs")
    order = {
        entry["path"]: number
        for number, entry in enumerate(inputs if isinstance(inputs, list) else [])
        if isinstance(entry, dict) and isinstance(entry.get("path"), str)
    }
    first_item, previous = 0, -1
    for number, entry in enumerate(files):
        where = f"'files' entry {number} ({entry['path']!r})"
        if entry["path"] not in order or order[entry["path"]] <= previous:
            return f"{where} is not the next of the configuration's inputs"
        previous = order[entry["path"]]
        if entry["first_item"] != first_item:
            return f"{where} starts at item {entry['first_item']}, not {first_item}"
        if min(entry["signals"], entry["frames"]) < 1 or entry["items"] != entry["signals"] * entry["frames"]:
            return f"{where} holds {entry['items']} items of {entry['signals']} signals x {entry['frames']} frames"
        first_item += entry["items"]
    if first_item != rows:
        return f"'files' holds {first_item} items, but the output has {rows} rows"
    return None


def _touched_only(sidecar: dict, config: dict) -> list[str]:
    """The inputs whose modification time alone differs from the sidecar's configuration, when
    that is the only difference and each one's bytes still have the SHA-256 recorded in the files
    table (a ``touch``, a checkout that rewrote the same bytes); else ``[]``."""
    recorded = sidecar["config"]
    if {**recorded, "inputs": None} != {**config, "inputs": None}:
        return []
    old, new = recorded.get("inputs"), config["inputs"]
    if not isinstance(old, list) or len(old) != len(new):
        return []
    digests = {entry["path"]: entry["sha256"] for entry in sidecar["files"]}
    touched = []
    for before, now in zip(old, new):
        if before == now:
            continue
        if {**before, "mtime_ns": None} != {**now, "mtime_ns": None} or now["path"] not in digests:
            return []  # another change, or a skipped file (no digest)
        try:
            same = files_io.sha256_of(now["path"]) == digests[now["path"]]
        except OSError:
            return []
        if not same:
            return []
        touched.append(now["path"])
    return touched


def _differences(old: dict, new: dict) -> list[str]:
    keys = sorted(set(old) | set(new))
    changed = [key for key in keys if old.get(key) != new.get(key)]
    lines = []
    for key in changed:
        if key == "inputs":
            old_paths = {entry["path"]: entry for entry in old.get(key) or []}
            new_paths = {entry["path"]: entry for entry in new.get(key) or []}
            added = sorted(set(new_paths) - set(old_paths))
            removed = sorted(set(old_paths) - set(new_paths))
            modified = sorted(p for p in set(old_paths) & set(new_paths) if old_paths[p] != new_paths[p])
            lines.append(
                f"inputs changed since the run started (added {added[:3]}, removed {removed[:3]}, "
                f"modified (size or mtime) {modified[:3]})"
            )
        else:
            lines.append(f"{key}: {old.get(key)!r} -> {new.get(key)!r}")
    return lines


# --- resuming ----------------------------------------------------------------------------------
def _verified_progress(rows: files_io.NpyRows, checksums: list[int], batch_size: int, note) -> int:
    """Rows known good: the finished batches before the first whose CRC-32 does not match the sidecar.

    Every finished batch is read back: reading is cheap next to computing it, and damage anywhere
    (not only where a crash or a truncation shows) must not be declared complete. Returns the row to
    resume from.
    """
    total = rows.shape[0]
    finished = len(checksums)
    done = min(finished * batch_size, total)

    def good(batch: int) -> bool:
        start = batch * batch_size
        return rows.checksum(start, min(start + batch_size, total)) == checksums[batch]

    if done * rows.row_bytes > VERIFY_NOTE_BYTES:
        note(f"checking the checksums of the {finished} finished batches of {rows.path} ({done} rows)")
    first_bad = next((batch for batch in range(finished) if not good(batch)), None)
    if first_bad is None:
        return done
    resume = first_bad * batch_size
    if rows.size < rows.expected_size:
        note(
            f"{rows.path} is truncated ({rows.size} of {rows.expected_size} bytes); recomputing rows {resume} to "
            f"{total} instead of resuming at row {done}"
        )
    else:
        note(f"{rows.path}: rows from {resume} do not match their recorded checksums; recomputing them")
    return resume


# --- stopping ----------------------------------------------------------------------------------
class _StopRequests:
    """SIGINT and SIGTERM during an extraction, deferred to the end of the current batch.

    A ``KeyboardInterrupt`` raised wherever Ctrl-C lands can stop XLA's compiler midway, after which
    the interpreter could crash at exit (a segfault). The files are consistent after every batch, so
    stopping there loses nothing; a second signal stops at once (``os._exit``), which the next run
    resumes from as from a kill. Python runs handlers in the main thread only, so elsewhere (a
    library caller's thread) nothing is installed; the previous handlers come back on exit.
    """

    def __init__(self, prog: str, resume: str):
        self.prog = prog
        self.resume = resume
        self.signal_number: int | None = None
        self.previous: dict[int, object] = {}

    def __enter__(self) -> _StopRequests:
        if threading.current_thread() is threading.main_thread():
            for number in (signal.SIGINT, signal.SIGTERM):
                # An ignored signal (a background job of a script ignores SIGINT) stays ignored, and a
                # handler installed outside Python (None) could not be put back.
                if signal.getsignal(number) not in (signal.SIG_IGN, None):
                    self.previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for number, handler in self.previous.items():
            signal.signal(number, handler)

    def _handle(self, number: int, frame) -> None:
        if self.signal_number is not None:
            _say(f"\n{self.prog}: stopped; {self.resume}.\n")
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except (OSError, ValueError, RuntimeError):  # RuntimeError: the signal came inside a print
                    pass
            os._exit(128 + number)
        self.signal_number = number
        _say(f"\n{self.prog}: stopping after the current batch (press Ctrl-C again to stop now)\n")

    def check(self) -> None:
        """Raise :class:`Interrupted` when a signal came."""
        if self.signal_number is not None:
            raise Interrupted(self.signal_number)


def _say(text: str) -> None:
    # os.write, not print: a handler may run inside a print to stderr, and print would then raise
    # "reentrant call".
    try:
        os.write(2, text.encode(errors="replace"))
    except OSError:
        pass


# --- the extraction ----------------------------------------------------------------------------
def extract(args, notes=None, *, prog: str = "scatterjax extract") -> Path:
    """Run one extraction (``args`` from :func:`build_parser`); returns the output path.

    The output path is ``args.out`` with symbolic links resolved (the sidecar is beside it).
    ``notes`` receives one-line remarks (links searched once, rows recomputed); default: ignored.
    Raises :class:`ExtractError`/``BadInput`` (bad arguments or input), ``OutputLocked`` (another
    run holds the output), ``OSError`` (full disk, unwritable output) and :class:`Interrupted` (a
    ``KeyboardInterrupt``: SIGINT or SIGTERM, in the main thread, after the batch it came in): see
    :func:`main`, which names itself ``prog`` in messages.
    """
    note = notes if notes is not None else (lambda line: None)
    _check_args(args)
    out = _output_path(args.out)
    with _StopRequests(prog, _resume_hint(args)) as stops:
        return _extract_listed(args, out, note, stops)


def _output_path(given: str) -> Path:
    """``--out`` with symbolic links resolved: every name of one file must find the same lock and sidecar."""
    if Path(given).suffix != ".npy":
        raise ExtractError(f"--out must end with .npy; got {given!r}.")
    out = Path(os.path.realpath(given))
    if out.is_symlink():  # realpath stops inside a loop of links
        raise ExtractError(f"--out {given!r} is a loop of symbolic links; choose another --out.")
    if out.suffix != ".npy":
        raise ExtractError(f"--out {given!r} is a link to {str(out)!r}, which does not end with .npy.")
    if out.exists() and not out.is_file():  # refused before anything (a sidecar) is written beside it
        raise ExtractError(f"--out {given!r} exists and is not a regular file (a folder?); choose another --out.")
    return out


def _extract_listed(args, out: Path, note, stops: _StopRequests) -> Path:
    import jax

    local_devices = jax.local_devices()
    devices = len(local_devices) if args.devices is None else args.devices
    if devices > len(local_devices):
        raise ExtractError(f"--devices {devices} asks for more devices than the {len(local_devices)} available.")
    listing_notes: list[str] = []
    files = files_io.list_inputs(args.inputs, listing_notes)
    for line in listing_notes:
        note(line)
    # --out inside an input folder. realpath, not Path.resolve, which raises on a loop of links
    # (such an input is kept: reading it fails with a message naming it).
    own = {os.path.realpath(out), os.path.realpath(sidecar_path(out))}
    inputs, seen = [], {}  # seen: real path -> the first name it was listed under
    for path in files:
        real = os.path.realpath(path)
        if real in own:
            continue
        if real in seen:  # kept (the rows are what was asked for), but said
            note(f"{path} is the file {seen[real]}, listed before: its rows appear twice in the output")
        seen.setdefault(real, path)
        inputs.append(path)
    files = inputs
    if not files:
        raise ExtractError(f"no input file besides the output {out}.")
    out.parent.mkdir(parents=True, exist_ok=True)
    with files_io.OutputLock(lock_path(out)) as lock:
        if out.is_file():
            lock.hold(out)
        files_io.remove_stale_temporaries(out)
        files_io.remove_stale_temporaries(sidecar_path(out))
        return _extract_locked(args, out, files, devices, local_devices[:devices], note, lock, stops)


def _extract_locked(args, out: Path, files: list[Path], devices: int, local_devices, note, lock, stops) -> Path:
    import jax

    side = sidecar_path(out)
    config = _configuration(args, files, devices)
    sidecar = None
    if (side.exists() or side.is_symlink()) and not _may_be_our_sidecar(side, out):
        raise ExtractError(
            f"{side} exists and is not the sidecar of an extraction (not a JSON object with 'config' and "
            f"'progress', and no {out.name} beside it), so writing this output's sidecar there would destroy it; "
            "choose another --out, or move that file."
        )
    if args.overwrite:
        pass  # the old output is replaced only once the new one exists (bad input leaves it alone)
    elif side.exists():
        sidecar = _read_sidecar(side, args.batch_size)
        touched = _touched_only(sidecar, config)
        if touched:
            note(
                f"{len(touched)} input file(s) have a new modification time but the same bytes as when this "
                f"extraction started ({touched[0]}{', ...' if len(touched) > 1 else ''}): resuming"
            )
            config = sidecar["config"]
        if sidecar["config"] != config:
            changes = "; ".join(_differences(sidecar["config"], config))
            raise ExtractError(
                f"{out} was started with a different configuration ({changes}). Rerun the original command to "
                "resume it, choose another --out, or pass --overwrite to replace it."
            )
    elif out.exists():
        raise ExtractError(f"{out} exists and has no sidecar {side.name}; choose another --out or pass --overwrite.")

    batch_size = args.batch_size
    if sidecar is None:
        table, skipped, shape = _scan(config, files)
        if config["sample_rate"] is not None and not any("sample_rate" in entry for entry in table):
            note("--sample-rate applies to audio files, and no input is one: it has no effect")
        if config["npz_key"] is not None and not any(entry["path"].lower().endswith(".npz") for entry in table):
            note("--npz-key applies to .npz files, and no input is one: it has no effect")
        transform = build_transform(config["transform"], shape)
        item_output = jax.eval_shape(transform, jax.ShapeDtypeStruct((1,) + shape, np.float32))
        total = table[-1]["first_item"] + table[-1]["items"]
        output_shape = (total, *item_output.shape[1:])
        sidecar = {
            "config": config,
            "item_shape": list(shape),
            "output": {"path": out.name, "shape": list(output_shape), "dtype": "float32"},
            "meta": _jsonable(transform.meta()),
            "files": table,
            "skipped": skipped,
            "progress": {"items_done": 0, "complete": False, "crc32": []},
        }
        # Output first (at its full size), then the sidecar, then the rename: a failure at any step
        # leaves either nothing or a sidecar at zero rows, from which the same command starts over.
        temporary = files_io.temporary_path(out)
        files_io.create_npy(temporary, output_shape)
        try:
            lock.hold(temporary)  # before it is in place: see OutputLock.hold
            write_json_atomic(side, sidecar)
            os.replace(temporary, out)
        finally:
            temporary.unlink(missing_ok=True)
        files_io.fsync_folder(out.parent)
        checksums = []
    else:
        table, shape = sidecar["files"], tuple(sidecar["item_shape"])
        output_shape = tuple(sidecar["output"]["shape"])
        transform = build_transform(config["transform"], shape)
        checksums = list(sidecar["progress"].get("crc32", []))
        if not out.exists():
            if sidecar["progress"].get("items_done"):
                note(f"{out} is missing; recomputing all {output_shape[0]} rows")
            temporary = files_io.temporary_path(out)
            files_io.create_npy(temporary, output_shape)
            try:
                lock.hold(temporary)
                os.replace(temporary, out)
            finally:
                temporary.unlink(missing_ok=True)
            checksums = []

    total = output_shape[0]
    try:
        rows = files_io.NpyRows(out, output_shape)
    except ValueError as error:
        raise ExtractError(f"{error}; pass --overwrite to start afresh.") from error
    with rows:
        done = _verified_progress(rows, checksums, batch_size, note)
        checksums = checksums[: math.ceil(done / batch_size)]
        rows.restore_size()
        if done == total and sidecar["progress"].get("complete"):
            return out
        _run_batches(
            args, rows, sidecar, side, table, config, shape, transform, done, checksums, local_devices, lock, stops
        )
    return out


def _run_batches(
    args, rows, sidecar, side, table, config, shape, transform, done, checksums, local_devices, lock, stops
) -> None:
    from .._core.sharding import make_batch_mesh, replicate, shard_batch, sharded_apply

    mesh = make_batch_mesh(local_devices)
    transform = replicate(transform, mesh)
    batch_size = args.batch_size
    reader = _ItemReader(table, config, shape)
    total = rows.shape[0]
    throttle = float(os.environ.get("_SCATTERJAX_EXTRACT_SLEEP", "0"))  # test hook: slow batches down

    # Encoded once: the progress is all that changes.
    static = json.dumps({key: value for key, value in sidecar.items() if key != "progress"}, indent=1)
    # Rows written and rows the sidecar says are done; when it was last saved, and what that took.
    state = {"written": done, "saved": done, "at": time.monotonic(), "cost": 0.0}

    def save_progress(items_done: int) -> None:
        """Sync the rows, then record ``items_done`` in the sidecar (atomically)."""
        lock.check_held()  # never written once another run may hold the output
        if not rows.still_at_path():
            raise OutputMoved(
                f"{rows.path} was removed or replaced during the run, so the rows written since went to a file no "
                f"longer at that path; {_resume_hint(args)} (it recomputes what is missing)"
            )
        rows.sync()  # rows on disk before the sidecar says they are
        started = time.monotonic()
        progress = {"items_done": items_done, "complete": items_done == total, "crc32": checksums}
        write_json_atomic(side, f'{static[:-2]},\n "progress": {json.dumps(progress)}\n}}')
        state.update(saved=items_done, at=time.monotonic(), cost=time.monotonic() - started)

    def finish(start, stop, result, n_valid):
        block = np.asarray(result)[:n_valid]
        finite = np.isfinite(block.reshape(len(block), -1)).all(axis=1)
        if not finite.all():  # finite inputs whose float32 arithmetic overflows (|x| near 3.4e38)
            path, source_signal, frame = reader.locate(start + int(np.argmin(finite)))
            raise BadInput(
                path,
                f"signal {source_signal}, frame {frame} gives NaN or Inf features: its values are too large for "
                "float32 arithmetic; rescale the data",
            )
        lock.check_held()  # a run that took a new lock file since may be writing too
        checksums.append(rows.write(start, block))
        state["written"] = stop
        bar.update(stop - start)
        # The sidecar holds the whole files table (megabytes for many inputs): rewritten and synced
        # after every batch, it cost more than the batches (20,000 one-signal files: 57 s and 7 GB
        # written, against 5.5 s for one file of 20,000 rows). It is saved at most every
        # PROGRESS_INTERVAL_S, and then only if the last save took at most PROGRESS_MAX_SHARE of the
        # time since. A run stopped in between resumes from the last save and recomputes the batches
        # after it.
        since = time.monotonic() - state["at"]
        if stop == total or since >= max(PROGRESS_INTERVAL_S, state["cost"] / PROGRESS_MAX_SHARE):
            save_progress(stop)

    enabled = not args.quiet and sys.stderr.isatty()
    with progress_bar(total, "extract", enabled=enabled, unit="item", initial=done) as bar:
        if done == total:  # every row verified, only the "complete" flag was missing
            save_progress(total)
            return
        pending = None
        try:
            for start in range(done, total, batch_size):
                if stops.signal_number is not None:  # Ctrl-C or SIGTERM: finish the batch in flight, then stop
                    if pending is not None:
                        finish(*pending)
                    stops.check()
                stop = min(start + batch_size, total)
                try:
                    items = reader.read(start, stop)
                except Exception:
                    if pending is not None:  # keep the batch already computed: a rerun starts after it
                        finish(*pending)
                    raise
                # Padded to one size for every batch (one program), but never beyond the item count.
                x_sharded, n_valid = shard_batch(items, mesh, pad_to=min(batch_size, total))
                result = sharded_apply(transform, x_sharded, mesh)  # dispatched asynchronously
                if pending is not None:
                    finish(*pending)
                pending = (start, stop, result, n_valid)
                if throttle:
                    time.sleep(throttle)
            if pending is not None:
                finish(*pending)
        except BaseException as error:
            # Stopped (Ctrl-C, bad input...): record the batches written since the last save. Not
            # after an operating-system error: a sync that failed once may report success the next
            # time without the data being on disk (Linux marks the pages clean), so only a resume,
            # which checks the rows, may count them.
            if state["written"] > state["saved"] and not isinstance(error, OSError):
                with contextlib.suppress(Exception):
                    save_progress(state["written"])
            raise
