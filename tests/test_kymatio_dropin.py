"""kymatio 0.3.0 users switch by changing one import: the core classes' side of that promise.

Written from kymatio 0.3.0's documented behaviour (its signatures, attributes and error types);
the numbers of the exported filters are checked against kymatio itself. Framework adapters are
covered in ``tests/adapters/test_kymatio_dropin_adapters.py``.
"""

from __future__ import annotations

import copy
import inspect
import pickle
import time
import warnings

import jax
import numpy as np
import pytest
from conftest import kymatio

import scatterjax
from scatterjax import HarmonicScattering3D, Scattering1D, Scattering2D, TimeFrequencyScattering


def max_rel(ours, reference) -> float:
    ours, reference = np.asarray(ours, np.float64), np.asarray(reference, np.float64)
    assert ours.shape == reference.shape, (ours.shape, reference.shape)
    return float(np.max(np.abs(ours - reference)) / np.max(np.abs(reference)))


# --- 1. settings as NumPy scalars and 0-d arrays (as np.load returns them) -------------------


def test_numpy_settings_1d_equal_python_settings():
    x = np.random.default_rng(0).standard_normal((2, 512)).astype(np.float32)
    plain = Scattering1D(J=5, shape=512, Q=(8, 2), T=16, max_order=2, oversampling=1)
    loaded = Scattering1D(
        J=np.array(5), shape=np.array([512]), Q=(np.array(8), np.int64(2)), T=np.array(16),
        max_order=np.array(2), oversampling=np.int32(1), out_type=np.str_("array"),
    )
    assert (loaded.J, loaded.shape, loaded.Q, loaded.T) == (5, (512,), (8, 2), 16)
    assert type(loaded.J) is int and type(loaded.T) is int
    np.testing.assert_array_equal(np.asarray(loaded(x)), np.asarray(plain(x)))
    # Still a pytree with hashable static settings: jit takes it as an argument.
    out = jax.jit(lambda S, x: S(x))(loaded, x)
    np.testing.assert_allclose(np.asarray(out), np.asarray(plain(x)), rtol=1e-6, atol=1e-7)


def test_numpy_settings_2d_and_3d():
    S = Scattering2D(J=np.array(2), shape=np.array([16, 24]), L=np.array(4), pre_pad=np.array(False))
    assert (S.J, S.shape, S.L, S.pre_pad) == (2, (16, 24), 4, False)
    assert type(S.pre_pad) is bool
    S3 = HarmonicScattering3D(
        J=np.array(1), shape=(8, 8, 8), L=np.array(1), sigma_0=np.float64(1.0),
        rotation_covariant=np.bool_(True), integral_powers=np.array([1.0, 2.0]),
    )
    assert (S3.J, S3.L, S3.integral_powers, S3.rotation_covariant) == (1, 1, (1.0, 2.0), True)
    jtfs = TimeFrequencyScattering(J=np.array(4), J_fr=np.array(1), Q=np.array(4), shape=256)
    assert (jtfs.J, jtfs.J_fr, jtfs.Q) == (4, 1, (4, 1))


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(J=np.array(True)), "J"),
        (dict(max_order=np.bool_(True)), "max_order"),
        (dict(J=np.array(4.0)), "J"),
    ],
)
def test_bools_and_floats_still_rejected_for_ints(kwargs, name):
    settings = dict(J=4, shape=256) | kwargs
    with pytest.raises(TypeError, match=f"{name} must be an integer"):
        Scattering1D(**settings)


def test_q_as_list_still_rejected_like_kymatio():
    with pytest.raises(ValueError, match="Q must be an integer or a tuple"):
        Scattering1D(J=3, shape=256, Q=[8])
    with pytest.raises(ValueError, match="Q should always be >= 1"):
        Scattering1D(J=3, shape=256, Q=0.9)


@pytest.mark.parametrize("T", [0, np.int64(0), 0.0])
def test_average_true_with_T_0_is_refused_like_kymatio(T):
    # Both refuse the pair at construction; before, ours dropped average=True without a word.
    for make in (Scattering1D, kymatio().numpy.Scattering1D):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            with pytest.raises(ValueError, match="average must not be True if T=0"):
                make(J=3, shape=256, T=T, average=True, out_type="list")


# --- 2. exception types: kymatio's RuntimeError and ImportError sites -----------------------


def test_error_classes_are_both_types():
    assert issubclass(scatterjax.ShapeError, ValueError)
    assert issubclass(scatterjax.ShapeError, RuntimeError)
    assert issubclass(scatterjax.BackendError, ImportError)
    assert issubclass(scatterjax.BackendError, ValueError)
    assert issubclass(scatterjax.QLengthError, ValueError)
    assert issubclass(scatterjax.QLengthError, NotImplementedError)


