"""``scatterjax extract``: files on disk -> one ``.npy`` of scattering features, resumable.

Inputs are ``.npy``/``.npz`` arrays, ``.wav``/``.flac`` audio (cut into frames of ``--frame-length``
samples every ``--hop``) and image files (2D). Each *item* is one signal (1D), image (2D) or volume
(3D): a file holding an array of shape ``(..., *shape)`` gives one item per leading index (times the
frames, when framing). The output ``OUT.npy`` has shape ``(items, *per_item_output)`` (for 1D
``(items, channels, time)``), written through a memory map, and ``OUT.json`` (the sidecar) holds:

- ``config``: every setting that decides the numbers, and the input files (path, size, mtime);
- ``meta``: the transform's ``meta()``, arrays as lists (NaN as ``null``);
- ``files``: for each used file, ``path``, ``first_item``, ``items``, ``signals`` and ``frames``
  (items of a file are contiguous, signal-major: item ``first_item + s * frames + f`` is frame
  ``f``, starting at sample ``f * hop``, of signal ``s``), plus ``sample_rate`` for audio;
  :func:`item_index` turns this into an ``(items, 3)`` table ``[file, signal, frame]``;
- ``skipped``: files refused with ``--skip-bad``, and why;
- ``progress``: ``items_done`` and ``complete``.

After each batch the memory map is flushed, then the sidecar is replaced atomically (temporary file +
``os.replace``), so an interrupted run (Ctrl-C, kill, power loss) restarts from its last finished
batch when the same command is run again, and ends with a file byte-identical to an uninterrupted
run. Running a different configuration against an existing output is refused (``--overwrite``
starts afresh). Bad input (unreadable file, wrong length or sample rate, NaN or Inf, empty folder)
stops with a message naming the file (exit code 2), or with ``--skip-bad`` is listed in the sidecar.

Example::

    scatterjax extract sounds/ --dim 1 --J 10 --Q 8 --frame-length 65536 --hop 32768 --out feats.npy
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from bisect import bisect_right
from pathlib import Path

import numpy as np

from . import io as signal_io

FORMAT_VERSION = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class ExtractError(Exception):
    """A problem reported to the user as one message, with exit code 2."""


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


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() else value


def build_parser(prog: str = "scatterjax extract") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Compute scattering features of files (.npy/.npz, .wav/.flac, images) into one .npy.",
        epilog="Rerun the same command to resume an interrupted extraction.",
    )
    parser.add_argument("inputs", nargs="+", help="input files and folders (folders are searched recursively)")
    parser.add_argument("--out", required=True, help="output .npy path (the sidecar is the same path with .json)")
    group = parser.add_argument_group("transform (the constructor's arguments)")
    group.add_argument("--dim", type=int, choices=(1, 2, 3), default=1, help="1D, 2D or 3D scattering (default 1)")
    group.add_argument("--J", type=int, required=True, help="log2 of the largest scale")
    group.add_argument("--shape", type=_ints, help="item shape, e.g. 65536 or 256,256 (default: from the inputs)")
    group.add_argument("--Q", type=_ints, default=(1,), help="1D: wavelets per octave, Q or Q1,Q2 (default 1)")
    group.add_argument("--T", type=_number, help="1D: averaging scale in samples (default 2**J)")
    group.add_argument("--max-order", type=int, default=2, help="1 or 2 (default 2)")
    group.add_argument("--oversampling", type=int, default=0, help="1D: oversampling (default 0)")
    group.add_argument("--L", type=int, help="2D: orientations (default 8); 3D: degree (default 3)")
    group.add_argument("--sigma-0", type=float, default=1.0, help="3D: width of the mother wavelet (default 1)")
    group.add_argument("--integral-powers", type=_floats, default=(0.5, 1.0, 2.0), help="3D (default 0.5,1,2)")
    group = parser.add_argument_group("inputs")
    group.add_argument("--frame-length", type=int, help="1D: cut signals into frames of this many samples")
    group.add_argument("--hop", type=int, help="1D: samples between frame starts (default: the frame length)")
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
    """Run the extractor with command-line arguments ``argv``; returns the exit code."""
    args = build_parser(prog).parse_args(argv)
    try:
        extract(args)
    except (ExtractError, signal_io.BadInput) as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted; rerun the same command to resume.", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


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
    if args.dim != 1 and (args.frame_length is not None or args.hop is not None):
        raise ExtractError("--frame-length and --hop apply to 1D (--dim 1) only.")
    if args.hop is not None and args.frame_length is None:
        raise ExtractError("--hop needs --frame-length.")
    if args.shape is not None and len(args.shape) != args.dim:
        raise ExtractError(f"--shape must have {args.dim} number(s) for --dim {args.dim}; got {args.shape}.")
    if args.frame_length is not None and args.shape is not None and args.shape != (args.frame_length,):
        raise ExtractError(f"--shape {args.shape} contradicts --frame-length {args.frame_length}; give one of them.")
    if len(args.Q) not in (1, 2):
        raise ExtractError(f"--Q must be Q or Q1,Q2; got {args.Q}.")


def _transform_settings(args) -> dict:
    if args.dim == 1:
        return {
            "class": "Scattering1D",
            "J": args.J,
            "Q": list(args.Q),
            "T": args.T,
            "max_order": args.max_order,
            "oversampling": args.oversampling,
        }
    if args.dim == 2:
        return {"class": "Scattering2D", "J": args.J, "L": 8 if args.L is None else args.L, "max_order": args.max_order}
    return {
        "class": "HarmonicScattering3D",
        "J": args.J,
        "L": 3 if args.L is None else args.L,
        "sigma_0": args.sigma_0,
        "max_order": args.max_order,
        "integral_powers": list(args.integral_powers),
    }


def _configuration(args, files: list[Path], devices: int) -> dict:
    inputs = []
    for path in files:
        stat = path.stat()
        inputs.append({"path": str(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns})
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
    kwargs = {key: value for key, value in settings.items() if key != "class"}
    try:
        if settings["class"] == "Scattering1D":
            from .._scattering1d.frontend import Scattering1D

            kwargs["Q"] = tuple(kwargs["Q"])
            return Scattering1D(shape=shape, **kwargs)
        if settings["class"] == "Scattering2D":
            from .._scattering2d.frontend import Scattering2D

            return Scattering2D(shape=shape, **kwargs)
        from .._harmonic3d.frontend import HarmonicScattering3D

        kwargs["integral_powers"] = tuple(kwargs["integral_powers"])
        return HarmonicScattering3D(shape=shape, **kwargs)
    except (ValueError, TypeError) as error:
        raise ExtractError(f"invalid transform settings for items of shape {shape}: {error}") from error


# --- scanning the inputs -----------------------------------------------------------------------
def _scan(config: dict, files: list[Path]) -> tuple[list[dict], list[dict], tuple[int, ...]]:
    """Read and check every file; returns (used files table, skipped files, item shape)."""
    dim = config["dim"]
    frame_length, hop = config["frame_length"], config["hop"]
    shape = tuple(config["shape"]) if config["shape"] is not None else None
    if frame_length is not None:
        shape = (frame_length,)
    sample_rate = config["sample_rate"]
    table: list[dict] = []
    skipped: list[dict] = []
    first_item = 0
    for path in files:
        try:
            data, rate = signal_io.read(path, npz_key=config["npz_key"])
            if rate is not None:
                if sample_rate is None:
                    sample_rate = rate
                elif rate != sample_rate:
                    raise signal_io.BadInput(path, f"sample rate {rate} Hz differs from {sample_rate} Hz (see --sample-rate)")
            if data.ndim < dim:
                raise signal_io.BadInput(path, f"has shape {data.shape}; a {dim}D item needs at least {dim} dimension(s)")
            item_shape = tuple(data.shape[data.ndim - dim :])
            if frame_length is not None:
                length = item_shape[0]
                if length < frame_length:
                    raise signal_io.BadInput(path, f"length {length} is shorter than the frame length {frame_length}")
                frames = 1 + (length - frame_length) // hop
            else:
                if shape is None:
                    shape = item_shape
                if item_shape != shape:
                    what = "length" if dim == 1 else "shape"
                    raise signal_io.BadInput(path, f"{what} {item_shape} does not match the expected {shape} (see --shape)")
                frames = 1
            signals = math.prod(data.shape[: data.ndim - dim])
            if signals * frames == 0:
                raise signal_io.BadInput(path, f"holds no item (shape {data.shape})")
            finite = np.isfinite(data)
            if not finite.all():
                nan, inf = int(np.isnan(data).sum()), int(np.isinf(data).sum())
                first = np.unravel_index(int(np.argmin(finite.reshape(-1))), data.shape)
                raise signal_io.BadInput(path, f"contains {nan} NaN and {inf} Inf value(s) (first at index {first})")
        except signal_io.BadInput as error:
            if not config["skip_bad"]:
                raise
            skipped.append({"path": str(path), "problem": error.problem})
            continue
        entry = {"path": str(path), "first_item": first_item, "items": signals * frames, "signals": signals}
        entry["frames"] = frames
        if rate is not None:
            entry["sample_rate"] = rate
        table.append(entry)
        first_item += signals * frames
    if not table:
        raise ExtractError(f"no usable input: all {len(files)} file(s) were skipped ({skipped[:3]}...)")
    return table, skipped, shape


def item_index(sidecar: dict) -> np.ndarray:
    """``(items, 3)`` int64 table ``[file, signal, frame]`` of every output row (``sidecar['files']``)."""
    rows = []
    for number, entry in enumerate(sidecar["files"]):
        signal, frame = np.divmod(np.arange(entry["items"]), entry["frames"])
        rows.append(np.stack([np.full(entry["items"], number), signal, frame], axis=1))
    return np.concatenate(rows).astype(np.int64)


class _ItemReader:
    """Loads rows ``[start, stop)`` of the output's items from the files, keeping the last file open."""

    def __init__(self, table: list[dict], config: dict, shape: tuple[int, ...]):
        self.table = table
        self.firsts = [entry["first_item"] for entry in table]
        self.config = config
        self.shape = shape
        self.cached: tuple[int, np.ndarray] | None = None

    def _signals(self, number: int) -> np.ndarray:
        if self.cached is None or self.cached[0] != number:
            data, _ = signal_io.read(self.table[number]["path"], npz_key=self.config["npz_key"])
            dim = self.config["dim"]
            self.cached = (number, np.asarray(data).reshape((-1,) + tuple(data.shape[data.ndim - dim :])))
        return self.cached[1]

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


