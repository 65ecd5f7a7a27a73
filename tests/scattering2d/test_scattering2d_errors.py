"""Scattering2D rejects bad arguments and inputs with a clear ValueError/TypeError, before any
computation: one test per case."""

from __future__ import annotations

import numpy as np
import pytest

from scatterjax import Scattering2D, scattering2d


def test_shape_must_be_two_ints():
    with pytest.raises(ValueError, match=r"shape must be a tuple of 2 ints"):
        Scattering2D(2, (32,))
    with pytest.raises(ValueError, match=r"shape must be a tuple of 2 ints"):
        Scattering2D(2, 32)
    with pytest.raises(ValueError, match=r"shape must be a tuple of 2 ints"):
        Scattering2D(2, (32, 32, 3))


def test_shape_entries_must_be_positive():
    with pytest.raises(ValueError, match=r"shape\[1\] must be >= 1"):
        Scattering2D(1, (32, 0))


def test_J_too_large_for_the_shape():
    # kymatio raises RuntimeError; we raise ValueError naming J, the shape and the largest J.
    with pytest.raises(ValueError, match=r"J=4 is too large for images of shape=\(32, 15\).*J <= 3"):
        Scattering2D(4, (32, 15))


def test_images_too_small_for_any_J():
    # A side of 1 leaves no valid J: the message asks for a larger image, not for J <= 0.
    with pytest.raises(ValueError, match=r"J=1 is too large.*no J >= 1 satisfies that.*at least 2 samples"):
        Scattering2D(1, (1, 8))


def test_J_must_be_at_least_one():
    # kymatio 0.3.0 accepts J=0 at construction and fails with an IndexError when called.
    with pytest.raises(ValueError, match=r"J must be >= 1, got 0"):
        Scattering2D(0, (32, 32))


def test_J_must_be_an_int():
    with pytest.raises(TypeError, match=r"J must be an integer"):
        Scattering2D(2.0, (32, 32))


def test_L_must_be_at_least_one():
    # kymatio 0.3.0 silently returns only the order-0 channel for L=0.
    with pytest.raises(ValueError, match=r"L must be >= 1, got 0"):
        Scattering2D(2, (32, 32), L=0)


def test_max_order_must_be_1_or_2():
    with pytest.raises(ValueError, match=r"max_order must be <= 2, got 3"):
        Scattering2D(2, (32, 32), max_order=3)


def test_pre_pad_must_be_a_bool():
    with pytest.raises(TypeError, match=r"pre_pad must be True or False"):
        Scattering2D(2, (32, 32), pre_pad="yes")


def test_unknown_out_type():
    with pytest.raises(ValueError, match=r"out_type must be one of 'array', 'list', 'dict'"):
        Scattering2D(2, (32, 32), out_type="tensor")


def test_wrong_trailing_shape():
    S = Scattering2D(2, (32, 32))
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 32, 32\).*got \(2, 32, 31\)"):
        S(np.zeros((2, 32, 31), np.float32))


def test_input_with_one_dimension():
    S = Scattering2D(2, (32, 32))
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 32, 32\)"):
        S(np.zeros(32, np.float32))


def test_pre_pad_input_must_be_padded():
    S = Scattering2D(2, (32, 32), pre_pad=True)
    assert (S.M_padded, S.N_padded) == (40, 40)
    with pytest.raises(ValueError, match=r"pre_pad=True, x must already be padded to shape "
                                         r"\(\.\.\., 40, 40\).*got \(2, 32, 32\)"):
        S(np.zeros((2, 32, 32), np.float32))


def test_complex_input_of_unsupported_width():
    # complex64/complex128 are accepted (tests/scattering2d/test_scattering2d_complex_input.py); wider is not.
    if np.dtype(np.clongdouble).itemsize <= 16:
        pytest.skip("np.clongdouble is complex128 on this platform")
    S = Scattering2D(1, (8, 8))
    with pytest.raises(TypeError, match=r"x must be a complex64 or complex128 array"):
        S(np.zeros((8, 8), np.clongdouble))


def test_integer_input():
    S = Scattering2D(1, (8, 8))
    with pytest.raises(TypeError, match=r"x must be a float32 or float64 array; got dtype int64") as caught:
        S(np.zeros((8, 8), np.int64))
    assert "also takes complex64 and complex128" in str(caught.value)  # Scattering2D does


def test_pure_function_checks_its_input():
    S = Scattering2D(1, (8, 8), pre_pad=True)
    with pytest.raises(ValueError, match=r"x \(padded, since the bank has pre_pad=True\) must have "
                                         r"shape \(\.\.\., 12, 12\)"):
        scattering2d(np.zeros((8, 8), np.float32), S.bank)
