"""Same input, same bits in 3D: a volume's coefficients do not depend on the batch it is in, nor on
eager vs ``jax.jit``, on grids with even sides (the Hermitian layout) and with odd sides."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import scatterjax


@pytest.mark.parametrize(
    "shape, batch",
    # 40^3: XLA's volume reductions rounded a volume differently in a batch of 3 (jit) than alone.
    [((16, 16, 16), 3), ((40, 40, 40), 3), ((15, 15, 15), 3), ((9, 11, 13), 7)],
    ids=lambda value: "x".join(map(str, value)) if isinstance(value, tuple) else str(value),
)
def test_a_volume_has_the_same_bits_alone_in_a_batch_and_in_jit(shape, batch):
    S = scatterjax.HarmonicScattering3D(J=2, shape=shape, L=2)
    x = np.random.default_rng(1).standard_normal((batch,) + shape).astype(np.float32)
    jitted = jax.jit(lambda S, x: S(x))
    eager = np.asarray(S(x))
    alone = np.concatenate([np.asarray(S(x[i : i + 1])) for i in range(batch)])
    np.testing.assert_array_equal(eager, alone)
    np.testing.assert_array_equal(np.asarray(jitted(S, x)), eager)
    np.testing.assert_array_equal(np.asarray(jitted(S, x[batch - 1 :])), eager[batch - 1 :])


@pytest.mark.parametrize("shape", [(16, 16, 16), (24, 24, 24)], ids=lambda value: "x".join(map(str, value)))
def test_without_rotation_covariance_a_volume_has_the_same_bits_in_jit(shape):
    # With its first-order FFTs issued as pieces, a batch of 5 differed in jit from eager.
    S = scatterjax.HarmonicScattering3D(J=2, shape=shape, L=3, rotation_covariant=False)
    x = np.random.default_rng(1).standard_normal((5,) + shape).astype(np.float32)
    eager = np.asarray(S(x))
    np.testing.assert_array_equal(np.asarray(jax.jit(lambda S, x: S(x))(S, x)), eager)
    np.testing.assert_array_equal(np.concatenate([np.asarray(S(x[i : i + 1])) for i in range(5)]), eager)