def _write_json_atomic(path: Path, content: dict | str) -> None:
    text = content if isinstance(content, str) else json.dumps(content, indent=1)
    temporary = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(temporary, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


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
            lines.append(f"inputs (added {added[:3]}, removed {removed[:3]}, modified {modified[:3]})")
        else:
            lines.append(f"{key}: {old.get(key)!r} -> {new.get(key)!r}")
    return lines


# --- progress ----------------------------------------------------------------------------------
class _Progress:
    """tqdm when installed, else a one-line bar; silent when stderr is not a terminal or ``quiet``."""

    def __init__(self, total: int, done: int, quiet: bool):
        self.enabled = not quiet and sys.stderr.isatty()
        self.total, self.done, self.start, self.start_done = total, done, time.monotonic(), done
        self.bar = None
        if self.enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self.bar = tqdm(total=total, initial=done, unit="item", dynamic_ncols=True, smoothing=0.1)

    def update(self, count: int) -> None:
        self.done += count
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(count)
            return
        elapsed = max(time.monotonic() - self.start, 1e-9)
        rate = (self.done - self.start_done) / elapsed
        eta = (self.total - self.done) / rate if rate > 0 else float("inf")
        width = 30
        filled = int(width * self.done / self.total)
        eta_text = f"{eta:.0f}s" if math.isfinite(eta) else "?"
        line = f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {rate:.1f} items/s ETA {eta_text}"
        sys.stderr.write(line)
        sys.stderr.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            sys.stderr.write("\n")


# --- the extraction ----------------------------------------------------------------------------
def extract(args) -> Path:
    """Run one extraction (``args`` from :func:`build_parser`); returns the output path."""
    _check_args(args)
    import jax

    from .._core.sharding import make_batch_mesh, replicate, shard_batch, sharded_apply

    local_devices = jax.local_devices()
    devices = len(local_devices) if args.devices is None else args.devices
    if devices > len(local_devices):
        raise ExtractError(f"--devices {devices} asks for more devices than the {len(local_devices)} available.")
    files = signal_io.list_inputs(args.inputs)
    out = Path(args.out)
    if out.suffix != ".npy":
        raise ExtractError(f"--out must end with .npy; got {str(out)!r}.")
    side = sidecar_path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    config = _configuration(args, files, devices)

    sidecar = None
    if args.overwrite:
        for path in (out, side):
            if path.exists():
                path.unlink()
    elif side.exists():
        try:
            sidecar = json.loads(side.read_text())
        except (OSError, ValueError) as error:
            raise ExtractError(
                f"{side}: existing sidecar is unreadable ({error}); use --overwrite to start afresh."
            ) from error
        if sidecar.get("config") != config:
            changes = "; ".join(_differences(sidecar.get("config", {}), config))
            raise ExtractError(
                f"{out} was started with a different configuration ({changes}). Rerun the original command to "
                "resume it, choose another --out, or pass --overwrite to replace it."
            )
    elif out.exists():
        raise ExtractError(f"{out} exists and has no sidecar {side.name}; choose another --out or pass --overwrite.")

    if sidecar is None:
        table, skipped, shape = _scan(config, files)
        transform = build_transform(config["transform"], shape)
        item_output = jax.eval_shape(transform, jax.ShapeDtypeStruct((1,) + shape, np.float32))
        total = table[-1]["first_item"] + table[-1]["items"]
        sidecar = {
            "config": config,
            "item_shape": list(shape),
            "output": {"path": out.name, "shape": [total, *item_output.shape[1:]], "dtype": "float32"},
            "meta": _jsonable(transform.meta()),
            "files": table,
            "skipped": skipped,
            "progress": {"items_done": 0, "complete": False},
        }
        _write_json_atomic(side, sidecar)
    else:
        table, shape = sidecar["files"], tuple(sidecar["item_shape"])
        transform = build_transform(config["transform"], shape)
    output_shape = tuple(sidecar["output"]["shape"])
    done = sidecar["progress"]["items_done"]
    if sidecar["progress"]["complete"] and out.exists():
        return out

    if done == 0 or not out.exists():
        done = 0
        features = np.lib.format.open_memmap(out, mode="w+", dtype=np.float32, shape=output_shape)
    else:
        features = np.lib.format.open_memmap(out, mode="r+")
        if features.shape != output_shape or features.dtype != np.float32:
            raise ExtractError(
                f"{out} has shape {features.shape} {features.dtype}, not the {output_shape} float32 its sidecar "
                "describes; pass --overwrite to start afresh."
            )

    mesh = make_batch_mesh(local_devices[:devices])
    transform = replicate(transform, mesh)
    batch_size = args.batch_size
    reader = _ItemReader(table, config, shape)
    total = output_shape[0]
    throttle = float(os.environ.get("_SCATTERJAX_EXTRACT_SLEEP", "0"))  # test hook: slow batches down
    progress = _Progress(total, done, args.quiet)

    # The sidecar is rewritten after every batch: encode everything but the progress once.
    static = json.dumps({key: value for key, value in sidecar.items() if key != "progress"}, indent=1)

    def finish(start, stop, result, n_valid):
        features[start:stop] = np.asarray(result)[:n_valid]
        features.flush()
        sidecar["progress"] = {"items_done": stop, "complete": stop == total}
        _write_json_atomic(side, f'{static[:-2]},\n "progress": {json.dumps(sidecar["progress"])}\n}}')
        progress.update(stop - start)

    pending = None
    try:
        for start in range(done, total, batch_size):
            stop = min(start + batch_size, total)
            x_sharded, n_valid = shard_batch(reader.read(start, stop), mesh, pad_to=batch_size)
            result = sharded_apply(transform, x_sharded, mesh)  # dispatched asynchronously
            if pending is not None:
                finish(*pending)
            pending = (start, stop, result, n_valid)
            if throttle:
                time.sleep(throttle)
        if pending is not None:
            finish(*pending)
    finally:
        progress.close()
    return out
