"""``Scattering2D``: kymatio 0.3.0's 2D constructor and outputs, as an immutable JAX pytree."""

from __future__ import annotations

import functools

import jax
import numpy as np

from .._core.backend import check_backend
from .._core.chunking import NO_LIMIT
from .._core.compile_options import LIGHT_LLVM_OPTIMIZATION, OLDER_FUSION_EMITTERS
from .._core.errors import ShapeError
from .._core.meta import path_orders, path_table
from .._core.padding import check_pad_mode, pad_signal
from .._core.read_only import read_only
from .._core.transform import ScatteringTransform, plan_attribute, register_transform, shape_attribute
from .._core.validation import (
    as_setting,
    check_bool,
    check_choice,
    check_real_input,
    check_shape,
)
from . import design as design
from .bank import FilterBank2D, check_scales, filter_bank_2d
from .core import image_bytes, scattering2d

_OUT_TYPES = ("array", "list", "dict")


@register_transform
class Scattering2D(ScatteringTransform):
    """2D wavelet scattering transform with kymatio 0.3.0's arguments and numbers.

    Args:
      J: log2 of the scattering scale: ``1 <= J <= floor(log2 min(M, N))``.
      shape: image shape ``(M, N)``.
      L: number of orientations: ``L >= 1``; the ``J L`` full-size filters, and one image's
        output (``L**2 J (J - 1) / 2`` second-order channels), must fit in memory (else
        ``ValueError``, before any filter is designed).
      max_order: 1 or 2.
      pre_pad: if True, the input is already padded to ``(M_padded, N_padded)`` (see the
        attributes of the same names) and is not padded again; the output is cropped alike.
      backend: kymatio's argument; see *kymatio compatibility* below.
      frontend: kymatio's entry-point argument (keyword only); see *kymatio compatibility* below.
      out_type: ``'array'``, ``'list'`` or ``'dict'``.
      pad_mode: what fills the border added to reach ``(M_padded, N_padded)`` (up to ``2**J``
        pixels a side, repeated as ``np.pad`` does when that exceeds the image), on both axes:
        ``'reflect'`` (default, kymatio's numbers: ``d c b | a b c d | c b a``), ``'symmetric'``
        (edge repeated, ``c b a | a b c d | d c b``), ``'zero'`` or ``'periodic'`` (the image
        repeated, ``b c d | a b c d | a b c``): NumPy's ``np.pad`` modes ``'reflect'``,
        ``'symmetric'``, ``'constant'``, ``'wrap'``. Also used by :meth:`pad`; unused with
        ``pre_pad=True``.

    Calling ``S(x)`` on a float32/float64 (or complex, below) array of shape ``(*batch, M, N)`` (or
    ``(*batch, M_padded, N_padded)`` with ``pre_pad``) returns:

    - ``'array'``: an array of shape ``(*batch, C, M // 2**J, N // 2**J)``; channels are order 0,
      then order 1 by ``n1 = j1 L + l1``, then order 2 by ``(n1, n2)`` with ``j2 > j1`` (see
      :meth:`meta`); ``C = 1 + J L + L**2 J (J - 1) / 2`` (``1 + J L`` with ``max_order=1``).
    - ``'list'``: kymatio's list of ``C`` dicts ``{'coef', 'j', 'n', 'theta'}`` (``theta`` holds
      orientation indices).
    - ``'dict'``: ``{(): S0, (n1,): S1, (n1, n2): S2}``.

    The computation runs in the input's precision: float32, or float64 when ``jax_enable_x64`` is on
    (the filters keep kymatio's float32 values). ``S(x)`` compiles once per chunk size and dtype
    (on the CPU one chunk size, so one program, serves every batch size); ``S`` is a
    pytree whose leaves are the filters, so it can be passed to ``jax.jit``, ``jax.vmap`` and
    friends as an argument. NaN or Inf in ``x`` propagate to the output.

    ``x`` may also be complex64 or complex128 (complex128 computes in float64 only under
    ``jax_enable_x64``, like float64). The wavelet products then use the full spectrum of ``x`` (no
    Hermitian symmetry is assumed). Each wavelet's spectrum lies on the side of its orientation
    ``θ`` in ``[0, π)``, so the orientations ``θ + π``, distinct from ``θ`` only for complex
    images, are those of ``S(np.conj(x))``. Orders >= 1 are moduli as usual, and order 0 is the
    modulus of the low-pass output,
    ``|x ⋆ φ|``, with ``φ`` taken as its even part as for real input (kymatio keeps the real part of
    every low-pass output; its float32 ``φ`` is even to 3e-8). For real ``x`` order 0 stays the
    signed ``x ⋆ φ``, so a real ``x`` cast to complex gives the real result with order 0 replaced by
    its absolute value. The output is real: float32 for complex64. The real and imaginary parts
    share the real padding and FFT and are combined into the spectrum of ``x`` before the first
    wavelet products, so the cost is about 1.05x that of real input (J=3, L=8, 128x128, CPU).
    ``jax.grad`` needs a real loss; its gradient with respect to complex ``x`` follows JAX's
    convention (``dL/dRe x - i dL/dIm x``; ``scatterjax.torch`` returns torch's, the conjugate).
    Real input runs exactly as before.

    {kymatio_compatibility}

    kymatio's attributes: ``psi`` and ``phi`` (its filters, in its layout, built on first read),
    ``M_padded``/``_M_padded``, ``N_padded``/``_N_padded``, ``pad``, ``unpad``.

    Example:
      >>> import numpy as np, scatterjax
      >>> S = scatterjax.Scattering2D(J=2, shape=(32, 32), L=8)
      >>> S(np.zeros((3, 32, 32), np.float32)).shape
      (3, 81, 8, 8)
    """

    _static_fields = ("J", "shape", "L", "max_order", "pre_pad", "out_type", "pad_mode")
    _repr_fields = _static_fields

    bank: FilterBank2D

    def __init__(
        self,
        J: int,
        shape,
        L: int = 8,
        max_order: int = 2,
        pre_pad: bool = False,
        backend=None,
        out_type: str = "array",
        pad_mode: str = "reflect",
        *,
        frontend: str | None = None,
    ):
        check_backend(backend, "Scattering2D")
        del frontend  # dispatched before construction (ScatteringTransform.__new__)
        M, N = check_shape("shape", shape, 2)
        J, L, max_order = check_scales(J, M, N, L, max_order)
        pre_pad = check_bool("pre_pad", pre_pad)
        out_type = as_setting(out_type)
        check_choice("out_type", out_type, _OUT_TYPES)
        out_type = str(out_type)
        pad_mode = check_pad_mode(pad_mode)
        self._set("J", J)
        self._set("shape", (M, N))
        self._set("L", L)
        self._set("max_order", max_order)
        self._set("pre_pad", bool(pre_pad))
        self._set("out_type", out_type)
        self._set("pad_mode", pad_mode)
        self._set("bank", filter_bank_2d(J, M, N, L, max_order, bool(pre_pad), pad_mode))

    # --- kymatio-compatible read-only attributes -------------------------------------------
    M = shape_attribute(0, "Image height.")

    N = shape_attribute(1, "Image width.")

    M_padded = plan_attribute("M_padded", "Height of the padded image.")
    N_padded = plan_attribute("N_padded", "Width of the padded image.")
    _M_padded = M_padded
    _N_padded = N_padded

    def pad(self, x):
        """Pad images ``(..., M, N)`` to ``(..., M_padded, N_padded)`` exactly as the transform
        pads them (``pad_mode``; kymatio's ``S.pad``; the odd pixel goes last), e.g. to prepare input
        for ``pre_pad=True``. Identity when this transform has ``pre_pad=True``, as in kymatio.
        NumPy in, NumPy out; JAX in, JAX out."""
        if self.pre_pad:
            return x
        rows, cols = design.padding(self.M, self.N, self.J)
        widths = [(0, 0)] * (np.ndim(x) - 2) + [rows, cols]
        return pad_signal(x, widths, self.pad_mode)

    @staticmethod
    def unpad(x):
        """``x[..., 1:-1, 1:-1]``: drop one coefficient at each border of the last two axes
        (kymatio's ``S.unpad``, the crop it applies at resolution ``2**-J``)."""
        return x[..., 1:-1, 1:-1]

    @functools.cached_property
    def _kymatio_filters(self) -> dict:
        # Built on first read only (full-size filters at every resolution; the transform keeps
        # its own grouped and half-spectrum copies).
        return read_only(design.kymatio_filter_bank(self.M_padded, self.N_padded, self.J, self.L))

    @property
    def psi(self) -> list[dict]:
        """The wavelets in kymatio 0.3.0's layout, in ``n = j L + theta`` order: dicts
        ``{'levels': [float32 (M_padded / 2**r, N_padded / 2**r) for r = 0..min(j, max(J - 2,
        0))], 'j', 'theta'}`` (Fourier domain, resolution ``2**-r`` by cropping). Read-only
        (arrays, lists and dicts): the transform computes with its own grouped copies."""
        return self._kymatio_filters["psi"]

    @property
    def phi(self) -> dict:
        """The low-pass in kymatio 0.3.0's layout: ``{'levels': [float32 (M_padded / 2**r,
        N_padded / 2**r) for r = 0..J-1], 'j': J}``."""
        return self._kymatio_filters["phi"]

    # --- the call pipeline's hooks (see ScatteringTransform) --------------------------------
    _program = staticmethod(jax.jit(scattering2d))
    # The eager chunk program compiles in about half the time, same bits (see compile_options).
    _eager_compile_options = LIGHT_LLVM_OPTIMIZATION + OLDER_FUSION_EMITTERS
    _signal_ndim = 2
    _channel_axis = -3
    _complex_input = True

    def _chunking(self, dtype) -> tuple[int, int, bool]:
        # The program chunks again inside: an eager chunk only has to be worth its dispatch.
        return image_bytes(self.bank.plan, np.dtype(dtype).itemsize), NO_LIMIT, True

    def _input_shape(self) -> tuple[int, int]:
        return self.bank.plan.input_shape

    def input_shape_error(self, shape: tuple, kind: str = "array") -> ShapeError | None:
        plan = self.bank.plan
        shape = tuple(shape)
        if not self.pre_pad:
            return super().input_shape_error(shape, kind)
        if len(shape) >= 2 and shape[-2:] == plan.input_shape:
            return None
        return ShapeError(  # kymatio raises RuntimeError here
            f"with pre_pad=True, x must already be padded to shape (..., {plan.M_padded}, "
            f"{plan.N_padded}) (M_padded, N_padded for shape={self.shape} and J={self.J}); "
            f"got {shape}. Padded {kind.lower()} must be of spatial size ({plan.M_padded}, "
            f"{plan.N_padded}): pad it yourself, or use pre_pad=False to pass ({self.M}, "
            f"{self.N}) images."
        )

    def _check_input(self, x) -> jax.Array:
        if self.pre_pad:  # before the type checks, as kymatio's pre_pad check
            error = self.input_shape_error(tuple(getattr(x, "shape", np.shape(x))))
            if error is not None:
                raise error
        return check_real_input(x, self.bank.plan.input_shape, complex_ok=self._complex_input)

    def _keys(self) -> list[tuple[int, ...]]:
        return self._paths()

    def _list_fields(self) -> list[dict]:
        return [
            {"j": tuple(n // self.L for n in key), "n": key, "theta": tuple(n % self.L for n in key)}
            for key in self._keys()
        ]

    def _paths(self) -> list[tuple[int, ...]]:
        count = self.J * self.L
        paths: list[tuple[int, ...]] = [()]
        paths += [(n1,) for n1 in range(count)]
        if self.max_order == 2:
            paths += [
                (n1, n2)
                for n1 in range(count)
                for n2 in range(count)
                if n2 // self.L > n1 // self.L
            ]
        return paths

    def meta(self) -> dict:
        """Per-channel metadata, in output order.

        Returns a dict with ``order`` (C,) int; ``j``, ``theta`` (orientation index), ``angle``
        (radians) and ``n`` of shape (C, max_order) float, NaN-padded; ``key``: list of ``n``
        tuples (the keys of ``out_type='dict'``).
        """
        paths = self._paths()
        fields = {
            "j": lambda order, n: n // self.L,
            "theta": lambda order, n: n % self.L,
            "angle": lambda order, n: self.bank.angles[n % self.L],
            "n": lambda order, n: n,
        }
        meta = {"order": path_orders(paths)}
        meta.update({field: path_table(paths, self.max_order, value) for field, value in fields.items()})
        meta["key"] = paths
        return meta

    def output_size(self, detail: bool = False):
        """Number of channels C, or ``[1, J L, L**2 J (J - 1) / 2]`` (per order) with ``detail``."""
        counts = design.output_channels(self.J, self.L, self.max_order)
        return counts if detail else sum(counts)