@pytest.mark.parametrize("Q", [(8, 2, 1), ()])
@pytest.mark.parametrize("name", ["Scattering1D", "TimeFrequencyScattering"])
def test_a_q_tuple_of_other_length_is_kymatios_not_implemented_error(name, Q):
    # kymatio 0.3.0 raises NotImplementedError for a Q tuple of 0 or 3+ entries (ValueError for a list).
    with pytest.raises(NotImplementedError) as theirs:
        kymatio().numpy.Scattering1D(J=3, shape=256, Q=Q)
    settings = dict(J=3, shape=256, Q=Q) | (dict(J_fr=1) if name == "TimeFrequencyScattering" else {})
    with pytest.raises(NotImplementedError, match=f"got a {len(Q)}-tuple") as ours:
        getattr(scatterjax, name)(**settings)
    assert isinstance(ours.value, ValueError) and type(theirs.value) is NotImplementedError


@pytest.mark.parametrize(
    "build",
    [
        lambda: Scattering2D(J=6, shape=(32, 32)),
        lambda: Scattering2D(J=3, shape=(32, 6)),
        lambda: Scattering1D(J=9, shape=256),
        lambda: TimeFrequencyScattering(J=9, J_fr=1, Q=4, shape=256),
    ],
)
def test_J_too_large_is_runtime_and_value_error(build):
    with pytest.raises(RuntimeError, match="J=.* is too large") as record:
        build()
    assert isinstance(record.value, ValueError)


@pytest.mark.parametrize(
    "make, x, match",
    [
        (lambda: Scattering2D(J=2, shape=(16, 16)), np.zeros(16, np.float32), "at least two dimensions"),
        (lambda: Scattering2D(J=2, shape=(16, 16)), np.zeros((15, 16), np.float32), "spatial size"),
        (
            lambda: HarmonicScattering3D(J=1, shape=(8, 8, 8), L=1),
            np.zeros((8, 8), np.float32),
            "at least three dimensions",
        ),
        (lambda: HarmonicScattering3D(J=1, shape=(8, 8, 8), L=1), np.zeros((8, 8, 7), np.float32), "8, 8, 8"),
        (lambda: Scattering1D(J=3, shape=64), np.zeros((2, 63), np.float32), r"\(\.\.\., 64\)"),
    ],
)
def test_wrong_input_shape_is_runtime_and_value_error(make, x, match):
    S = make()
    with pytest.raises(RuntimeError, match=match) as record:
        S(x)
    assert isinstance(record.value, ValueError)


def test_pre_padded_input_of_the_wrong_size_is_runtime_and_value_error():
    S = Scattering2D(J=2, shape=(16, 16), L=2, pre_pad=True)
    with pytest.raises(RuntimeError, match=r"Padded array must be of spatial size \(24, 24\)") as record:
        S(np.zeros((2, 16, 16), np.float32))
    assert isinstance(record.value, ValueError)


def test_kymatio_message_keywords_kept_in_our_messages():
    # kymatio users (and its tests) look for these words; our messages keep them.
    with pytest.raises(ValueError, match="Please set out_type to") as record:
        Scattering1D(J=3, shape=64, T=0, out_type="array")(np.zeros(64, np.float32))
    assert "Cannot convert" in str(record.value)
    with pytest.raises(ValueError, match="exactly one element"):
        Scattering1D(J=3, shape=(64, 2))
    with pytest.raises(RuntimeError, match="at least one axis"):
        Scattering1D(J=3, shape=64)(np.float32(1.0))
    with pytest.raises(RuntimeError, match="smallest dimension"):
        Scattering2D(J=5, shape=(16, 64))
    with pytest.raises(ValueError, match="integer"):
        Scattering1D(J=3, shape=1.5)
    with pytest.raises(ValueError, match="nonnegative"):
        Scattering1D(J=3, shape=64, oversampling=-1)


# --- 3. the backend argument and attribute ---------------------------------------------------

CLASSES = [
    (Scattering1D, dict(J=3, shape=64)),
    (Scattering2D, dict(J=2, shape=(16, 16), L=2)),
    (HarmonicScattering3D, dict(J=1, shape=(8, 8, 8), L=1)),
    (TimeFrequencyScattering, dict(J=3, J_fr=1, Q=2, shape=64)),
]


@pytest.mark.parametrize("cls, kwargs", CLASSES)
@pytest.mark.parametrize("backend", [None, "jax", "numpy"])
def test_backend_accepted(cls, kwargs, backend):
    S = cls(**kwargs, backend=backend)
    assert S.backend.name == "jax"
    # The backend is not pytree metadata: flattening is unchanged by it.
    leaves, treedef = jax.tree_util.tree_flatten(S)
    assert treedef == jax.tree_util.tree_flatten(cls(**kwargs))[1]
    assert jax.tree_util.tree_unflatten(treedef, leaves).backend.name == "jax"


