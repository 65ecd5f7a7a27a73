"""scikit-learn transformers: scattering coefficients as features, one flat row per sample.

Like kymatio's sklearn frontend, each class takes exactly the core class's arguments (same names,
defaults and order) and reads kymatio's attributes (``N``, ``meta()``, ``output_size()``, ... from
the core object). As kymatio's, a transformer is also a NumPy frontend: ``S(x)`` and
``S.scattering(x)`` return what ``scatterjax.numpy`` returns (unflattened, any ``out_type``).
``transform`` (alias ``predict``; ``out_type`` must then be ``'array'``) takes
``X`` of shape ``(n_samples, *shape)``, or ``(n_samples, k * prod(shape))`` (each row holds ``k``
signals, read as ``X.reshape(-1, *shape)`` like kymatio), and returns ``(n_samples, n_features)``:
each row's coefficients flattened in C order (``(C, N_out)``, or ``(C_joint, R, N_out)`` for a
``TimeFrequencyScattering`` with ``format='joint'``), in ``X``'s float dtype: float64 ``X`` is
computed in float64, as kymatio's transformers compute it, whether or not JAX's 64-bit mode is on
(see :mod:`scatterjax.numpy`), and float32 ``X`` in float32 (1.3-1.6x faster on a CPU). The
constructor only stores its arguments, so ``get_params``, ``set_params`` and ``sklearn.base.clone``
work; the filters are designed on first use and reused for the same settings.
Attributes read the built transform's settings, as kymatio's do (``Q=8`` reads ``(8, 1)``), while
``get_params`` returns the arguments as given. Built through kymatio's entry point
(``scatterjax.Scattering1D(..., frontend='sklearn')``), bad settings raise at once, as kymatio's.
The output columns are named ``'scattering1d0'``, ``'scattering1d1'``, ...
(``get_feature_names_out``), so ``set_output(transform="pandas")`` works. Nothing is learned:
``fit`` only checks the input (at least one sample; ``transform`` takes empty batches too), and may
be called without data (``fit()``, as kymatio's). The scikit-learn tags say so
(``requires_fit=False``) and name the float dtypes the output keeps. The row width is fixed by
``shape``, which no tag can say: the ``check_estimator`` checks whose rows (1 to 10 features) are no
``k * prod(shape)`` wide fail by design; pass them as ``expected_failed_checks``.

Example:
  >>> from sklearn.datasets import load_digits
  >>> from sklearn.linear_model import LogisticRegression
  >>> from sklearn.pipeline import make_pipeline
  >>> from sklearn.preprocessing import StandardScaler
  >>> from scatterjax.sklearn import Scattering2D
  >>> X, y = load_digits(return_X_y=True)
  >>> X = X.astype("float32")  # float32 features: faster to compute than float64 ones
  >>> model = make_pipeline(Scattering2D(J=1, shape=(8, 8)), StandardScaler(),
  ...                       LogisticRegression(max_iter=1000))
  >>> model.fit(X[:1000], y[:1000]).score(X[1000:], y[1000:]) > 0.9
  True
"""

from __future__ import annotations

import math

import numpy as np

from ._adapters.common import (
    CoreForwarding,
    bind_settings,
    cached_core,
    core_settings,
    make_adapters,
    require,
    require_array_output,
)

sklearn_base = require("sklearn.base", "sklearn", what="scatterjax.sklearn")
from sklearn.utils import check_array  # noqa: E402  (after the friendly ImportError above)

__all__ = ["HarmonicScattering3D", "Scattering1D", "Scattering2D", "TimeFrequencyScattering"]

# Samples per call of the compiled transform. Inputs are cut into chunks of this size, the last one
# zero-padded (small inputs: to a power of two), so a fit/predict cycle over data sets of different
# sizes compiles a handful of programs and memory stays bounded.
_CHUNK_SAMPLES = 256
_OWN_BACKENDS = ("sklearn",)
# kymatio's private names (padded sizes, the check of the output settings) that code and tests
# written for kymatio read from a transformer as from its NumPy frontend.
_KYMATIO_PRIVATE_ATTRIBUTES = ("_N_padded", "_M_padded", "_N_padded_fr", "_check_runtime_args")


