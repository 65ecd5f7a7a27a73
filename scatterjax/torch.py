"""PyTorch modules: scattering transforms as ``torch.nn.Module`` layers, computed by JAX.

Each class (``Scattering1D``, ``Scattering2D``, ``HarmonicScattering3D``,
``TimeFrequencyScattering``) takes exactly the core class's arguments (same names, defaults and
order) and returns the core's output with torch tensors in place of JAX arrays: the array
``(*batch, C, N_out)`` (``(*batch, C_joint, R, N_out)`` for a ``format='joint'`` JTFS), or with
``out_type='list'``/``'dict'`` kymatio's list of ``{'coef': tensor, 'j': ..., 'n': ...}`` or dict
``{path: tensor}``. Gradients flow to the input through every output tensor (``jax.vjp`` inside a
``torch.autograd.Function``), to any order (``create_graph=True``), and under ``torch.func``
(``grad``, ``vmap``, ``jacrev``, ``jvp``, ``jacfwd``, ``hessian``): each derivative is JAX's
transformation of the same function, and a ``torch.func.vmap`` is one batched JAX call (second
derivatives need a real input and output). ``torch.jit.trace`` and ``torch.onnx.export`` raise
(a trace cannot record JAX's computation). Tensors cross by DLPack, zero-copy for contiguous tensors on the same
device. The module has no parameters and no buffers: the filters stay on the JAX side, on the
device of the input, so optimizers never see them, and ``.to(device)``, ``.cuda()``, ``.double()``
change nothing (the input's device and dtype decide). A ``state_dict`` saved with kymatio's torch
module, which holds its filters as buffers ``tensor0``, ``tensor1``, ..., still loads (strict
too) when those are this transform's filters; when they are not (a checkpoint of other settings),
``load_state_dict`` raises a ``RuntimeError`` saying which buffer differs. Under
``torch.compile`` the crossing to JAX runs as a graph break (the compiler cannot trace into JAX):
the rest of the model is compiled, and outputs and gradients are those of the eager module.

As in kymatio's torch frontend:

- Settings are attributes: ``S.J``, ``S.Q``, ``S.shape``, ``S.max_order``, and everything else the
  core object exposes (``S.N_padded``, ``S.meta()``, ``S.output_size()``, ...). The filters that
  kymatio's torch modules hold as tensors are tensors here too, in its layout (float32, on the
  CPU): ``Scattering1D``'s ``phi_f``/``psi1_f``/``psi2_f`` levels ``(n, 1)``, and
  ``HarmonicScattering3D``'s ``filters`` ``(J + 1, 2 l + 1, M, N, O, 2)`` and ``gaussian_filters``
  ``(J + 2, M, N, O, 2)`` (real and imaginary parts on the last axis). ``register_filters()`` and
  ``load_filters()`` exist as in kymatio (see their docstrings). Assigning a
  constructor argument (``S.max_order = 1``, ``S.out_type = 'dict'``) rebuilds the transform with
  the new value (validated like the constructor's); assigning a derived attribute raises.
- float64 tensors are computed in float64, with float64 filters, whatever JAX's global
  ``jax_enable_x64`` (the float64 transform runs under a scoped ``jax.enable_x64``). float32
  tensors are computed in float32.
- Complex tensors (``Scattering1D``, ``Scattering2D``): complex64 gives float32 coefficients,
  complex128 float64 ones; ``backward`` fills ``x.grad`` in torch's convention
  (``dL/dRe x + i dL/dIm x``).

``Scattering1D`` also has the core's first-order methods, tensors in and out:
``scalogram(x, stride=1)`` (real, ``(*batch, N1, ceil(N / stride))``) and
``wavelet_transform(x, stride=1)`` (the same shape, complex64, complex128 for float64 input), with
gradients to ``x`` as ``forward`` (a complex output's gradient in torch's convention).

Forked processes: JAX cannot run in a process forked after it started (its runtime threads do not
survive ``fork``; the child hangs). PyTorch's ``DataLoader`` forks its workers by default on
Linux, so calling a scattering module inside a ``Dataset`` with ``num_workers > 0`` would hang.
This module detects a call in a forked child of a process that used it and raises a
``RuntimeError`` instead. Fix: scatter in the main process (on the collated batch, usually
faster anyway), or start workers with ``DataLoader(..., multiprocessing_context='spawn')``.

Example:
  >>> import torch
  >>> from scatterjax.torch import Scattering1D
  >>> scattering = Scattering1D(J=4, shape=256, Q=4)
  >>> x = torch.randn(2, 256, requires_grad=True)
  >>> scattering(x).shape
  torch.Size([2, 29, 16])
  >>> scattering(x).sum().backward()
  >>> scattering.wavelet_transform(x, stride=4).dtype
  torch.complex64
"""