@pytest.mark.parametrize("cls, kwargs", CLASSES)
@pytest.mark.parametrize(
    "backend, module",
    [("torch", "scatterjax.torch"), ("tensorflow", "scatterjax.tensorflow"), ("keras", "scatterjax.keras"),
     ("sklearn", "scatterjax.sklearn"), ("torch_skcuda", "scatterjax.torch")],
)
def test_framework_backend_names_the_module(cls, kwargs, backend, module):
    with pytest.raises(ImportError, match=rf"{module}\.{cls.__name__}") as record:
        cls(**kwargs, backend=backend)
    assert isinstance(record.value, ValueError)


def test_kymatio_jax_module_name_holds_the_core_classes():
    # ``from kymatio.jax import Scattering1D`` -> ``from scatterjax.jax import Scattering1D``.
    import scatterjax.jax

    classes = (Scattering1D, Scattering2D, HarmonicScattering3D, TimeFrequencyScattering)
    assert sorted(scatterjax.jax.__all__) == sorted(cls.__name__ for cls in classes)
    for cls in classes:
        assert getattr(scatterjax.jax, cls.__name__) is cls


@pytest.mark.parametrize("cls, kwargs", CLASSES)
@pytest.mark.parametrize("out_type", ["array", "list", "dict"])
def test_kymatio_numpy_module_returns_writable_numpy_arrays(cls, kwargs, out_type):
    # ``from kymatio.numpy import Scattering1D`` -> ``from scatterjax.numpy import Scattering1D``:
    # kymatio's NumPy frontend returns NumPy arrays (``torch.from_numpy(Sx)``, in-place edits).
    import scatterjax.numpy as sjnp

    settings = {**kwargs, "out_type": out_type}
    ours_cls = getattr(sjnp, cls.__name__)
    assert sorted(sjnp.__all__) == sorted(c.__name__ for c, _ in CLASSES)
    S, core = ours_cls(**settings), cls(**settings)
    assert issubclass(ours_cls, cls) and ours_cls.__module__ == "scatterjax.numpy" and repr(S) == repr(core)
    x = np.random.default_rng(0).standard_normal((2, *core.shape)).astype(np.float32)
    out, expected = S(x), core(x)
    if out_type == "array":
        pairs = [(out, expected)]
    elif out_type == "dict":
        assert list(out) == list(expected)
        pairs = list(zip(out.values(), expected.values()))
    else:
        pairs = [(a["coef"], b["coef"]) for a, b in zip(out, expected)]
        assert [{k: v for k, v in a.items() if k != "coef"} for a in out] == [
            {k: v for k, v in b.items() if k != "coef"} for b in expected
        ]
    for ours, reference in pairs:
        assert type(ours) is np.ndarray and ours.flags.writeable and ours.dtype == np.float32
        np.testing.assert_array_equal(ours, np.asarray(reference))
    np.testing.assert_array_equal(S.scattering(x) if out_type == "array" else pairs[0][0], pairs[0][0])
    # Inside a caller's transformation the output stays a JAX array (nothing concrete to copy).
    if out_type == "array":
        traced = jax.jit(lambda S, x: S(x))(S, x)
        assert isinstance(traced, jax.Array)
        np.testing.assert_allclose(np.asarray(traced), out, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("cls, kwargs", CLASSES)
@pytest.mark.parametrize("out_type", ["array", "list"])
def test_kymatio_numpy_module_computes_float64_input_in_float64(cls, kwargs, out_type, monkeypatch):
    # kymatio's NumPy frontend computes float64 input (NumPy's default) in float64; so does ours,
    # whether or not JAX's 64-bit mode is on: the bits of the class built and called in 64-bit mode.
    import scatterjax.numpy as sjnp

    settings = {**kwargs, "out_type": out_type}
    S = getattr(sjnp, cls.__name__)(**settings)
    init = cls.__init__
    x = np.random.default_rng(0).standard_normal((2, *S.shape))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "computed in float32" warning
        out = S(x)
    with jax.enable_x64(True):
        expected = getattr(sjnp, cls.__name__)(**settings)(x)
    coefficients = [out] if out_type == "array" else [entry["coef"] for entry in out]
    references = [expected] if out_type == "array" else [entry["coef"] for entry in expected]
    for ours, reference in zip(coefficients, references):
        assert type(ours) is np.ndarray and ours.dtype == np.float64 and ours.flags.writeable
        np.testing.assert_array_equal(ours, reference)
    first = coefficients[0]
    float32 = S(x.astype(np.float32))  # float32 input stays float32
    float32 = float32 if out_type == "array" else float32[0]["coef"]
    assert float32.dtype == np.float32
    assert 1e-9 < np.abs(float32 - first).max() / np.abs(first).max() < 1e-5
    if not jax.config.jax_enable_x64:  # the float64 filters are designed once, not per call
        designed = []
        monkeypatch.setattr(cls, "__init__", lambda self, *a, **k: designed.append(k) or init(self, *a, **k))
        S(x)
        assert designed == []
    # A pickled or copied object computes the same float64 bits (with 64-bit mode off, float64
    # filters pickled with it would come back as float32).
    for clone in (pickle.loads(pickle.dumps(S)), copy.deepcopy(S)):
        again = clone(x)
        again = [again] if out_type == "array" else [entry["coef"] for entry in again]
        np.testing.assert_array_equal(again[0], first)


@pytest.mark.parametrize(
    "name, kwargs, shape",
    [
        ("Scattering1D", dict(J=6, shape=1024, Q=8), (2, 1024)),
        ("Scattering2D", dict(J=2, shape=(32, 32), L=8), (2, 32, 32)),
    ],
)
def test_kymatio_numpy_module_float64_numbers_equal_kymatios(name, kwargs, shape):
    import scatterjax.numpy as sjnp

    x = np.random.default_rng(0).standard_normal(shape)
    ours = getattr(sjnp, name)(**kwargs)(x)
    theirs = getattr(kymatio().numpy, name)(**kwargs)(x)
    assert ours.dtype == np.float64
    assert np.linalg.norm(ours - theirs) / np.linalg.norm(theirs) <= 1e-12


@pytest.mark.parametrize("cls, kwargs", CLASSES)
def test_frontend_argument_builds_what_kymatios_entry_point_builds(cls, kwargs):
    # ``from kymatio import Scattering2D; Scattering2D(..., frontend='torch')``: kymatio's default
    # frontend is NumPy (here the JAX class); 'numpy' builds scatterjax.numpy's class (NumPy
    # outputs); a framework name builds that framework's layer.
    import torch

    import scatterjax.numpy as sjnp
    import scatterjax.sklearn as sjsk
    import scatterjax.torch as sjt

    x = np.random.default_rng(0).standard_normal((2, *cls(**kwargs).shape)).astype(np.float32)
    expected = np.asarray(cls(**kwargs)(x))
    numpy_cls = getattr(sjnp, cls.__name__)
    for name, built in ((None, cls), ("jax", cls), ("numpy", numpy_cls), ("NumPy", numpy_cls)):
        S = cls(**kwargs, frontend=name)
        assert type(S) is built
        out = S(x)
        assert type(out) is (np.ndarray if built is not cls else type(cls(**kwargs)(x)))
        np.testing.assert_array_equal(np.asarray(out), expected)
    layer = cls(**kwargs, frontend="torch")
    assert type(layer) is getattr(sjt, cls.__name__)
    assert max_rel(layer(torch.from_numpy(x)).numpy(), expected) <= 1e-6
    transformer = cls(**kwargs, frontend="sklearn")
    assert type(transformer) is getattr(sjsk, cls.__name__)
    assert all(transformer.get_params()[key] == value for key, value in kwargs.items())
    with pytest.raises(scatterjax.FrontendError, match="'doesnotexist' is not valid") as record:
        cls(**kwargs, frontend="doesnotexist")
    assert isinstance(record.value, RuntimeError) and isinstance(record.value, ValueError)
    with pytest.raises(scatterjax.FrontendError, match=r"\['torch'\] is not valid"):  # not a TypeError
        cls(**kwargs, frontend=["torch"])
    assert inspect.signature(cls).parameters["frontend"].kind is inspect.Parameter.KEYWORD_ONLY  # as kymatio's


def test_unknown_backend_is_import_error():
    with pytest.raises(ImportError, match="'doesnotexist' is not supported"):
        Scattering2D(J=2, shape=(16, 16), backend="doesnotexist")

    class Fake:
        name = "fake"

    with pytest.raises(ImportError, match="'fake' is not supported"):
        Scattering2D(J=2, shape=(16, 16), backend=Fake())

    class KymatioLike:  # kymatio's backend objects carry their name
        name = "numpy"

    assert Scattering2D(J=2, shape=(16, 16), backend=KymatioLike()).backend.name == "jax"


def test_backend_is_a_keyword_at_kymatios_position():
    # kymatio 0.3.0: Scattering2D(J, shape, L, max_order, pre_pad, backend, out_type).
    S = Scattering2D(2, (16, 16), 4, 2, False, "numpy", "list")
    assert S.out_type == "list" and S.backend.name == "jax"
    S1 = Scattering1D(3, 64, 1, None, 2, None, 0, "array", "numpy")
    assert S1.backend.name == "jax"


def test_reassigning_a_setting_to_its_value_is_allowed_else_raises():
    S = HarmonicScattering3D(J=1, shape=(8, 8, 8), L=1, integral_powers=(1.0, 2.0))
    S.max_order = 2
    S.method = "integral"
    S.integral_powers = np.array([1.0, 2.0])
    with pytest.raises(AttributeError, match="immutable"):
        S.max_order = 1
    S2 = Scattering2D(J=2, shape=(16, 16))
    S2.pre_pad = np.array(False)
    with pytest.raises(AttributeError, match="immutable"):
        S2.L = 4


# --- 4. filters in kymatio's layout, equal to kymatio's --------------------------------------


def _compare_levels(ours: list, theirs: list, tolerance: float) -> None:
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        assert max_rel(a, b) <= tolerance


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(J=6, shape=1024, Q=8),
        dict(J=4, shape=300, Q=(4, 2), T=8),
        dict(J=3, shape=100, Q=2, T=0, out_type="list"),
        dict(J=5, shape=2048, T=1000, oversampling=1, max_order=1),
        dict(J=5, shape=512, average=False, out_type="dict"),
    ],
)
def test_1d_settings_read_back_as_kymatio_stores_them(kwargs):
    # kymatio 0.3.0 resolves T=None and T=0 to 2**J: code such as ``N // S.T`` must keep working.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # average= is deprecated in both
        ours = Scattering1D(**kwargs)
        theirs = kymatio().numpy.Scattering1D(**kwargs)
    names = ("J", "T", "average", "max_order", "oversampling", "out_type", "log2_T", "_N_padded", "pad_left",
             "pad_right", "ind_start", "ind_end")  # ind_start/ind_end: dicts {k: index}, as kymatio's
    for name in names:
        assert getattr(ours, name) == getattr(theirs, name), name
        assert type(getattr(ours, name)) is type(getattr(theirs, name)), name


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(J=6, shape=1024, Q=8),
        dict(J=4, shape=300, Q=(4, 2), T=8),
        dict(J=5, shape=512, Q=1, max_order=1),
        dict(J=3, shape=100, Q=(12, 3), T=0, out_type="list"),
        dict(J=5, shape=2048, Q=2, T=1000, oversampling=1),
    ],
)
def test_1d_filters_equal_kymatio(kwargs):
    ours = Scattering1D(**kwargs)
    theirs = kymatio().numpy.Scattering1D(**kwargs)
    assert ours._N_padded == theirs._N_padded
    assert (ours.pad_left, ours.pad_right) == (theirs.pad_left, theirs.pad_right)
    for name in ("r_psi", "sigma0", "alpha", "log2_T"):
        assert getattr(ours, name) == getattr(theirs, name)
    for key in ("xi", "sigma", "j"):
        assert ours.phi_f[key] == pytest.approx(theirs.phi_f[key], rel=1e-12)
    _compare_levels(ours.phi_f["levels"], theirs.phi_f["levels"], 1e-6)
    for mine, ref in ((ours.psi1_f, theirs.psi1_f), (ours.psi2_f, theirs.psi2_f)):
        assert len(mine) == len(ref)
        for a, b in zip(mine, ref):
            assert sorted(a) == sorted(b)
            assert (a["xi"], a["sigma"], a["j"]) == pytest.approx((b["xi"], b["sigma"], b["j"]), rel=1e-12)
            _compare_levels(a["levels"], b["levels"], 1e-6)
    assert ours.psi1_f is ours.psi1_f  # cached