class _ScatteringTransformer(CoreForwarding, sklearn_base.TransformerMixin, sklearn_base.BaseEstimator):
    _core_name = "Scattering1D"
    # kymatio's scikit-learn transformers wrap its NumPy frontend and report it.
    frontend_name = "numpy"

    def __init__(self, *args, **kwargs):
        # scikit-learn's convention: the arguments kept exactly as given, no validation (get_params,
        # set_params and clone read and write them). They are kept apart from the attributes, which
        # read the built transform's settings as kymatio's transformers do (``Q=8`` reads ``(8, 1)``,
        # ``shape=1024`` reads ``(1024,)``).
        self._params = bind_settings(type(self).__name__, self._core_name, args, kwargs)

    def get_params(self, deep: bool = True) -> dict:
        """The constructor's arguments, as given (scikit-learn's ``get_params``)."""
        return dict(self._params)

    def set_params(self, **params):
        """Replace constructor arguments (scikit-learn's ``set_params``); validated on next use."""
        unknown = sorted(set(params) - set(self._params))
        if unknown:
            raise ValueError(
                f"Invalid parameter {unknown[0]!r} for estimator {type(self).__name__}. Valid "
                f"parameters are: {sorted(self._params)!r}."
            )
        self._params.update(params)
        return self

    def _core(self):
        # The NumPy-output class: a transformer is also kymatio's NumPy frontend (see __call__).
        settings = core_settings(self.get_params(), _OWN_BACKENDS)
        return cached_core(self._core_name, frontend="numpy", **settings)

    def __call__(self, x):
        """The transform of ``x`` (shape ``(*batch, *shape)``) as kymatio's NumPy frontend returns
        it: NumPy arrays of shape ``(*batch, C, N_out)`` (or a list/dict with ``out_type``), not
        flattened. kymatio's transformers are its NumPy frontend too, so ``S(x)`` and
        ``S.scattering(x)`` work on them; :meth:`transform` gives the flat feature rows."""
        return self._core()(x)

    scattering = __call__

    def _core_or_none(self):
        return self._core()

    def __getattr__(self, name: str):
        # scikit-learn probes private names and fitted attributes (``n_features_in_``) with
        # hasattr: those never come from the core (nor build it), but for the padded sizes that
        # kymatio's transformers have (``_N_padded``, ``_M_padded``).
        private = name.startswith("_") and name not in _KYMATIO_PRIVATE_ATTRIBUTES
        if private or name.endswith("_"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        # Settings are validated when first used (fit, transform), as scikit-learn's estimators
        # do; until then an attribute of settings that build no transform is missing, not an
        # error, so that hasattr (scikit-learn's HTML repr, IPython's display) keeps working.
        try:
            self._core()
        except Exception as error:
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute {name!r}: its settings build no "
                f"transform ({type(error).__name__}: {error})"
            ) from error
        return super().__getattr__(name)

    def _samples(self, X) -> tuple[np.ndarray, int]:
        """``X`` (already through ``check_array``) as ``(signals, *shape)``, and the number of
        signals per row of ``X``.

        ``(n, *shape)`` is taken as is; ``(n, k * prod(shape))`` as ``(n * k, *shape)``, like kymatio.
        """
        shape = tuple(self._core().shape)
        size = math.prod(shape)
        if X.shape[1:] == shape:
            return X, 1
        if X.ndim == 2 and X.shape[1] > 0 and X.shape[1] % size == 0:
            return X.reshape((-1, *shape)), X.shape[1] // size
        raise ValueError(
            f"X must have shape (n_samples, {', '.join(map(str, shape))}) or (n_samples, k * "
            f"{size}) (k signals of prod(shape)={size} values per row) for shape={shape}; got "
            f"{X.shape}" + (f" (n_features={X.shape[1]})." if X.ndim == 2 else ".")
        )

    def fit(self, X=None, y=None):
        """Check ``X`` and design the filters; nothing is learned. Returns ``self``.

        ``X`` may be left out (``S.fit()``, as kymatio's transformers allow): then only the filters
        are designed, and ``transform`` takes rows of any ``k * prod(shape)`` values.
        """
        if X is None:
            self._core()
            self.__dict__.pop("n_features_in_", None)  # a refit forgets the rows of an earlier fit
            return self
        # At least one sample, as scikit-learn's fit methods require (transform takes empty batches).
        X = check_array(X, allow_nd=True, dtype=(np.float64, np.float32))
        self._samples(X)
        self.n_features_in_ = math.prod(X.shape[1:])
        return self

    def transform(self, X) -> np.ndarray:
        """Scattering coefficients of each row of ``X``, flattened: ``(n_samples, n_features)``.

        A row of ``k * prod(shape)`` values holds ``k`` signals; its features are theirs, in order.
        Once fitted, rows of another width than those fitted raise ``ValueError`` (they would give
        features of another width); ``(n_samples, *shape)`` input is taken whatever was fitted.
        """
        core = self._core()
        require_array_output(core, "scikit-learn")
        X = check_array(X, allow_nd=True, dtype=(np.float64, np.float32), ensure_min_samples=0)
        fitted = getattr(self, "n_features_in_", None)  # no fit needed; once fitted, rows as fitted
        if X.ndim == 2 and fitted is not None and X.shape[1] != fitted:
            # scikit-learn's words first, for any other width (another output width downstream);
            # then, for a width no k * prod(shape) gives, the shape's.
            try:
                self._samples(X)
                shape_error = "."
            except ValueError as error:
                shape_error = f"; {error}"
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting {fitted} "
                f"features as input (the rows it was fitted on){shape_error}"
            )
        samples, per_row = self._samples(X)
        count = len(samples) // per_row
        if count == 0:  # an empty batch: no rows, each of the usual width
            empty = _no_signals_output(core, samples.dtype)
            return np.zeros((0, per_row * math.prod(empty.shape[1:])), empty.dtype)
        chunk = min(_CHUNK_SAMPLES, 1 << (len(samples) - 1).bit_length())
        rows = []
        for start in range(0, len(samples), chunk):
            block = samples[start : start + chunk]
            padded = np.zeros((chunk, *samples.shape[1:]), samples.dtype)
            padded[: len(block)] = block
            rows.append(np.asarray(core(padded))[: len(block)].reshape(len(block), -1))
        return np.concatenate(rows, axis=0).reshape(count, -1)

    predict = transform

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of :meth:`transform`'s output columns: ``'<class name in lower case><column>'``
        (``'scattering1d0'``, ``'scattering1d1'``, ...), scikit-learn's convention for features that
        are not one per input column. With them ``set_output(transform="pandas")`` labels the
        columns of a pipeline's data frames.

        The count is that of rows as fitted (``k`` signals per row: ``k`` times one signal's
        coefficients), or of one signal per row when fitted without data. ``input_features``, if
        given, must name as many columns as were fitted.
        """
        core = self._core()
        require_array_output(core, "scikit-learn")
        shape = tuple(core.shape)
        fitted = getattr(self, "n_features_in_", None)
        if input_features is not None and fitted is not None and len(input_features) != fitted:
            raise ValueError(
                f"input_features should have length equal to the number of features seen in fit "
                f"({fitted}), got {len(input_features)}."
            )
        per_row = fitted // math.prod(shape) if fitted is not None else 1
        prefix = type(self).__name__.lower()
        width = per_row * math.prod(_no_signals_output(core, np.float32).shape[1:])
        return np.asarray([f"{prefix}{column}" for column in range(width)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        # The output keeps the input's float dtype (module docstring).
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _no_signals_output(core, dtype) -> np.ndarray:
    """``core``'s output for an empty batch of ``dtype`` signals: no coefficients computed, and its
    shape ``(0, *one signal's)`` gives the width of a one-signal row."""
    return np.asarray(core(np.zeros((0, *core.shape), dtype)))


_classes = make_adapters(_ScatteringTransformer, __name__, "a scikit-learn transformer")
Scattering1D = _classes["Scattering1D"]
Scattering2D = _classes["Scattering2D"]
HarmonicScattering3D = _classes["HarmonicScattering3D"]
TimeFrequencyScattering = _classes["TimeFrequencyScattering"]