from __future__ import annotations

import functools

import jax
import jax.dlpack
import numpy as np

from ._adapters.common import (
    CoreForwarding,
    bind_settings,
    build_core,
    core_settings,
    make_adapters,
    require,
)
from ._adapters.first_order import checked_stride, first_order_transform
from ._adapters.kymatio_buffers import BUFFER_NAME, buffer_mismatch, kymatio_buffers
from ._core.errors import ShapeError
from ._core.fork_guard import check_not_forked

torch = require("torch", "torch", what="scatterjax.torch")

__all__ = [
    "HarmonicScattering3D", "Scattering1D", "Scattering2D", "TimeFrequencyScattering", "to_jax",
    "to_torch",
]

# kymatio's backend names for this frontend (``backend='torch'`` is accepted, and means this module).
_OWN_BACKENDS = ("torch", "torch_skcuda")

def _check_process() -> None:
    check_not_forked(
        "A scatterjax.torch module",
        "If this is a DataLoader worker, pass multiprocessing_context='spawn' to the DataLoader, or "
        "apply the scattering in the main process, on the collated batch.",
    )


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


def _is_inexact(leaf) -> bool:
    return np.issubdtype(np.result_type(leaf), np.inexact)


def _coefficients(transform, x):
    """The coefficient arrays of ``transform(x)``, in ``jax.tree_util`` leaf order."""
    return [leaf for leaf in jax.tree_util.tree_leaves(transform(x)) if _is_inexact(leaf)]


@jax.jit
def _forward_with_vjp(transform, x):
    # The pullback is a pytree (its residuals are arrays), so it can leave jit and be applied
    # later by one compiled backward program.
    return jax.vjp(lambda x: _coefficients(transform, x), x)


@jax.jit
def _backward(pullback, cotangents):
    (grad_x,) = pullback(cotangents)
    return grad_x


@jax.jit
def _input_gradient(transform, x, cotangents):
    """``J(x)^T cotangents``, the forward recomputed (no stored residuals)."""
    (grad_x,) = jax.vjp(lambda x: _coefficients(transform, x), x)[1](cotangents)
    return grad_x


@jax.jit
def _input_gradient_step(transform, x, *cotangents):
    """:func:`_input_gradient` as a :func:`_jax_step` computation (arrays in, a tuple out): its
    derivatives, in either mode and to any order, are those of ``(x, cotangents) -> J(x)^T cotangents``."""
    return (_input_gradient(transform, x, list(cotangents)),)


@jax.jit
def _tangents(transform, x, x_tangent):
    """``J(x) x_tangent``, per coefficient array (forward mode)."""
    return tuple(jax.jvp(lambda x: _coefficients(transform, x), (x,), (x_tangent.astype(x.dtype),))[1])


def _functorch_wrapped(x: torch.Tensor) -> bool:
    """Whether ``x`` is a ``torch.func`` transform's tensor (``vmap``, ``grad``, ``jvp``...), whose
    memory DLPack cannot reach: such a call goes through the autograd Functions' rules."""
    is_wrapped = getattr(torch._C._functorch, "is_functorch_wrapped_tensor", None)
    return bool(is_wrapped is not None and is_wrapped(x))