@pytest.mark.parametrize(
    "kwargs",
    [dict(J=3, shape=(32, 32), L=8), dict(J=2, shape=(20, 28), L=4), dict(J=1, shape=(16, 16), L=3)],
)
def test_2d_filters_equal_kymatio(kwargs):
    ours = Scattering2D(**kwargs)
    theirs = kymatio().numpy.Scattering2D(**kwargs)
    assert (ours._M_padded, ours._N_padded) == (theirs._M_padded, theirs._N_padded)
    assert ours.phi["j"] == theirs.phi["j"]
    _compare_levels(ours.phi["levels"], theirs.phi["levels"], 1e-6)
    assert len(ours.psi) == len(theirs.psi)
    for a, b in zip(ours.psi, theirs.psi):
        assert (a["j"], a["theta"]) == (b["j"], b["theta"])
        _compare_levels(a["levels"], b["levels"], 1e-6)


@pytest.mark.parametrize("kwargs", [dict(J=1, shape=(8, 10, 12), L=2, sigma_0=1.0), dict(J=2, shape=(16, 16, 16), L=1)])
def test_3d_filters_equal_kymatio(kwargs):
    ours = HarmonicScattering3D(**kwargs)
    theirs = kymatio().numpy.HarmonicScattering3D(**kwargs)
    assert len(ours.filters) == len(theirs.filters)
    for a, b in zip(ours.filters, theirs.filters):
        assert a.dtype == b.dtype == np.complex64
        assert a.shape == b.shape
        assert np.max(np.abs(a - b)) <= 1e-6 * np.max(np.abs(b))
    assert ours.gaussian_filters.shape == theirs.gaussian_filters.shape
    assert max_rel(ours.gaussian_filters.real, theirs.gaussian_filters.real) <= 1e-6


