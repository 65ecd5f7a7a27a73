"""TensorFlow and Keras adapters: the core's numbers eagerly and in tf.function, and its gradients."""

import importlib
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf
from adapter_cases import CONFIGS, core_class, reference  # noqa: E402
from conftest import rel_l2  # noqa: E402

import scatterjax.tensorflow as stf  # noqa: E402


def test_kymatios_exception_types_and_pre_padded_input():
    # kymatio's TensorFlow layers raise TypeError for input that is no tensor and RuntimeError for
    # a wrong shape; ours raise TypeError and ShapeError (a ValueError and a RuntimeError).
    layer = stf.Scattering2D(J=2, shape=(16, 16), L=2)
    with pytest.raises(TypeError, match="convertible to a TensorFlow Tensor"):
        layer(None)
    for bad in (tf.zeros((15, 15)), np.zeros(16, np.float32)):
        with pytest.raises(RuntimeError, match=r"\(\.\.\., 16, 16\)") as record:
            layer(bad)
        assert isinstance(record.value, ValueError)
    with pytest.raises(RuntimeError, match="shape") as record:  # inside a traced tf.function too
        tf.function(layer)(tf.zeros((2, 15, 15)))
    assert isinstance(record.value, ValueError)
    # pre_pad=True takes images of the padded shape, as the core does.
    padded = stf.Scattering2D(J=2, shape=(16, 16), L=2, pre_pad=True)
    core = core_class("Scattering2D")(J=2, shape=(16, 16), L=2, pre_pad=True)
    x = np.random.default_rng(0).standard_normal((2, *core.input_shape)).astype(np.float32)
    assert core.input_shape == (core.M_padded, core.N_padded) != (16, 16)
    np.testing.assert_array_equal(padded(x).numpy(), np.asarray(core(x)))
    graph = tf.function(padded, input_signature=[tf.TensorSpec([None, *core.input_shape], tf.float32)])
    np.testing.assert_array_equal(graph(tf.constant(x)).numpy(), np.asarray(core(x)))
    with pytest.raises(RuntimeError, match=r"pre_pad=True, x must already be padded to shape \(\.\.\., 24, 24\)"):
        padded(np.zeros((2, 16, 16), np.float32))


@pytest.mark.parametrize("dim", ["1d", "2d"])
def test_deepcopy_after_a_call(dim):
    # copy.deepcopy(layer) works with kymatio's TensorFlow layers, also once they have run; ours
    # leaves its traced tf.functions out of the copy, which gets its own filter variables.
    import copy

    name, kwargs, _ = CONFIGS[dim]
    _, x_np, expected_y, _ = reference(dim)
    module = getattr(stf, name)(**kwargs)
    y = module(x_np)
    copied = copy.deepcopy(module)
    assert copied.filters[0] is not module.filters[0]
    assert len(copied.variables) == len(module.variables)
    assert np.array_equal(copied(x_np), y)
    x = tf.constant(x_np)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        losses = [tf.reduce_sum(layer(x) ** 2) for layer in (module, copied)]
    grads = [tape.gradient(loss, x) for loss in losses]
    assert np.array_equal(grads[0], grads[1])
    assert rel_l2(y, expected_y) <= 1e-6


@pytest.mark.parametrize("dim", CONFIGS)
def test_eager_graph_and_gradient_match_core(dim):
    name, kwargs, input_shape = CONFIGS[dim]
    core, x2, y2, expected_grad = reference(dim)
    module = getattr(stf, name)(**kwargs)
    sample_shape = input_shape[1:]
    graph = tf.function(module, input_signature=[tf.TensorSpec([None, *sample_shape], tf.float32)])
    x3 = np.random.default_rng(1).standard_normal((3, *sample_shape)).astype(np.float32)
    for x, expected in ((x2, y2), (x3, core(x3))):
        assert rel_l2(module(x), expected) <= 1e-6
        y = graph(tf.constant(x))
        assert y.shape == expected.shape
        assert rel_l2(y, expected) <= 1e-6
    assert graph.experimental_get_tracing_count() == 1
    assert graph.get_concrete_function().structured_outputs.shape[0] is None

    x = tf.constant(x2)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(module(x) ** 2)
    assert rel_l2(tape.gradient(loss, x), expected_grad) <= 1e-5
    assert module.trainable_variables == ()
    assert module.output_size() == core.output_size()


