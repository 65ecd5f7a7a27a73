"""The adapters as kymatio's frontends: code written for kymatio's torch, TF, Keras and sklearn runs.

Covers kymatio 0.3.0's documented frontend behaviour that the adapters must reproduce: the torch
frontend's list/dict outputs with gradients, settings changed by assignment, float64 tensors in
float64 (against kymatio's NumPy float64 output); kymatio's attributes on the TF module and the
Keras layer, Keras refusing ``Q=[8]``; the sklearn frontend's ``(n, k * prod(shape))`` rows; empty
batches in every adapter; clear errors for forked DataLoader workers and foreign tensors; a model
checkpoint saved with kymatio's torch modules (their filter buffers) loading into ours.
"""

import functools
import importlib
import multiprocessing
import os
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from conftest import kymatio, rel_l2

import scatterjax
import scatterjax.numpy
import scatterjax.torch as storch

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SETTINGS_1D = dict(J=3, shape=64, Q=2)


def _signal(shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# --- torch: kymatio's torch frontend ------------------------------------------------------------


def test_torch_list_output_matches_core_and_gradients_flow_through_every_coefficient():
    kwargs = dict(SETTINGS_1D, T=0, out_type="list")  # unaveraged: paths of different lengths
    core = scatterjax.Scattering1D(**kwargs)
    x_np = _signal((2, 64))
    expected = core(x_np)
    module = storch.Scattering1D(**kwargs)
    x = torch.from_numpy(x_np.copy()).requires_grad_(True)
    output = module(x)
    assert isinstance(output, list) and len(output) == len(expected)
    for got, want in zip(output, expected):
        assert got.keys() == want.keys()
        assert got["j"] == want["j"] and got["n"] == want["n"]
        assert all(type(j) is int for j in got["j"])
        assert isinstance(got["coef"], torch.Tensor) and got["coef"].dtype == torch.float32
        assert rel_l2(got["coef"].detach().numpy(), want["coef"]) <= 1e-6
    sum((path["coef"] ** 2).sum() for path in output).backward()
    jax_grad = jax.grad(lambda x: sum(jnp.sum(path["coef"] ** 2) for path in core(x)))(x_np)
    assert rel_l2(x.grad.numpy(), jax_grad) <= 1e-5
    with torch.no_grad():  # the core's own call
        assert rel_l2(module(x)[5]["coef"].numpy(), expected[5]["coef"]) <= 1e-6


def test_torch_dict_output_and_the_gradient_of_one_path():
    kwargs = dict(SETTINGS_1D, out_type="dict")
    core = scatterjax.Scattering1D(**kwargs)
    x_np = _signal((3, 64), seed=1)
    expected = core(x_np)
    x = torch.from_numpy(x_np.copy()).requires_grad_(True)
    output = storch.Scattering1D(**kwargs)(x)
    assert list(output) == list(expected)
    for key in expected:
        assert rel_l2(output[key].detach().numpy(), expected[key]) <= 1e-6
    with torch.no_grad():  # the core's own call
        assert list(storch.Scattering1D(**kwargs)(x)) == list(expected)
    path = list(expected)[-1]  # a second-order path: other outputs get zero cotangents
    output[path].sum().backward()
    jax_grad = jax.grad(lambda x: jnp.sum(core(x)[path]))(x_np)
    assert rel_l2(x.grad.numpy(), jax_grad) <= 1e-5


def test_torch_setting_assignment_rebuilds_the_transform_or_raises():
    x_np = _signal((2, 64))
    x = torch.from_numpy(x_np)
    module = storch.Scattering1D(**SETTINGS_1D)
    module.max_order = 1
    first_order = scatterjax.Scattering1D(**SETTINGS_1D, max_order=1)
    assert module.max_order == 1 and module.output_size() == first_order.output_size()
    assert rel_l2(module(x).numpy(), first_order(x_np)) <= 1e-6
    module.J = 2
    assert rel_l2(module(x).numpy(), scatterjax.Scattering1D(J=2, shape=64, Q=2, max_order=1)(x_np)) <= 1e-6
    module.out_type = "dict"
    assert isinstance(module(x), dict) and module.out_type == "dict"
    # An invalid value raises the core's error and leaves the module as it was.
    with pytest.raises(ValueError, match="J=100"):
        module.J = 100
    assert module.J == 2 and isinstance(module(x), dict)
    # Values the core derives from the settings cannot be assigned.
    with pytest.raises(AttributeError, match="N_padded is derived from the settings and read-only"):
        module.N_padded = 512
    assert module.N_padded == scatterjax.Scattering1D(J=2, shape=64, Q=2).N_padded
    module.training = False  # torch's own attributes are untouched
    assert not module.training


@pytest.mark.parametrize("case", ["1d", "2d"])
def test_torch_float64_is_computed_in_float64_equal_to_kymatio_numpy(case):
    ky = kymatio()
    if case == "1d":
        name, kwargs, shape = "Scattering1D", dict(J=4, shape=256, Q=4), (2, 256)
    else:
        name, kwargs, shape = "Scattering2D", dict(J=2, shape=(16, 16), L=4), (2, 16, 16)
    assert not jax.config.jax_enable_x64  # the global setting stays off
    x_np = _signal(shape, np.float64)
    expected = getattr(ky.numpy, name)(**kwargs)(x_np)
    assert expected.dtype == np.float64
    module = getattr(storch, name)(**kwargs)
    assert module.double() is module and module.to("cpu") is module  # no tensors to move
    y = module(torch.from_numpy(x_np))
    assert y.dtype == torch.float64
    assert rel_l2(y.numpy(), expected) <= 1e-10
    y32 = module(torch.from_numpy(x_np.astype(np.float32)))  # float32 stays float32
    assert y32.dtype == torch.float32 and rel_l2(y32.numpy(), expected) <= 1e-5
    assert not jax.config.jax_enable_x64


def test_torch_float64_gradient_equals_jax_float64_gradient():
    x_np = _signal((2, 256), np.float64)
    with jax.enable_x64(True):
        core = scatterjax.Scattering1D(J=4, shape=256, Q=4)
        expected = jax.grad(lambda x: jnp.sum(core(x) ** 2))(x_np)
    assert expected.dtype == np.float64
    module = storch.Scattering1D(J=4, shape=256, Q=4)  # built with x64 off
    x = torch.from_numpy(x_np.copy()).requires_grad_(True)
    (module(x) ** 2).sum().backward()
    assert x.grad.dtype == torch.float64
    assert rel_l2(x.grad.numpy(), expected) <= 1e-10


def test_torch_reads_kymatio_attributes_from_the_core():
    core = scatterjax.Scattering2D(J=2, shape=(16, 16), L=4)
    module = storch.Scattering2D(J=2, shape=(16, 16), L=4)
    assert (module._M_padded, module._N_padded) == (core._M_padded, core._N_padded)
    assert (module.J, module.L, module.shape, module.max_order) == (2, 4, (16, 16), 2)
    assert len(module.psi) == len(core.psi)
    for got, want in zip(module.psi, core.psi):
        assert got["j"] == want["j"] and got["theta"] == want["theta"]
        np.testing.assert_array_equal(np.asarray(got["levels"][0]), np.asarray(want["levels"][0]))
    module_1d = storch.Scattering1D(**SETTINGS_1D)
    assert len(module_1d.psi1_f) == len(scatterjax.Scattering1D(**SETTINGS_1D).psi1_f)


def _assert_same_filters(ours, theirs, where: str) -> None:
    """Equal kymatio filter structures: dicts, lists, tensors (type, shape, dtype, values to float32
    rounding) and metadata."""
    if isinstance(theirs, dict):
        assert ours.keys() == theirs.keys(), where
        for key in theirs:
            _assert_same_filters(ours[key], theirs[key], f"{where}[{key!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _assert_same_filters(a, b, f"{where}[{i}]")
    elif isinstance(theirs, torch.Tensor):
        assert isinstance(ours, torch.Tensor), (where, type(ours))
        assert (ours.shape, ours.dtype, ours.device) == (theirs.shape, theirs.dtype, theirs.device), where
        scale = float(theirs.abs().max())
        assert float((ours.double() - theirs.double()).abs().max()) <= 1e-6 * scale, where
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, err_msg=where)


@pytest.mark.parametrize(
    "name, settings, attributes",
    [
        ("Scattering1D", dict(J=4, shape=256, Q=4), ("phi_f", "psi1_f", "psi2_f")),
        ("Scattering1D", dict(J=6, shape=1000, Q=(8, 2), T=32), ("phi_f", "psi1_f", "psi2_f")),
        ("HarmonicScattering3D", dict(J=2, shape=(12, 14, 16), L=2), ("filters", "gaussian_filters")),
    ],
)
def test_torch_filter_attributes_are_tensors_in_kymatio_torch_layout(name, settings, attributes):
    # kymatio's torch modules turn these filters into their buffers: float32 tensors, 1D's levels
    # (n, 1), 3D's complex filters with a trailing (real, imaginary) axis.
    kymatio()  # SciPy shim first
    theirs = getattr(importlib.import_module("kymatio.torch"), name)(**settings)
    ours = getattr(storch, name)(**settings)
    for attribute in attributes:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # e.g. torch's warning about wrapping read-only arrays
            ours_filters = getattr(ours, attribute)
        _assert_same_filters(ours_filters, getattr(theirs, attribute), attribute)
    assert list(ours.buffers()) == [] and list(ours.parameters()) == []
    ours.J = settings["J"] - 1  # a new setting designs new filters, in the same layout
    rebuilt = getattr(importlib.import_module("kymatio.torch"), name)(**{**settings, "J": settings["J"] - 1})
    _assert_same_filters(getattr(ours, attributes[0]), getattr(rebuilt, attributes[0]), "after J changed")


def test_torch_register_and_load_filters_do_what_kymatio_code_expects():
    kymatio()
    kymatio_torch = importlib.import_module("kymatio.torch")
    settings_2d = dict(J=2, shape=(32, 32), L=4)
    theirs, ours = kymatio_torch.Scattering2D(**settings_2d), storch.Scattering2D(**settings_2d)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours_filters = ours.load_filters()
    _assert_same_filters(ours_filters, theirs.load_filters(), "load_filters()")
    module_1d = storch.Scattering1D(**SETTINGS_1D)
    assert module_1d.load_filters() is None is kymatio_torch.Scattering1D(**SETTINGS_1D).load_filters()
    for module in (ours, module_1d, storch.HarmonicScattering3D(J=1, shape=(8, 8, 8), L=1)):
        assert module.register_filters() is None
        assert list(module.buffers()) == []  # the filters stay on the JAX side
    with pytest.raises(AttributeError, match="no load_filters"):
        storch.HarmonicScattering3D(J=1, shape=(8, 8, 8), L=1).load_filters()
    x = torch.from_numpy(_signal((2, 32, 32)))
    assert rel_l2(ours(x).numpy(), theirs(x).numpy()) <= 1e-6  # still the same transform


def test_sklearn_transformers_have_kymatio_padded_sizes():
    ky = kymatio()
    importlib.import_module("kymatio.sklearn")
    import scatterjax.sklearn as ssk

    theirs_2d = ky.sklearn.Scattering2D(J=2, shape=(30, 32), L=4)
    ours_2d = ssk.Scattering2D(J=2, shape=(30, 32), L=4)
    assert (ours_2d._M_padded, ours_2d._N_padded) == (theirs_2d._M_padded, theirs_2d._N_padded)
    assert ssk.Scattering1D(**SETTINGS_1D)._N_padded == ky.sklearn.Scattering1D(**SETTINGS_1D)._N_padded
    assert not hasattr(ours_2d, "_private_probe")  # other private names still are not the core's


def test_check_runtime_args_and_frequency_padding_on_cores_and_transformers():
    # kymatio's 1D and JTFS objects have _check_runtime_args() (None when the settings are valid),
    # and JTFS has _N_padded_fr; code written for them reads both, the transformers included.
    ky = kymatio()
    import scatterjax.sklearn as ssk

    assert ky.numpy.Scattering1D(**SETTINGS_1D)._check_runtime_args() is None
    settings = dict(J=6, J_fr=2, shape=1024, Q=8)
    jtfs, transformer = scatterjax.TimeFrequencyScattering(**settings), ssk.TimeFrequencyScattering(**settings)
    for transform in (scatterjax.Scattering1D(**SETTINGS_1D), ssk.Scattering1D(**SETTINGS_1D), jtfs, transformer):
        assert transform._check_runtime_args() is None
    assert transformer._N_padded_fr == jtfs._N_padded_fr == jtfs.N_frequency
    # The frequency axis is padded past the first-order wavelets by more than 2 F, to a multiple
    # of the largest frequential subsampling 2**J_fr.
    assert jtfs._N_padded_fr - len(jtfs.psi1_f) > 2 * jtfs.F
    assert jtfs._N_padded_fr % 2 ** jtfs.J_fr == 0


def test_check_runtime_args_refuses_what_kymatio_refuses():
    # 1D T=0 with out_type='array' builds in kymatio 0.3.0 and in ours; the check (and a call)
    # refuses it with the same kind of error, whose message keeps kymatio's words.
    ky = kymatio()
    settings = dict(J=4, shape=256, T=0)
    with pytest.raises(ValueError, match="Cannot convert") as theirs:
        ky.numpy.Scattering1D(**settings)._check_runtime_args()
    ours = scatterjax.Scattering1D(**settings)
    for run in (ours._check_runtime_args, lambda: ours(np.zeros(256, np.float32))):
        with pytest.raises(type(theirs.value), match="Cannot convert"):
            run()
    # In JTFS (kymatio main) these settings are refused when the object is built.
    jtfs = dict(J=6, J_fr=2, shape=1024, Q=8)
    with pytest.raises(ValueError, match="Cannot convert to out_type='array' with T=0"):
        scatterjax.TimeFrequencyScattering(T=0, **jtfs)
    with pytest.raises(ValueError, match="Cannot convert to format='joint' with out_type='array' and F=0"):
        scatterjax.TimeFrequencyScattering(F=0, format="joint", **jtfs)


def _in_a_forked_child(task) -> str:
    """What ``task()`` returned (or the message of its RuntimeError) in a forked child; fails the
    test if the child hangs or dies without a word."""
    context = multiprocessing.get_context("fork")  # multiprocessing's default on Linux before 3.14
    reader, writer = context.Pipe(duplex=False)

    def worker():
        try:
            writer.send(f"no error: {task()!r}")
        except RuntimeError as error:
            writer.send(str(error))
        except BaseException as error:  # anything else fails the test with its name
            writer.send(f"{type(error).__name__}: {error}")

    process = context.Process(target=worker)
    process.start()
    process.join(60)
    if process.is_alive():
        process.kill()
        pytest.fail("the forked child hung")
    if not reader.poll(10):
        pytest.fail(f"the forked child exited ({process.exitcode}) without a result")
    return reader.recv()


@pytest.mark.filterwarnings("ignore:os.fork")  # JAX's own warning: the very case under test
def test_torch_call_in_a_forked_child_raises_instead_of_hanging():
    module = storch.Scattering1D(**SETTINGS_1D)
    x = torch.from_numpy(_signal((1, 64)))
    module(x)  # JAX has run in this process; a DataLoader worker is a forked child on Linux
    message = _in_a_forked_child(lambda: module(x))
    assert "forked" in message and "multiprocessing_context='spawn'" in message, message


KYMATIO_CHECKPOINT_CASES = [
    ("Scattering1D", dict(J=5, shape=300, Q=(8, 2), T=16), dict(J=5, shape=300, Q=(8, 2), T=32)),
    ("Scattering2D", dict(J=2, shape=(16, 24), L=4), dict(J=2, shape=(16, 24), L=3)),
    ("HarmonicScattering3D", dict(J=1, shape=(8, 8, 8), L=2), dict(J=1, shape=(8, 8, 8), L=2, sigma_0=2)),
]


@pytest.mark.parametrize("name, settings, other_settings", KYMATIO_CHECKPOINT_CASES, ids=lambda v: str(v)[:12])
def test_torch_loads_a_state_dict_saved_with_kymatios_torch_module(name, settings, other_settings):
    # kymatio's torch modules keep their filters as buffers (tensor0, ...), so a model's checkpoint
    # holds them: it must load, strictly, once the import is changed; other settings' filters must not.
    kymatio()  # SciPy shim first
    kymatio_torch = importlib.import_module("kymatio.torch")
    with torch.no_grad():
        head = [torch.nn.Flatten(), torch.nn.LazyLinear(3)]
        saved = torch.nn.Sequential(getattr(kymatio_torch, name)(**settings), *head)
        x = torch.from_numpy(_signal((2, *np.atleast_1d(settings["shape"]))))
        expected = saved(x)
        checkpoint = saved.state_dict()
    assert any(key.startswith("0.tensor") for key in checkpoint)
    model = torch.nn.Sequential(getattr(storch, name)(**settings), torch.nn.Flatten(), torch.nn.LazyLinear(3))
    with torch.no_grad():
        model(x)  # materialise the lazy layer
        result = model.load_state_dict(checkpoint)
        assert not result.missing_keys and not result.unexpected_keys
        assert rel_l2(model(x).numpy(), expected.numpy()) <= 1e-5
    with pytest.raises(RuntimeError, match="0.tensor|under '0.'.*saved with other settings"):
        torch.nn.Sequential(getattr(storch, name)(**other_settings)).load_state_dict(
            {k: v for k, v in checkpoint.items() if k.startswith("0.")}
        )
    tampered = {k: v.clone() for k, v in checkpoint.items() if k.startswith("0.")}
    tampered["0.tensor1"][..., 0] += 0.01
    with pytest.raises(RuntimeError, match=r"tensor1 differs"):
        torch.nn.Sequential(getattr(storch, name)(**settings)).load_state_dict(tampered, strict=False)


def test_torch_loads_kymatio_mains_time_frequency_buffers():
    # kymatio main's torch JTFS registers phi_f, psi1_f, psi2_f, then filters_fr's levels: built here
    # from the levels kymatio main stored (tests/data/kymatio_main/attributes_jtfs.npz), in that order.
    import json

    from conftest import DATA

    stored = np.load(DATA / "kymatio_main" / "attributes_jtfs.npz")
    settings = {k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(str(stored["1/kwargs"])).items()}

    def levels(key):
        names = [n for n in stored.files if n.startswith(f"1/{key}/levels/")]
        return [stored[n] for n in sorted(names, key=lambda n: int(n.rsplit("/", 1)[1]))]

    def filter_count(key):
        return len({n.split("/")[2] for n in stored.files if n.startswith(f"1/{key}/")})

    keys = ["phi_f", *(f"psi1_f/{n}" for n in range(filter_count("psi1_f"))),
            *(f"psi2_f/{n}" for n in range(filter_count("psi2_f"))), "filters_fr/0",
            *(f"filters_fr/1/{n}" for n in range(len({n.split("/")[3] for n in stored.files
                                                      if n.startswith("1/filters_fr/1/")})))]
    buffers = [torch.from_numpy(level.astype(np.float32)).view(-1, 1) for key in keys for level in levels(key)]
    checkpoint = {f"tensor{n}": buffer for n, buffer in enumerate(buffers)}
    module = storch.TimeFrequencyScattering(**settings)
    result = module.load_state_dict(checkpoint)
    assert not result.missing_keys and not result.unexpected_keys
    del checkpoint[f"tensor{len(buffers) - 1}"]
    with pytest.raises(RuntimeError, match=f"holds {len(buffers) - 1} filter buffers .* has {len(buffers)}"):
        module.load_state_dict(checkpoint)


@pytest.mark.parametrize("out_type", ["array", "list"])
def test_torch_compiled_model_equals_eager_forward_and_gradient(out_type):
    # torch.compile cannot trace into JAX: the scattering runs as a graph break, the rest compiled.
    scattering = storch.Scattering1D(**SETTINGS_1D, out_type=out_type)

    def features(x):
        output = scattering(x)
        return output if out_type == "array" else torch.stack([path["coef"] for path in output], dim=-2)

    torch.manual_seed(0)
    linear = torch.nn.Linear(8, 1)
    model = lambda x: linear(features(x)).sum()  # noqa: E731
    compiled = torch.compile(model, backend="aot_eager")  # dynamo and AOTAutograd, without codegen
    x_np = _signal((3, 64))
    x, x_compiled = (torch.from_numpy(x_np.copy()).requires_grad_(True) for _ in range(2))
    loss, loss_compiled = model(x), compiled(x_compiled)
    loss.backward()
    loss_compiled.backward()
    assert abs(loss_compiled.item() - loss.item()) <= 1e-5 * abs(loss.item())
    assert rel_l2(x_compiled.grad.numpy(), x.grad.numpy()) <= 1e-5


def test_torch_foreign_tensors_are_refused_with_a_clear_type_error():
    module = storch.Scattering1D(**SETTINGS_1D)
    with pytest.raises(TypeError, match="meta"):
        module(torch.zeros(2, 64, device="meta"))
    with pytest.raises(TypeError, match=r"to_dense"):
        module(torch.zeros(2, 64).to_sparse())
    with pytest.raises(TypeError, match="torch.Tensor"):
        module(np.zeros((2, 64), np.float32))
    with pytest.raises(TypeError, match="input should be"):  # kymatio's words (its tests look for them)
        module(None)
    if not torch.cuda.is_available():  # no tensors to move: .cuda() is harmless on a CPU machine
        assert module.cuda() is module


def test_torch_wrong_shapes_are_refused_in_kymatios_torch_words_and_strided_tensors_taken():
    # kymatio's torch tests look for "Tensor must be of spatial size" and, for a strided tensor of
    # the wrong shape, "must be contiguous" (kymatio refuses any strided tensor).
    module = storch.Scattering2D(J=2, shape=(16, 16))
    with pytest.raises(RuntimeError, match=r"Tensor must be of spatial size \(16, 16\)"):
        module(torch.randn(15, 15))
    with pytest.raises(ValueError, match="must be contiguous"):
        module(torch.randn(4, 4)[::2, ::2])
    padded = storch.Scattering2D(J=2, shape=(16, 16), pre_pad=True)
    with pytest.raises(RuntimeError, match=r"Padded tensor must be of spatial size"):
        padded(torch.randn(15, 15))
    images = torch.randn(2, 32, 32)
    strided = images[:, ::2, ::2]
    assert not strided.is_contiguous()
    np.testing.assert_array_equal(module(strided).numpy(), module(strided.contiguous()).numpy())


# --- TensorFlow and Keras ----------------------------------------------------------------------


def test_tensorflow_module_exposes_kymatio_attributes_and_refuses_foreign_tensors():
    tf = pytest.importorskip("tensorflow")
    import scatterjax.tensorflow as stf

    ky = kymatio().numpy.Scattering1D(J=4, shape=256, Q=4)
    module = stf.Scattering1D(J=4, shape=256, Q=4)
    for name in ("J", "shape", "max_order", "oversampling", "N"):
        assert getattr(module, name) == getattr(ky, name), name
    assert module.Q == (4, 1) and module.output_size() == ky.output_size()
    with pytest.raises(AttributeError, match="read-only"):
        module.max_order = 1
    x = _signal((2, 256))
    with pytest.raises(TypeError, match="tf.sparse.to_dense"):
        module(tf.sparse.from_dense(x))
    with pytest.raises(TypeError, match="RaggedTensor"):
        module(tf.ragged.constant([[1.0, 2.0], [3.0]]))
    unknown_rank = tf.function(module, input_signature=[tf.TensorSpec(None, tf.float32)])
    with pytest.raises(ValueError, match="known rank"):
        unknown_rank(x)
    unknown_length = tf.function(module, input_signature=[tf.TensorSpec([None, None], tf.float32)])
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 256\).*unknown trailing"):
        unknown_length(x)