def _at_batch_front(tensor: torch.Tensor, dim: int | None, size: int) -> torch.Tensor:
    """``tensor`` with its ``torch.func.vmap`` batch dimension ``dim`` moved first (broadcast if None)."""
    return tensor.expand(size, *tensor.shape) if dim is None else tensor.movedim(dim, 0)


def _torch_cotangents(grads) -> list[jax.Array]:
    # A complex output's (wavelet_transform) torch gradient is the conjugate of JAX's cotangent.
    return [to_jax(grad.conj() if grad.is_complex() else grad) for grad in grads]


def _torch_gradient(grad: jax.Array, x: torch.Tensor) -> torch.Tensor:
    grad_x = to_torch(grad)
    if x.is_complex():  # JAX's cotangent is dL/dRe - i dL/dIm; torch's gradient is its conjugate
        grad_x = grad_x.conj().resolve_conj()
    return grad_x.to(dtype=x.dtype)


def _check_real(x: torch.Tensor, grads) -> None:
    if x.is_complex() or any(grad.is_complex() for grad in grads):
        raise NotImplementedError(
            "Second derivatives through a scatterjax.torch module are computed for real inputs "
            "and real outputs only; this one has a complex input or output."
        )


@functools.cache
def _jax_step(name: str, compute, in_axes: tuple | None = None) -> type:
    """A torch Function running ``compute(transform, *arrays)`` (a JAX function returning a tuple
    of arrays) on its tensor arguments, ``Function.apply(transform, x64, *tensors)``; with
    ``in_axes``, ``jax.vmap`` of it over those axes of the arrays.

    Going through a Function's ``forward`` is what hands ``torch.func``'s wrapped tensors to
    DLPack unwrapped; under ``torch.func.vmap`` (``jacrev``, ``jacfwd``, per-sample derivatives)
    the mapped calls are one call of the ``jax.vmap``'d step (itself applied as a Function, for
    the other transforms around it). Its derivatives are steps too (``jax.vjp`` and ``jax.jvp`` of
    ``compute``), so it is differentiable to any order, in either mode. The arrays are real (the
    complex conventions of first derivatives are applied before a step is entered).
    """
    if in_axes is not None:
        compute = jax.jit(jax.vmap(compute, in_axes=(None, *in_axes)))

    class Step(torch.autograd.Function):
        @staticmethod
        def forward(transform, x64, *tensors):
            with jax.enable_x64(x64):
                return tuple(to_torch(a) for a in compute(transform, *(to_jax(t) for t in tensors)))

        @staticmethod
        def setup_context(ctx, inputs, output):
            _transform, ctx.x64, *tensors = inputs
            ctx.transform = _transform
            ctx.save_for_backward(*tensors)
            ctx.save_for_forward(*tensors)

        @staticmethod
        def backward(ctx, *grads):
            tensors = ctx.saved_tensors
            pullback = _jax_step(f"{name}Vjp", _derivative(_pullback_of, compute, len(tensors)))
            return (None, None, *pullback.apply(ctx.transform, ctx.x64, *tensors, *grads))

        @staticmethod
        def jvp(ctx, _transform_tangent, _x64_tangent, *tangents):
            tensors = ctx.saved_tensors
            tangents = [torch.zeros_like(t) if d is None else d for t, d in zip(tensors, tangents)]
            pushforward = _jax_step(f"{name}Jvp", _derivative(_pushforward_of, compute, len(tensors)))
            return pushforward.apply(ctx.transform, ctx.x64, *tensors, *tangents)

        @staticmethod
        def vmap(info, in_dims, transform, x64, *tensors):
            axes = in_dims[2:]
            moved = [tensor if dim is None else tensor.movedim(dim, 0) for tensor, dim in zip(tensors, axes)]
            batched = _jax_step(f"{name}Batched", compute, tuple(None if dim is None else 0 for dim in axes))
            outputs = batched.apply(transform, x64, *moved)
            return outputs, (0,) * len(outputs)

    Step.__name__ = Step.__qualname__ = name
    return Step