@pytest.mark.parametrize(
    "name, kwargs",
    [("Scattering1D", dict(J=6, shape=2048, Q=8)), ("TimeFrequencyScattering", dict(J=5, J_fr=2, Q=8, shape=1024))],
)
def test_a_signals_bits_do_not_depend_on_its_batch(name, kwargs):
    # TensorFlow compiles the converted program for a symbolic batch size; computed all at once,
    # a signal's last bits changed with the batch it came in (1D and JTFS at these lengths).
    module = getattr(stf, name)(**kwargs)
    length = kwargs["shape"]
    x = np.random.default_rng(3).standard_normal((11, length)).astype(np.float32)
    whole = module(x).numpy()
    for rows in (slice(0, 1), slice(0, 3), slice(4, 9), slice(1, 11)):
        np.testing.assert_array_equal(module(x[rows]).numpy(), whole[rows])
    graph = tf.function(module, input_signature=[tf.TensorSpec([None, length], tf.float32)])
    np.testing.assert_array_equal(graph(tf.constant(x[2:7])).numpy(), whole[2:7])
    assert rel_l2(whole, core_class(name)(**kwargs)(x)) <= 1e-6


def test_gradient_inside_tf_function_and_batch_dims():
    core = core_class("Scattering1D")(J=4, shape=256, Q=4)
    module = stf.Scattering1D(J=4, shape=256, Q=4)

    @tf.function(input_signature=[tf.TensorSpec([None, 256], tf.float32)])
    def grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(module(x) ** 2)
        return tape.gradient(loss, x)

    x = np.random.default_rng(1).standard_normal((3, 256)).astype(np.float32)
    expected = jax.grad(lambda x: jnp.sum(core(x) ** 2))(x)
    assert rel_l2(grad(tf.constant(x)), expected) <= 1e-5
    x3 = np.random.default_rng(2).standard_normal((2, 3, 256)).astype(np.float32)
    assert rel_l2(module(x3), core(x3)) <= 1e-6
    assert rel_l2(module(x3[0, 0]), core(x3[0, 0])) <= 1e-6
    with pytest.raises(ValueError, match="shape"):
        module(tf.zeros([2, 128]))
    with pytest.raises(ValueError, match="out_type"):
        stf.Scattering1D(J=4, shape=256, T=0, out_type="dict")


def test_time_frequency_scattering_joint_batch_dims_and_list_rejected():
    name, kwargs, _ = CONFIGS["jtfs_joint"]
    core = reference("jtfs_joint")[0]
    module = stf.TimeFrequencyScattering(**kwargs)
    x = np.random.default_rng(2).standard_normal((2, 3, 64)).astype(np.float32)
    y = module(x)
    assert y.shape.rank == 5 and tuple(y.shape[:2]) == (2, 3)  # (*batch, C_joint, R, N_out)
    assert rel_l2(y, core(x)) <= 1e-6
    assert rel_l2(module(x[0, 0]), core(x[0, 0])) <= 1e-6  # no batch dimension
    assert len(module.filters) == len(jax.tree_util.tree_leaves(core))
    with pytest.raises(ValueError, match="shape"):
        module(tf.zeros([2, 128]))
    with pytest.raises(ValueError, match="out_type='list' is not supported by the TensorFlow adapter"):
        stf.TimeFrequencyScattering(J=3, J_fr=1, Q=2, shape=64, out_type="list")


