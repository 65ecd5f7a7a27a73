"""The torch modules under PyTorch's function transforms and higher derivatives, as kymatio's
pure-torch modules: ``torch.func`` (``grad``, ``vmap``, per-sample gradients, ``jacrev``, ``jvp``,
``jacfwd``), second derivatives (``create_graph=True``: gradient penalties, Hessians), and a clear
error where a torch trace would record the JAX computation as a constant.

Each value is checked against JAX's own transform of the core transform (the oracle for a
derivative of the same function), in float64 where a second derivative is compared.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from conftest import rel_l2

import scatterjax
import scatterjax.torch as storch

CASES = {
    "1d": ("Scattering1D", dict(J=2, shape=32, Q=1), (32,)),
    "2d": ("Scattering2D", dict(J=1, shape=(8, 8), L=2), (8, 8)),
}


def _pair(case):
    name, kwargs, signal = CASES[case]
    return getattr(scatterjax, name)(**kwargs), getattr(storch, name)(**kwargs), signal


def _signals(shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _energy_jax(core):
    return lambda z: jnp.sum(core(z) ** 2)


def _energy_torch(module):
    return lambda z: module(z).pow(2).sum()


@pytest.mark.parametrize("case", CASES)
def test_vmap_and_per_sample_gradients_equal_jax(case):
    core, module, signal = _pair(case)
    x = _signals((3, *signal))
    np.testing.assert_allclose(torch.func.vmap(module)(torch.from_numpy(x)).numpy(), np.asarray(core(x)), rtol=1e-6)
    per_sample = torch.func.vmap(torch.func.grad(_energy_torch(module)))(torch.from_numpy(x))
    expected = jax.vmap(jax.grad(_energy_jax(core)))(jnp.asarray(x))
    assert rel_l2(per_sample.numpy(), expected) <= 1e-6
    # in_dims other than 0, and an unbatched argument broadcast over the batch
    moved = torch.func.vmap(module, in_dims=-1)(torch.from_numpy(np.moveaxis(x, 0, -1).copy()))
    np.testing.assert_allclose(moved.numpy(), np.asarray(core(x)), rtol=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_jacobians_and_forward_mode_equal_jax(case):
    core, module, signal = _pair(case)
    x, tangent = _signals(signal, 1), _signals(signal, 2)
    summed_jax = lambda z: core(z).sum(axis=tuple(range(1, core(z).ndim)))  # noqa: E731 (per channel)
    summed_torch = lambda z: module(z).flatten(1).sum(-1)  # noqa: E731
    expected = jax.jacrev(summed_jax)(jnp.asarray(x))
    assert rel_l2(torch.func.jacrev(summed_torch)(torch.from_numpy(x)).numpy(), expected) <= 1e-6
    assert rel_l2(torch.func.jacfwd(summed_torch)(torch.from_numpy(x)).numpy(), expected) <= 1e-6
    _, jax_tangent = jax.jvp(core, (jnp.asarray(x),), (jnp.asarray(tangent),))
    value, torch_tangent = torch.func.jvp(module, (torch.from_numpy(x),), (torch.from_numpy(tangent),))
    np.testing.assert_allclose(value.numpy(), np.asarray(core(x)), rtol=1e-6)
    assert rel_l2(torch_tangent.numpy(), jax_tangent) <= 1e-6


@pytest.mark.parametrize("case", CASES)
def test_second_derivatives_equal_jax_hessian(case):
    with jax.enable_x64(True):  # the torch module computes float64 input with float64 filters
        core, module, signal = _pair(case)
    x, direction = _signals(signal, 3, np.float64), _signals(signal, 4, np.float64)
    with jax.enable_x64(True):
        energy = _energy_jax(core)
        hvp = jax.jvp(jax.grad(energy), (jnp.asarray(x),), (jnp.asarray(direction),))[1]
        hessian = jax.hessian(energy)(jnp.asarray(x)) if case == "1d" else None
    # A gradient penalty's way: the gradient with create_graph, then its own backward.
    x_torch = torch.from_numpy(x).requires_grad_(True)
    (gradient,) = torch.autograd.grad(_energy_torch(module)(x_torch), x_torch, create_graph=True)
    (torch_hvp,) = torch.autograd.grad((gradient * torch.from_numpy(direction)).sum(), x_torch)
    assert rel_l2(torch_hvp.numpy(), hvp) <= 1e-10
    if hessian is not None:
        torch_hessian = torch.autograd.functional.hessian(_energy_torch(module), torch.from_numpy(x))
        assert rel_l2(torch_hessian.numpy(), hessian) <= 1e-10
    # The cotangents' side: d/dg <v, J^T g> = J v, here through a loss weighting the outputs.
    weights = torch.from_numpy(_signals(tuple(core(x).shape), 5, np.float64)).requires_grad_(True)
    x_torch = torch.from_numpy(x).requires_grad_(True)
    (gradient,) = torch.autograd.grad((module(x_torch) * weights).sum(), x_torch, create_graph=True)
    (weights_grad,) = torch.autograd.grad((gradient * torch.from_numpy(direction)).sum(), weights)
    with jax.enable_x64(True):
        jvp = jax.jvp(core, (jnp.asarray(x),), (jnp.asarray(direction),))[1]
    assert rel_l2(weights_grad.numpy(), jvp) <= 1e-10


def test_hessians_in_every_mode_and_third_derivatives_equal_jax():
    with jax.enable_x64(True):
        core, module, signal = _pair("1d")
        x, direction = _signals(signal, 6, np.float64), _signals(signal, 7, np.float64)
        energy = _energy_jax(core)
        hessian = jax.hessian(energy)(jnp.asarray(x))
        third = jax.jvp(
            lambda z: jax.jvp(jax.grad(energy), (z,), (jnp.asarray(direction),))[1],
            (jnp.asarray(x),),
            (jnp.asarray(direction),),
        )[1]
    f = _energy_torch(module)
    x_torch, direction_torch = torch.from_numpy(x), torch.from_numpy(direction)
    modes = {
        "func.hessian (forward over reverse)": torch.func.hessian(f),
        "jacrev(jacrev)": torch.func.jacrev(torch.func.jacrev(f)),
        "jacfwd(jacfwd)": torch.func.jacfwd(torch.func.jacfwd(f)),
    }
    for mode, hessian_of in modes.items():
        assert rel_l2(hessian_of(x_torch).numpy(), hessian) <= 1e-10, mode
    per_example = torch.func.vmap(torch.func.hessian(f))(torch.stack([x_torch, direction_torch]))
    assert rel_l2(per_example[0].numpy(), hessian) <= 1e-10
    leaf = x_torch.clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(f(leaf), leaf, create_graph=True)
    (second,) = torch.autograd.grad((gradient * direction_torch).sum(), leaf, create_graph=True)
    (third_torch,) = torch.autograd.grad((second * direction_torch).sum(), leaf)
    assert rel_l2(third_torch.numpy(), third) <= 1e-10


def test_complex_second_derivatives_raise_clearly_and_complex_forward_mode_is_exact():
    module = storch.Scattering1D(J=2, shape=32, Q=1)
    rng = np.random.default_rng(8)
    z = torch.from_numpy(rng.standard_normal(32) + 1j * rng.standard_normal(32)).requires_grad_(True)
    (gradient,) = torch.autograd.grad(module(z).pow(2).sum(), z, create_graph=True)
    with pytest.raises(NotImplementedError, match="real inputs and real outputs only"):
        torch.autograd.grad(gradient.abs().sum(), z)
    # Forward mode of a complex input, and of a complex output, against central differences.
    dz = torch.from_numpy(rng.standard_normal(32) + 1j * rng.standard_normal(32))
    _, tangent = torch.func.jvp(module, (z.detach(),), (dz,))
    step = 1e-6
    central = (module(z.detach() + step * dz) - module(z.detach() - step * dz)) / (2 * step)
    assert rel_l2(tangent.numpy(), central.numpy()) <= 1e-8
    x, dx = torch.from_numpy(rng.standard_normal(32)), torch.from_numpy(rng.standard_normal(32))
    _, tangent = torch.func.jvp(lambda v: module.wavelet_transform(v), (x,), (dx,))
    central = (module.wavelet_transform(x + step * dx) - module.wavelet_transform(x - step * dx)) / (2 * step)
    assert float((tangent - central).abs().norm() / central.abs().norm()) <= 1e-8


def test_first_derivatives_keep_using_the_forward_residuals():
    # The plain backward applies the forward's stored pullback: no second forward in JAX.
    module = storch.Scattering2D(J=1, shape=(8, 8), L=2)
    x = torch.from_numpy(_signals((2, 8, 8), 7)).requires_grad_(True)
    calls = []
    real = storch._input_gradient

    def counting(*args):
        calls.append(1)
        return real(*args)

    storch._input_gradient = counting
    try:
        module(x).sum().backward()
    finally:
        storch._input_gradient = real
    assert calls == [] and x.grad is not None and torch.isfinite(x.grad).all()


def test_torch_traces_and_onnx_export_are_refused_naming_the_alternatives():
    module = storch.Scattering1D(J=3, shape=64, Q=2)
    with pytest.raises(RuntimeError, match="cannot be traced .*torch.compile"):
        torch.jit.trace(module, torch.randn(2, 64))