@pytest.mark.parametrize("shape", [(32, 32), (20, 27)])
def test_2d_pad_and_unpad_equal_kymatio(shape):
    x = np.random.default_rng(2).standard_normal((3, *shape)).astype(np.float32)
    ours = Scattering2D(J=2, shape=shape, L=2)
    theirs = kymatio().numpy.Scattering2D(J=2, shape=shape, L=2)
    padded = ours.pad(x)
    assert isinstance(padded, np.ndarray)
    np.testing.assert_array_equal(padded, theirs.pad(x))
    np.testing.assert_array_equal(np.asarray(ours.pad(jax.numpy.asarray(x))), padded)
    np.testing.assert_array_equal(ours.unpad(padded), theirs.unpad(padded))
    # Padded input through pre_pad=True gives the same coefficients.
    pre = Scattering2D(J=2, shape=shape, L=2, pre_pad=True)
    assert pre.pad(padded) is padded
    np.testing.assert_allclose(np.asarray(pre(padded)), np.asarray(ours(x)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "build, layouts",
    [
        (lambda: Scattering1D(J=3, shape=128, Q=2), ("phi_f", "psi1_f", "psi2_f")),
        (lambda: Scattering2D(J=2, shape=(16, 16), L=2), ("phi", "psi")),
        (lambda: HarmonicScattering3D(J=1, shape=(8, 8, 8), L=1), ("filters", "gaussian_filters")),
        (lambda: TimeFrequencyScattering(J=4, J_fr=1, Q=4, shape=256), ("phi_f", "psi1_f", "psi2_f", "filters_fr")),
    ],
)
def test_filters_in_kymatio_layout_refuse_in_place_edits(build, layouts):
    # The transform computes with its own bank, not with these arrays (kymatio computes with its
    # own): an in-place edit raises rather than being silently ignored.
    S = build()
    x = np.random.default_rng(5).standard_normal((1, *S.shape)).astype(np.float32)
    before = np.asarray(S(x))
    for name in layouts:
        arrays = [a for a in jax.tree_util.tree_leaves(getattr(S, name)) if isinstance(a, np.ndarray)]
        assert arrays, name
        for array in arrays:
            assert not array.flags.writeable, name
        with pytest.raises(ValueError, match="read-only"):
            arrays[0][...] = 0
        assert np.any(arrays[0] != 0), name  # unchanged
        # Replacing, adding or removing entries of its lists and dicts raises too.
        containers = _containers(getattr(S, name))
        for container in containers:
            key = next(iter(container)) if isinstance(container, dict) else 0
            entry = container[key]
            for method, args in (("__setitem__", (key, None)), ("pop", (key,)), ("clear", ())):
                with pytest.raises(TypeError, match="read-only"):
                    getattr(container, method)(*args)
            assert container[key] is entry, name
        if isinstance(getattr(S, name), list):
            with pytest.raises(TypeError, match="read-only"):
                getattr(S, name).append(getattr(S, name)[0])
        # A deep copy is the user's own: plain, writable containers and arrays.
        copied = copy.deepcopy(getattr(S, name))
        assert all(type(c) in (list, dict) for c in _containers(copied)), name
        for array in jax.tree_util.tree_leaves(copied):
            if isinstance(array, np.ndarray):
                array[...] = 0
    np.testing.assert_array_equal(np.asarray(S(x)), before)


def _containers(tree) -> list:
    """Every list and dict in ``tree`` (nested lists, tuples, dicts), outermost first."""
    found = [tree] if isinstance(tree, (list, dict)) else []
    children = tree.values() if isinstance(tree, dict) else tree if isinstance(tree, (list, tuple)) else ()
    for child in children:
        found += _containers(child)
    return found


# --- 5. NumPy in, JAX out ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: Scattering1D(J=3, shape=64), (2, 64)),
        (lambda: Scattering2D(J=2, shape=(16, 16), L=2), (2, 16, 16)),
        (lambda: HarmonicScattering3D(J=1, shape=(8, 8, 8), L=1), (2, 8, 8, 8)),
    ],
)
def test_numpy_view_of_the_output_is_zero_copy_on_cpu(make, shape):
    out = make()(np.ones(shape, np.float32))
    assert isinstance(out, jax.Array)
    view = np.asarray(out)
    if out.devices() == {jax.devices("cpu")[0]}:
        assert view.__array_interface__["data"][0] == out.unsafe_buffer_pointer()