def test_time_frequency_scattering_longer_than_64_samples():
    # The layer converts with a symbolic batch; JTFS's frequency scattering budgets its time chunks
    # by the batch, which crashed the conversion from 128 samples on (64 fits one chunk).
    kwargs = dict(J=4, J_fr=2, Q=4, shape=128)
    core = core_class("TimeFrequencyScattering")(**kwargs)
    module = stf.TimeFrequencyScattering(**kwargs)
    x = np.random.default_rng(3).standard_normal((3, 128)).astype(np.float32)
    assert rel_l2(module(x), core(x)) <= 1e-6
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(module(x) ** 2)
    expected = jax.grad(lambda x: jnp.sum(core(x) ** 2))(x.numpy())
    assert rel_l2(tape.gradient(loss, x), expected) <= 1e-5


def test_saved_model_round_trip_with_gradient(tmp_path):
    module = stf.Scattering1D(J=4, shape=256, Q=4)
    module.serve = tf.function(module.__call__, input_signature=[tf.TensorSpec([None, 256], tf.float32)])
    tf.saved_model.save(module, str(tmp_path))
    loaded = tf.saved_model.load(str(tmp_path))
    x = tf.constant(np.random.default_rng(3).standard_normal((4, 256)).astype(np.float32))
    assert rel_l2(loaded.serve(x), module(x)) <= 1e-6
    grads = []
    for fn in (loaded.serve, module):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(fn(x) ** 2)
        grads.append(tape.gradient(loss, x))
    assert rel_l2(grads[0], grads[1]) <= 1e-6


def test_keras_sequential_compiles_and_fits(tmp_path):
    import keras

    if keras.backend.backend() != "tensorflow":
        pytest.skip("this process runs another Keras backend")
    from scatterjax.keras import Scattering1D

    core = core_class("Scattering1D")(J=4, shape=256, Q=4)
    layer = Scattering1D(J=4, Q=4)
    model = keras.Sequential([keras.Input((256,)), layer, keras.layers.Flatten(), keras.layers.Dense(3)])
    assert model.output_shape == (None, 3)
    assert layer.compute_output_shape((None, 256)) == (None,) + core(np.zeros((1, 256), np.float32)).shape[1:]
    assert not layer.trainable_weights
    model.compile(
        optimizer=keras.optimizers.AdamW(1e-2, weight_decay=1e-1),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 256)).astype(np.float32)
    y = rng.integers(0, 3, 16)
    head_before = model.layers[-1].kernel.numpy().copy()
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert not np.array_equal(head_before, model.layers[-1].kernel.numpy())
    assert rel_l2(layer(x), core(x)) <= 1e-6
    assert Scattering1D.from_config(layer.get_config()).get_config() == layer.get_config()
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    assert rel_l2(loaded.predict(x, verbose=0), model.predict(x, verbose=0)) <= 1e-6


@pytest.mark.parametrize("dim", ["2d", "3d", "jtfs", "jtfs_joint"])
def test_keras_layers_in_more_dimensions(dim):
    pytest.importorskip("keras")
    import scatterjax.keras as skeras

    name, kwargs, input_shape = CONFIGS[dim]
    _, x, expected, _ = reference(dim)
    kwargs = {key: value for key, value in kwargs.items() if key != "shape"}  # read from the input
    layer = getattr(skeras, name)(**kwargs)
    # Before build (the filters are designed for the shape asked), then after (the layer's core).
    assert layer.compute_output_shape((None, *input_shape[1:])) == (None, *expected.shape[1:])
    assert rel_l2(layer(x), expected) <= 1e-6
    assert layer.compute_output_shape((None, *input_shape[1:])) == (None, *expected.shape[1:])


