"""The pure functions (``scattering1d(x, bank)``, ...) on inputs that the classes already handle:
empty batches, bad inputs, and settings whose filters exceed the memory a process may use."""

import subprocess
import sys

import jax
import numpy as np
import pytest

import scatterjax
from scatterjax import ShapeError

TRANSFORMS = [
    ("1d", lambda: scatterjax.Scattering1D(J=4, shape=256), scatterjax.scattering1d, (256,)),
    (
        "1d-list",
        lambda: scatterjax.Scattering1D(J=4, shape=256, T=0, out_type="list"),
        scatterjax.scattering1d,
        (256,),
    ),
    ("2d", lambda: scatterjax.Scattering2D(J=2, shape=(16, 16), L=4), scatterjax.scattering2d, (16, 16)),
    (
        "3d",
        lambda: scatterjax.HarmonicScattering3D(J=1, shape=(8, 8, 8), L=1),
        scatterjax.harmonic_scattering3d,
        (8, 8, 8),
    ),
    (
        "jtfs",
        lambda: scatterjax.TimeFrequencyScattering(J=5, J_fr=2, Q=8, shape=512),
        scatterjax.time_frequency_scattering,
        (512,),
    ),
]


@pytest.mark.parametrize("name, make, function, signal", TRANSFORMS, ids=[t[0] for t in TRANSFORMS])
@pytest.mark.parametrize("batch", [(0,), (2, 0)])
def test_empty_batches_give_empty_outputs_like_the_class(name, make, function, signal, batch):
    S = make()
    x = np.zeros(batch + signal, np.float32)
    want = _arrays(S(x))  # the class's list output holds dicts with 'coef' arrays and int keys
    one = _arrays(function(np.ones((1,) + signal, np.float32), S.bank))
    for run in (function, jax.jit(function)):
        got = _arrays(run(x, S.bank))
        assert [g.shape for g in got] == [w.shape for w in want] == [batch + o.shape[1:] for o in one]
        assert [g.dtype for g in got] == [o.dtype for o in one]


def _arrays(tree) -> list:
    return [leaf for leaf in jax.tree_util.tree_leaves(tree) if isinstance(leaf, (np.ndarray, jax.Array))]


@pytest.mark.parametrize(
    "x, error, words",
    [
        (np.zeros((2, 16, 16, 2), np.float32), ShapeError, "must have shape (..., 8, 8, 8)"),
        (np.zeros((2, 9, 9, 9), np.float32), ShapeError, "must have shape (..., 8, 8, 8)"),
        (np.zeros((2, 8, 8, 8), np.int32), TypeError, "float32 or float64"),
        (np.zeros((2, 8, 8, 8), np.complex64), TypeError, "must be real"),
        (np.zeros((2, 8, 8, 8), np.float16), TypeError, "float32 or float64"),
    ],
)
def test_harmonic_scattering3d_checks_its_input_as_the_class_does(x, error, words):
    S = scatterjax.HarmonicScattering3D(J=1, shape=(8, 8, 8), L=1)
    for run in (S, lambda x: scatterjax.harmonic_scattering3d(x, S.bank)):
        with pytest.raises(error) as raised:
            run(x)
        assert words in str(raised.value)


def test_harmonic_scattering3d_of_a_list_equals_that_of_the_array():
    S = scatterjax.HarmonicScattering3D(J=1, shape=(4, 4, 4), L=1)
    x = np.random.default_rng(0).standard_normal((1, 4, 4, 4)).astype(np.float32)
    np.testing.assert_array_equal(
        np.asarray(scatterjax.harmonic_scattering3d(x.tolist(), S.bank)),
        np.asarray(scatterjax.harmonic_scattering3d(x, S.bank)),
    )


def test_filters_beyond_the_process_memory_limit_are_refused_at_once():
    # Under ``ulimit -v`` the bound is the limit, not the machine's memory: Q=10**6 needs at least
    # 15 GiB of filters, and used to run for a minute into a MemoryError under an 8 GiB limit.
    script = (
        "import resource, time\n"
        "resource.setrlimit(resource.RLIMIT_AS, (8 * 2**30, 8 * 2**30))\n"
        "import scatterjax\n"
        "from scatterjax._core.validation import physical_memory_bytes\n"
        "assert physical_memory_bytes() <= 8 * 2**30\n"
        "start = time.perf_counter()\n"
        "try:\n"
        "    scatterjax.Scattering1D(J=4, shape=256, Q=10**6)\n"
        "except ValueError as error:\n"
        "    print('refused', round(time.perf_counter() - start, 3), error)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("refused")
    words = "needs at least 15.3 GiB for its filters, more than the 8 GiB of memory this process may use"
    assert words in result.stdout