@functools.cache
def _derivative(rule, compute, count: int):
    """``rule`` (:func:`_pullback_of` or :func:`_pushforward_of`) of ``compute`` with ``count``
    primal arrays, jitted; one object per triple, so that :func:`_jax_step`'s cache finds it again."""
    return jax.jit(functools.partial(rule, compute, count))


def _pullback_of(compute, count: int, transform, *arrays):
    """``compute``'s pullback at ``arrays[:count]`` applied to the cotangents ``arrays[count:]``."""
    primals, cotangents = arrays[:count], arrays[count:]
    return jax.vjp(lambda *primals: compute(transform, *primals), *primals)[1](tuple(cotangents))


def _pushforward_of(compute, count: int, transform, *arrays):
    """``compute``'s derivative at ``arrays[:count]`` along the tangents ``arrays[count:]``."""
    primals, tangents = arrays[:count], arrays[count:]
    return jax.jvp(lambda *primals: compute(transform, *primals), primals, tangents)[1]


_Tangents = _jax_step("_Tangents", _tangents)


class _Residuals:
    """What one forward call of :class:`_ScatteringFunction` leaves for its derivatives (a
    non-tensor output): JAX's pullback, which the backward applies instead of recomputing the
    forward, and the transform on the input's device."""

    def __init__(self, pullback, transform) -> None:
        self.pullback, self.transform = pullback, transform


class _ScatteringFunction(torch.autograd.Function):
    """``transform_on(x_jax, x64)(x_jax)``'s coefficient arrays as tensors, plus their
    :class:`_Residuals`: differentiable to any order in reverse mode (``create_graph=True``) and
    in forward mode (``torch.func.jvp``, ``jacfwd``, ``hessian``), and mapped by
    ``torch.func.vmap`` as one batched JAX call."""

    @staticmethod
    def forward(x, transform_on, x64):
        # transform_on(x_jax, x64): the transform (or first-order transform) to run, on x's device.
        with jax.enable_x64(x64):
            x_jax = to_jax(x)
            transform = transform_on(x_jax, x64)
            coefficients, pullback = _forward_with_vjp(transform, x_jax)
        return (*(to_torch(coefficient) for coefficient in coefficients), _Residuals(pullback, transform))

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, _transform_on, ctx.x64 = inputs
        ctx.residuals = output[-1]
        # Saving the input makes autograd refuse a backward pass after an in-place change to it
        # (the residuals may alias its memory).
        ctx.save_for_backward(x)
        ctx.save_for_forward(x)

    @staticmethod
    def backward(ctx, *grad_outputs):
        (x,) = ctx.saved_tensors
        coefficient_grads = grad_outputs[:-1]  # the last output is the residuals
        residuals = ctx.residuals
        grad_x = _InputGradient.apply(x, residuals.transform, ctx.x64, residuals, *coefficient_grads)
        return grad_x, None, None

    @staticmethod
    def jvp(ctx, x_tangent, _transform_on, _x64):
        (x,) = ctx.saved_tensors
        return (*_Tangents.apply(ctx.residuals.transform, ctx.x64, x, x_tangent), None)

    @staticmethod
    def vmap(info, in_dims, x, transform_on, x64):
        # The transform takes any leading batch axes: the mapped calls are one call on the batch.
        outputs = _ScatteringFunction.apply(_at_batch_front(x, in_dims[0], info.batch_size), transform_on, x64)
        return outputs, (0,) * (len(outputs) - 1) + (None,)