def test_keras_time_frequency_scattering_joint_model_fits_and_reloads(tmp_path):
    import keras

    if keras.backend.backend() != "tensorflow":
        pytest.skip("this process runs another Keras backend")
    from scatterjax.keras import TimeFrequencyScattering

    _, x, expected, _ = reference("jtfs_joint")
    layer = TimeFrequencyScattering(J=3, J_fr=1, Q=(2, 1), format="joint")  # Q=(Q1, Q2): 2 == (2, 1)
    model = keras.Sequential([keras.Input((64,)), layer, keras.layers.Flatten(), keras.layers.Dense(3)])
    assert model.output_shape == (None, 3)
    assert model.layers[0].output.shape == (None, *expected.shape[1:])  # 4D: (batch, C_joint, R, N_out)
    assert rel_l2(layer(x), expected) <= 1e-6
    config = layer.get_config()
    assert {key: config[key] for key in ("J", "J_fr", "Q", "format")} == dict(J=3, J_fr=1, Q=(2, 1), format="joint")
    assert TimeFrequencyScattering.from_config(config).get_config() == config
    model.compile(optimizer="adamw", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(np.tile(x, (4, 1)), np.arange(8) % 3, epochs=1, batch_size=4, verbose=0)
    model.save(tmp_path / "jtfs.keras")
    loaded = keras.models.load_model(tmp_path / "jtfs.keras")
    assert loaded.layers[0].get_config()["format"] == "joint"
    assert loaded.layers[0].core.Q == (2, 1)  # the saved config holds a list; the layer makes it a tuple
    assert rel_l2(loaded.predict(x, verbose=0), model.predict(x, verbose=0)) <= 1e-6


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_keras_other_backends_in_a_subprocess(backend):
    pytest.importorskip(backend)
    code = """
import numpy as np, keras, jax.numpy as jnp
from scatterjax.keras import Scattering1D
import scatterjax
model = keras.Sequential([keras.Input((256,)), Scattering1D(J=4, Q=4), keras.layers.Flatten(),
                          keras.layers.Dense(3)])
model.compile(optimizer="adamw", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
x = np.random.default_rng(0).standard_normal((8, 256)).astype(np.float32)
model.fit(x, np.arange(8) % 3, epochs=1, verbose=0)
out = keras.ops.convert_to_numpy(model.layers[0](x)); ref = np.asarray(scatterjax.Scattering1D(J=4, shape=256, Q=4)(x))
assert len(model.trainable_weights) == 2
print("ERR", np.linalg.norm(out - ref) / np.linalg.norm(ref))
# kymatio's layer.scattering(x): the transform on this backend's tensors.
out = keras.ops.convert_to_numpy(model.layers[0].scattering(keras.ops.convert_to_tensor(x)))
print("ERR", np.linalg.norm(out - ref) / np.linalg.norm(ref))
# Joint time-frequency scattering, 4D output (batch, C_joint, R, N_out).
from scatterjax.keras import TimeFrequencyScattering
layer = TimeFrequencyScattering(J=3, J_fr=1, Q=2, format="joint")
x = x[:, :64]
out = keras.ops.convert_to_numpy(layer(x))
ref = np.asarray(scatterjax.TimeFrequencyScattering(J=3, J_fr=1, Q=2, shape=64, format="joint")(x))
assert out.shape == ref.shape and out.ndim == 4 and not layer.trainable_weights, out.shape
assert layer.compute_output_shape((None, 64)) == (None, *ref.shape[1:])
print("ERR", np.linalg.norm(out - ref) / np.linalg.norm(ref))
"""
    root = os.path.dirname(os.path.dirname(stf.__file__))
    env = {
        **os.environ,
        "KERAS_BACKEND": backend,
        "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    errors = [float(part.split()[0]) for part in result.stdout.split("ERR")[1:]]
    assert len(errors) == 3 and max(errors) <= 1e-6, result.stdout


def test_float64_without_x64_is_computed_in_float32():
    module = stf.Scattering1D(J=4, shape=256, Q=4)
    x = tf.random.normal([2, 256], dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = module(x)
        loss = tf.reduce_sum(y)
    assert y.dtype == tf.float32
    assert tape.gradient(loss, x).dtype == tf.float64


def test_missing_tensorflow_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow", None)
    monkeypatch.delitem(sys.modules, "scatterjax.tensorflow", raising=False)
    with pytest.raises(ImportError, match=r"scatterjax\[tf\]"):
        importlib.import_module("scatterjax.tensorflow")
    monkeypatch.setitem(sys.modules, "keras", None)
    monkeypatch.delitem(sys.modules, "scatterjax.keras", raising=False)
    with pytest.raises(ImportError, match=r"scatterjax\[tf\]"):
        importlib.import_module("scatterjax.keras")
