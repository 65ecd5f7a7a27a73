"""scikit-learn adapter: the core's numbers, one flat row per sample, and a digits pipeline."""

import importlib
import inspect
import sys

import numpy as np
import pytest
from adapter_cases import CONFIGS as ADAPTER_CONFIGS  # noqa: E402
from adapter_cases import core_class  # noqa: E402
from conftest import rel_l2  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import scatterjax.sklearn as ssk  # noqa: E402

CONFIGS = {
    "1d": ("Scattering1D", dict(J=4, shape=256, Q=4), (5, 256)),
    "2d": ("Scattering2D", dict(J=2, shape=(16, 16), L=4), (5, 16, 16)),
    "3d": ("HarmonicScattering3D", dict(J=1, shape=(12, 12, 12), L=1), (5, 12, 12, 12)),
    # The adapter tests' JTFS settings with a batch of 5; 'joint' flattens (C_joint, R, N_out).
    "jtfs": (*ADAPTER_CONFIGS["jtfs"][:2], (5, 64)),
    "jtfs_joint": (*ADAPTER_CONFIGS["jtfs_joint"][:2], (5, 64)),
}


@pytest.mark.parametrize("dim", CONFIGS)
def test_transform_matches_core_for_both_input_layouts(dim):
    name, kwargs, input_shape = CONFIGS[dim]
    core = core_class(name)(**kwargs)
    transformer = getattr(ssk, name)(**kwargs)
    x = np.random.default_rng(0).standard_normal(input_shape).astype(np.float32)
    expected = np.asarray(core(x)).reshape(len(x), -1)
    features = transformer.fit(x).transform(x)
    assert features.shape == expected.shape
    assert rel_l2(features, expected) <= 1e-6
    flat = x.reshape(len(x), -1)
    assert rel_l2(transformer.fit_transform(flat), expected) <= 1e-6
    assert transformer.n_features_in_ == flat.shape[1]
    assert rel_l2(transformer.predict(flat[:1]), expected[:1]) <= 1e-6


@pytest.mark.parametrize("dim", ["1d", "2d", "jtfs"])
def test_float64_rows_give_float64_features_computed_in_float64(dim):
    """As kymatio's transformers: float64 X is computed in float64 (the NumPy class's numbers),
    whether or not JAX's 64-bit mode is on; float32 X stays float32."""
    import jax

    import scatterjax.numpy as sjnp

    name, kwargs, input_shape = CONFIGS[dim]
    x = np.random.default_rng(0).standard_normal(input_shape)
    features = getattr(ssk, name)(**kwargs).fit_transform(x.reshape(len(x), -1))
    with jax.enable_x64(True):
        expected = getattr(sjnp, name)(**kwargs)(x).reshape(len(x), -1)
    assert features.dtype == np.float64
    np.testing.assert_array_equal(features, expected)
    assert getattr(ssk, name)(**kwargs).fit_transform(x.astype(np.float32)).dtype == np.float32


def test_params_clone_and_set_params():
    transformer = ssk.Scattering1D(J=4, shape=256, Q=4)
    core_arguments = inspect.signature(core_class("Scattering1D")).parameters.values()
    # Every core argument but ``frontend`` (kymatio's entry point, which picks this very adapter).
    assert transformer.get_params() == {
        p.name: p.default for p in core_arguments if p.default is not inspect.Parameter.empty and p.name != "frontend"
    } | dict(J=4, shape=256, Q=4)
    copy = clone(transformer)
    assert copy.get_params() == transformer.get_params() and copy is not transformer
    x = np.random.default_rng(0).standard_normal((3, 256))
    first_order = copy.set_params(max_order=1).transform(x)
    assert first_order.shape == (3, core_class("Scattering1D")(J=4, shape=256, Q=4,
                                                               max_order=1).output_size() * 16)
    assert transformer.transform(x).shape[1] > first_order.shape[1]
    assert clone(ssk.HarmonicScattering3D(J=1, shape=(12, 12, 12))).get_params()["L"] == 3
    with pytest.raises(ValueError, match="shape"):
        transformer.transform(np.zeros((3, 100)))


def test_time_frequency_scattering_params_and_format_change_the_features():
    transformer = ssk.TimeFrequencyScattering(J=3, J_fr=1, Q=2, shape=64)
    params = transformer.get_params()
    assert params == {name: params[name] for name in inspect.signature(core_class(
        "TimeFrequencyScattering")).parameters if name != "frontend"}  # every core argument, in order
    assert params | dict(J=3, J_fr=1, Q=2, shape=64, T=None, stride=None, Q_fr=1, F=None,
                         stride_fr=None, format="time") == params
    x = np.random.default_rng(1).standard_normal((3, 64)).astype(np.float32)
    joint = clone(transformer).set_params(format="joint")
    core = core_class("TimeFrequencyScattering")(J=3, J_fr=1, Q=2, shape=64, format="joint")
    expected = np.asarray(core(x))
    assert expected.ndim == 4
    features = joint.transform(x)
    assert features.shape == (3, expected[0].size)
    assert rel_l2(features, expected.reshape(3, -1)) <= 1e-6
    assert rel_l2(features[1], expected[1].ravel()) <= 1e-6  # one row per sample, C order
    time_core = core_class("TimeFrequencyScattering")(J=3, J_fr=1, Q=2, shape=64)
    assert transformer.transform(x).shape == (3, time_core.output_size() * expected.shape[-1])


