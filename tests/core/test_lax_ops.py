"""``jnp.take``, ``jnp.where``, ``jnp.pad`` and ``jnp.fft`` as single primitives: the same values and derivatives
as the ``jax.numpy`` functions they replace, and programs of fewer nested traces."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from scatterjax._core.lax_ops import fft_last_axes, pad_zeros, take_last_axis, where_scalar


def _nested_programs(jaxpr) -> int:
    """Nested jitted programs in ``jaxpr``, at any depth."""
    count = 0
    for eqn in jaxpr.eqns:
        count += eqn.primitive.name in ("pjit", "jit")
        for param in eqn.params.values():
            for sub in param if isinstance(param, (list, tuple)) else [param]:
                sub = getattr(sub, "jaxpr", sub)  # a closed jaxpr's jaxpr
                if hasattr(sub, "eqns"):
                    count += _nested_programs(sub)
    return count


@pytest.mark.parametrize("values_shape, index_shape", [((7,), (3,)), ((2, 5, 9), (4, 3)), ((3, 6), ())])
def test_take_last_axis_is_jnp_take_with_clipping(values_shape, index_shape):
    rng = np.random.default_rng(0)
    values = rng.standard_normal(values_shape).astype(np.float32)
    n = values_shape[-1]
    index = rng.integers(-3, n + 3, size=index_shape).astype(np.int32)  # out-of-range entries clip
    expected = jnp.take(values, index, axis=-1, mode="clip")
    got = jax.jit(take_last_axis)(values, index)
    assert got.shape == values_shape[:-1] + index_shape
    np.testing.assert_array_equal(got, expected)
    # The derivative scatters the cotangent back, adding where an index repeats.
    cotangent = rng.standard_normal(got.shape).astype(np.float32)
    pull = jax.vjp(lambda v: take_last_axis(v, index), values)[1]
    pull_jnp = jax.vjp(lambda v: jnp.take(v, index, axis=-1, mode="clip"), values)[1]
    np.testing.assert_array_equal(pull(cotangent)[0], pull_jnp(cotangent)[0])
    with jax.enable_x64(True):
        check_grads(lambda v: take_last_axis(v, index), (values.astype(np.float64),), order=2, modes=["fwd", "rev"])


def test_take_last_axis_on_complex_values_under_vmap():
    rng = np.random.default_rng(1)
    values = (rng.standard_normal((4, 3, 8)) + 1j * rng.standard_normal((4, 3, 8))).astype(np.complex64)
    index = np.array([[0, 7], [2, 2]], np.int32)
    got = jax.vmap(take_last_axis, in_axes=(0, None))(values, index)
    np.testing.assert_array_equal(got, np.stack([values[k][..., index] for k in range(4)]))


@pytest.mark.parametrize("value", [0, 1, -2.5])
def test_where_scalar_is_jnp_where(value):
    a = jnp.asarray([0.0, 2.0, 0.0, -1.0, np.inf])
    condition = a == 0
    got = jax.jit(where_scalar, static_argnums=1)(condition, value, a)
    np.testing.assert_array_equal(got, jnp.where(condition, value, a))
    grad = jax.grad(lambda a: where_scalar(a == 0, value, a).sum())(a)
    np.testing.assert_array_equal(grad, [0.0, 1.0, 0.0, 1.0, 1.0])
    assert where_scalar(condition.astype(bool), value, a.astype(jnp.float16)).dtype == jnp.float16


@pytest.mark.parametrize("widths", [[(0, 3)], [(2, 0), (1, 1)], [(0, 0), (0, 5), (0, 0)]])
def test_pad_zeros_is_jnp_pad(widths):
    rng = np.random.default_rng(2)
    shape = tuple(3 + k for k in range(len(widths)))
    for dtype in (np.float32, np.complex64, np.float64):
        a = rng.standard_normal(shape).astype(dtype)
        with jax.enable_x64(dtype == np.float64):
            got = jax.jit(pad_zeros, static_argnums=1)(a, tuple(widths))
            assert got.dtype == a.dtype
            np.testing.assert_array_equal(got, np.pad(a, widths))
    with jax.enable_x64(True):
        check_grads(lambda a: pad_zeros(a, widths), (rng.standard_normal(shape),), order=2, modes=["fwd", "rev"])


def test_the_helpers_trace_no_nested_programs():
    a = jnp.ones((2, 6))
    index = jnp.asarray([[1, 3]], jnp.int32)

    def helpers(a):
        picked = take_last_axis(a, index)[:, 0]
        return pad_zeros(where_scalar(picked == 0, 1, picked), [(0, 1), (0, 0)]).sum()

    def with_jnp(a):
        picked = jnp.take(a, index, axis=-1, mode="clip")[:, 0]
        return jnp.pad(jnp.where(picked == 0, 1, picked), [(0, 1), (0, 0)]).sum()

    assert _nested_programs(jax.make_jaxpr(jax.value_and_grad(helpers))(a).jaxpr) == 0
    assert _nested_programs(jax.make_jaxpr(jax.value_and_grad(with_jnp))(a).jaxpr) > 0  # what they replace
    np.testing.assert_array_equal(jax.grad(helpers)(a), jax.grad(with_jnp)(a))


_JNP_FFTS = {"fft": jnp.fft.fftn, "ifft": jnp.fft.ifftn, "rfft": jnp.fft.rfftn}


@pytest.mark.parametrize("kind", ["fft", "ifft", "rfft", "irfft"])
@pytest.mark.parametrize("axes", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.complex64, np.float64])
def test_fft_last_axes_is_jnp_fft(kind, axes, dtype):
    rng = np.random.default_rng(axes)
    shape = (2, 3, 6, 5, 8)
    a = rng.standard_normal(shape).astype(dtype)
    if np.iscomplexobj(a):
        a = a + 1j * rng.standard_normal(shape).astype(dtype)
    if kind == "rfft" and np.iscomplexobj(a):
        with pytest.raises(TypeError, match="real array"):
            fft_last_axes(a, kind, axes)
        return
    last_axes = tuple(range(-axes, 0))
    with jax.enable_x64(dtype == np.float64):
        if kind == "irfft":
            n = 2 * (a.shape[-1] - 1) + 1  # an odd output length: not the default
            got = jax.jit(fft_last_axes, static_argnums=(1, 2), static_argnames="n")(a, kind, axes, n=n)
            expected = jnp.fft.irfftn(a, s=a.shape[-axes:-1] + (n,), axes=last_axes)
        else:
            got = jax.jit(fft_last_axes, static_argnums=(1, 2))(a, kind, axes)
            expected = _JNP_FFTS[kind](a, axes=last_axes)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)  # the same primitive: the same bits
        if dtype == np.float64:
            check_grads(lambda a: fft_last_axes(a, kind, axes).real, (a,), order=1, modes=["fwd", "rev"])


def test_fft_last_axes_refuses_a_spectrum_of_the_wrong_length():
    with pytest.raises(ValueError, match="n=8 takes a half spectrum of 5 bins, got 4"):
        fft_last_axes(jnp.ones((3, 4), jnp.complex64), "irfft", n=8)


def test_fft_last_axes_traces_no_nested_program():
    a = jnp.ones((2, 8))

    def forward(a):
        return fft_last_axes(fft_last_axes(a, "rfft"), "irfft", n=8).sum()

    def with_jnp(a):
        return jnp.fft.irfft(jnp.fft.rfft(a), n=8).sum()

    assert _nested_programs(jax.make_jaxpr(forward)(a).jaxpr) == 0
    assert _nested_programs(jax.make_jaxpr(with_jnp)(a).jaxpr) > 0  # what it replaces
    np.testing.assert_array_equal(jax.grad(forward)(a), jax.grad(with_jnp)(a))