def test_float64_input_warns_it_is_computed_in_float32():
    if jax.config.jax_enable_x64:
        pytest.skip("64-bit mode is on: float64 input is computed in float64")
    S = Scattering1D(J=3, shape=64)
    with pytest.warns(UserWarning, match="computed in float32.*jax_enable_x64"):
        out = S(np.ones((1, 64)))
    assert out.dtype == np.float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        S(np.ones((1, 64), np.float32))  # float32: no warning


def test_float64_warning_is_shown_once_by_default():
    if jax.config.jax_enable_x64:
        pytest.skip("64-bit mode is on")
    S = Scattering1D(J=3, shape=64)
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        warnings.simplefilter("default")
        for _ in range(3):
            S(np.ones((1, 64)))
    assert sum("computed in float32" in str(w.message) for w in caught) == 1


# --- 6. size bounds: absurd sizes fail at once, naming the argument and its range ------------


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: Scattering1D(J=10**6, shape=1024), r"J=1000000 is too large.*J <= 10"),
        (lambda: Scattering1D(J=2**62, shape=1024), r"J=4611686018427387904 is too large.*J <= 10"),
        (lambda: Scattering1D(J=8, shape=(10**12,)), r"shape=\(1000000000000,\) needs at least"),
        (lambda: Scattering1D(J=3, shape=1024, Q=10**9), r"Q=\(1000000000, 1\) with J=3"),
        (lambda: Scattering1D(J=3, shape=1024, Q=(8, 10**9)), r"Q=\(8, 1000000000\) with J=3"),
        (lambda: Scattering1D(J=3, shape=1024, oversampling=10**6), r"oversampling must be <= 12.*up to 12"),
        (lambda: Scattering2D(J=2, shape=(32, 32), L=10**7), r"J=2, L=10000000 .* needs at least"),
        (lambda: Scattering2D(J=2**62, shape=(32, 32)), r"J=.* is too large.*\[1, 5\]"),
        (lambda: Scattering2D(J=2, shape=(10**7, 10**7)), r"needs at least .* memory"),
        # filters that fit (6.5 GiB), but L**2 second-order channels that do not
        (lambda: Scattering2D(J=2, shape=(32, 32), L=10**5), r"L=100000, max_order=2 .* for the output of one sample"),
        (lambda: HarmonicScattering3D(J=1, shape=(8, 8, 8), L=300), r"L=300 is too large.*degree-27 wavelets"),
        (lambda: HarmonicScattering3D(J=10**6, shape=(16, 16, 16)), r"J=1000000, L=3 .* needs at least"),
        (lambda: HarmonicScattering3D(J=10**4, shape=(16, 16, 16), L=0), r"J=10000 is too large .* J <= 74"),
        (lambda: HarmonicScattering3D(J=1, shape=(16, 16, 16), L=10**7), r"J=1, L=10000000 .* needs at least"),
        (lambda: HarmonicScattering3D(J=1, shape=(4096, 4096, 4096)), r"needs at least .* memory"),
        (lambda: TimeFrequencyScattering(J=8, J_fr=12, Q=8, shape=4096), r"J_fr=12 is too large.*\[0, 7\]"),
        (lambda: TimeFrequencyScattering(J=8, J_fr=40, Q=8, shape=4096), r"J_fr=40 is too large"),
        (lambda: TimeFrequencyScattering(J=8, J_fr=2000, Q=8, shape=4096), r"J_fr=2000 is too large"),
        (lambda: TimeFrequencyScattering(J=8, J_fr=2, Q=8, Q_fr=10**9, shape=4096), r"Q_fr=1000000000.*\[1, 72\]"),
        (lambda: TimeFrequencyScattering(J=2**62, J_fr=2, Q=8, shape=4096), r"J=.* is too large.*J <= 12"),
        (lambda: TimeFrequencyScattering(J=4, J_fr=2, Q=10**9, shape=4096), r"Q=\(1000000000, 1\)"),
    ],
)
def test_absurd_sizes_raise_value_error_within_a_second(build, match):
    start = time.perf_counter()
    with pytest.raises(ValueError, match=match):
        build()
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("make", [Scattering1D, lambda **kw: TimeFrequencyScattering(J_fr=2, **kw)])
def test_1d_filters_larger_than_memory_are_refused_at_once(make, monkeypatch):
    # Designing J=3 Q=1 filters for 2**24 samples peaks near 8 GB (2**25 padded samples times about
    # 250 bytes); the bound used to be 8 bytes per sample and filter (0.8 GB), so on a 4 GiB machine
    # the build ran into swap instead of raising.
    import scatterjax._core.validation as validation

    monkeypatch.setattr(validation, "physical_memory_bytes", lambda: 4 * 2**30)
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"Q=\(1, 1\) with J=3 and shape=\(16777216,\) needs at least 5.* GiB"):
        make(J=3, Q=1, shape=2**24)
    assert time.perf_counter() - start < 1.0
    assert make(J=3, Q=1, shape=2**12).shape == (2**12,)  # what fits still builds