def test_keras_layer_refuses_a_list_q_and_reads_kymatio_attributes():
    keras = pytest.importorskip("keras")
    import scatterjax.keras as skeras

    with pytest.raises(ValueError, match=r"Q must be an integer or a tuple, not a list; got Q=\[8\]"):
        skeras.Scattering1D(J=4, Q=[8])  # kymatio's words: "Q must be an integer or a tuple"
    layer = skeras.Scattering1D(J=4, Q=4)
    assert (layer.J, layer.Q, layer.max_order) == (4, 4, 2)  # before build: the arguments
    if keras.backend.backend() != "tensorflow":
        return
    with pytest.raises(AttributeError, match="build"):
        layer.scattering(_signal((2, 256)))  # kymatio's layer has no transform before build either
    ky = kymatio().numpy.Scattering1D(J=4, shape=256, Q=4)
    x = _signal((2, 256))
    assert rel_l2(layer(x), scatterjax.Scattering1D(J=4, shape=256, Q=4)(x)) <= 1e-6
    import tensorflow as tf

    coefficients = layer.scattering(tf.constant(x))  # kymatio's method: TF tensors in and out
    assert isinstance(coefficients, tf.Tensor)
    assert rel_l2(coefficients.numpy(), scatterjax.Scattering1D(J=4, shape=256, Q=4)(x)) <= 1e-6
    assert (layer.J, layer.Q, layer.shape, layer.N_padded) == (4, ky.Q, ky.shape, ky._N_padded)
    with pytest.raises(AttributeError, match="read-only"):
        layer.J = 5


