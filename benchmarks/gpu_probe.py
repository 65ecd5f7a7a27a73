"""Two GPU checks that the NumPy-in, NumPy-out benchmarks cannot make.

A. **Float32 gradient precision, 3D.** ``grad ||S(x) - t||^2`` of ``HarmonicScattering3D(J=2, L=2,
   integral_powers=(1, 2))`` on 64^3 x 8 volumes, for ours, kymatio's jax frontend and kymatio's
   torch frontend, each in float32, against our float64 gradient (computed in a child process with
   JAX's 64-bit mode), for the whole loss and for the p=1 and p=2 coefficients alone. Also the
   forward against float64.
B. **Device-resident timings.** The input already on the device and the output left there (as in a
   training step), median of 10 calls after one warm-up: the forward inside a caller's ``jax.jit``
   against kymatio-jax (jitted) and kymatio-torch, and ``jit(value_and_grad)`` against kymatio-torch's
   ``backward()`` (kymatio-jax's gradient is left out here: its 2D program takes over a minute to
   compile; ``bench_grad.py`` times it). Workloads: 1D J10 Q8 T=N=65536 x64, 2D J3 L8 256^2 x128x3,
   3D J2 L2 128^3 x8.

    python benchmarks/gpu_probe.py              # on a GPU machine; about 3 minutes on an H200
    SMALL=1 python benchmarks/gpu_probe.py      # tiny sizes, to try it on a CPU
    BUDGET=165 python benchmarks/gpu_probe.py   # skip B's remaining workloads after 165 s

Needs PyTorch and kymatio 0.3.0. Writes its float64 arrays to ``$OUT`` (default the system's
temporary folder).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

# (The harness also stops JAX from preallocating the GPU, which torch shares here.)
from benchmarks._harness import kymatio_shim, relative_l2  # noqa: E402

SMALL = os.environ.get("SMALL") == "1"
OUT = os.environ.get("OUT", tempfile.gettempdir())
START = time.time()
SIDE_3D = 16 if SMALL else 64
BATCH_3D = 2 if SMALL else 8
KWARGS_3D = dict(J=2, shape=(SIDE_3D,) * 3, L=2, integral_powers=(1.0, 2.0))
PARTS = {"all": slice(None), "p1": slice(0, 1), "p2": slice(1, 2)}  # the last axis holds the powers


def inputs_3d() -> tuple[np.ndarray, np.ndarray]:
    """The input and the volumes whose coefficients are the target, float32 values in float64."""
    shape = (BATCH_3D,) + (SIDE_3D,) * 3
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    other = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    return x.astype(np.float64), other.astype(np.float64)


def float64_reference() -> None:
    """Child process: our float64 forward and gradients, saved to ``OUT``."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    import scatterjax

    x, other = inputs_3d()
    S = scatterjax.HarmonicScattering3D(**KWARGS_3D)
    target = np.asarray(S(other))
    for part, sel in PARTS.items():
        grad = jax.jit(jax.grad(lambda x, S, sel=sel: jnp.sum((S(x)[..., sel] - target[..., sel]) ** 2)))(x, S)
        np.save(os.path.join(OUT, f"g64_{part}.npy"), np.asarray(grad))
    np.save(os.path.join(OUT, "s64.npy"), np.asarray(S(x)))


def check_precision() -> None:
    subprocess.run([sys.executable, __file__, "float64-reference"], check=True)
    import jax
    import jax.numpy as jnp
    import torch

    import scatterjax

    kymatio_shim()
    import kymatio.jax
    import kymatio.torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    x, other = (a.astype(np.float32) for a in inputs_3d())
    S = scatterjax.HarmonicScattering3D(**KWARGS_3D)
    target = np.asarray(S(other))
    s64 = np.load(os.path.join(OUT, "s64.npy"))
    K_jax = kymatio.jax.HarmonicScattering3D(**KWARGS_3D)
    K_torch = kymatio.torch.HarmonicScattering3D(**KWARGS_3D).to(device)
    print(f"A  3D forward f32 vs f64: ours {relative_l2(S(x), s64):.2e}  kymatio-jax "
          f"{relative_l2(jax.jit(lambda x: K_jax(x))(x), s64):.2e}  kymatio-torch "
          f"{relative_l2(K_torch(torch.from_numpy(x).to(device)).cpu().numpy(), s64):.2e}")
    for part, sel in PARTS.items():
        g64 = np.load(os.path.join(OUT, f"g64_{part}.npy"))
        ours = jax.jit(jax.grad(lambda x, S, sel=sel: jnp.sum((S(x)[..., sel] - target[..., sel]) ** 2)))(x, S)
        row = f"A  3D grad[{part}] vs f64: ours {relative_l2(ours, g64):.2e}"
        if part == "all":  # one kymatio-jax gradient compile is enough to place it
            theirs = jax.jit(jax.grad(lambda x: jnp.sum((K_jax(x) - target) ** 2)))(x)
            row += f"  kymatio-jax {relative_l2(theirs, g64):.2e}"
        x_torch = torch.from_numpy(x).to(device).requires_grad_(True)
        ((K_torch(x_torch)[..., sel] - torch.tensor(target, device=device)[..., sel]) ** 2).sum().backward()
        print(row + f"  kymatio-torch {relative_l2(x_torch.grad.cpu().numpy(), g64):.2e}", flush=True)