class _InputGradient(torch.autograd.Function):
    """``J(x)^T grads``, the input gradient of :class:`_ScatteringFunction`, itself differentiable
    in either mode (a gradient penalty, a Hessian), through :func:`_jax_step` Functions."""

    @staticmethod
    def forward(x, transform, x64, residuals, *grads):
        with jax.enable_x64(x64):
            cotangents = _torch_cotangents(grads)
            if residuals is not None:
                grad = _backward(residuals.pullback, cotangents)
            else:
                grad = _input_gradient(transform, to_jax(x), cotangents)
        return _torch_gradient(grad, x)

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, ctx.transform, ctx.x64, _residuals, *grads = inputs
        ctx.save_for_backward(x, *grads)
        ctx.save_for_forward(x, *grads)

    @staticmethod
    def backward(ctx, grad_grad_x):
        x, *grads = ctx.saved_tensors
        _check_real(x, grads)
        pullback = _jax_step("_SecondOrder", _derivative(_pullback_of, _input_gradient_step, 1 + len(grads)))
        x_bar, *grad_bars = pullback.apply(ctx.transform, ctx.x64, x, *grads, grad_grad_x)
        return x_bar, None, None, None, *grad_bars

    @staticmethod
    def jvp(ctx, x_tangent, _transform, _x64, _residuals, *grad_tangents):
        x, *grads = ctx.saved_tensors
        _check_real(x, grads)
        x_tangent = torch.zeros_like(x) if x_tangent is None else x_tangent
        grad_tangents = [torch.zeros_like(g) if t is None else t for g, t in zip(grads, grad_tangents)]
        pushforward = _jax_step(
            "_InputGradientTangent", _derivative(_pushforward_of, _input_gradient_step, 1 + len(grads))
        )
        (tangent,) = pushforward.apply(ctx.transform, ctx.x64, x, *grads, x_tangent.to(x.dtype), *grad_tangents)
        return tangent

    @staticmethod
    def vmap(info, in_dims, x, transform, x64, residuals, *grads):
        # One batched call; the residuals, from the unbatched forward, do not apply to it.
        size = info.batch_size
        batched = [_at_batch_front(tensor, dim, size) for tensor, dim in zip((x, *grads), (in_dims[0], *in_dims[4:]))]
        return _InputGradient.apply(batched[0], transform, x64, None, *batched[1:]), 0


def _map_output(output, function):
    """``output`` (an array, or the core's list/dict of paths) with ``function`` applied to its leaves.

    Walks lists, tuples and dicts in their own order: a 'dict' output keeps kymatio's path order,
    which ``jax.tree_util`` would sort.
    """
    if isinstance(output, dict):
        return {key: _map_output(value, function) for key, value in output.items()}
    if isinstance(output, (list, tuple)):
        return type(output)(_map_output(value, function) for value in output)
    return function(output)


