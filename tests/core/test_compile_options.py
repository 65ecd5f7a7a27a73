"""Eager programs compile with XLA:CPU's faster code generator, fall back when XLA lacks the
option, and keep the bits of a caller's jit."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import scatterjax
from scatterjax._core import compile_options, transform

cpu_only = pytest.mark.skipif(jax.default_backend() != "cpu", reason="the options are for XLA:CPU")


@cpu_only
def test_this_xla_accepts_the_fast_compile_option():
    assert compile_options.eager_compile_options() == compile_options.FAST_CPU_COMPILE


def test_no_options_off_the_cpu(monkeypatch):
    monkeypatch.setattr(compile_options.jax, "default_backend", lambda: "gpu")
    assert compile_options.eager_compile_options() == ()


@cpu_only
def test_an_option_this_xla_lacks_gives_the_plain_program(monkeypatch):
    monkeypatch.setattr(compile_options, "FAST_CPU_COMPILE", (("xla_cpu_no_such_option_anywhere", True),))
    assert compile_options.eager_compile_options() == ()
    S = scatterjax.Scattering1D(J=4, shape=256, Q=4)
    x = np.random.default_rng(0).standard_normal((3, 256)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(S(x)), np.asarray(jax.jit(S)(x)))


def test_eager_programs_are_compiled_apart_only_when_something_changes():
    program = scatterjax.Scattering2D._program
    assert transform._eager_program(program, True, ()) is program
    with_options = transform._eager_program(program, True, compile_options.FAST_CPU_COMPILE)
    assert with_options is not program
    assert transform._eager_program(program, True, compile_options.FAST_CPU_COMPILE) is with_options
    assert transform._eager_program(program, False, ()) is not program


@cpu_only
@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: scatterjax.Scattering1D(J=6, shape=1024, Q=8), (5, 1024)),
        (lambda: scatterjax.Scattering1D(J=5, shape=512, Q=(8, 2), T=0, out_type="list"), (3, 512)),
        (lambda: scatterjax.Scattering2D(J=2, shape=(32, 32), L=4), (5, 32, 32)),
        (lambda: scatterjax.TimeFrequencyScattering(J=5, J_fr=2, Q=8, shape=512), (3, 512)),
        (lambda: scatterjax.HarmonicScattering3D(J=1, shape=(16, 16, 16), L=1), (3, 16, 16, 16)),
    ],
    ids=["1d", "1d-unaveraged", "2d", "jtfs", "3d"],
)
def test_eager_call_keeps_the_bits_of_a_callers_jit(make, shape):
    S = make()
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    eager = jax.tree_util.tree_leaves(S(x))
    jitted = jax.tree_util.tree_leaves(jax.jit(lambda x: S(x))(x))
    for a, b in zip(eager, jitted, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