def median_seconds(call, wait, rounds: int = 10) -> float:
    """Median over ``rounds`` of ``call(); wait()``, after one warm-up."""
    call()
    wait()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        wait()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_resident() -> None:
    kymatio_shim()

    workloads = [
        ("1D J10 Q8 T=N=65536 x64", "Scattering1D", dict(J=10, shape=65536, Q=8, T=65536), (64, 65536)),
        ("2D J3 L8 256^2 x128x3", "Scattering2D", dict(J=3, shape=(256, 256), L=8), (128, 3, 256, 256)),
        ("3D J2 L2 128^3 x8", "HarmonicScattering3D", dict(J=2, shape=(128,) * 3, L=2, integral_powers=(1.0, 2.0)),
         (8, 128, 128, 128)),
    ]
    if SMALL:
        workloads = [
            ("1D small", "Scattering1D", dict(J=6, shape=1024, Q=8), (4, 1024)),
            ("2D small", "Scattering2D", dict(J=2, shape=(32, 32), L=8), (2, 3, 32, 32)),
            ("3D small", "HarmonicScattering3D", dict(J=2, shape=(16,) * 3, L=2, integral_powers=(1.0, 2.0)),
             (2, 16, 16, 16)),
        ]
    for title, class_name, kwargs, shape in workloads:
        if time.time() - START > float(os.environ.get("BUDGET", "inf")):
            print("B  out of time, skipping", title)
            continue
        time_workload(title, class_name, kwargs, shape)


def time_workload(title: str, class_name: str, kwargs: dict, shape: tuple[int, ...]) -> None:
    import jax
    import jax.numpy as jnp
    import kymatio.jax
    import kymatio.torch
    import torch

    import scatterjax

    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch_wait = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    x_jax, x_torch = jax.device_put(x), torch.from_numpy(x).to(device)
    results = {}  # the latest output of each implementation, waited on after each call
    S = getattr(scatterjax, class_name)(**kwargs)
    forward = jax.jit(lambda S, x: S(x))
    start = time.perf_counter()
    jax.block_until_ready(forward(S, x_jax))
    ours_first = time.perf_counter() - start
    ours = median_seconds(lambda: results.__setitem__("ours", forward(S, x_jax)),
                          lambda: jax.block_until_ready(results["ours"]))
    K_jax = getattr(kymatio.jax, class_name)(**kwargs)
    theirs_forward = jax.jit(lambda x: K_jax(x))
    start = time.perf_counter()
    jax.block_until_ready(theirs_forward(x_jax))
    theirs_first = time.perf_counter() - start
    theirs = median_seconds(lambda: results.__setitem__("kymatio-jax", theirs_forward(x_jax)),
                            lambda: jax.block_until_ready(results["kymatio-jax"]))
    K_torch = getattr(kymatio.torch, class_name)(**kwargs).to(device)
    with torch.no_grad():
        torch_forward = median_seconds(lambda: K_torch(x_torch), torch_wait)
    print(f"B  forward {title}: ours-in-jit {ours * 1e3:.2f} ms (first {ours_first:.1f} s) | kymatio-jax "
          f"{theirs * 1e3:.2f} ms (first {theirs_first:.1f} s) = {theirs / ours:.2f}x | kymatio-torch "
          f"{torch_forward * 1e3:.2f} ms = {torch_forward / ours:.2f}x", flush=True)

    target = np.asarray(S(np.random.default_rng(1).standard_normal(shape).astype(np.float32)))
    gradient = jax.jit(jax.value_and_grad(lambda x, S: jnp.sum((S(x) - target) ** 2)))
    start = time.perf_counter()
    jax.block_until_ready(gradient(x_jax, S))
    gradient_first = time.perf_counter() - start
    ours_gradient = median_seconds(lambda: results.__setitem__("grad", gradient(x_jax, S)),
                                   lambda: jax.block_until_ready(results["grad"]))
    target_torch = torch.tensor(target, device=device)  # a copy: target (from JAX) is read-only

    def torch_gradient():
        x_leaf = x_torch.detach().requires_grad_(True)
        ((K_torch(x_leaf) - target_torch) ** 2).sum().backward()
        results["torch-grad"] = x_leaf.grad

    torch_backward = median_seconds(torch_gradient, torch_wait)
    print(f"B  grad {title}: ours {ours_gradient * 1e3:.2f} ms (first {gradient_first:.1f} s) | kymatio-torch "
          f"{torch_backward * 1e3:.2f} ms = {torch_backward / ours_gradient:.2f}x", flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["float64-reference"]:
        float64_reference()
    else:
        started = time.time()
        check_precision()
        print(f"A took {time.time() - started:.0f} s", flush=True)
        time_resident()
        print(f"total {time.time() - START:.0f} s")