class _Scattering(CoreForwarding, torch.nn.Module):
    _core_name = "Scattering1D"
    frontend_name = "torch"

    def __init__(self, *args, **kwargs):
        torch.nn.Module.__init__(self)
        _check_process()
        self._rebuild(bind_settings(type(self).__name__, self._core_name, args, kwargs))

    def _rebuild(self, settings: dict) -> None:
        """Build the core transform for ``settings`` (validating them) and drop every cached copy."""
        core = build_core(self._core_name, kwargs=core_settings(settings, _OWN_BACKENDS))
        # Plain attributes, not parameters or buffers: the filters belong to JAX.
        self.__dict__.update(_settings=settings, core=core, _cores={}, _templates={}, _torch_filters=None)

    def __getattr__(self, name: str):
        # kymatio's torch modules hold some filter attributes as tensors (its buffers): those are
        # read in that layout; every other attribute comes from the core (CoreForwarding).
        if name in _TORCH_LAYOUT_FILTERS.get(self._core_name, ()) and self.__dict__.get("core") is not None:
            if self.__dict__.get("_torch_filters") is None:  # (absent in a module pickled without it)
                self.__dict__["_torch_filters"] = _torch_layout_filters(self._core_name, self.core)
            return self.__dict__["_torch_filters"][name]
        return super().__getattr__(name)

    def register_filters(self) -> None:
        """Nothing to do, kept so that kymatio code calling it runs.

        kymatio's torch modules register their filters here as buffers (``tensor0``, ...). This
        module keeps its filters on the JAX side, designed when it is built; a ``state_dict`` saved
        with kymatio's module still loads (see the module docstring).
        """

    def load_filters(self):
        """What kymatio 0.3.0's torch module returns: ``None`` for ``Scattering1D`` (and
        ``TimeFrequencyScattering``); ``(phi, psi)`` for ``Scattering2D``, the ``phi`` and ``psi``
        dicts with each of their ``levels`` a float32 CPU tensor ``(m, n, 1)``, as kymatio's
        buffers hold them. ``HarmonicScattering3D`` has no such method in kymatio.

        Example:
          >>> from scatterjax.torch import Scattering2D
          >>> phi, psi = Scattering2D(J=2, shape=(32, 32), L=4).load_filters()
          >>> tuple(psi[0]["levels"][0].shape), psi[0]["j"], len(psi)
          ((40, 40, 1), 0, 8)
        """
        if self._core_name == "HarmonicScattering3D":
            raise AttributeError(
                "HarmonicScattering3D has no load_filters (nor has kymatio's): its filters are the "
                "attributes filters and gaussian_filters."
            )
        if self._core_name != "Scattering2D":
            return None
        tensors = iter(_kymatio_tensors("Scattering2D", self.core))
        phi = _with_levels(self.core.phi, tensors)
        return phi, [_with_levels(psi, tensors) for psi in self.core.psi]

    def _core_or_none(self):
        return self.__dict__.get("core")

    def __getstate__(self) -> dict:
        # The caches hold per-device copies keyed by jax.Device (which cannot be pickled) and traced
        # templates: a deep copy or a pickle (copy.deepcopy(model), torch.save(model)) starts
        # without them and rebuilds them on its first call.
        return {**super().__getstate__(), "_cores": {}, "_templates": {}, "_torch_filters": None}

    def __setattr__(self, name: str, value) -> None:
        settings = self.__dict__.get("_settings", {})
        if name in settings:  # kymatio's frontends let a setting be changed: rebuild for it
            self._rebuild({**settings, name: value})
        elif not name.startswith("_") and hasattr(self.__dict__.get("core"), name):
            raise AttributeError(
                f"{type(self).__name__}.{name} is derived from the settings and read-only; set one "
                f"of {', '.join(settings)} instead (the transform is then rebuilt)."
            )
        else:
            super().__setattr__(name, value)

    def _transform_on(self, x_jax: jax.Array, x64: bool):
        """The core transform for ``x_jax``: float64 filters if ``x64``, on ``x_jax``'s device."""
        (device,) = x_jax.devices()
        key = (device, x64)
        if key not in self._cores:
            core = self.core
            if x64 and not _has_float64_filters(core):
                with jax.enable_x64(True):
                    core = build_core(self._core_name, kwargs=core_settings(self._settings, _OWN_BACKENDS))
            self._cores[key] = _on_device(core, device)
        return self._cores[key]

    def _first_order_on(self, method: str, stride, x_jax: jax.Array, x64: bool):
        """``core.<method>(·, stride)`` as a callable pytree for ``x_jax``, as :meth:`_transform_on`."""
        (device,) = x_jax.devices()
        key = (device, x64, method, stride)
        if key not in self._cores:
            with jax.enable_x64(x64):  # the table's dtype follows the transform's
                transform = first_order_transform(self._transform_on(x_jax, x64), method, stride)
            self._cores[key] = _on_device(transform, device)
        return self._cores[key]

    def _template(self, shape: tuple):
        """The core's output for inputs of ``shape``, traced (abstract arrays, concrete indices),
        and its coefficients in ``jax.tree_util`` leaf order (as ``_forward_with_vjp`` returns them)."""
        if shape not in self._templates:
            traced = []
            jax.eval_shape(lambda x: traced.append(self.core(x)), jax.ShapeDtypeStruct(shape, np.float32))
            (template,) = traced
            coefficients = [leaf for leaf in jax.tree_util.tree_leaves(template) if _is_inexact(leaf)]
            self._templates[shape] = template, coefficients
        return self._templates[shape]

    def forward(self, x: torch.Tensor):
        """Scattering coefficients of ``x`` (shape ``(*batch, *shape)``), on ``x``'s device.

        float64 input is computed in float64, float32 in float32. Returns a tensor, or with
        ``out_type='list'``/``'dict'`` a list/dict holding tensors (see the module docstring).
        """
        return self._through_jax(x, self._transform_on, self._template)

    scattering = forward

    def _first_order(self, method: str, x: torch.Tensor, stride) -> torch.Tensor:
        """``core.<method>(x, stride)`` (``scalogram``: real; ``wavelet_transform``: complex64, or
        complex128 for float64 input) as one tensor, through the same crossing and gradient as
        :meth:`forward`."""
        stride = checked_stride(self.core, stride)
        return self._through_jax(x, functools.partial(self._first_order_on, method, stride), None)

    # torch.compile cannot trace into JAX (DLPack capsules, JAX's runtime): the crossing runs
    # eagerly, as a graph break, and the rest of a compiled model stays compiled.
    @torch.compiler.disable
    def _through_jax(self, x: torch.Tensor, transform_on, template):
        """``transform_on(x_jax, x64)(x_jax)`` with torch tensors in and out, differentiable in ``x``.

        ``template(shape)`` gives the output's structure (see :meth:`_template`); ``None`` for an
        output that is one array.
        """
        x = _autocast_input(x)
        _check_tensor(x)
        # The core's own check (pre_pad's included), in kymatio's torch words: "Tensor must be of
        # spatial size". kymatio refuses strided tensors before that ("must be contiguous"); here
        # only the shape can be wrong, and the message says both.
        error = self.core.input_shape_error(tuple(x.shape), kind="Tensor")
        if error is not None and not x.is_contiguous():
            error = ShapeError(
                f"{error} The tensor is also not contiguous, which kymatio's torch frontend refuses "
                "(the input must be contiguous there); scatterjax takes strided tensors as they are."
            )
        if error is not None:
            raise error
        _check_process()
        if torch.jit.is_tracing() or torch.onnx.is_in_onnx_export():
            # A trace would record the output as a constant, silently wrong for any other input.
            raise RuntimeError(
                f"{type(self).__name__} cannot be traced (torch.jit.trace, torch.onnx.export): it "
                "computes in JAX, which a torch trace cannot record. Compute the scattering outside "
                "the traced model (its output is an ordinary tensor), or use torch.compile, which "
                "runs it as a graph break."
            )
        x64 = x.dtype in (torch.float64, torch.complex128) or bool(jax.config.jax_enable_x64)
        if (torch.is_grad_enabled() and x.requires_grad) or _functorch_wrapped(x):
            *tensors, _residuals = _ScatteringFunction.apply(x, transform_on, x64)
            if template is None:
                (tensor,) = tensors
                return tensor
            template, coefficients = template(tuple(x.shape))
            # The traced output's coefficients, replaced by the tensors; path indices kept as they are.
            by_id = {id(leaf): tensor for leaf, tensor in zip(coefficients, tensors)}
            return _map_output(template, lambda leaf: by_id.get(id(leaf), leaf))
        with jax.enable_x64(x64):
            x_jax = to_jax(x)
            output = transform_on(x_jax, x64)(x_jax)  # the core's own call (chunked)
        return _map_output(output, lambda leaf: to_torch(leaf) if isinstance(leaf, jax.Array) else leaf)

    def extra_repr(self) -> str:
        return repr(self.core)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        # A state_dict saved with kymatio's torch module holds its filters as buffers (tensor0, ...):
        # accept them when they are this transform's filters, report them as an error otherwise.
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )
        keys = [key for key in state_dict if key.startswith(prefix) and BUFFER_NAME.fullmatch(key[len(prefix):])]
        if not keys:
            return
        loaded = {key[len(prefix):]: state_dict[key].detach().cpu().double().numpy() for key in keys}
        problem = buffer_mismatch(kymatio_buffers(self._core_name, self.core), loaded)
        if problem is not None:
            error_msgs.append(
                f"The state_dict's kymatio filter buffers under {prefix!r} are not those of {self.core!r}: "
                f"{problem}. The checkpoint was saved with other settings: build this module with them."
            )
        unexpected_keys[:] = [key for key in unexpected_keys if key not in keys]


