"""Scattering2D as a JAX citizen: jit, vmap, grad, pytree, float64, and a small compiled program."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import compiled_programs, kymatio, rel_l2
from jax.test_util import check_grads

from scatterjax import FilterBank2D, Scattering2D, filter_bank_2d, scattering2d
from scatterjax._core.cpu_threads import cpu_threads


def _images(shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def test_object_is_a_jit_argument():
    S = Scattering2D(2, (24, 20), L=4)
    x = _images((3, 24, 20))
    called = np.asarray(S(x))
    through_jit = np.asarray(jax.jit(lambda S, x: S(x))(S, x))
    pure = np.asarray(jax.jit(scattering2d)(jnp.asarray(x), S.bank))
    np.testing.assert_array_equal(through_jit, called)
    np.testing.assert_array_equal(pure, called)


def test_jit_equals_eager():
    # Op-by-op execution compiles every primitive on its own: keep the transform small.
    S = Scattering2D(1, (8, 12), L=2)
    x = jnp.asarray(_images((2, 8, 12), seed=11))
    eager = np.asarray(scattering2d(x, S.bank))
    jitted = np.asarray(jax.jit(scattering2d)(x, S.bank))
    assert rel_l2(eager, jitted) <= 1e-6


@pytest.mark.parametrize(
    "J, shape, L",
    [(3, (290, 250), 2), (4, (272, 240), 2)],
    ids=["padded-306x266", "padded-304x272-folds-in-passes"],
)
def test_an_image_has_the_same_bits_alone_in_a_batch_and_in_jit(J, shape, L):
    # Padded sides of 300 and more: XLA's CPU FFT rounded an image's real 2D transforms differently
    # alone and in a batch (J=3 512x512 and J=5 256x256 gave jax.jit(S)(x) != S(x)). J=4 also
    # folds 64 blocks (in passes of sliced sums).
    S = Scattering2D(J, shape, L=L)
    x = _images((3, *shape), seed=5)
    jitted = jax.jit(lambda S, x: S(x))
    eager = np.asarray(S(x))
    np.testing.assert_array_equal(np.asarray(jitted(S, x)), eager)
    alone = np.concatenate([np.asarray(jitted(S, x[i : i + 1])) for i in range(3)])
    np.testing.assert_array_equal(alone, eager)
    reference = kymatio().numpy.Scattering2D(J, shape, L=L)(x)
    assert rel_l2(eager, reference) <= 1e-5


def test_filters_are_arguments_not_constants():
    S = Scattering2D(3, (64, 64), L=8)
    x = jnp.zeros((2, 64, 64), jnp.float32)
    text = jax.jit(lambda S, x: S(x)).lower(S, x).as_text()
    sizes = []
    for dims in re.findall(r"stablehlo\.constant dense<.*?> : tensor<((?:\d+x)*)", text):
        sizes.append(int(np.prod([int(d) for d in dims.split("x")[:-1]])))
    assert max(sizes, default=1) <= 16, sorted(sizes)[-5:]
    # The filters (over 250k numbers here) would make the text megabytes long if baked in.
    assert len(text) < 200_000
    leaves = jax.tree_util.tree_leaves(S)
    assert sum(leaf.size for leaf in leaves) > 250_000
    assert all(isinstance(leaf, jax.Array) for leaf in leaves)


def test_compiled_once_for_every_batch_size():
    cores = cpu_threads()
    x = _images((2, 20, 28), seed=1)
    first = Scattering2D(2, (20, 28), L=5)
    first(x)
    with compiled_programs() as names:
        first(x + 1)
        # A new object with the same settings reuses the compiled program: its settings are static
        # and hashable, its filters are arguments.
        Scattering2D(2, (20, 28), L=5)(_images((2, 20, 28), seed=2))
        for count in (1, 3 * cores, 4 * cores, 15 * cores, 7 * cores + 1, 64):
            first(_images((count, 20, 28)))
    assert "scattering2d" not in names, names


def test_pytree_round_trip():
    S = Scattering2D(2, (16, 16), L=2, max_order=1, out_type="dict")
    leaves, treedef = jax.tree_util.tree_flatten(S)
    rebuilt = jax.tree_util.tree_unflatten(treedef, leaves)
    assert isinstance(rebuilt, Scattering2D) and isinstance(rebuilt.bank, FilterBank2D)
    assert repr(rebuilt) == repr(S)
    assert rebuilt.bank.plan == S.bank.plan
    x = _images((16, 16))
    for key, value in S(x).items():
        np.testing.assert_array_equal(rebuilt(x)[key], value)


def test_vmap_equals_loop():
    S = Scattering2D(2, (16, 24), L=3)
    x = _images((4, 2, 16, 24), seed=3)
    mapped = np.asarray(jax.vmap(S)(x))
    looped = np.stack([np.asarray(S(x[i])) for i in range(4)])
    assert mapped.shape == (4, 2, S.output_size(), 4, 6)
    assert rel_l2(mapped, looped) <= 1e-6


def test_large_batch_is_chunked_with_the_same_numbers():
    # 41 images of 128 x 128 exceed one chunk, so the batch runs through lax.map (41 is prime:
    # the last chunk is zero-padded); the result must not depend on it.
    S = Scattering2D(1, (128, 128), L=8)
    x = _images((41, 128, 128), seed=4)
    whole = np.asarray(S(x))
    one_by_one = np.concatenate([np.asarray(S(x[i : i + 1])) for i in (0, 17, 40)])
    assert rel_l2(whole[[0, 17, 40]], one_by_one) <= 1e-6
    assert "while" in jax.jit(lambda S, x: S(x)).lower(S, x).as_text()


def test_float64_matches_kymatio():
    # kymatio's 2D filters are float32 by construction; fed float64 images, kymatio's NumPy
    # frontend computes in complex128 with those filters. So do we under x64 (our filters hold the
    # same float32 values), so the only difference is float64 rounding: ~1e-16 relative.
    shape = (40, 36)
    with jax.enable_x64(True):
        S = Scattering2D(3, shape, L=3)
        x = _images((2,) + shape, seed=5, dtype=np.float64)
        got = S(x)
        assert got.dtype == jnp.float64
        reference = kymatio().numpy.Scattering2D(3, shape, L=3)(x)
        assert rel_l2(got, reference) <= 1e-14
        # float32 input stays float32 under x64.
        assert S(x.astype(np.float32)).dtype == jnp.float32


def test_float64_input_without_x64_computes_in_float32():
    S = Scattering2D(1, (8, 8), L=2)
    assert S(_images((8, 8), dtype=np.float64)).dtype == jnp.float32


def test_gradients_match_finite_differences():
    with jax.enable_x64(True):
        S = Scattering2D(2, (16, 16), L=2, max_order=2)
        x = jnp.asarray(_images((16, 16), seed=6, dtype=np.float64))
        weights = jnp.asarray(np.random.default_rng(7).standard_normal((S.output_size(), 4, 4)))
        check_grads(lambda x: jnp.sum(S(x) * weights), (x,), order=1, modes=["rev"])


def test_gradient_is_finite_at_zero():
    S = Scattering2D(2, (16, 16), L=2)
    grad = jax.grad(lambda x: jnp.sum(S(x)))(jnp.zeros((16, 16), jnp.float32))
    assert np.all(np.isfinite(np.asarray(grad)))


def test_filters_are_frozen():
    S = Scattering2D(1, (8, 8), L=2)
    x = _images((8, 8), seed=8)
    grads = jax.grad(lambda S: jnp.sum(S(x) ** 2))(S)
    assert all(float(jnp.abs(g).max()) == 0.0 for g in jax.tree_util.tree_leaves(grads))


def test_nan_propagates():
    S = Scattering2D(1, (8, 8), L=2)
    x = _images((2, 8, 8))
    x[0, 3, 3] = np.nan
    out = np.asarray(S(x))
    assert np.isnan(out[0]).any() and np.isfinite(out[1]).all()


def test_reflect_padding_matches_numpy_when_pad_equals_size():
    # 8 x 8 with J = 3 pads 8 on each side (repeated reflection); compare the padded image the
    # transform sees with numpy's.
    bank = filter_bank_2d(3, 8, 8, 1, 1, False)
    assert bank.plan.pad_rows == (8, 8) and bank.plan.pad_cols == (8, 8)
    x = _images((8, 8), seed=9)
    expected = np.pad(x, (bank.plan.pad_rows, bank.plan.pad_cols), mode="reflect")
    got = jnp.pad(jnp.asarray(x), (bank.plan.pad_rows, bank.plan.pad_cols), mode="reflect")
    np.testing.assert_array_equal(np.asarray(got), expected)


@pytest.mark.parametrize("out_type", ["list", "dict"])
def test_split_outputs_equal_array_channels(out_type):
    x = _images((2, 16, 16), seed=10)
    array = np.asarray(Scattering2D(2, (16, 16), L=2)(x))
    split = Scattering2D(2, (16, 16), L=2, out_type=out_type)(x)
    coefficients = split.values() if out_type == "dict" else [d["coef"] for d in split]
    for c, coefficient in enumerate(coefficients):
        np.testing.assert_array_equal(np.asarray(coefficient), array[:, c])