def test_largest_allowed_J_fr_still_builds():
    # (J + 1) Q1 = 20 rows: J_fr = ceil(log2 20) = 5 is the largest allowed.
    S = TimeFrequencyScattering(J=4, J_fr=5, Q=4, shape=256)
    assert S.J_fr == 5
    with pytest.raises(ValueError, match=r"J_fr=6 is too large.*\[0, 5\]"):
        TimeFrequencyScattering(J=4, J_fr=6, Q=4, shape=256)


# --- 7. foreign inputs get our messages ------------------------------------------------------


def test_torch_tensor_points_to_scatterjax_torch():
    torch = pytest.importorskip("torch")
    S = Scattering1D(J=3, shape=64)
    with pytest.raises(TypeError, match=r"torch tensor.*scatterjax\.torch"):
        S(torch.zeros(2, 64))


def test_tensorflow_tensor_points_to_scatterjax_tensorflow():
    tf = pytest.importorskip("tensorflow")
    S = Scattering2D(J=2, shape=(16, 16), L=2)
    with pytest.raises(TypeError, match=r"tensorflow tensor.*scatterjax\.tensorflow"):
        S(tf.zeros((2, 16, 16)))


def test_masked_array_rejected():
    S = Scattering1D(J=3, shape=64)
    x = np.ma.masked_array(np.zeros((2, 64), np.float32), mask=np.zeros((2, 64), bool))
    with pytest.raises(TypeError, match=r"masked array.*filled"):
        S(x)