# The filter attributes kymatio 0.3.0's torch modules hold as tensors (its registered buffers), by
# class: 1D's levels as float32 (n, 1); 3D's complex filters as float32 (..., 2), real and
# imaginary parts on the last axis. (2D's phi and psi stay NumPy there, as here.)
_TORCH_LAYOUT_FILTERS = {
    "Scattering1D": ("phi_f", "psi1_f", "psi2_f"),
    "HarmonicScattering3D": ("filters", "gaussian_filters"),
}


def _kymatio_tensors(class_name: str, core) -> list[torch.Tensor]:
    """kymatio's torch buffers for ``core``, in its registration order, as CPU tensors (copies:
    the core's filters are read-only arrays, which torch cannot wrap)."""
    return [torch.tensor(array) for array in kymatio_buffers(class_name, core).values()]


def _with_levels(filters: dict, tensors) -> dict:
    """A copy of a kymatio filter dict with each of its ``levels`` the next of ``tensors``."""
    return {**filters, "levels": [next(tensors) for _ in filters["levels"]]}


def _torch_layout_filters(class_name: str, core) -> dict:
    """``{attribute: value}`` of :data:`_TORCH_LAYOUT_FILTERS` for ``core``, as kymatio's torch
    module of ``class_name`` holds them."""
    tensors = _kymatio_tensors(class_name, core)
    if class_name == "HarmonicScattering3D":
        *filters, gaussian = tensors
        return {"filters": filters, "gaussian_filters": gaussian}
    tensors = iter(tensors)
    phi_f = _with_levels(core.phi_f, tensors)
    psi1_f = [_with_levels(psi, tensors) for psi in core.psi1_f]
    return {"phi_f": phi_f, "psi1_f": psi1_f, "psi2_f": [_with_levels(psi, tensors) for psi in core.psi2_f]}


