"""torch adapter: same numbers and gradients as the core, DLPack zero-copy, no parameters."""

import importlib
import sys

import jax
import numpy as np
import pytest
import torch
from adapter_cases import CONFIGS, core_class, reference  # noqa: E402
from conftest import rel_l2  # noqa: E402

import scatterjax.torch as storch  # noqa: E402


@pytest.mark.parametrize("dim", CONFIGS)
def test_forward_and_input_gradient_match_core(dim):
    name, kwargs, _ = CONFIGS[dim]
    core, x_np, expected_y, expected = reference(dim)
    module = getattr(storch, name)(**kwargs)
    x = torch.from_numpy(x_np.copy()).requires_grad_(True)
    y = module(x)
    assert y.dtype == torch.float32 and y.device == x.device
    assert rel_l2(y.detach().numpy(), expected_y) <= 1e-6
    (y**2).sum().backward()
    assert rel_l2(x.grad.numpy(), expected) <= 1e-5
    with torch.no_grad():
        assert rel_l2(module(x).numpy(), expected_y) <= 1e-6
    assert module.output_size() == core.output_size()


@pytest.mark.parametrize("dim", CONFIGS)
def test_deepcopy_and_torch_save_after_a_forward_pass(dim, tmp_path):
    # copy.deepcopy(model) (EMA or teacher models, best-checkpoint copies) and torch.save(model)
    # must work once the layer has run: its per-device caches are left out of the copy.
    import copy

    name, kwargs, _ = CONFIGS[dim]
    _, x_np, expected_y, _ = reference(dim)
    model = torch.nn.Sequential(getattr(storch, name)(**kwargs))
    x = torch.from_numpy(x_np.copy())
    y = model(x)
    copied = copy.deepcopy(model)
    torch.save(model, tmp_path / "model.pt")
    loaded = torch.load(tmp_path / "model.pt", weights_only=False)
    for other in (copied, loaded):
        assert torch.equal(other(x), y)
    assert torch.equal(model(x), y)  # the original keeps its caches and its numbers
    assert rel_l2(y.numpy(), expected_y) <= 1e-6


def test_contiguous_cpu_tensors_cross_without_copy():
    x = torch.randn(4, 256)
    x_jax = storch.to_jax(x)
    assert x_jax.unsafe_buffer_pointer() == x.data_ptr()
    back = storch.to_torch(x_jax)
    assert back.data_ptr() == x.data_ptr()
    module = storch.Scattering1D(J=4, shape=256, Q=4)
    y = module(x)
    assert storch.to_jax(y).unsafe_buffer_pointer() == y.data_ptr()


def test_non_contiguous_conjugate_and_batched_inputs():
    core = core_class("Scattering1D")(J=4, shape=256, Q=4)
    module = storch.Scattering1D(J=4, shape=256, Q=4)
    base = torch.randn(256, 6)
    x = base.T  # a transposed view: not contiguous
    assert not x.is_contiguous()
    assert rel_l2(module(x).numpy(), core(x.numpy())) <= 1e-6
    batched = torch.randn(2, 3, 256)
    assert module(batched).shape == (2, 3) + tuple(core(batched.numpy()).shape[2:])
    negated = torch.randn(2, 256)._neg_view()  # lazily negated view
    assert rel_l2(module(negated).numpy(), core(negated.resolve_neg().numpy())) <= 1e-6
    leaf = x.clone().requires_grad_(True)
    module(leaf[:, ::1]).sum().backward()  # gradient through a view of a leaf
    assert leaf.grad.shape == leaf.shape
    with pytest.raises(ValueError, match="shape"):
        module(torch.randn(2, 128))


def test_gradcheck_float64():
    with jax.enable_x64(True):
        module = storch.Scattering1D(J=3, shape=32, Q=1)
        x = torch.randn(2, 32, dtype=torch.float64, requires_grad=True)
        assert module(x).dtype == torch.float64
        assert torch.autograd.gradcheck(module, (x,), eps=1e-6, atol=1e-6)


