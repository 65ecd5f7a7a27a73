"""Scattering1D's kymatio-main additions: ``stride``, ``T='global'`` and ``levels='sum'``.

The stored kymatio-main outputs are checked in test_jtfs_parity.py; here, the exact relations to
0.3.0's numbers, consistency between options, and the documented errors.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scatterjax


def _signal(n, batch=(2,)):
    return np.random.default_rng(3).standard_normal(batch + (n,)).astype(np.float32)


@pytest.mark.parametrize("T", [None, 16, 40])
def test_sum_levels_scale_0_3_0_by_powers_of_two(T):
    kwargs = dict(J=6, shape=1024, Q=(8, 2), T=T)
    with jax.enable_x64(True):
        x = _signal(1024).astype(np.float64)
        mean = scatterjax.Scattering1D(**kwargs)
        total = scatterjax.Scattering1D(**kwargs, levels="sum")
        log2_T = mean.log2_T
        meta = mean.meta()
        j = np.nan_to_num(meta["j"], nan=0).astype(int)
        exponent = np.where(meta["order"] >= 1, np.minimum(j[:, 0], log2_T), 0)
        exponent += np.where(meta["order"] == 2, np.minimum(j[:, 1], log2_T), 0)
        expected = np.asarray(mean(x)) * 2.0 ** exponent[:, None]
        got = np.asarray(total(x))
        # main's linear-part xi differ from 0.3.0's in the last bits (~1e-17): filters equal to 1e-15.
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12 * np.abs(expected).max())


def test_default_stride_is_T_and_smaller_strides_oversample():
    x = _signal(1024)
    S = scatterjax.Scattering1D(J=5, shape=1024, Q=8, T=32, levels="sum")
    same = scatterjax.Scattering1D(J=5, shape=1024, Q=8, T=32, stride=32, levels="sum")
    np.testing.assert_array_equal(np.asarray(S(x)), np.asarray(same(x)))
    dense = scatterjax.Scattering1D(J=5, shape=1024, Q=8, T=32, stride=8, levels="sum")
    out = np.asarray(dense(x))
    assert out.shape == (2, S.output_size(), 1024 // 8)
    # The stride-8 output sampled every 4th sample is the stride-32 output up to aliasing: the
    # low-pass of width T=32 leaves little energy above the stride-32 rate.
    coarse = np.asarray(S(x))
    assert np.linalg.norm(out[..., ::4] - coarse) <= 0.05 * np.linalg.norm(coarse)


def test_global_is_a_sum_and_all_out_types_agree():
    x = _signal(512)
    S = scatterjax.Scattering1D(J=4, shape=512, Q=4, T="global")
    array = np.asarray(S(x))
    assert array.shape == (2, S.output_size(), 1)
    listed = scatterjax.Scattering1D(J=4, shape=512, Q=4, T="global", out_type="list")(x)
    np.testing.assert_array_equal(np.stack([np.asarray(e["coef"]) for e in listed], axis=1), array)
    assert [e["order"] for e in listed] == [len(e["n"]) for e in listed]
    # Order 0 sums the reflect-padded signal.
    padded = np.pad(x, ((0, 0), (S.pad_left, S.pad_right)), mode="reflect")
    np.testing.assert_allclose(array[:, 0, 0], padded.sum(-1), rtol=1e-5)
    grad = jax.grad(lambda x: S(x).sum())(jnp.zeros(512))
    assert np.isfinite(np.asarray(grad)).all()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(stride=3), "power of two"),
        (dict(stride=4.0), "power-of-two int"),
        (dict(stride=4, T=0, out_type="list"), "local averaging"),
        (dict(stride=4, T="global"), "local averaging"),
        (dict(stride=1024), "stride=1024"),
        (dict(stride=4, oversampling=1), "oversampling"),
        (dict(levels="sum", oversampling=1), "oversampling"),
        (dict(levels="median"), "levels"),
        (dict(T="local"), "T must be"),
    ],
)
def test_bad_main_options_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        scatterjax.Scattering1D(J=5, shape=512, Q=4, **kwargs)
