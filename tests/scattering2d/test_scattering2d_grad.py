"""Scattering2D under differentiation: the gradient of ``||S(x) - t||^2`` equals kymatio-jax's, and
the chunk loops of the forward pass (images, second-order spectra) are differentiated as one
computation, in reverse and forward mode, with the same numbers as sample by sample."""

from __future__ import annotations

import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import kymatio, rel_l2

from scatterjax import Scattering2D
from scatterjax._core.chunking import branch_count
from scatterjax._scattering2d.core import _DERIVATIVE_PARTS

# J=2, L=8, 32x32: 24 images are two chunks of the image loop, and each image's 64 second-order
# spectra are several chunks of the second-order loop, so both loops are in the forward program.
J, L, SIZE, BATCH = 2, 8, 32, 24


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, SIZE, SIZE)).astype(np.float32)
    S = Scattering2D(J=J, shape=(SIZE, SIZE), L=L)
    target = np.asarray(S(rng.standard_normal((BATCH, SIZE, SIZE)).astype(np.float32)))
    return S, x, target


def _loss(S, target):
    return lambda x: jnp.sum((S(x) - target) ** 2)


def test_gradient_equals_kymatio_jax(problem):
    S, x, target = problem
    ours = jax.jit(jax.grad(lambda x, S: _loss(S, target)(x)))(x, S)
    kymatio()  # imported with the SciPy shim first
    kymatio_jax = importlib.import_module("kymatio.jax")

    K = kymatio_jax.Scattering2D(J=J, shape=(SIZE, SIZE), L=L)
    theirs = jax.jit(jax.grad(_loss(K, target)))(x)
    assert rel_l2(ours, theirs) <= 1e-5


def test_chunked_gradient_equals_sample_by_sample(problem):
    """The batch's gradient (forward program chunked) equals each image's own gradient."""
    S, x, target = problem
    grad = jax.jit(jax.grad(lambda x, S: _loss(S, target)(x)))
    whole = np.asarray(grad(x, S))
    one = jax.jit(jax.grad(lambda x, t, S: jnp.sum((S(x) - t) ** 2)))
    for i in (0, BATCH // 2, BATCH - 1):
        alone = np.asarray(one(x[i : i + 1], target[i : i + 1], S))[0]
        assert rel_l2(whole[i], alone) <= 1e-6


def test_forward_mode_agrees_with_reverse_mode(problem):
    """``jax.jvp`` works through the chunk loops: <grad, v> equals the directional derivative."""
    S, x, target = problem
    v = np.random.default_rng(1).standard_normal(x.shape).astype(np.float32)
    loss = _loss(S, target)
    _, directional = jax.jit(lambda x, v: jax.jvp(loss, (x,), (v,)))(x, v)
    grad = jax.jit(jax.grad(loss))(x)
    expected = float(jnp.vdot(grad, v))
    assert abs(float(directional) - expected) <= 1e-4 * abs(expected)


def test_jit_forward_equals_eager(problem):
    """Inside a caller's jit the forward keeps its chunk loops and its numbers."""
    S, x, _ = problem
    np.testing.assert_allclose(np.asarray(jax.jit(lambda S, x: S(x))(S, x)), np.asarray(S(x)),
                               rtol=1e-5, atol=1e-6)


def _fft_count(fn, *args) -> int:
    """FFT operations in the optimised program XLA compiles for ``fn(*args)``."""
    return jax.jit(fn).lower(*args).compile().as_text().count(" fft(")


def test_gradient_program_is_one_copy_of_the_transform_per_part(problem):
    """Differentiated, the batch is written as up to ``_DERIVATIVE_PARTS`` independent copies of
    the transform (on CPU) and the second-order stacks inside each are not split again: the
    gradient of a batch of 24 has that many times the FFTs of one image's gradient, while the
    forward program inside jit still splits its chunks (more FFTs on a multi-core CPU)."""
    S, x, target = problem
    grad = jax.grad(lambda x, t, S: jnp.sum((S(x) - t) ** 2))
    batch_ffts = _fft_count(grad, x, target, S)
    single_ffts = _fft_count(grad, x[:1], target[:1], S)
    parts = min(_DERIVATIVE_PARTS, BATCH) if jax.default_backend() == "cpu" else 1
    assert batch_ffts == parts * single_ffts
    forward_ffts = _fft_count(lambda x, S: S(x), x, S)
    single_forward_ffts = _fft_count(lambda x, S: S(x), x[:1], S)
    assert (forward_ffts > single_forward_ffts) == (branch_count() > 1)
