"""Transforms and filter banks as arguments of a serialized ``jax.export`` artifact: the calling
convention (tree structure with static settings) written and read back, and the artifact's numbers
equal to the jitted function's. An artifact naming a class outside scatterjax is refused."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_symbolic_batch import CASES, _signals

import scatterjax
import scatterjax.numpy
from scatterjax._core.export_serialization import decode_metadata, encode_metadata

CASES = {
    **CASES,
    "1d-list": (lambda: scatterjax.Scattering1D(J=4, shape=256, Q=4, T=0, out_type="list"), (256,), jnp.float32),
    "numpy-2d": (lambda: scatterjax.numpy.Scattering2D(J=2, shape=(24, 24), L=4), (24, 24), jnp.float32),
}


def _round_trip(fn, *args):
    return jax.export.deserialize(jax.export.export(jax.jit(fn))(*args).serialize())


@pytest.mark.parametrize("case", CASES)
def test_a_transform_as_an_exported_argument_round_trips(case):
    make, sample_shape, dtype = CASES[case]
    S = make()
    x = _signals(3, sample_shape, dtype)
    restored = _round_trip(lambda S, x: S(x), S, x)
    expected = jax.jit(lambda S, x: S(x))(S, x)
    for ours, theirs in zip(jax.tree.leaves(restored.call(S, x)), jax.tree.leaves(expected), strict=True):
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_a_bank_as_an_exported_argument_round_trips_with_its_gradient():
    S = scatterjax.Scattering1D(J=4, shape=256, Q=4)
    x = _signals(2, (256,), jnp.float32)

    def loss(x, bank):
        return jnp.sum(scatterjax.scattering1d(x, bank) ** 2)

    restored = _round_trip(jax.grad(loss), x, S.bank)
    np.testing.assert_array_equal(np.asarray(restored.call(x, S.bank)), np.asarray(jax.jit(jax.grad(loss))(x, S.bank)))


def test_an_artifact_is_called_only_with_the_settings_it_was_exported_for():
    x = _signals(1, (256,), jnp.float32)
    restored = _round_trip(lambda S, x: S(x), scatterjax.Scattering1D(J=4, shape=256, Q=4), x)
    with pytest.raises(ValueError, match="(?i)tree"):
        restored.call(scatterjax.Scattering1D(J=3, shape=256, Q=4), x)


def test_stored_settings_build_only_scatterjax_dataclasses():
    plan = scatterjax.Scattering2D(J=2, shape=(24, 24), L=4).bank.plan
    assert decode_metadata(encode_metadata((plan, 1.5, None, ("a", True)))) == (plan, 1.5, None, ("a", True))
    hostile = b'{"dataclass":"subprocess:Popen","fields":{}}'
    with pytest.raises(ValueError, match="outside scatterjax"):
        decode_metadata(hostile)
    with pytest.raises(ValueError, match="no scatterjax dataclass"):
        decode_metadata(b'{"dataclass":"scatterjax._core.transform:ScatteringTransform","fields":{}}')
    with pytest.raises(TypeError, match="cannot serialize"):
        encode_metadata((np.ones(2),))