def test_float64_without_x64_is_computed_in_float64_and_leaves_x64_off():
    module = storch.Scattering1D(J=4, shape=256, Q=4)
    x = torch.randn(2, 256, dtype=torch.float64, requires_grad=True)
    y = module(x)
    assert y.dtype == torch.float64  # as kymatio's torch frontend: a scoped x64, float64 filters
    y.sum().backward()
    assert x.grad.dtype == torch.float64
    assert not jax.config.jax_enable_x64


def test_training_with_adamw_and_no_parameters():
    torch.manual_seed(0)
    scattering = storch.Scattering1D(J=4, shape=256, Q=4)
    assert list(scattering.parameters()) == [] and list(scattering.buffers()) == []
    assert scattering.state_dict() == {}
    model = torch.nn.Sequential(
        scattering, torch.nn.Flatten(), torch.nn.Linear(scattering.output_size() * 16, 3)
    )
    head_before = model[2].weight.detach().clone()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-1)
    x, y = torch.randn(8, 256), torch.randint(0, 3, (8,))
    losses = []
    for _ in range(4):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    assert not torch.equal(head_before, model[2].weight)
    assert scattering.J == 4 and scattering.shape == (256,)


def test_unknown_out_type_is_rejected_by_the_core():
    with pytest.raises(ValueError, match="out_type"):
        storch.Scattering1D(J=4, shape=256, out_type="tensor")
    module = storch.TimeFrequencyScattering(J=3, J_fr=1, Q=2, shape=64)
    with pytest.raises(ValueError, match="out_type"):
        module.out_type = "tensor"
    assert module.out_type == "array"


def test_time_frequency_scattering_joint_batch_dims_and_settings():
    name, kwargs, _ = CONFIGS["jtfs_joint"]
    core = reference("jtfs_joint")[0]
    module = storch.TimeFrequencyScattering(**kwargs)
    x = torch.randn(2, 3, 64, dtype=torch.float32, generator=torch.Generator().manual_seed(0))
    y = module(x)
    assert y.ndim == 5 and y.shape[:2] == (2, 3)  # (*batch, C_joint, R, N_out)
    assert rel_l2(y.numpy(), core(x.numpy())) <= 1e-6  # (the 4D backward pass: the test above)
    # kymatio's read-only settings come from the core object.
    assert (module.J, module.J_fr, module.Q, module.format) == (3, 1, core.Q, "joint")
    assert module.N_frequency == core.N_frequency
    assert module.output_size() == core.output_size() == y.shape[2]
    meta = module.meta()
    assert meta["key"] == core.meta()["key"] and len(meta["key"]) == y.shape[2]
    assert np.array_equal(meta["order"], core.meta()["order"])
    assert list(module.parameters()) == [] and module.state_dict() == {}


def test_missing_torch_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.delitem(sys.modules, "scatterjax.torch", raising=False)
    with pytest.raises(ImportError, match=r"scatterjax\[torch\]"):
        importlib.import_module("scatterjax.torch")


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_from_an_autocast_layer_runs_in_float32(dtype):
    # Under torch.autocast a Linear before the scattering gives bfloat16/float16; kymatio's torch
    # modules computed those in float32, ours refused them.
    torch.manual_seed(0)
    module, layer = storch.Scattering1D(J=3, shape=64), torch.nn.Linear(64, 64)
    with torch.autocast("cpu", dtype=dtype):
        hidden = layer(torch.randn(2, 64))
        assert hidden.dtype == dtype
        out = module(hidden)
        out.square().sum().backward()
    assert out.dtype == torch.float32
    reference = module(hidden.detach().float().requires_grad_())  # the same path (differentiable)
    np.testing.assert_array_equal(out.detach().numpy(), reference.detach().numpy())
    gradient = layer.weight.grad
    assert gradient is not None and torch.isfinite(gradient).all() and gradient.abs().sum() > 0


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.bool, torch.float16, torch.bfloat16])
def test_non_float_tensors_are_refused_naming_their_torch_dtype(dtype):
    module = storch.Scattering1D(J=3, shape=64)
    with pytest.raises(TypeError, match=rf"got dtype {dtype}\. Convert it first, e\.g\. x\.float\(\)"):
        module(torch.zeros(2, 64, dtype=dtype))
    assert module(torch.zeros(2, 64, dtype=dtype).float()).dtype == torch.float32
