"""Bad input to Scattering1D: a clear ValueError/TypeError naming the argument, before computing."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import scatterjax


def make(**overrides):
    kwargs = dict(J=4, shape=256, Q=4)
    kwargs.update(overrides)
    return scatterjax.Scattering1D(**kwargs)


def test_wrong_length():
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 256\).*got \(2, 200\)"):
        make()(np.zeros((2, 200), np.float32))


def test_wrong_rank_scalar():
    with pytest.raises(ValueError, match=r"\(\.\.\., 256\)"):
        make()(np.float32(1.0))


def test_complex_input_of_unsupported_width():
    # complex64/complex128 are accepted (tests/scattering1d/test_scattering1d_complex_input.py); wider is not.
    if np.dtype(np.clongdouble).itemsize <= 16:
        pytest.skip("np.clongdouble is complex128 on this platform")
    with pytest.raises(TypeError, match="complex64 or complex128"):
        make()(np.zeros(256, np.clongdouble))


def test_integer_input():
    with pytest.raises(TypeError, match="float32 or float64.*int64"):
        make()(np.zeros(256, np.int64))


def test_float16_input():
    with pytest.raises(TypeError, match="float16"):
        make()(np.zeros(256, np.float16))


def test_J_negative():
    with pytest.raises(ValueError, match="J must be >= 0, got -1"):
        make(J=-1)


def test_J_not_an_integer():
    with pytest.raises(TypeError, match="J must be an integer"):
        make(J=2.5)


def test_J_too_large_for_N():
    with pytest.raises(ValueError, match=r"J=9 is too large.*N=256.*J <= 8"):
        make(J=9)


def test_J_from_0_to_beyond_log2_N_builds_while_the_output_keeps_a_sample():
    # J=0 builds (no subsampling); so does 2**J > N with T <= N (as in kymatio; see test_wide_scales).
    assert make(J=0)(np.ones(256, np.float32)).shape[-1] == 256
    assert make(J=9, T=64)(np.ones(256, np.float32)).shape[-1] == 4


def test_Q_below_one():
    with pytest.raises(ValueError, match="Q should always be >= 1"):
        make(Q=0)


def test_Q_second_entry_below_one():
    with pytest.raises(ValueError, match=r"Q\[1\] = 0"):
        make(Q=(8, 0))


def test_Q_list():
    with pytest.raises(ValueError, match="Q must be an integer or a tuple"):
        make(Q=[8, 1])


def test_T_larger_than_N():
    with pytest.raises(ValueError, match="T=512 exceeds the signal length N=256"):
        make(T=512)


def test_T_between_zero_and_one():
    with pytest.raises(ValueError, match="T must be 0 .* or >= 1"):
        make(T=0.5)


def test_unknown_out_type():
    with pytest.raises(ValueError, match="out_type must be one of 'array', 'list', 'dict'"):
        make(out_type="tensor")


def test_array_out_type_without_averaging_builds_and_fails_when_called():
    # As kymatio 0.3.0: the transform builds (filters, meta() and attributes are usable); calling
    # it, eagerly or inside jit, raises.
    S = make(T=0, out_type="array")
    assert S.average is False and len(S.meta()["order"]) == len(make(T=0, out_type="list").meta()["order"])
    x = np.zeros((2, 256), np.float32)
    for call in (S, S.scattering, jax.jit(lambda x: S(x))):
        with pytest.raises(ValueError, match="out_type='array' needs averaging"):
            call(x)
    assert isinstance(make(T="global", out_type="array")(x), jax.Array)  # a global sum is one array


def test_negative_oversampling():
    with pytest.raises(ValueError, match="oversampling must be >= 0, got -1"):
        make(oversampling=-1)


@pytest.mark.parametrize("max_order", [0, 4])  # 3 is scatterjax's third order (test_order3.py)
def test_max_order_out_of_range(max_order):
    with pytest.raises(ValueError, match="max_order must be"):
        make(max_order=max_order)


def test_shape_tuple_of_wrong_length():
    with pytest.raises(ValueError, match=r"shape must be an int or a 1-tuple"):
        make(shape=(16, 16))


def test_average_false_with_T():
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="average=False"):
        make(average=False, T=16)


def test_average_false_means_unaveraged():
    with pytest.warns(DeprecationWarning):
        S = make(average=False, out_type="list")
    assert not S.average


def test_pure_function_checks_its_input_too():
    with pytest.raises(ValueError, match=r"\(\.\.\., 256\)"):
        scatterjax.scattering1d(np.zeros((2, 255), np.float32), make().bank)
