"""HarmonicScattering3D under differentiation: the gradient of ``||S(x) - t||^2`` equals
kymatio-jax's, for both layouts (Hermitian: even sides; full: an odd side), with and without
rotation covariance; and the gradient program does not grow with the number of wavelet orders."""

from __future__ import annotations

import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import kymatio, rel_l2

import scatterjax
from scatterjax import HarmonicScattering3D


@pytest.mark.parametrize(
    "shape, L, covariant",
    [((16, 16, 16), 2, True), ((15, 16, 14), 2, True), ((16, 16, 16), 3, False), ((16, 16, 16), 3, True)],
)
def test_gradient_equals_kymatio_jax(shape, L, covariant):
    kwargs = dict(J=2, shape=shape, L=L, integral_powers=(1.0, 2.0), rotation_covariant=covariant)
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


def _primitive_count(jaxpr, name: str) -> int:
    count = 0
    for eqn in jaxpr.eqns:
        count += eqn.primitive.name == name
        for value in eqn.params.values():
            inner = getattr(value, "jaxpr", value)
            if hasattr(inner, "eqns"):
                count += _primitive_count(inner, name)
    return count


def test_gradient_sums_nyquist_cotangents_per_group_of_orders():
    """On even grids the narrowest wavelets' Nyquist-plane parts are added back to every response;
    reverse mode sums their cotangents over each plane's axis once per group of orders, not once per
    wavelet, so the number of sums in the gradient does not grow with ``L`` (3 (L + 1)^2 of them
    when each wavelet's correction was formed alone)."""
    x = np.zeros((1, 16, 16, 16), np.float32)
    sums = []
    for L in (1, 4):
        S = HarmonicScattering3D(J=1, shape=(16, 16, 16), L=L)
        assert S.bank.nyquist_scales > 0
        loss = jax.grad(lambda x, bank: jnp.sum(scatterjax.harmonic_scattering3d(x, bank)))
        sums.append(_primitive_count(jax.make_jaxpr(loss)(x, S.bank).jaxpr, "reduce_sum"))
    assert sums[0] == sums[1]