def test_ragged_list_is_a_clear_value_error():
    S = Scattering1D(J=3, shape=64)
    with pytest.raises(ValueError, match="ragged list"):
        S([[0.0] * 64, [0.0] * 63])


def test_non_array_input():
    S = Scattering2D(J=2, shape=(16, 16), L=2)
    with pytest.raises(TypeError, match="input should be a real float32 or float64 array"):
        S(None)


def test_nested_list_of_floats_is_accepted():
    S = Scattering1D(J=3, shape=64)
    x = np.random.default_rng(1).standard_normal((2, 64)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a list of Python floats is float64
        from_list = S(x.tolist())
    np.testing.assert_allclose(np.asarray(from_list), np.asarray(S(x)), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    "S, shape",
    [(Scattering1D(J=3, shape=64), (2, 64)), (Scattering2D(J=1, shape=(8, 8), L=2), (2, 8, 8))],
)
def test_big_endian_input_gives_the_native_arrays_numbers(S, shape):
    # Data read from big-endian files ('>f4'): the same values, so the same bits.
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    swapped = x.astype(">f4")
    assert not swapped.dtype.isnative
    assert np.array_equal(np.asarray(S(swapped)), np.asarray(S(x)))


@pytest.mark.parametrize(
    "name, kwargs, shape",
    [
        ("Scattering1D", dict(J=3, shape=64), (2, 64)),
        ("Scattering2D", dict(J=1, shape=(8, 8), L=2), (2, 8, 8)),
        ("HarmonicScattering3D", dict(J=1, shape=(6, 6, 6), L=1), (2, 6, 6, 6)),
    ],
)
def test_kymatios_setup_methods_run_again_and_change_nothing(name, kwargs, shape):
    # kymatio's constructor calls build() and create_filters(); code may call them again, which
    # there recomputes the same state and returns None.
    theirs = getattr(kymatio().numpy, name)(**kwargs)
    ours = getattr(scatterjax, name)(**kwargs)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    before = np.asarray(ours(x))
    bank = jax.tree.leaves(ours.bank)
    for method in ("build", "create_filters"):
        assert getattr(theirs, method)() is None
        assert getattr(ours, method)() is None
    np.testing.assert_array_equal(np.asarray(ours(x)), before)
    assert all(a is b for a, b in zip(jax.tree.leaves(ours.bank), bank, strict=True))
    assert {"build", "create_filters"} <= set(dir(ours))
