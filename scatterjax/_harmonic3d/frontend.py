"""``HarmonicScattering3D``: kymatio 0.3.0's 3D constructor and outputs, as an immutable JAX pytree."""

from __future__ import annotations

import functools
from functools import partial

import jax
import numpy as np

from .._core import validation
from .._core.backend import check_backend
from .._core.chunking import NO_LIMIT
from .._core.read_only import read_only
from .._core.transform import ScatteringTransform, register_transform, shape_attribute
from . import design as design
from .bank import FilterBank3D, check_integral_powers, check_scales_and_grid, check_sigma_0, filter_bank_3d
from .core import harmonic_scattering3d, order0_integrals, volume_bytes

_OUT_TYPES = ("array", "list", "dict")


@register_transform
class HarmonicScattering3D(ScatteringTransform):
    """3D solid harmonic scattering with kymatio 0.3.0's arguments and numbers.

    Args:
      J: largest scale index (int >= 0): wavelets of widths ``sigma_0 * 2**j``, ``j = 0..J``
        (``J + 1`` scales). 3D scattering does not subsample, so, as in kymatio, ``2**J`` may
        exceed the volume (the widest wavelets are then nearly constant over it), up to the
        scale whose wavelets overflow float32 (``sigma_0 * 2**j`` near ``2**75``, where kymatio's
        coefficients are NaN), which raises a ``ValueError``.
      shape: ``(M, N, O)``.
      L: largest degree of the spherical harmonics: ``L >= 0``, ``l = 0..L``; the
        ``(J + 1)(L + 1)**2`` wavelet volumes must fit in memory.
      sigma_0: width in samples of the scale-0 wavelets (positive number).
      max_order: 1 or 2.
      rotation_covariant: if True, the modulus is ``sqrt(sum_m |x * psi_{j,l,m}|^2)`` over
        ``m = -l..l``; if False, ``|x * psi_{j,l,-l}|`` (kymatio's convention).
      method: only ``'integral'`` (kymatio's numpy and jax frontends silently ignore this
        argument; we reject anything else with a ``ValueError``).
      integral_powers: the exponents ``p > 0`` of the integrals ``sum_voxels U^p``.
      points: must be None (kymatio accepts and ignores it; it belonged to the removed
        ``'local'`` method). Anything else raises ``ValueError``.
      backend: kymatio's argument; see *kymatio compatibility* below.
      frontend: kymatio's entry-point argument (keyword only); see *kymatio compatibility* below.
      out_type: ``'array'``, ``'list'`` or ``'dict'``.

    Calling ``S(x)`` on a real float32/float64 array of shape ``(*batch, M, N, O)`` returns:

    - ``'array'``: shape ``(*batch, K, L + 1, P)`` with ``K = J + 1`` first-order rows (``j1``)
      followed, for ``max_order=2``, by ``J (J + 1) / 2`` second-order rows ``(j1, j2)``,
      ``j1 < j2``, in lexicographic order; ``l`` on the next axis; ``P = len(integral_powers)``
      last (kymatio's layout; see :meth:`meta`).
    - ``'dict'``: ``{(j1,): (*batch, L + 1, P), ..., (j1, j2): (*batch, L + 1, P), ...}`` in the
      same row order.
    - ``'list'``: a list of ``K`` dicts ``{'coef': (*batch, L + 1, P), 'j': (j1,) or (j1, j2),
      'order': 1 or 2}``.

    Order 0 (``sum_voxels x^p``) is not part of the output, as in kymatio; compute it with
    :meth:`order0` (or :func:`scatterjax.order0_integrals`).

    The output is float32 for float32 input. Kymatio always casts its output to float32; we
    compute and return float64 for float64 input when ``jax_enable_x64`` is on (for synthesis
    and reconstruction; enable it before building the transform so the filters are stored in
    float64). The filters themselves are kymatio's complex64 values in either mode.

    For volumes with every side even, the wavelets' symmetry under ``m -> -m`` halves kymatio's
    FFT work and filter memory (see :mod:`scatterjax._harmonic3d.bank`); odd sides use kymatio's full
    complex wavelets. Either way the numbers are kymatio's to float32 rounding (relative L2
    error ~1e-7 against kymatio's float64 computation).

    Gradients are finite everywhere, including at ``x = 0`` (kymatio's are NaN there): the
    derivatives of the modulus ``sqrt`` at 0 and of ``U^p`` (``p < 1``) at ``U = 0`` are taken to be
    0. ``S(x)`` compiles once per chunk size and dtype (on the CPU one chunk size, so one program,
    serves every batch size); ``S`` is a pytree whose leaves are the filters, so it can be
    passed to ``jax.jit``/``jax.vmap`` as an argument. The program is written out per order
    ``(l, m)``, so its compile time grows with ``(L + 1)^2``: on an 8^3 grid the first call takes
    about 1.5 s for ``L=3``, 3-4 s for ``L=8`` and 13 s for ``L=12`` on a 2-core CPU. NaN or Inf in
    ``x`` propagate to the output. An ``L`` whose wavelets overflow float32 (``|w|^l sigma^l``, from
    degree ``l`` of about 27) raises ``ValueError`` naming the first such degree, before the
    higher degrees are designed.

    {kymatio_compatibility}

    kymatio's attributes: ``filters`` and ``gaussian_filters`` (its filters, in its layout, built
    on first read), ``M``, ``N``, ``O``, ``points``.

    Example:
      >>> import numpy as np, scatterjax
      >>> S = scatterjax.HarmonicScattering3D(J=2, shape=(16, 16, 16), L=2,
      ...                                    integral_powers=(1.0, 2.0))
      >>> S(np.zeros((3, 16, 16, 16), np.float32)).shape
      (3, 6, 3, 2)
    """

    _static_fields = (
        "J",
        "shape",
        "L",
        "sigma_0",
        "max_order",
        "rotation_covariant",
        "method",
        "integral_powers",
        "out_type",
    )
    _repr_fields = _static_fields

    bank: FilterBank3D

    def __init__(
        self,
        J: int,
        shape,
        L: int = 3,
        sigma_0=1,
        max_order: int = 2,
        rotation_covariant: bool = True,
        method: str = "integral",
        points=None,
        integral_powers=(0.5, 1.0, 2.0),
        backend=None,
        out_type: str = "array",
        *,
        frontend: str | None = None,
    ):
        check_backend(backend, "HarmonicScattering3D")
        del frontend  # dispatched before construction (ScatteringTransform.__new__)
        J, shape, L = check_scales_and_grid(J, shape, L)
        sigma_0 = check_sigma_0(sigma_0)
        max_order = validation.check_int("max_order", max_order, minimum=1, maximum=2)
        rotation_covariant = validation.check_bool("rotation_covariant", rotation_covariant)
        method = validation.as_setting(method)
        validation.check_choice("method", method, ("integral",))
        method = str(method)
        if points is not None:
            raise ValueError(
                "points must be None: it belonged to kymatio's removed 'local' method and is "
                f"ignored by kymatio 0.3.0; got {type(points).__name__}. Remove the argument."
            )
        powers = check_integral_powers(integral_powers)
        out_type = validation.as_setting(out_type)
        validation.check_choice("out_type", out_type, _OUT_TYPES)
        out_type = str(out_type)
        self._set("J", J)
        self._set("shape", shape)
        self._set("L", L)
        self._set("sigma_0", sigma_0)
        self._set("max_order", max_order)
        self._set("rotation_covariant", bool(rotation_covariant))
        self._set("method", method)
        self._set("integral_powers", powers)
        self._set("out_type", out_type)
        bank = filter_bank_3d(
            J, shape, L, float(sigma_0), max_order, bool(rotation_covariant), powers
        )
        self._set("bank", bank)

    # --- kymatio-compatible read-only attributes -------------------------------------------
    M = shape_attribute(0, "Volume size along the first axis.")

    N = shape_attribute(1, "Volume size along the second axis.")

    O = shape_attribute(2, "Volume size along the third axis.")

    @property
    def points(self) -> None:
        return None

    @functools.cached_property
    def filters(self) -> list[np.ndarray]:
        """The wavelets in kymatio 0.3.0's layout (built on first read, then cached): a list over
        ``l = 0..L`` of complex64 arrays ``(J + 1, 2 l + 1, M, N, O)`` in the Fourier domain,
        indexed ``[j, m + l]``, read-only. The transform itself keeps a smaller, symmetric copy."""
        grid = design.HarmonicGrid.from_shape(self.shape)
        return read_only([
            np.stack([grid.solid_harmonics(l, design.scale(self.sigma_0, j)) for j in range(self.J + 1)])
            for l in range(self.L + 1)
        ])

    @functools.cached_property
    def gaussian_filters(self) -> np.ndarray:
        """kymatio 0.3.0's Gaussians (which its transform does not use either): complex64
        ``(J + 2, M, N, O)``, ``exp(-sigma_j^2 |w|^2 / 2)`` with ``sigma_j = sigma_0 2**j``."""
        grid = design.HarmonicGrid.from_shape(self.shape)
        scales = [design.scale(self.sigma_0, j) for j in range(self.J + 2)]
        return read_only(np.stack([grid.gaussian(sigma) for sigma in scales]).astype(np.complex64))

    # --- the call pipeline's hooks (see ScatteringTransform) --------------------------------
    _program = staticmethod(jax.jit(harmonic_scattering3d))
    _signal_ndim = 3
    _channel_axis = -3

    def _chunking(self, dtype) -> tuple[int, int, bool]:
        # The program chunks its FFTs again inside: an eager chunk only has to be worth its dispatch.
        return volume_bytes(self.bank, np.dtype(dtype).itemsize), NO_LIMIT, True

    def _list_fields(self) -> list[dict]:
        return [{"j": key, "order": len(key)} for key in self._keys()]

    def order0(self, x):
        """Order-0 coefficients ``sum_voxels x^p`` for this transform's powers: ``(*batch, P)``.

        Kymatio computes these separately (its tests use ``compute_integrals``); negative voxels
        with a non-integer ``p`` give NaN, as there.
        """
        x = validation.check_real_input(x, self.shape)
        return _order0(x, self.integral_powers)

    def _keys(self) -> list[tuple[int, ...]]:
        keys: list[tuple[int, ...]] = [(j1,) for j1 in range(self.J + 1)]
        return keys + list(self.bank.order2_pairs)

    def meta(self) -> dict:
        """Per-coefficient metadata, each entry of shape ``(K, L + 1, P)`` like one output sample.

        Returns a dict with ``order`` (int, 1 or 2), ``j1`` (int), ``j2`` (float, NaN for
        order 1), ``l`` (int), ``power`` (float: the exponent ``p``), ``sigma1`` and ``sigma2``
        (wavelet widths ``sigma_0 2^j`` in samples, NaN where undefined), and ``key``: the list
        of ``K`` row keys (``(j1,)`` or ``(j1, j2)``, the keys of ``out_type='dict'``).

        Example: ``Sx[..., meta['l'] == 2]`` selects every degree-2 coefficient.
        """
        keys = self._keys()
        shape = (len(keys), self.L + 1, len(self.integral_powers))
        order = np.array([len(k) for k in keys])
        j1 = np.array([k[0] for k in keys])
        j2 = np.array([k[1] if len(k) == 2 else np.nan for k in keys], dtype=float)

        def rows(values):
            return np.broadcast_to(np.asarray(values)[:, None, None], shape).copy()

        return {
            "order": rows(order),
            "j1": rows(j1),
            "j2": rows(j2),
            "l": np.broadcast_to(np.arange(self.L + 1)[None, :, None], shape).copy(),
            "power": np.broadcast_to(np.asarray(self.integral_powers)[None, None, :], shape).copy(),
            "sigma1": rows(self.sigma_0 * 2.0**j1),
            "sigma2": rows(self.sigma_0 * 2.0**j2),
            "key": keys,
        }

    def output_size(self, detail: bool = False):
        """Number of rows ``K`` of the ``(K, L + 1, P)`` output, or ``[K1, K2]`` per order.

        ``K1 = J + 1``; ``K2 = J (J + 1) / 2`` (absent with ``max_order=1``). Each row holds
        ``(L + 1) * P`` numbers.
        """
        counts = [self.J + 1]
        if self.max_order == 2:
            counts.append(self.J * (self.J + 1) // 2)
        return counts if detail else sum(counts)


@partial(jax.jit, static_argnames=("integral_powers",))
def _order0(x: jax.Array, integral_powers: tuple[float, ...]) -> jax.Array:
    return order0_integrals(x, integral_powers)