def _on_device(tree, device):
    """``tree`` with its arrays on ``device``; as it is (no copy) when they already are there."""
    if all(leaf.devices() == {device} for leaf in jax.tree_util.tree_leaves(tree)):
        return tree
    return jax.device_put(tree, device)


def _has_float64_filters(core) -> bool:
    return any(leaf.dtype in (np.float64, np.complex128) for leaf in jax.tree_util.tree_leaves(core))


def _autocast_input(x):
    """``x``, in float32 when it is a float16 or bfloat16 tensor made under ``torch.autocast`` (the
    output of an autocast layer before this one): the transform runs in float32 there, as the
    operations that autocast keeps in float32 do (and as kymatio's torch modules did). Its gradient
    flows back in ``x``'s dtype. Outside autocast, such a tensor is refused (:func:`_check_tensor`)."""
    if (
        isinstance(x, torch.Tensor)
        and x.dtype in (torch.float16, torch.bfloat16)
        and torch.is_autocast_enabled(x.device.type)
    ):
        return x.float()
    return x


def _check_tensor(x) -> None:
    """Reject what DLPack cannot carry with a message that says what to pass instead."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor (the input should be a tensor); got {type(x).__name__}.")
    if x.layout != torch.strided:
        raise TypeError(
            f"x must be a dense (strided) tensor; got a tensor with layout {x.layout}. "
            "Convert it with x.to_dense()."
        )
    if x.dtype not in (torch.float32, torch.float64, torch.complex64, torch.complex128):
        # Checked here, before DLPack: JAX would see an int64 tensor as int32 (x64 off).
        raise TypeError(
            f"x must be a float32 or float64 tensor (or complex64/complex128); got dtype {x.dtype}. Convert it "
            "first, e.g. x.float() (float16 and bfloat16 are converted only inside torch.autocast)."
        )
    if x.device.type == "meta":
        raise TypeError(
            "x is a 'meta' tensor, which has a shape but no values to scatter; pass a tensor on a "
            "real device (cpu, cuda). To get the output shape, use output_size() or meta()."
        )


_classes = make_adapters(_Scattering, __name__, "a torch module")
Scattering1D = _classes["Scattering1D"]
Scattering2D = _classes["Scattering2D"]
HarmonicScattering3D = _classes["HarmonicScattering3D"]
TimeFrequencyScattering = _classes["TimeFrequencyScattering"]
