"""Every adapter x transform takes exactly the core class's arguments, and reads the core's attributes.

The adapters are generated from the core classes' signatures, so these tests compare against
``inspect.signature`` of the core class at run time: an argument added to a core class must show
up in every adapter, with the same name, default and position.
"""

import importlib
import inspect
import os
import warnings

import numpy as np
import pytest
from adapter_cases import CONFIGS, core_class

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TRANSFORMS = ("Scattering1D", "Scattering2D", "HarmonicScattering3D", "TimeFrequencyScattering")

# adapter module -> (core arguments it takes from elsewhere, framework-only parameters it adds)
ADAPTERS = {
    "scatterjax.torch": ((), ()),
    "scatterjax.tensorflow": ((), ("name",)),
    "scatterjax.keras": (("shape",), ("kwargs",)),  # Keras reads shape from the input in build()
    "scatterjax.sklearn": ((), ()),
    "scatterjax.equinox": ((), ()),
    "scatterjax.flax": ((), ()),
    "scatterjax.flax.linen": ((), ("parent", "name")),  # linen's own dataclass fields
}


def _adapter_module(name):
    module = name.split(".")[1]
    pytest.importorskip({"flax": "flax", "sklearn": "sklearn", "keras": "keras"}.get(module, module))
    return importlib.import_module(name)


@pytest.mark.parametrize("transform", TRANSFORMS)
@pytest.mark.parametrize("module_name", ADAPTERS)
def test_adapter_signature_is_the_core_signature(module_name, transform):
    dropped, extras = ADAPTERS[module_name]
    adapter = getattr(_adapter_module(module_name), transform)
    core = inspect.signature(core_class(transform)).parameters.values()
    # ``frontend`` (kymatio's entry-point argument, which picks an adapter) is the core's alone, as
    # kymatio's frontend classes do not take it.
    expected = [(p.name, p.default) for p in core if p.name not in (*dropped, "frontend")]
    got = list(inspect.signature(adapter).parameters.values())
    assert [(p.name, p.default) for p in got[: len(expected)]] == expected
    assert [p.name for p in got[len(expected) :]] == list(extras)
    # Positional arguments bind as in the core (kymatio's Scattering1D(J, shape, Q) and so on).
    kinds = {p.name: p.kind for p in core}
    assert all(p.kind == kinds[p.name] for p in got[: len(expected)])


def test_positional_arguments_and_every_core_setting_reach_the_core():
    import scatterjax.equinox as seqx
    import scatterjax.sklearn as ssk

    core = core_class("Scattering1D")(6, 256, 4, None, 1, stride=8, levels="sum")
    for adapter in (seqx.Scattering1D(6, 256, 4, None, 1, stride=8, levels="sum"),):
        assert repr(adapter.transform) == repr(core)
    transformer = ssk.Scattering1D(6, 256, 4, None, 1, stride=8, levels="sum")
    bound = inspect.signature(core_class("Scattering1D")).bind(6, 256, 4, None, 1, stride=8, levels="sum")
    bound.apply_defaults()
    assert transformer.get_params() == {k: v for k, v in bound.arguments.items() if k != "frontend"}
    x = np.random.default_rng(0).standard_normal((2, 256)).astype(np.float32)
    expected = np.asarray(core(x)).reshape(2, -1)
    np.testing.assert_array_equal(transformer.transform(x), expected)
    with pytest.raises(TypeError, match=r"Scattering1D\(\): .*'bogus'"):
        seqx.Scattering1D(J=6, shape=256, bogus=1)
    with pytest.raises(TypeError, match="missing a required argument: 'shape'"):
        ssk.Scattering1D(J=6)


def _build(module_name, transform, kwargs, x):
    """The adapter, called once on ``x`` where its framework builds on first call."""
    module = _adapter_module(module_name)
    cls = getattr(module, transform)
    if module_name == "scatterjax.keras":
        layer = cls(**{k: v for k, v in kwargs.items() if k != "shape"})
        layer(x)
        return layer
    return cls(**kwargs)


@pytest.mark.parametrize("case", ["1d", "2d", "3d", "jtfs"])
@pytest.mark.parametrize("module_name", ADAPTERS)
def test_meta_output_size_and_attributes_come_from_the_core(module_name, case):
    if module_name == "scatterjax.keras":
        keras = pytest.importorskip("keras")
        if keras.backend.backend() != "tensorflow":
            pytest.skip("this process runs another Keras backend")
    name, kwargs, input_shape = CONFIGS[case]
    core = core_class(name)(**kwargs)
    x = np.zeros(input_shape, np.float32)
    adapter = _build(module_name, name, kwargs, x)
    assert adapter.output_size() == core.output_size()
    meta, expected = adapter.meta(), core.meta()
    assert meta.keys() == expected.keys()
    for key in expected:
        if key == "key":
            assert meta[key] == expected[key]
        else:
            np.testing.assert_array_equal(meta[key], expected[key])
    # kymatio's read-only attributes: every public setting and derived value of the core.
    # dir() leaves out the attributes that warn (J_pad, deprecated in kymatio), so reading every
    # listed one, as torch.jit.trace and Keras do, is silent.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        names = [n for n in dir(core) if not n.startswith("_") and not callable(getattr(core, n))]
    own = {"filters"} if module_name in ("scatterjax.tensorflow", "scatterjax.keras", "scatterjax.flax") else set()
    assert {"J", "shape", "max_order" if case != "jtfs" else "J_fr"} <= set(names)
    if module_name in ("scatterjax.sklearn", "scatterjax.flax.linen"):
        # Their frameworks keep the constructor's arguments as given (Q=4, not the core's (4, 1)).
        own |= set(inspect.signature(core_class(name)).parameters)
    # frontend_name names each frontend's own array library, as in kymatio.
    for attribute in set(names) - own - {"bank", "frontend_name"}:
        value, want = getattr(adapter, attribute), getattr(core, attribute)
        plain = (int, float, str, type(None))
        if isinstance(want, plain) or (isinstance(want, tuple) and all(isinstance(v, plain) for v in want)):
            assert value == want, attribute
    # dir() (tab completion) lists what is read from the core.
    assert set(names) - own <= set(dir(adapter))
    with pytest.raises(AttributeError, match="no attribute 'not_a_setting'"):
        _ = adapter.not_a_setting