# --- scikit-learn --------------------------------------------------------------------------------


def test_sklearn_through_kymatios_entry_point_refuses_bad_settings_at_construction():
    # ``Scattering1D(..., frontend='sklearn')`` builds the transform at once, as kymatio's entry
    # point does; the transformer's own constructor keeps scikit-learn's convention (no checks).
    import scatterjax.sklearn as ssk

    with pytest.raises(ValueError, match="Q should always be >= 1"):
        scatterjax.Scattering1D(3, (1024,), Q=0.9, frontend="sklearn")
    with pytest.raises(ValueError, match="Q must be an integer or a tuple"):
        scatterjax.Scattering1D(3, (1024,), Q=[8], frontend="sklearn")
    lazy = ssk.Scattering1D(3, (1024,), Q=[8])
    with pytest.raises(ValueError, match="Q must be an integer or a tuple"):
        lazy.fit()  # the cache of built transforms tells [8] from (8,): the list is still refused
    assert isinstance(scatterjax.Scattering1D(3, (1024,), Q=8, frontend="sklearn"), ssk.Scattering1D)


def test_sklearn_attributes_read_kymatios_settings_and_get_params_the_arguments():
    from sklearn.base import clone

    import scatterjax.sklearn as ssk

    transformer = ssk.Scattering1D(3, 1024, Q=8)
    theirs = kymatio().numpy.Scattering1D(3, 1024, Q=8)
    assert (transformer.Q, transformer.shape, transformer.T) == (theirs.Q, theirs.shape, theirs.T)
    params = transformer.get_params()
    assert (params["Q"], params["shape"]) == (8, 1024)  # as given: clone and set_params need them
    copy = clone(transformer)
    assert copy.get_params() == params and copy.Q == (8, 1)
    assert transformer.set_params(Q=(4, 2)) is transformer and transformer.Q == (4, 2)
    with pytest.raises(ValueError, match="Invalid parameter 'foo'"):
        transformer.set_params(foo=1)


