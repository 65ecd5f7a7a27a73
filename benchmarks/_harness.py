"""Shared benchmark protocol: one process, same input, alternating runs after warm-up, ratios.

Each benchmark script defines its implementations as :class:`Impl` (a name and a ``build``
function returning ``fn(x) -> numpy array``, which must block until the result is ready) and calls
:func:`main`. The harness

1. builds every implementation and times its first call (compile + run for JAX),
2. checks every output against the reference implementation (relative L2 error),
3. times ``--repeats`` rounds, each round running every implementation in turn, so that machine
   noise hits all of them alike, and prints medians and ratios to scatterjax. In a round an
   implementation runs a block of back-to-back calls lasting about :data:`MIN_BLOCK_SECONDS` (one
   call for anything slower) and is credited the block's mean call: a training loop calls its step
   back to back, and a lone call of a few milliseconds right after another framework's measured
   its cold start instead (1D J=6 N=2048 gradient: ours 4 ms alone against 2.4-2.7 ms in a
   block, kymatio-jax 4 ms against 2.7-3.1 ms). Next to each median it prints the process's minor
   page faults per call (median over the rounds): XLA:CPU maps its temporary buffers afresh on
   every call, and on Linux each first touch of a 4 KiB page costs a fault, a large share of a
   gradient's time (see "Page faults on every call" in ``docs/uses/jax.md``); the header names
   the allocator settings that change it, and ``--malloc reuse`` or ``--malloc hugepages`` reruns
   the script with glibc's malloc set to spare those faults (:data:`MALLOC_SETTINGS`),
4. with ``--memory``, re-runs each implementation alone in a fresh subprocess and reports its peak
   resident memory (``VmHWM``, which includes the interpreter, libraries and compilation) and the
   peak of one warm call above the memory held before it (the high-water mark is reset between
   the first call and the measured one), plus XLA's temporary buffers where a script reports them
   (``XLA_TEMP_MB``); on a GPU, also the implementation's peak GPU memory (JAX's
   ``peak_bytes_in_use`` for the JAX implementations, ``torch.cuda.max_memory_allocated`` for
   kymatio's torch frontend), compilation and the first call included.

Every script takes ``--quick`` (2 rounds, kymatio's numpy frontend left out: a run of a few
minutes) and, for the forward transforms, ``--mode eager|jit|both``: ``jit`` times our forward
inside a caller's ``jax.jit`` (``jax.jit(lambda S, x: S(x))``, the filters passed as arguments),
which is what a model layer runs, and ``both`` times the eager call and that one side by side.
kymatio's jax frontend is jitted in every mode; its torch and numpy frontends have no such mode and
run eagerly. Where PyTorch sees a CUDA GPU, kymatio's torch frontend also runs there
(``kymatio-torch-cuda``); every implementation is given the same NumPy input and returns NumPy, so
each timing includes the transfers to and from the device.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

# torch's OpenMP threads spin for a while after each parallel region: alternated with JAX calls,
# they would take the cores from whichever implementation runs next. (Set before torch is imported.)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# On a GPU, JAX would take 75% of its memory at start; kymatio's torch frontend shares the GPU here.
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")


def kymatio_shim() -> None:
    """kymatio 0.3.0 imports ``scipy.special.sph_harm``, removed in SciPy 1.15; map it to sph_harm_y."""
    import scipy.special

    if not hasattr(scipy.special, "sph_harm"):
        scipy.special.sph_harm = lambda m, n, az, pol: scipy.special.sph_harm_y(n, m, pol, az)


@dataclass
class Impl:
    name: str
    build: Callable[[], Callable[[np.ndarray], np.ndarray]]


def torch_cuda_available() -> bool:
    """Whether JAX runs on a GPU and PyTorch sees a CUDA GPU too (then the ``kymatio-torch-cuda``
    peer runs). Asked of PyTorch only where JAX is on a GPU: importing torch in a CPU run would add
    its libraries to the peak memory that ``--memory`` reports for every implementation."""
    import jax

    if jax.default_backend() != "gpu":
        return False
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def device_description() -> str:
    """JAX's default device, e.g. ``cpu`` or ``cuda:0 (NVIDIA H200)``, for the benchmark's title."""
    import jax

    device = jax.devices()[0]
    kind = getattr(device, "device_kind", "")
    return f"{device.platform}:{device.id} ({kind})" if device.platform != "cpu" else "cpu"


def relative_l2(a: np.ndarray, b: np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def peak_rss_mb() -> float:
    """This process's peak resident memory. ``VmHWM`` is reset at exec, unlike ``ru_maxrss``, which
    Linux carries over from the forking parent (the benchmark process, already large)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _current_rss_mb() -> float:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def _reset_peak_rss() -> bool:
    """Reset this process's ``VmHWM`` to its current resident size (Linux >= 4.0); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def _device_peaks_mb() -> dict[str, float]:
    """Peak GPU memory held so far by JAX and by torch in this process (MB); empty on a CPU."""
    import jax

    if jax.default_backend() == "cpu":
        return {}
    peaks = {"JAX_DEVICE_PEAK_MB": (jax.devices()[0].memory_stats() or {}).get("peak_bytes_in_use", 0) / 2**20}
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        peaks["TORCH_DEVICE_PEAK_MB"] = torch.cuda.max_memory_allocated() / 2**20
    return peaks


def measure_call_memory(fn, x) -> None:
    """Print ``PEAK_RSS_MB`` (process peak, first call included) and ``CALL_PEAK_MB`` (peak of one
    warm call of ``fn(x)`` above the resident memory before it) for :func:`run`'s ``--memory``; on
    a GPU also ``JAX_DEVICE_PEAK_MB`` and ``TORCH_DEVICE_PEAK_MB`` (each framework's peak
    allocation on the GPU, which in a gradient benchmark includes the target's computation)."""
    np.asarray(fn(x))  # compile and first run
    total = peak_rss_mb()
    before = _current_rss_mb()
    if _reset_peak_rss():
        np.asarray(fn(x))
        print(f"CALL_PEAK_MB {peak_rss_mb() - before:.1f}")
    print(f"PEAK_RSS_MB {total:.1f}")
    for key, megabytes in _device_peaks_mb().items():
        print(f"{key} {megabytes:.1f}")


# A round's block of calls of one implementation lasts about this long (see the module docstring).
MIN_BLOCK_SECONDS = 0.1


def _timed(fn, x) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    out = fn(x)
    return time.perf_counter() - start, out


def _minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _mean_call(fn, x, calls: int) -> tuple[float, float]:
    """Mean time and mean minor page faults (of the whole process) of ``calls`` back-to-back calls
    ``fn(x)``."""
    faults = _minor_faults()
    start = time.perf_counter()
    for _ in range(calls):
        fn(x)
    return (time.perf_counter() - start) / calls, (_minor_faults() - faults) / calls


# Settings of glibc's malloc, read at process start from GLIBC_TUNABLES, that spare XLA:CPU's
# per-call buffers their page faults (see "Page faults on every call" in docs/uses/jax.md):
# "reuse" keeps freed memory for the next call (one arena, nothing mapped afresh, nothing given
# back to the system); "hugepages" asks for transparent huge pages on the blocks it maps (glibc
# 2.35 and later, with the kernel's THP mode madvise or always).
MALLOC_SETTINGS = {
    "reuse": "glibc.malloc.arena_max=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736",
    "hugepages": "glibc.malloc.hugetlb=1",
}


def allocator_description() -> str:
    """The host allocator's settings that change the timings: ``GLIBC_TUNABLES`` and the kernel's
    transparent huge page mode."""
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as mode_file:
            modes = mode_file.read().split()
        thp = next((mode[1:-1] for mode in modes if mode.startswith("[")), "unknown")
    except OSError:
        thp = "unknown"
    return f"GLIBC_TUNABLES={os.environ.get('GLIBC_TUNABLES', '(unset)')}, transparent huge pages: {thp}"


def restart_with_malloc(setting: str) -> None:
    """Run this script again, in place of this process, with ``MALLOC_SETTINGS[setting]`` added to
    ``GLIBC_TUNABLES`` (``--malloc``); nothing for ``default`` or if the tunables are there already."""
    if setting == "default":
        return
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    wanted = MALLOC_SETTINGS[setting]
    if wanted in tunables:
        return
    env = dict(os.environ, GLIBC_TUNABLES=":".join(filter(None, [tunables, wanted])))
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


def run(title: str, impls: list[Impl], x: np.ndarray, *, ours: str, reference: str, repeats: int,
        memory: bool, script: str, extra_args: list[str]) -> dict:
    names = [impl.name for impl in impls]
    if not names:
        raise SystemExit("no implementation left to run (--only/--skip left out every one)")
    if ours not in names:  # e.g. --only scatterjax-in-jit,kymatio-jax-jit: ratios to our first
        ours = next((name for name in names if name.startswith("scatterjax")), names[0])
    print(f"== {title}: input {x.shape} {x.dtype}, JAX on {device_description()}")
    print(f"   host allocator: {allocator_description()}; ratios are to {ours}")
    fns, firsts, outputs = {}, {}, {}
    for impl in impls:
        build_start = time.perf_counter()
        fn = impl.build()
        build_s = time.perf_counter() - build_start
        first_s, out = _timed(fn, x)
        fns[impl.name], firsts[impl.name], outputs[impl.name] = fn, first_s, np.asarray(out)
        print(f"   built {impl.name:<28} build {build_s:7.2f} s   first call {first_s:7.2f} s",
              flush=True)
    ref = outputs[reference]
    # Calls per block, from one warm call each.
    block = {name: max(1, round(MIN_BLOCK_SECONDS / max(_timed(fn, x)[0], 1e-6))) for name, fn in fns.items()}
    times = {impl.name: [] for impl in impls}
    faults = {impl.name: [] for impl in impls}
    for _ in range(repeats):
        for impl in impls:
            seconds, call_faults = _mean_call(fns[impl.name], x, block[impl.name])
            times[impl.name].append(seconds)
            faults[impl.name].append(call_faults)
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    median_faults = {name: statistics.median(counts) for name, counts in faults.items()}
    peak, call_peak, xla_temp, device_peak = {}, {}, {}, {}
    if memory:
        for impl in impls:
            result = subprocess.run(
                [sys.executable, script, "--only", impl.name, "--measure-memory", *extra_args],
                capture_output=True, text=True, check=False,
            )

            lines = result.stdout.splitlines()

            def read(key, lines=lines):
                found = [ln for ln in lines if ln.startswith(key + " ")]
                return float(found[-1].split()[1]) if found else float("nan")

            peak[impl.name], call_peak[impl.name] = read("PEAK_RSS_MB"), read("CALL_PEAK_MB")
            xla_temp[impl.name] = read("XLA_TEMP_MB")
            device_peak[impl.name] = read("TORCH_DEVICE_PEAK_MB" if "torch" in impl.name else "JAX_DEVICE_PEAK_MB")
    on_device = any(value == value for value in device_peak.values())  # not all NaN: a GPU run
    header = (f"   {'implementation':<28} {'first call s':>12} {'median s':>10} {'calls/round':>11} {'÷ ours':>8} "
              f"{'rel L2 vs ' + reference:>24} {'faults/call':>11}")
    if memory:
        header += f" {'peak RSS MB':>12} {'call peak MB':>13} {'XLA temp MB':>12}"
        if on_device:
            header += f" {'GPU peak MB':>12}"
    print(header)
    for impl in impls:
        name = impl.name
        row = (f"   {name:<28} {firsts[name]:12.3f} {medians[name]:10.4f} {block[name]:11d} "
               f"{medians[name] / medians[ours]:8.2f} {relative_l2(outputs[name], ref):24.2e} "
               f"{median_faults[name]:11.0f}")
        if memory:
            # XLA's temporaries to 0.1 MB, as the script reports them: the small gradients' are 1-3 MB.
            row += f" {peak[name]:12.0f} {call_peak[name]:13.0f} {xla_temp[name]:12.1f}"
            if on_device:
                row += f" {device_peak[name]:12.0f}"
        print(row)
    return {"first": firsts, "median": medians, "faults": median_faults, "peak": peak, "call_peak": call_peak,
            "xla_temp": xla_temp, "device_peak": device_peak}


def _strip_options(argv: list[str], with_value: tuple[str, ...], flags: tuple[str, ...]) -> list[str]:
    """``argv`` without the given options (and their values), to pass on to a child run."""
    kept, skip_next = [], False
    for arg in argv:
        if skip_next:
            skip_next = False
        elif arg in with_value:
            skip_next = True
        elif arg in flags or arg.startswith(tuple(f"{name}=" for name in with_value)):
            continue
        else:
            kept.append(arg)
    return kept


def main(title: str, make_impls: Callable[[argparse.Namespace], list[Impl]],
         make_input: Callable[[argparse.Namespace], np.ndarray], *, ours: str, reference: str,
         add_arguments: Callable[[argparse.ArgumentParser], None] | None = None) -> None:
    parser = argparse.ArgumentParser(description=title)
    add_common_arguments(parser)
    parser.add_argument("--only", help="run one implementation (comma-separated names)")
    parser.add_argument("--measure-memory", action="store_true", help=argparse.SUPPRESS)
    if add_arguments:
        add_arguments(parser)
    args = parser.parse_args()
    apply_common_arguments(args)
    impls = make_impls(args)
    if args.only:
        wanted = checked_names("--only", args.only, [impl.name for impl in impls])
        impls = [impl for impl in impls if impl.name in wanted]
    x = make_input(args)
    if args.measure_memory:
        (impl,) = impls
        measure_call_memory(impl.build(), x)
        return
    passthrough = _strip_options(sys.argv[1:], with_value=("--only", "--repeats"),
                                 flags=("--memory", "--quick"))
    names = [impl.name for impl in impls]
    if reference not in names:  # e.g. kymatio-numpy left out by --quick: the first kymatio peer
        reference = next((name for name in names if name.startswith("kymatio")), names[0])
    mode = getattr(args, "mode", "eager")
    if mode != "eager":
        title = f"{title} (ours: {'eager and inside jit' if mode == 'both' else 'jit mode'})"
    run(title, impls, x, ours=ours, reference=reference, repeats=args.repeats, memory=args.memory, script=sys.argv[0],
        extra_args=passthrough)


def add_common_arguments(parser: argparse.ArgumentParser, *, modes: bool = True) -> None:
    """``--repeats``, ``--quick``, ``--memory`` and (with ``modes``) ``--mode``."""
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds (default 5; 2 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="2 rounds, kymatio-numpy left out: a run of a few minutes")
    parser.add_argument("--memory", action="store_true", help="also measure peak RSS per implementation")
    parser.add_argument("--malloc", choices=("default", *MALLOC_SETTINGS), default="default",
                        help="rerun with glibc's malloc tuned so that XLA's per-call buffers do not page-fault: "
                             f"reuse ({MALLOC_SETTINGS['reuse']}) or hugepages ({MALLOC_SETTINGS['hugepages']})")
    if modes:
        parser.add_argument("--mode", choices=("eager", "jit", "both"), default="eager",
                            help="eager: S(x); jit: our forward inside a caller's jax.jit; "
                                 "both: the two, as 'scatterjax' and 'scatterjax-in-jit'")


def apply_common_arguments(args: argparse.Namespace) -> None:
    """Act on :func:`add_common_arguments`' options once parsed: with ``--malloc``, restart the script
    with that allocator setting first; fill in ``args.repeats``; with ``--quick``, leave
    kymatio-numpy out."""
    restart_with_malloc(getattr(args, "malloc", "default"))
    if args.repeats is None:
        args.repeats = 2 if args.quick else 5
    if args.quick and hasattr(args, "skip"):
        args.skip = ",".join(filter(None, [args.skip, "kymatio-numpy"]))


def checked_names(option: str, value: str, known: Sequence[str], *, always_accepted: Sequence[str] = ()) -> set[str]:
    """The comma-separated implementation names of ``value`` (given as ``option``), each checked
    against ``known``, the names the script can run (or one of ``always_accepted``): a misspelt name
    would otherwise run or leave out less than asked, and say nothing. An unknown name stops the
    script with exit status 2 (a usage error), naming the names there are."""
    names = set(filter(None, value.split(",")))
    unknown = sorted(names - set(known) - set(always_accepted))
    if unknown:
        print(f"{option}: no implementation named {', '.join(map(repr, unknown))}; "
              f"the names are {', '.join(map(repr, known))}", file=sys.stderr)
        raise SystemExit(2)
    return names


def names_to_skip(skip: str, known: Sequence[str]) -> set[str]:
    """:func:`checked_names` of ``--skip``; ``kymatio-numpy``, which ``--quick`` leaves out of every
    script, is always accepted."""
    return checked_names("--skip", skip, known, always_accepted=("kymatio-numpy",))


def workload_names(parser: argparse.ArgumentParser, value: str, workloads: Sequence[str]) -> list[str]:
    """The comma-separated workload names of ``value`` (``--workload``; ``all``: every one), each one of
    ``workloads``; an unknown name stops the script with a usage error that lists them."""
    names = list(workloads) if value == "all" else value.split(",")
    unknown = [name for name in names if name not in workloads]
    if unknown:
        parser.error(f"--workload: unknown {unknown}; expected names from {list(workloads)} or 'all'")
    return names


# Every name standard_impls gives (kymatio-torch-cuda only where PyTorch sees a GPU).
STANDARD_NAMES = ("scatterjax", "scatterjax-in-jit", "fft-floor (our plan)", "kymatio-jax-jit", "kymatio-torch-cpu",
                  "kymatio-torch-cuda", "kymatio-numpy")


def jitted_forward(S):
    """``x -> S(x)`` inside one caller's ``jax.jit``, the transform (its filters) passed as an argument."""
    import jax

    program = jax.jit(lambda S, x: S(x))
    return lambda x: np.asarray(jax.block_until_ready(program(S, x)))


def standard_impls(class_name: str, kwargs: dict, make_input: Callable[[], np.ndarray], *,
                   floor: Callable | None = None, skip: str = "", mode: str = "eager") -> list[Impl]:
    """scatterjax's ``class_name`` and kymatio's jax (jitted), torch (CPU; and CUDA where PyTorch sees
    a GPU) and numpy frontends of the same class, all built with ``kwargs``; plus, with
    ``floor(transform, x) -> (run, inputs, count)``, the bare FFTs of our plan. ``skip``:
    comma-separated names to leave out. ``mode='jit'`` runs our forward inside a caller's
    ``jax.jit`` instead of the eager call; ``mode='both'`` runs the two."""

    def ours(inside_jit: bool):
        import jax

        import scatterjax

        S = getattr(scatterjax, class_name)(**kwargs)
        if inside_jit:
            return jitted_forward(S)
        return lambda x: np.asarray(jax.block_until_ready(S(x)))

    def fft_floor():
        import jax

        import scatterjax

        S = getattr(scatterjax, class_name)(**kwargs)
        run, inputs, count = floor(S, make_input())
        print(f"   (fft-floor: {count} FFT calls of our plan)")
        reference = np.asarray(S(make_input()))

        def call(x):
            jax.block_until_ready(run(inputs))
            return reference  # the floor computes no coefficients; report ours for the check

        return call

    def kymatio_numpy():
        import kymatio.numpy

        S = getattr(kymatio.numpy, class_name)(**kwargs)
        return lambda x: S(x)

    def kymatio_torch(device: str):
        import kymatio.torch
        import torch

        S = getattr(kymatio.torch, class_name)(**kwargs).to(device)
        return lambda x: S(torch.from_numpy(x).to(device)).cpu().numpy()  # .cpu() waits for a GPU

    def kymatio_jax():
        import jax
        import kymatio.jax

        S = getattr(kymatio.jax, class_name)(**kwargs)
        f = jax.jit(lambda x: S(x))  # kymatio's filters become constants of this program
        return lambda x: np.asarray(jax.block_until_ready(f(x)))

    impls = [Impl("scatterjax", lambda: ours(mode == "jit"))]
    if mode == "both":
        impls.append(Impl("scatterjax-in-jit", lambda: ours(True)))
    if floor is not None:
        impls.append(Impl("fft-floor (our plan)", fft_floor))
    left_out = names_to_skip(skip, STANDARD_NAMES)
    impls += [Impl("kymatio-jax-jit", kymatio_jax), Impl("kymatio-torch-cpu", lambda: kymatio_torch("cpu"))]
    if "kymatio-torch-cuda" not in left_out and torch_cuda_available():
        impls.append(Impl("kymatio-torch-cuda", lambda: kymatio_torch("cuda")))
    impls.append(Impl("kymatio-numpy", kymatio_numpy))
    return [impl for impl in impls if impl.name not in left_out]


def fft_floor(transform, x: np.ndarray):
    """A jitted function running exactly the FFTs of our transform (found in its jaxpr) on random
    data of the same shapes, and nothing else; returns ``(function, inputs, number of FFT calls)``.

    FFTs inside a loop over batch chunks (``lax.map``) run inside a loop of the same length, so the
    floor sees the same sizes, counts and cache behaviour as the transform."""
    import jax
    import jax.extend
    import jax.numpy as jnp

    groups: dict[int, list] = {}  # loop length -> FFT calls in that loop body (1: not in a loop)

    def walk(jaxpr, length):
        for eqn in jaxpr.eqns:
            if eqn.primitive.name == "fft":
                aval = eqn.invars[0].aval
                groups.setdefault(length, []).append(
                    (eqn.params["fft_type"], tuple(eqn.params["fft_lengths"]), aval.shape, aval.dtype))
            inner = length * eqn.params["length"] if eqn.primitive.name == "scan" else length
            for sub in jax.extend.core.jaxprs_in_params(eqn.params):
                walk(sub, inner)

    walk(jax.make_jaxpr(transform)(x).jaxpr, 1)
    rng = np.random.default_rng(1)

    def random(shape, dtype):
        data = rng.standard_normal(shape)
        if jnp.issubdtype(dtype, jnp.complexfloating):
            data = data + 1j * rng.standard_normal(shape)
        return jnp.asarray(data, dtype)

    inputs = {length: [random((length,) + shape, dtype) for _, _, shape, dtype in calls]
              for length, calls in groups.items()}
    specs = {length: tuple((fft_type, lengths) for fft_type, lengths, _, _ in calls)
             for length, calls in groups.items()}

    @jax.jit
    def run(arrays):
        out = {}
        for length, stacked in arrays.items():
            def body(chunk, length=length):
                return [jax.lax.fft(a, t, n) for (t, n), a in zip(specs[length], chunk)]
            out[length] = jax.lax.map(body, stacked)
        return out

    return run, inputs, sum(length * len(calls) for length, calls in groups.items())
