"""Scattering1D.scalogram / wavelet_transform on every adapter: the core's numbers, dtypes, shapes and
gradients, with each framework's tensors.

Oracle: the core's own methods (``tests/scattering1d/test_scalogram.py`` checks those against the
definition) and ``jax.grad`` of them; the torch gradient is also checked by finite differences.
"""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import scatterjax
from scatterjax._adapters.first_order import first_order_transform

KWARGS = dict(J=3, shape=64, Q=2)
N1 = 7  # first-order wavelets of KWARGS


def rel_l2(ours, reference) -> float:
    """Relative L2 error, complex parts included."""
    ours, reference = np.asarray(ours, np.complex128), np.asarray(reference, np.complex128)
    assert ours.shape == reference.shape, (ours.shape, reference.shape)
    return float(np.linalg.norm(ours - reference) / np.linalg.norm(reference))


@pytest.fixture(scope="module")
def case():
    """``(core, x float32 (2, 64), weights)``: a real loss of a complex output is
    ``sum(Re(w) * weights) + sum(Im(w) ** 2)``."""
    core = scatterjax.Scattering1D(**KWARGS)
    x = np.random.default_rng(0).standard_normal((2, 64)).astype(np.float32)
    weights = np.linspace(-1.0, 1.0, 32, dtype=np.float32)
    return core, x, weights


def _complex_loss(w, weights, xp):
    return xp.sum(xp.real(w) * weights) + xp.sum(xp.imag(w) ** 2)


def _core_gradients(core, x, weights):
    scalogram = jax.grad(lambda x: jnp.sum(core.scalogram(x, stride=2) ** 2))(x)
    transform = jax.grad(lambda x: _complex_loss(core.wavelet_transform(x, stride=2), weights, jnp))(x)
    return np.asarray(scalogram), np.asarray(transform)


def test_first_order_transform_is_the_core_method_and_differentiable(case):
    core, x, _ = case
    for method in ("scalogram", "wavelet_transform"):
        transform = first_order_transform(core, method, 4)
        jitted = np.asarray(jax.jit(lambda T, x: T(x))(transform, x))
        np.testing.assert_array_equal(jitted, np.asarray(getattr(core, method)(x, stride=4)))
        assert rel_l2(transform(x), jitted) <= 1e-6  # eager: the same operations, unfused
        looped = np.stack([np.asarray(transform(row)) for row in x])
        assert rel_l2(jax.jit(jax.vmap(transform))(x), looped) <= 1e-6
    with jax.enable_x64(True):
        core64 = scatterjax.Scattering1D(**KWARGS)
        x64 = jnp.asarray(x[0], jnp.float64)
        power = first_order_transform(core64, "scalogram", 2)
        check_grads(jax.jit(lambda x: jnp.sum(power(x) ** 2)), (x64,), order=1, modes=["rev"])
        wavelets = first_order_transform(core64, "wavelet_transform", 4)
        weighted = jax.jit(lambda x: jnp.sum(jnp.real(wavelets(x)) * jnp.arange(16.0)))
        check_grads(weighted, (x64,), order=1, modes=["rev"])


