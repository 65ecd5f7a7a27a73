"""Same input, same bits when a caller's program closes over the transform.

``jax.jit(S)`` and a training step that captures ``S`` make the filters compile-time constants.
Before they went through an optimization barrier, XLA folded arithmetic on those constants and
the outputs differed from ``S(x)`` in their last bits (1D, 2D, 3D and JTFS, up to 1.7e-7 of the
largest coefficient). Also here: the two other cases found with them, complex 2D input (its
order-0 modulus) and JTFS with ``T='global'`` (its sums over time).
"""

from __future__ import annotations

import jax
import numpy as np
import pytest
from adapter_cases import CONFIGS, core_class

import scatterjax

TRANSFORMS = {
    "1d-mixed-Q": (lambda: scatterjax.Scattering1D(J=5, shape=1000, Q=(8, 2)), (1000,)),
    "1d-dict": (lambda: scatterjax.Scattering1D(J=6, shape=1024, Q=8, out_type="dict"), (1024,)),
    "2d": (lambda: scatterjax.Scattering2D(J=3, shape=(128, 128), L=8), (128, 128)),
    # Folds over more than 16 blocks are reductions; complex 1D input joins two real passes. Both lost
    # the eager bits when eager programs were compiled with other XLA:CPU options than a caller's jit.
    "2d-J5": (lambda: scatterjax.Scattering2D(J=5, shape=(128, 96), L=6), (128, 96)),
    "1d-complex": (lambda: scatterjax.Scattering1D(J=6, shape=2048, Q=8), (2048,)),
    "3d": (lambda: scatterjax.HarmonicScattering3D(J=2, shape=(16, 16, 16), L=2), (16, 16, 16)),
    "3d-powers": (
        lambda: scatterjax.HarmonicScattering3D(J=2, shape=(16, 16, 16), L=2, integral_powers=(0.5, 1.0, 2.0, 3.0)),
        (16, 16, 16),
    ),
    "jtfs": (lambda: scatterjax.TimeFrequencyScattering(J=6, J_fr=2, Q=8, shape=1024), (1024,)),
}


def _flat(output) -> np.ndarray:
    """Every coefficient of an output (array, or dict of arrays in key order), one row per signal."""
    if isinstance(output, dict):  # a jitted dict comes back with sorted keys
        parts = [np.asarray(output[key]) for key in sorted(output)]
        return np.concatenate([part.reshape(len(part), -1) for part in parts], 1)
    output = np.asarray(output)
    return output.reshape(output.shape[0], -1)


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_a_program_closing_over_the_transform_gives_the_eager_bits(name):
    build, shape = TRANSFORMS[name]
    S = build()
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, *shape)).astype(np.float32)
    if name.endswith("complex"):
        x = (x + 1j * rng.standard_normal(x.shape)).astype(np.complex64)
    closed_over = _flat(jax.jit(S)(x))
    with_arguments = _flat(jax.jit(lambda S, x: S(x))(S, x))
    np.testing.assert_array_equal(closed_over, with_arguments)
    if name != "jtfs":  # JTFS's n1 matrix products round by tile: eager == jit to rounding only
        np.testing.assert_array_equal(closed_over, _flat(S(x)))


def test_complex_2d_input_gives_an_image_the_same_bits_alone_and_in_a_batch():
    S = scatterjax.Scattering2D(J=2, shape=(32, 32), L=8)
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((5, 32, 32)) + 1j * rng.standard_normal((5, 32, 32))).astype(np.complex64)
    batch = np.asarray(S(x))
    alone = np.concatenate([np.asarray(S(x[i : i + 1])) for i in range(5)])
    np.testing.assert_array_equal(alone, batch)
    np.testing.assert_array_equal(np.concatenate([np.asarray(S(x[:2])), np.asarray(S(x[2:]))]), batch)


@pytest.mark.parametrize("F", [None, "global"])
def test_jtfs_global_time_sums_give_the_same_bits_in_jit_and_alone(F):
    S = scatterjax.TimeFrequencyScattering(J=6, J_fr=2, Q=8, shape=1024, T="global", F=F)
    x = np.random.default_rng(1).standard_normal((7, 1024)).astype(np.float32)
    eager = np.asarray(S(x))
    np.testing.assert_array_equal(np.asarray(jax.jit(lambda S, x: S(x))(S, x)), eager)
    alone = np.concatenate([np.asarray(jax.jit(S)(x[i : i + 1])) for i in range(7)])
    np.testing.assert_array_equal(alone, eager)


@pytest.mark.parametrize("case", ["1d", "2d", "3d", "jtfs", "1d-unaveraged"])
def test_a_step_closing_over_the_transform_and_a_concrete_batch(case):
    # Nothing the transform receives is traced, yet the caller's jit is tracing: the call must
    # run as one staged program (the eager path's host-side join raised TracerArrayConversionError).
    if case == "1d-unaveraged":
        name, kwargs, shape = "Scattering1D", dict(J=4, shape=300, Q=(4, 2), T=0, out_type="dict"), (3, 300)
    else:
        name, kwargs, shape = CONFIGS[case]
    S = core_class(name)(**kwargs)
    x = jax.numpy.asarray(np.random.default_rng(1).standard_normal(shape).astype(np.float32))
    closed, eager = _flat(jax.jit(lambda: S(x))()), _flat(S(x))
    np.testing.assert_allclose(closed, eager, rtol=1e-5, atol=1e-6 * np.abs(eager).max())


@pytest.mark.parametrize("name", ["1d-mixed-Q", "2d", "3d", "jtfs"])
def test_a_caller_mapping_the_transform_over_its_batch(name):
    # jax.lax.map(S, x): one signal per step of a compiled loop, a different program from S(x).
    # 1D, 2D and JTFS keep the eager bits there. In 3D, rows differ from S(x) by float32 rounding
    # (8.7e-8 of the largest, README): so do three single-volume calls in one jitted program, while
    # one per program keeps the bits; XLA compiles the copies together (not a loop effect: unrolled
    # scans differ too, and barriers around the energy and volume sums change nothing).
    build, shape = TRANSFORMS[name]
    S = build()
    x = np.random.default_rng(1).standard_normal((3, *shape)).astype(np.float32)
    mapped, eager = _flat(jax.lax.map(S, x)), _flat(S(x))
    if name == "3d":
        np.testing.assert_allclose(mapped, eager, rtol=0, atol=1e-6 * np.abs(eager).max())
    else:
        np.testing.assert_array_equal(mapped, eager)
