"""scikit-learn transformers: scattering coefficients as features, one flat row per sample.

Like kymatio's sklearn frontend, each class takes the core class's arguments (``out_type`` is always
``'array'``), ``transform`` (alias ``predict``) reshapes its input ``(n_samples, *shape)`` or
``(n_samples, prod(shape))`` to ``(n_samples, *shape)`` and returns ``(n_samples, n_features)``:
each sample's coefficients flattened in C order (``(C, N_out)``, or ``(C_joint, R, N_out)`` for a
``TimeFrequencyScattering`` with ``format='joint'``), float32 (float64 when ``jax_enable_x64`` is
on). The constructor only stores its arguments, so ``get_params``, ``set_params`` and
``sklearn.base.clone`` work; the filters are designed on first use and reused for the same settings.
Nothing is learned: ``fit`` only checks the input.

Example:
  >>> from sklearn.datasets import load_digits
  >>> from sklearn.linear_model import LogisticRegression
  >>> from sklearn.pipeline import make_pipeline
  >>> from sklearn.preprocessing import StandardScaler
  >>> from scatterjax.sklearn import Scattering2D
  >>> X, y = load_digits(return_X_y=True)
  >>> model = make_pipeline(Scattering2D(J=1, shape=(8, 8)), StandardScaler(),
  ...                       LogisticRegression(max_iter=1000))
  >>> model.fit(X[:1000], y[:1000]).score(X[1000:], y[1000:]) > 0.9
  True
"""

from __future__ import annotations

import math

import numpy as np

from ._adapters.common import cached_core, require

sklearn_base = require("sklearn.base", "sklearn", what="scatterjax.sklearn")
from sklearn.utils import check_array  # noqa: E402  (after the friendly ImportError above)

__all__ = ["HarmonicScattering3D", "Scattering1D", "Scattering2D", "TimeFrequencyScattering"]

# Samples per call of the compiled transform. Inputs are cut into chunks of this size, the last one
# zero-padded (small inputs: to a power of two), so a fit/predict cycle over data sets of different
# sizes compiles a handful of programs and memory stays bounded.
_CHUNK_SAMPLES = 256


class _ScatteringTransformer(sklearn_base.TransformerMixin, sklearn_base.BaseEstimator):
    _core_name = "Scattering1D"

    def _core(self):
        return cached_core(self._core_name, **self.get_params())

    def _samples(self, X) -> np.ndarray:
        core = self._core()
        shape = tuple(core.shape)
        X = check_array(X, allow_nd=True, dtype=(np.float64, np.float32))
        if X.shape[1:] not in (shape, (math.prod(shape),)):
            raise ValueError(
                f"X must have shape (n_samples, {', '.join(map(str, shape))}) or "
                f"(n_samples, {math.prod(shape)}) for shape={shape}; got {X.shape}."
            )
        return X.reshape((X.shape[0], *shape))

    def fit(self, X, y=None):
        """Check ``X`` and design the filters; nothing is learned. Returns ``self``."""
        X = check_array(X, allow_nd=True, dtype=(np.float64, np.float32))
        self._samples(X)
        self.n_features_in_ = math.prod(X.shape[1:])
        return self

    def transform(self, X) -> np.ndarray:
        """Scattering coefficients of each sample of ``X``, flattened: ``(n_samples, n_features)``."""
        core = self._core()
        X = self._samples(X)
        count = X.shape[0]
        chunk = min(_CHUNK_SAMPLES, 1 << max(count - 1, 0).bit_length())
        rows = []
        for start in range(0, count, chunk):
            block = X[start : start + chunk]
            padded = np.zeros((chunk, *X.shape[1:]), X.dtype)
            padded[: len(block)] = block
            rows.append(np.asarray(core(padded))[: len(block)].reshape(len(block), -1))
        return np.concatenate(rows, axis=0)

    predict = transform

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


class Scattering1D(_ScatteringTransformer):
    """``scatterjax.Scattering1D`` as a scikit-learn transformer (see the module docstring)."""

    _core_name = "Scattering1D"

    def __init__(self, J, shape, Q=1, T=None, max_order=2, oversampling=0):
        self.J = J
        self.shape = shape
        self.Q = Q
        self.T = T
        self.max_order = max_order
        self.oversampling = oversampling


class Scattering2D(_ScatteringTransformer):
    """``scatterjax.Scattering2D`` as a scikit-learn transformer (see the module docstring)."""

    _core_name = "Scattering2D"

    def __init__(self, J, shape, L=8, max_order=2, pre_pad=False):
        self.J = J
        self.shape = shape
        self.L = L
        self.max_order = max_order
        self.pre_pad = pre_pad


class HarmonicScattering3D(_ScatteringTransformer):
    """``scatterjax.HarmonicScattering3D`` as a scikit-learn transformer (see the module docstring)."""

    _core_name = "HarmonicScattering3D"

    def __init__(
        self,
        J,
        shape,
        L=3,
        sigma_0=1,
        max_order=2,
        rotation_covariant=True,
        method="integral",
        points=None,
        integral_powers=(0.5, 1.0, 2.0),
    ):
        self.J = J
        self.shape = shape
        self.L = L
        self.sigma_0 = sigma_0
        self.max_order = max_order
        self.rotation_covariant = rotation_covariant
        self.method = method
        self.points = points
        self.integral_powers = integral_powers


class TimeFrequencyScattering(_ScatteringTransformer):
    """``scatterjax.TimeFrequencyScattering`` as a scikit-learn transformer (see the module docstring)."""

    _core_name = "TimeFrequencyScattering"

    def __init__(self, J, J_fr, Q, shape, T=None, stride=None, Q_fr=1, F=None, stride_fr=None, format="time"):
        self.J = J
        self.J_fr = J_fr
        self.Q = Q
        self.shape = shape
        self.T = T
        self.stride = stride
        self.Q_fr = Q_fr
        self.F = F
        self.stride_fr = stride_fr
        self.format = format