def test_torch_matches_core_with_gradients(case):
    torch = pytest.importorskip("torch")
    import scatterjax.torch as storch

    core, x_np, weights = case
    module = storch.Scattering1D(**KWARGS)
    assert inspect.signature(module.scalogram) == inspect.signature(core.scalogram)
    x = torch.from_numpy(x_np.copy()).requires_grad_(True)
    U, W = module.scalogram(x, stride=2), module.wavelet_transform(x, stride=2)
    assert U.dtype == torch.float32 and W.dtype == torch.complex64
    assert U.shape == W.shape == (2, N1, 32)
    assert rel_l2(U.detach().numpy(), core.scalogram(x_np, stride=2)) <= 1e-6
    assert rel_l2(W.detach().numpy(), core.wavelet_transform(x_np, stride=2)) <= 1e-6
    expected_scalogram, expected_transform = _core_gradients(core, x_np, weights)
    (grad,) = torch.autograd.grad((U**2).sum(), x)
    assert rel_l2(grad.numpy(), expected_scalogram) <= 1e-5
    (grad,) = torch.autograd.grad(_complex_loss(W, torch.from_numpy(weights), torch), x)
    assert rel_l2(grad.numpy(), expected_transform) <= 1e-5
    with torch.no_grad():  # the eager path: same numbers, batch dimensions kept
        batched = module.wavelet_transform(x.reshape(2, 1, 64), stride=2)
        assert batched.shape == (2, 1, N1, 32)
        assert rel_l2(batched[:, 0].numpy(), W.detach().numpy()) <= 1e-6
    # float64 input: computed in float64 (torch's finite differences check the complex convention).
    x64 = torch.from_numpy(x_np[:1].astype(np.float64)).requires_grad_(True)
    assert module.wavelet_transform(x64, stride=4).dtype == torch.complex128
    assert torch.autograd.gradcheck(lambda x: module.wavelet_transform(x, stride=4), (x64,), fast_mode=True)
    with pytest.raises(ValueError, match=r"stride must be a power of two .* got stride=3"):
        module.scalogram(x, stride=3)
    with pytest.raises(TypeError, match="stride must be a power-of-two int"):
        module.scalogram(x, stride=2.0)
    with pytest.raises(AttributeError, match="scalogram"):  # only where the core has it
        _ = storch.Scattering2D(J=2, shape=(16, 16), L=4).scalogram


def test_tensorflow_matches_core_with_gradients(case):
    tf = pytest.importorskip("tensorflow")
    import scatterjax.tensorflow as stf

    core, x_np, weights = case
    module = stf.Scattering1D(**KWARGS)
    x = tf.constant(x_np)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        U, W = module.scalogram(x, stride=2), module.wavelet_transform(x, stride=2)
        power = tf.reduce_sum(U**2)
        complex_loss = tf.reduce_sum(tf.math.real(W) * weights) + tf.reduce_sum(tf.math.imag(W) ** 2)
    assert U.dtype == tf.float32 and W.dtype == tf.complex64
    assert tuple(U.shape) == tuple(W.shape) == (2, N1, 32)
    assert rel_l2(U.numpy(), core.scalogram(x_np, stride=2)) <= 1e-6
    assert rel_l2(W.numpy(), core.wavelet_transform(x_np, stride=2)) <= 1e-6
    expected_scalogram, expected_transform = _core_gradients(core, x_np, weights)
    assert rel_l2(tape.gradient(power, x).numpy(), expected_scalogram) <= 1e-5
    assert rel_l2(tape.gradient(complex_loss, x).numpy(), expected_transform) <= 1e-5
    traced = tf.function(lambda x: module.wavelet_transform(x, stride=2))
    np.testing.assert_array_equal(traced(x).numpy(), W.numpy())
    empty = module.wavelet_transform(tf.zeros((0, 64)), stride=2)
    assert empty.dtype == tf.complex64 and tuple(empty.shape) == (0, N1, 32)
    with pytest.raises(ValueError, match=r"stride must be a power of two .* got stride=3"):
        module.wavelet_transform(x, stride=3)


def test_keras_layer_after_build(case):
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("this process runs another Keras backend")
    from scatterjax.keras import Scattering1D

    core, x_np, _ = case
    layer = Scattering1D(J=3, Q=2)
    with pytest.raises(AttributeError, match=r"build\(\) it"):
        layer.scalogram(x_np)
    layer.build((None, 64))
    U = layer.scalogram(keras.ops.convert_to_tensor(x_np), stride=2)
    assert U.dtype == "float32" and tuple(U.shape) == (2, N1, 32)
    assert rel_l2(keras.ops.convert_to_numpy(U), core.scalogram(x_np, stride=2)) <= 1e-6


@pytest.mark.parametrize("module_name", ["scatterjax.equinox", "scatterjax.flax", "scatterjax.flax.linen"])
def test_jax_adapters_reach_the_core_methods(case, module_name):
    adapters = pytest.importorskip(module_name)
    core, x, _ = case
    module = adapters.Scattering1D(**KWARGS)
    for method in ("scalogram", "wavelet_transform"):
        ours = np.asarray(getattr(module, method)(x, stride=2))
        np.testing.assert_array_equal(ours, np.asarray(getattr(core, method)(x, stride=2)))
