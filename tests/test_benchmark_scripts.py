"""The benchmark scripts run, on tiny workloads, and every implementation's output matches the
reference in the table they print (the numbers they time are the right numbers)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# implementation, first call, median, calls per round, ratio, relative L2 error, page faults per call
ROW = re.compile(r"^ {3}(\S+(?: \S+)*?) +(\d+\.\d+) +(\d+\.\d+) +(\d+) +(\d+\.\d+) +(\S+) +(\d+)$")


def _run(*args: str, env: dict | None = None) -> str:
    result = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _table(*args: str) -> dict[str, float]:
    """Run a benchmark script; ``{implementation: relative L2 error against the reference}``."""
    rows = {}
    for line in _run(*args).splitlines():
        match = ROW.match(line)
        if match:
            rows[match.group(1)] = float(match.group(6))
    return rows


def test_gradient_benchmark_with_a_batch_override():
    rows = _table("benchmarks/bench_grad.py", "--workload", "1d-small", "--batch", "2,1", "--repeats", "1",
                  "--skip", "kymatio-torch-cpu")
    assert set(rows) == {"scatterjax", "kymatio-jax-jit"}
    assert rows["kymatio-jax-jit"] == 0.0  # the reference
    assert rows["scatterjax"] < 1e-5


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="GLIBC_TUNABLES is glibc's")
def test_malloc_reruns_the_script_with_the_allocator_tunables_and_says_so():
    env = {key: value for key, value in os.environ.items() if key != "GLIBC_TUNABLES"}
    args = ("benchmarks/bench_grad.py", "--workload", "2d-small", "--repeats", "1",
            "--skip", "kymatio-torch-cpu,kymatio-jax-jit")
    outputs = {setting: _run(*args, "--malloc", setting, env=env) for setting in ("default", "reuse", "hugepages")}
    assert "host allocator: GLIBC_TUNABLES=(unset)," in outputs["default"]
    assert "host allocator: GLIBC_TUNABLES=glibc.malloc.arena_max=1:glibc.malloc.mmap_max=0:" in outputs["reuse"]
    assert "host allocator: GLIBC_TUNABLES=glibc.malloc.hugetlb=1," in outputs["hugepages"]
    for out in outputs.values():  # one table, its row with a count of page faults per call
        rows = [ROW.match(line) for line in out.splitlines() if ROW.match(line)]
        assert [row.group(1) for row in rows] == ["scatterjax"] and int(rows[0].group(7)) >= 0


def test_forward_benchmark_times_eager_and_jitted_side_by_side():
    rows = _table("benchmarks/bench_1d.py", "--J", "4", "--N", "256", "--T", "none", "--batch", "3", "--repeats",
                  "1", "--mode", "both", "--skip", "kymatio-numpy,kymatio-torch-cpu,fft-floor (our plan)")
    assert set(rows) == {"scatterjax", "scatterjax-in-jit", "kymatio-jax-jit"}
    assert rows["scatterjax"] < 1e-5 and rows["scatterjax-in-jit"] < 1e-5


def test_fft_thread_reproducer_times_its_three_programs_and_finds_their_ffts():
    result = subprocess.run([sys.executable, "benchmarks/fft_threads.py", "--shape", "4,32,32", "--calls", "2"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = {}
    for line in result.stdout.splitlines():
        match = re.match(r"^ {3}(ifft2|multiply|multiply, then ifft2) +(\d+\.\d+) +(\d+\.\d+) +(.*)$", line)
        if match:
            rows[match.group(1)] = match.group(4)
    assert set(rows) == {"ifft2", "multiply", "multiply, then ifft2"}, result.stdout
    assert rows["multiply"] == "-"  # no FFT in that program
    for name in ("ifft2", "multiply, then ifft2"):
        if rows[name] != "(no profiler trace to read)":
            # Each traced call's one FFT is found, on one kind of thread or the other.
            counts = [int(n) for n in re.findall(r"thread \d+\.\d+ \((\d+)\)", rows[name])]
            assert sum(counts) == 2, rows[name]


def test_independent_fft_reproducer_times_each_number_of_chains():
    out = _run("benchmarks/independent_ffts.py", "--chains", "1,3", "--rows", "2", "--length", "64", "--steps", "1",
               "--calls", "2")
    rows = [re.match(r"^ +(\d+) +(\d+\.\d+) +(\d+\.\d+) +(\d+\.\d+)$", line) for line in out.splitlines()]
    rows = [(int(m.group(1)), float(m.group(2)), float(m.group(3)), float(m.group(4))) for m in rows if m]
    assert [row[0] for row in rows] == [1, 3]
    for count, program_ms, per_chain_ms, busy in rows:  # per chain: the program's time over k
        assert program_ms > 0 and per_chain_ms == pytest.approx(program_ms / count, abs=2e-3)
        assert 0 < busy <= (os.cpu_count() or 1) + 0.5


@pytest.mark.parametrize("script", ["bench_1d.py", "bench_grad.py", "bench_build.py"])
def test_a_misspelt_skip_name_is_refused_with_the_names_there_are(script):
    # "kymatio-torch" is bench_build's name for what the other scripts call "kymatio-torch-cpu".
    misspelt = "kymatio-torch-cpu" if script == "bench_build.py" else "kymatio-torch"
    result = subprocess.run([sys.executable, f"benchmarks/{script}", "--skip", f"kymatio-numpy,{misspelt}"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode != 0
    assert f"--skip: no implementation named '{misspelt}'" in result.stderr, result.stderr[-2000:]
    assert "kymatio-jax" in result.stderr.split("the names are")[-1]


def test_only_without_our_eager_row_takes_ratios_to_our_row_in_jit():
    # Ours in jit mode and one peer: the ratio column is to the scatterjax row that ran.
    out = _run("benchmarks/bench_1d.py", "--J", "4", "--N", "256", "--T", "none", "--batch", "2", "--repeats", "1",
               "--mode", "both", "--only", "scatterjax-in-jit,kymatio-jax-jit")
    assert "ratios are to scatterjax-in-jit" in out
    rows = {m.group(1): float(m.group(5)) for m in map(ROW.match, out.splitlines()) if m}
    assert set(rows) == {"scatterjax-in-jit", "kymatio-jax-jit"} and rows["scatterjax-in-jit"] == 1.0


def test_a_misspelt_only_name_is_refused_with_the_names_there_are():
    result = subprocess.run([sys.executable, "benchmarks/bench_2d.py", "--only", "scatterjax,kymatio-jax"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 2
    assert "--only: no implementation named 'kymatio-jax';" in result.stderr, result.stderr[-2000:]
    assert "'kymatio-jax-jit'" in result.stderr.split("the names are")[-1]


def test_an_unknown_option_is_refused():
    result = subprocess.run([sys.executable, "benchmarks/bench_2d.py", "--repeatz", "3"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 2 and "unrecognized arguments: --repeatz" in result.stderr, result.stderr[-2000:]


@pytest.mark.parametrize("script", ["bench_grad.py", "bench_batch_sizes.py", "bench_build.py"])
def test_an_unknown_workload_is_refused_with_the_names_there_are(script):
    result = subprocess.run([sys.executable, f"benchmarks/{script}", "--workload", "2D"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "--workload: unknown ['2D']; expected names from [" in result.stderr and "'2d'" in result.stderr