@pytest.mark.parametrize("out_type", ["array", "dict"])
def test_sklearn_transformer_called_is_kymatios_numpy_frontend(out_type):
    # kymatio's transformers are its NumPy frontend too: S(x) and S.scattering(x) give that
    # frontend's unflattened output, any out_type (kymatio's own tests call them).
    import scatterjax.sklearn as ssk

    def arrays(output):
        return list(output.values()) if isinstance(output, dict) else [output]

    x = _signal((2, 64))
    transformer = scatterjax.Scattering1D(frontend="sklearn", out_type=out_type, **SETTINGS_1D)
    assert isinstance(transformer, ssk.Scattering1D)
    expected = scatterjax.numpy.Scattering1D(out_type=out_type, **SETTINGS_1D)(x)
    for output in (transformer(x), transformer.scattering(x)):
        assert type(output) is type(expected)
        for ours, theirs in zip(arrays(output), arrays(expected), strict=True):
            assert isinstance(ours, np.ndarray)
            np.testing.assert_array_equal(ours, theirs)
    if out_type == "array":
        np.testing.assert_array_equal(transformer.transform(x), expected.reshape(2, -1))


@pytest.mark.parametrize("signals_per_row", [1, 3])
def test_sklearn_rows_of_several_signals_equal_kymatio_sklearn(signals_per_row):
    import scatterjax.sklearn as ssk

    ky = kymatio()
    importlib.import_module("kymatio.sklearn")  # after kymatio(), which installs a SciPy shim
    X = _signal((4, signals_per_row * 64), np.float64)  # (n, k * prod(shape)) for shape (8, 8)
    expected = ky.sklearn.Scattering2D(J=1, shape=(8, 8)).transform(X)
    transformer = ssk.Scattering2D(J=1, shape=(8, 8))
    features = transformer.fit_transform(X)
    assert features.shape == expected.shape
    assert rel_l2(features, expected) <= 1e-5
    stacked = X.reshape(4 * signals_per_row, 8, 8)  # (n, *shape): one signal per row
    core = scatterjax.Scattering2D(J=1, shape=(8, 8))
    assert rel_l2(transformer.transform(stacked), np.asarray(core(stacked)).reshape(len(stacked), -1)) <= 1e-6
    with pytest.raises(ValueError, match=r"k \* 64"):
        transformer.transform(np.zeros((2, 100)))