def test_digits_pipeline_accuracy():
    core_class("Scattering2D")
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0,
                                                        stratify=y)
    # Standardising the coefficients lets lbfgs converge in tens of iterations (seconds, not
    # the half minute it takes on raw float32 coefficients); the accuracy is the same.
    model = make_pipeline(ssk.Scattering2D(J=1, shape=(8, 8)), StandardScaler(),
                          LogisticRegression(max_iter=1000))
    accuracy = model.fit(X_train, y_train).score(X_test, y_test)
    print(f"digits: held-out accuracy {accuracy:.4f} (scattering J=1 + logistic regression)")
    assert accuracy > 0.9


def test_missing_sklearn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.base", None)
    monkeypatch.delitem(sys.modules, "scatterjax.sklearn", raising=False)
    with pytest.raises(ImportError, match=r"scatterjax\[sklearn\]"):
        importlib.import_module("scatterjax.sklearn")


def test_rows_of_another_width_than_fitted_are_refused_in_scikit_learns_words():
    transformer = ssk.Scattering1D(J=3, shape=64, Q=1)
    rows = np.random.default_rng(1).standard_normal((4, 2 * 64))  # two signals per row
    assert transformer.transform(rows[:, :64]).shape[0] == 4  # unfitted: stateless, any k
    fitted = transformer.fit(rows)
    one_signal = ssk.Scattering1D(J=3, shape=64, Q=1).transform(rows[:, :64])
    assert fitted.transform(rows).shape == (4, 2 * one_signal.shape[1])
    with pytest.raises(ValueError, match="X has 64 features, but Scattering1D is expecting 128 features"):
        fitted.transform(rows[:, :64])


def test_fit_without_data_as_kymatios_transformers_allow():
    # kymatio's fit(x=None, y=None) learns nothing and takes no data; code calling S.fit() runs.
    rows = np.random.default_rng(2).standard_normal((3, 2 * 64))
    transformer = ssk.Scattering1D(J=3, shape=64, Q=1)
    assert transformer.fit() is transformer
    assert not hasattr(transformer, "n_features_in_")
    np.testing.assert_array_equal(transformer.transform(rows), ssk.Scattering1D(J=3, shape=64, Q=1).transform(rows))
    transformer.fit(rows)  # then fitted on rows of two signals: one-signal rows are refused
    with pytest.raises(ValueError, match="expecting 128 features"):
        transformer.transform(rows[:, :64])
    transformer.fit()  # a refit without data forgets that width
    assert transformer.transform(rows[:, :64]).shape[0] == 3


@pytest.mark.parametrize("dim", CONFIGS)
def test_feature_names_label_every_column_of_a_pandas_output(dim):
    """get_feature_names_out names one column per feature, so set_output(transform='pandas') works
    in a pipeline; the frame holds the array's numbers."""
    pytest.importorskip("pandas")
    name, kwargs, input_shape = CONFIGS[dim]
    x = np.random.default_rng(3).standard_normal(input_shape).astype(np.float32)
    rows = x.reshape(len(x), -1)
    expected = getattr(ssk, name)(**kwargs).fit_transform(rows)
    names = getattr(ssk, name)(**kwargs).get_feature_names_out()  # unfitted: one signal per row
    prefix = name.lower()
    assert list(names) == [f"{prefix}{column}" for column in range(expected.shape[1])]
    pipeline = make_pipeline(getattr(ssk, name)(**kwargs), StandardScaler(with_std=False))
    frame = pipeline.set_output(transform="pandas").fit_transform(rows)
    assert list(frame.columns) == list(names)
    np.testing.assert_array_equal(frame.to_numpy(), StandardScaler(with_std=False).fit_transform(expected))


def test_feature_names_follow_the_fitted_row_width():
    rows = np.random.default_rng(4).standard_normal((3, 2 * 64))
    transformer = ssk.Scattering1D(J=3, shape=64, Q=1)
    one_signal = len(transformer.get_feature_names_out())
    assert len(transformer.fit(rows).get_feature_names_out()) == 2 * one_signal == transformer.transform(rows).shape[1]
    assert len(transformer.get_feature_names_out([f"x{i}" for i in range(128)])) == 2 * one_signal
    expected = r"input_features should have length equal to the number of features seen in fit \(128\), got 64"
    with pytest.raises(ValueError, match=expected):
        transformer.get_feature_names_out([f"x{i}" for i in range(64)])
    with pytest.raises(ValueError, match="out_type='list' is not supported"):
        ssk.Scattering1D(J=3, shape=64, out_type="list").get_feature_names_out()


def test_settings_that_build_no_transform_fail_at_fit_and_leave_hasattr_and_display_working():
    """As scikit-learn's estimators: bad settings are stored, and refused when used; meanwhile an
    attribute is missing (AttributeError naming the cause), so hasattr and the HTML repr work."""
    from sklearn.utils import estimator_html_repr

    from scatterjax import ShapeError

    transformer = ssk.Scattering1D(J=100, shape=256)
    assert not hasattr(transformer, "J") and not hasattr(transformer, "steps")
    assert "J=100" in repr(transformer) and "Scattering1D" in estimator_html_repr(transformer)
    with pytest.raises(AttributeError, match=r"'psi1_f': its settings build no transform \(ShapeError: J=100"):
        getattr(transformer, "psi1_f")  # noqa: B009 (the attribute read is what is tested)
    with pytest.raises(ShapeError, match="J=100 is too large"):
        transformer.fit(np.zeros((2, 256)))
    assert transformer.set_params(J=4).J == 4  # mended settings build
