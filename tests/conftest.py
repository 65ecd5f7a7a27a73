"""Shared test helpers: the kymatio oracle (with its SciPy shim) and error measures."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import jax
import numpy as np
import pytest

DATA = Path(__file__).parent / "data"


def _kymatio_shim() -> None:
    # kymatio 0.3.0 imports scipy.special.sph_harm, which SciPy 1.15+ removed.
    import scipy.special

    if not hasattr(scipy.special, "sph_harm"):
        scipy.special.sph_harm = lambda m, n, az, pol: scipy.special.sph_harm_y(n, m, pol, az)


def kymatio():
    """The kymatio package (numerical oracle), imported with the SciPy shim."""
    _kymatio_shim()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import kymatio as _kymatio
        import kymatio.numpy  # noqa: F401
    return _kymatio


def rel_l2(ours, reference) -> float:
    ours = np.asarray(ours, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    assert ours.shape == reference.shape, (ours.shape, reference.shape)
    return float(np.linalg.norm(ours - reference) / np.linalg.norm(reference))


@pytest.fixture(autouse=True, scope="module")
def _free_compiled_programs():
    """Free each module's compiled programs when it ends: a worker runs hundreds of configurations,
    and their executables would otherwise pile up in memory (a long test session is the
    long-running service of the README's ``jax.clear_caches()`` note)."""
    yield
    jax.clear_caches()


@pytest.fixture(autouse=True)
def _quiet_kymatio_warnings():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Signal support is too small")
        yield


def pytest_configure(config):
    # Tests run on CPU; make sure a stray accelerator setting does not change the numbers.
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    _share_compiled_programs(config)


def pytest_unconfigure(config):
    directory = getattr(config, "_compilation_cache_made_here", None)
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)


def _share_compiled_programs(config) -> None:
    """One JAX persistent compilation cache for the whole test session, in a fresh directory.

    Compilation is most of the suite's time, and the same programs are compiled again and again:
    by both xdist workers, by every test module after :func:`_free_compiled_programs`, and by the
    processes the tests start (notebook kernels, the command line), which inherit the directory
    through ``JAX_COMPILATION_CACHE_DIR``. A cache hit is an executable another process of this
    session compiled from the same program with the same options, so it computes the same bits.
    The directory is made by the process that starts the session (the xdist controller, or the
    only process) and removed when the session ends; nothing outlives the run. A runner that
    starts several sessions with the same jaxlib (``.ci/run``: the suite, then the floors) may pass
    one directory in ``SCATTERJAX_TESTS_JAX_CACHE``, which it then owns and removes.
    """
    if not hasattr(config, "workerinput"):  # not an xdist worker: this process owns the session
        directory = os.environ.get("SCATTERJAX_TESTS_JAX_CACHE")
        if not directory:
            directory = tempfile.mkdtemp(prefix="scatterjax-tests-jax-cache-")
            config._compilation_cache_made_here = directory
        os.environ["JAX_COMPILATION_CACHE_DIR"] = directory
        os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    directory = os.environ.get("JAX_COMPILATION_CACHE_DIR")
    if directory:  # jax read the environment when this file imported it: configure this process too
        jax.config.update("jax_compilation_cache_dir", directory)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)


class _CompileLog(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.names: list[str] = []

    def emit(self, record):
        message = record.getMessage()
        if message.startswith("Finished XLA compilation of jit("):
            self.names.append(message[len("Finished XLA compilation of jit(") :].split(")")[0])


@contextlib.contextmanager
def compiled_programs():
    """Record the names of the programs XLA compiles inside the block (``jax.log_compiles``)."""
    handler = _CompileLog()
    logger = logging.getLogger("jax")
    logger.addHandler(handler)
    try:
        with jax.log_compiles():
            yield handler.names
    finally:
        logger.removeHandler(handler)