# --- empty batches, every adapter ----------------------------------------------------------------


def _empty_output(adapter):
    x = np.zeros((0, 64), np.float32)
    if adapter == "torch":
        return storch.Scattering1D(**SETTINGS_1D)(torch.from_numpy(x)).numpy()
    if adapter == "torch_grad":
        x = torch.from_numpy(x).requires_grad_(True)
        y = storch.Scattering1D(**SETTINGS_1D)(x)
        y.sum().backward()
        assert x.grad.shape == (0, 64)
        return y.detach().numpy()
    if adapter in ("tensorflow", "tf.function"):
        tf = pytest.importorskip("tensorflow")
        import scatterjax.tensorflow as stf

        module = stf.Scattering1D(**SETTINGS_1D)
        if adapter == "tf.function":
            module = tf.function(module, input_signature=[tf.TensorSpec([None, 64], tf.float32)])
        return module(x).numpy()
    if adapter == "keras":
        keras = pytest.importorskip("keras")
        import scatterjax.keras as skeras

        settings = {key: value for key, value in SETTINGS_1D.items() if key != "shape"}
        layer = skeras.Scattering1D(**settings)
        layer.build((None, 64))
        return keras.ops.convert_to_numpy(layer(x))
    if adapter == "sklearn":
        import scatterjax.sklearn as ssk

        return ssk.Scattering1D(**SETTINGS_1D).transform(x)
    if adapter == "equinox":
        import scatterjax.equinox as seqx

        return np.asarray(seqx.Scattering1D(**SETTINGS_1D)(x))
    if adapter == "flax":
        import scatterjax.flax as snnx

        return np.asarray(snnx.Scattering1D(**SETTINGS_1D)(x))
    import scatterjax.flax.linen as slinen

    module = slinen.Scattering1D(**SETTINGS_1D)
    return np.asarray(module.apply(module.init(jax.random.key(0), x), x))


