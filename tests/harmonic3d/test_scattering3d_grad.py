"""HarmonicScattering3D under differentiation: the gradient of ``||S(x) - t||^2`` equals
kymatio-jax's, for both layouts (Hermitian: even sides; full: an odd side)."""

from __future__ import annotations

import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import kymatio, rel_l2

from scatterjax import HarmonicScattering3D


@pytest.mark.parametrize("shape", [(16, 16, 16), (15, 16, 14)])
def test_gradient_equals_kymatio_jax(shape):
    kwargs = dict(J=2, shape=shape, L=2, integral_powers=(1.0, 2.0))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2,) + shape).astype(np.float32)
    S = HarmonicScattering3D(**kwargs)
    target = np.asarray(S(rng.standard_normal((2,) + shape).astype(np.float32)))
    ours = jax.jit(jax.grad(lambda x, S: jnp.sum((S(x) - target) ** 2)))(x, S)
    kymatio()  # imported with the SciPy shim first
    kymatio_jax = importlib.import_module("kymatio.jax")

    K = kymatio_jax.HarmonicScattering3D(**kwargs)
    theirs = jax.jit(jax.grad(lambda x: jnp.sum((K(x) - target) ** 2)))(x)
    assert rel_l2(ours, theirs) <= 1e-5
