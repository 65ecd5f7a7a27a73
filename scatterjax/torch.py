"""PyTorch modules: scattering transforms as ``torch.nn.Module`` layers, computed by JAX.

Each class (``Scattering1D``, ``Scattering2D``, ``HarmonicScattering3D``,
``TimeFrequencyScattering``) takes the same arguments as the core class of the same name
(``out_type='array'`` only) and returns the core's array as a tensor, e.g. ``(*batch, C, N_out)``
or, for a ``format='joint'`` JTFS, ``(*batch, C_joint, R, N_out)``. The module has no parameters and
no buffers: the filters stay on the JAX side, on the device of the input, so optimizers never see
them. Tensors cross by DLPack, zero-copy for contiguous tensors on the same device; gradients flow
through ``jax.vjp`` inside a ``torch.autograd.Function``.

Precision follows JAX: float64 tensors are computed in float64 when ``jax_enable_x64`` is on
(build the module with it on, so the filters are float64 too) and in float32 otherwise, in which
case the output is float32 and the input gradient is cast back to float64.

Example:
  >>> import torch
  >>> from scatterjax.torch import Scattering1D
  >>> scattering = Scattering1D(J=4, shape=256, Q=4)
  >>> x = torch.randn(2, 256, requires_grad=True)
  >>> scattering(x).shape
  torch.Size([2, 29, 16])
  >>> scattering(x).sum().backward()
"""

from __future__ import annotations

import jax
import jax.dlpack

from ._adapters.common import build_core, require, require_array_output

torch = require("torch", "torch", what="scatterjax.torch")

__all__ = [
    "HarmonicScattering3D", "Scattering1D", "Scattering2D", "TimeFrequencyScattering", "to_jax",
    "to_torch",
]


def to_jax(tensor: torch.Tensor) -> jax.Array:
    """A JAX array of ``tensor``'s values on the matching device; zero-copy when contiguous.

    The tensor is detached and its lazy conjugate/negative bits and strides are resolved first
    (DLPack cannot carry them); only those cases copy. The result aliases the tensor's memory, so
    do not modify the tensor in place while the array is in use.
    """
    tensor = tensor.detach().resolve_conj().resolve_neg().contiguous()
    try:
        return jax.dlpack.from_dlpack(tensor)
    except Exception as error:
        if tensor.device.type == "cpu":
            raise
        raise RuntimeError(
            f"Cannot hand a tensor on {tensor.device} to JAX ({error}). JAX sees the devices "
            f"{jax.devices()}: install the JAX build for this accelerator (e.g. jax[cuda12])."
        ) from error


def to_torch(array: jax.Array) -> torch.Tensor:
    """A torch tensor of ``array``'s values on the matching device, sharing its memory (DLPack)."""
    return torch.from_dlpack(array)


@jax.jit
def _forward_with_vjp(transform, x):
    # The pullback is a pytree (its residuals are arrays), so it can leave jit and be applied
    # later by one compiled backward program.
    return jax.vjp(transform, x)


@jax.jit
def _backward(pullback, cotangent):
    (grad_x,) = pullback(cotangent)
    return grad_x


class _ScatteringFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, module):
        x_jax = to_jax(x)
        y, ctx.pullback = _forward_with_vjp(module._transform_on(x_jax), x_jax)
        # Saving the input makes autograd refuse a backward pass after an in-place change to it
        # (the residuals may alias its memory).
        ctx.save_for_backward(x)
        return to_torch(y)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        grad_x = to_torch(_backward(ctx.pullback, to_jax(grad_output)))
        return grad_x.to(dtype=x.dtype), None


class _Scattering(torch.nn.Module):
    _core_name = "Scattering1D"

    def __init__(self, *args, **kwargs):
        super().__init__()
        core = build_core(self._core_name, args, kwargs)
        require_array_output(core, "torch")
        # Plain attributes, not parameters or buffers: the filters belong to JAX.
        self.__dict__["core"] = core
        self.__dict__["_on_device"] = {}

    def _transform_on(self, x_jax: jax.Array):
        """The core transform with its filters on ``x_jax``'s device (placed once per device)."""
        (device,) = x_jax.devices()
        if device not in self._on_device:
            leaves = jax.tree_util.tree_leaves(self.core)
            on_device = all(leaf.devices() == {device} for leaf in leaves)
            # Already there (the usual CPU case): keep the bank as built, with no copy.
            self._on_device[device] = self.core if on_device else jax.device_put(self.core, device)
        return self._on_device[device]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scattering coefficients of ``x`` (shape ``(*batch, *shape)``), on ``x``'s device."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor; got {type(x).__name__}.")
        if torch.is_grad_enabled() and x.requires_grad:
            return _ScatteringFunction.apply(x, self)
        x_jax = to_jax(x)
        return to_torch(self._transform_on(x_jax)(x_jax))  # the core's own compiled call

    scattering = forward

    def meta(self):
        return self.core.meta()

    def output_size(self, *args, **kwargs):
        return self.core.output_size(*args, **kwargs)

    def extra_repr(self) -> str:
        return repr(self.core)

    def __getattr__(self, name: str):
        # kymatio's read-only settings (J, shape, Q, L, ...) come from the core object.
        try:
            return super().__getattr__(name)
        except AttributeError:
            core = self.__dict__.get("core")
            if core is None or name.startswith("_"):
                raise
            return getattr(core, name)


class Scattering1D(_Scattering):
    """``scatterjax.Scattering1D`` as a torch module (same arguments, same outputs)."""

    _core_name = "Scattering1D"


class Scattering2D(_Scattering):
    """``scatterjax.Scattering2D`` as a torch module (same arguments, same outputs)."""

    _core_name = "Scattering2D"


class HarmonicScattering3D(_Scattering):
    """``scatterjax.HarmonicScattering3D`` as a torch module (same arguments, same outputs)."""

    _core_name = "HarmonicScattering3D"


class TimeFrequencyScattering(_Scattering):
    """``scatterjax.TimeFrequencyScattering`` as a torch module (same arguments, same outputs)."""

    _core_name = "TimeFrequencyScattering"