@pytest.mark.parametrize(
    "adapter",
    ["torch", "torch_grad", "tensorflow", "tf.function", "keras", "sklearn", "equinox", "flax", "linen"],
)
def test_an_empty_batch_gives_an_empty_output_of_the_right_shape(adapter):
    expected = np.asarray(scatterjax.Scattering1D(**SETTINGS_1D)(np.zeros((1, 64), np.float32)))
    output = _empty_output(adapter)
    if adapter == "sklearn":  # one flat row per sample
        assert output.shape == (0, expected[0].size)
    else:
        assert output.shape == (0, *expected.shape[1:])
    assert output.dtype == np.float32


# --- every frontend ------------------------------------------------------------------------------


@pytest.mark.parametrize("frontend", ["numpy", "jax", "torch", "sklearn", "tensorflow", "keras"])
def test_frontend_name_is_kymatios_and_dir_lists_the_core_attributes(frontend):
    pytest.importorskip({"tensorflow": "tensorflow", "keras": "keras", "sklearn": "sklearn"}.get(frontend, "numpy"))
    kymatio()  # first: it installs the SciPy shim kymatio's frontends need
    ours = importlib.import_module(f"scatterjax.{frontend}")
    theirs = importlib.import_module(f"kymatio.{frontend}")
    kwargs = {} if frontend == "keras" else {"shape": 64}  # a Keras layer reads the shape at build
    want = theirs.Scattering1D(J=3, Q=2, **kwargs).frontend_name
    assert want in ("numpy", "jax", "torch", "tensorflow", "keras")
    transform = ours.Scattering1D(J=3, Q=2, **kwargs)
    assert transform.frontend_name == want
    if frontend == "keras":
        transform(_signal((1, 64)))  # built: the core now exists
    # What the object reads from its core shows in dir(), so tab completion offers it.
    assert {"J", "Q", "psi1_f", "pad_left", "frontend_name"} <= set(dir(transform))
    # A deprecated attribute is still read (with kymatio's warning) but not listed.
    assert "J_pad" not in dir(transform)
    with pytest.warns(DeprecationWarning, match="J_pad is deprecated"):
        assert 2**transform.J_pad == transform.N_padded


@pytest.mark.filterwarnings("ignore:os.fork")  # JAX's own warning: the very case under test
def test_core_and_numpy_calls_in_a_forked_child_raise_instead_of_hanging():
    # kymatio.numpy code such as multiprocessing.Pool().map(S, chunks) forks on Linux.
    x = _signal((1, 64))
    built = [scatterjax.Scattering1D(**SETTINGS_1D), scatterjax.numpy.Scattering1D(**SETTINGS_1D)]
    for S in built:
        S(x)  # JAX has run in this process
    tasks = [*built, lambda _: scatterjax.Scattering2D(J=2, shape=(16, 16)), built[0].scalogram]
    for task in tasks:
        message = _in_a_forked_child(functools.partial(task, x))
        assert "forked" in message and "'spawn'" in message, message
    assert np.isfinite(np.asarray(built[1](x))).all()  # the parent still computes
