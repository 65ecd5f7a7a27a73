"""A batch of unknown size: ``jax.export`` with a symbolic batch dimension (what the TensorFlow
adapter's ``jax2tf`` does), for every transform, forward and gradient.

The programs cannot chunk or budget by a batch size they do not know; they must still trace, and
their numbers must be the eager call's (to float32 rounding: the chunking differs)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import rel_l2

import scatterjax

# name -> (constructor, sample shape, input dtype). JTFS at 256 samples: its frequency scattering
# cuts time into chunks by a byte budget of the batch, which a symbolic batch once broke
# (InconclusiveDimensionOperation) from 128 samples on.
CASES = {
    "1d": (lambda: scatterjax.Scattering1D(J=4, shape=256, Q=4), (256,), jnp.float32),
    "1d-order3": (lambda: scatterjax.Scattering1D(J=4, shape=256, Q=4, max_order=3), (256,), jnp.float32),
    "1d-complex": (lambda: scatterjax.Scattering1D(J=4, shape=256, Q=4), (256,), jnp.complex64),
    "2d": (lambda: scatterjax.Scattering2D(J=2, shape=(24, 24), L=4), (24, 24), jnp.float32),
    "3d": (lambda: scatterjax.HarmonicScattering3D(J=1, shape=(12, 12, 12), L=1), (12, 12, 12), jnp.float32),
    "3d-odd": (lambda: scatterjax.HarmonicScattering3D(J=1, shape=(11, 12, 13), L=1), (11, 12, 13), jnp.float32),
    "jtfs": (lambda: scatterjax.TimeFrequencyScattering(J=4, J_fr=2, Q=4, shape=256), (256,), jnp.float32),
    "jtfs-joint": (
        lambda: scatterjax.TimeFrequencyScattering(J=4, J_fr=2, Q=4, shape=256, format="joint"),
        (256,),
        jnp.float32,
    ),
    "jtfs-global": (
        lambda: scatterjax.TimeFrequencyScattering(J=4, J_fr=2, Q=4, shape=256, T="global"),
        (256,),
        jnp.float32,
    ),
}


def _signals(batch, sample_shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, *sample_shape))
    if jnp.issubdtype(dtype, jnp.complexfloating):
        x = x + 1j * rng.standard_normal((batch, *sample_shape))
    return jnp.asarray(x.astype(dtype))


def _symbolic(sample_shape, dtype):
    return jax.ShapeDtypeStruct(jax.export.symbolic_shape("b") + sample_shape, dtype)


@pytest.mark.parametrize("case", CASES)
def test_exported_with_a_symbolic_batch_equals_the_eager_call(case):
    make, sample_shape, dtype = CASES[case]
    S = make()
    exported = jax.export.export(jax.jit(lambda x: S(x)))(_symbolic(sample_shape, dtype))
    for batch in (3, 1):
        x = _signals(batch, sample_shape, dtype)
        y = exported.call(x)
        expected = S(x)
        assert y.shape == expected.shape
        assert rel_l2(y, expected) <= 1e-6


@pytest.mark.parametrize("case", ["1d", "2d", "3d", "jtfs"])
def test_exported_gradient_with_a_symbolic_batch_equals_the_eager_gradient(case):
    make, sample_shape, dtype = CASES[case]
    S = make()

    def loss(x):
        return jnp.sum(S(x) ** 2)

    exported = jax.export.export(jax.jit(jax.grad(loss)))(_symbolic(sample_shape, dtype))
    x = _signals(2, sample_shape, dtype, seed=1)
    assert rel_l2(exported.call(x), jax.grad(loss)(x)) <= 1e-5
