#!/usr/bin/env bash
# The GPU figures of the README in one run: jit(value_and_grad), the eager forward and the forward
# inside a caller's jax.jit, ours against kymatio 0.3.0's jax frontend (jitted) and its torch
# frontend on the same GPU, at batch 64 (1D), 128x3 (2D) and 8 (3D); then a GPU pass of the parity
# and gradient tests. Every implementation takes NumPy in and gives NumPy out, so the timings include
# the transfers; benchmarks/gpu_probe.py (a separate run of about 3 minutes) times the same
# workloads with the data left on the GPU and checks the float32 3D gradient against float64.
#
#     bash benchmarks/gpu.sh                  # log in gpu-results/gpu.log
#     OUT=/tmp/results bash benchmarks/gpu.sh
#     MEMORY=1 bash benchmarks/gpu.sh         # gradients also with --memory (peak GPU memory; longer)
#
# Needs JAX with CUDA, PyTorch with CUDA and kymatio 0.3.0 importable (scatterjax from this checkout).
# Each step has its own time limit, so that a slow or failing step does not take the others with it;
# the steps run in order of importance.
set -u
cd "$(dirname "$0")/.."
out=${OUT:-gpu-results}
mkdir -p "$out"
log="$out/gpu.log"
: > "$log"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
python=${PYTHON:-python3}
repeats=${REPEATS:-7}
skip=kymatio-numpy,kymatio-torch-cpu  # the CPU frontends are measured on the CPU benchmarks

step() {  # step SECONDS COMMAND...: run with a time limit, log it, report its exit status and time
    local limit=$1
    shift
    local start=$SECONDS
    echo "### $*" | tee -a "$log"
    timeout "$limit" "$@" 2>&1 | tee -a "$log"
    echo "### exit ${PIPESTATUS[0]} after $((SECONDS - start)) s" | tee -a "$log"
}

step 60 nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm --format=csv
step 60 "$python" -c "import jax, torch, kymatio; print('jax', jax.__version__, jax.devices(), '| torch',
torch.__version__, torch.cuda.get_device_name(0), '| kymatio', kymatio.__version__)"

grad="$python benchmarks/bench_grad.py --repeats $repeats --skip $skip ${MEMORY:+--memory}"
step 90 $grad --workload 1d-small,2d-small
step 90 $grad --workload 1d --batch 64
step 180 $grad --workload 2d --batch 128,3
step 90 $grad --workload 3d --batch 8
step 60 $grad --workload jtfs --batch 8

forward="--repeats $repeats --mode both --skip $skip"
step 90 "$python" benchmarks/bench_1d.py --batch 64 $forward
step 120 "$python" benchmarks/bench_2d.py --batch 128 $forward
step 120 "$python" benchmarks/bench_3d.py --batch 8 $forward

step 240 "$python" -m pytest -q -n 8 --maxfail=10 -p no:cacheprovider \
    tests/scattering1d/test_scattering1d_parity.py tests/scattering1d/test_scattering1d_jax.py \
    tests/scattering2d/test_scattering2d.py tests/scattering2d/test_scattering2d_grad.py \
    tests/harmonic3d/test_scattering3d_parity.py tests/harmonic3d/test_scattering3d_grad.py \
    tests/jtfs/test_jtfs_parity.py tests/core/test_differentiated_chunks.py \
    tests/adapters/test_adapters_torch.py tests/adapters/test_adapters_flax.py

grep -E "^(==|   [a-z])" "$log" | grep -v "built " > "$out/summary.txt"
cat "$out/summary.txt"
