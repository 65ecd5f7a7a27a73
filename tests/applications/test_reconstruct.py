"""reconstruct: from white noise, the relative scattering loss falls at least 100x within 400 Adam steps."""

from __future__ import annotations

import sys

import jax
import numpy as np
import optax  # noqa: F401  (the reconstruction helper needs it)
import pytest

import scatterjax  # noqa: E402
from scatterjax._applications.reconstruct import reconstruct  # noqa: E402
from scatterjax.examples import chirp_and_am_tone  # noqa: E402


def test_1d_signal_loss_falls_100x_in_400_steps():
    x, _ = chirp_and_am_tone(2048)
    S = scatterjax.Scattering1D(J=6, shape=2048, Q=8)
    x_hat, loss = reconstruct(S, S(x), key=jax.random.key(0), steps=400, progress=False)
    assert x_hat.shape == (2048,) and x_hat.dtype == np.float32
    assert loss.shape == (401,) and loss.dtype == np.float64 and np.isfinite(loss).all()
    assert loss[-1] < loss[0] / 100, (loss[0], loss[-1])
    # The last entry is the loss of the returned signal.
    target = np.asarray(S(x), np.float64)
    relative = np.sum((np.asarray(S(x_hat), np.float64) - target) ** 2) / np.sum(target**2)
    np.testing.assert_allclose(loss[-1], relative, rtol=1e-3)


def test_2d_image_loss_falls_100x_in_400_steps():
    from scatterjax import Scattering2D

    rows, cols = np.mgrid[:32, :32]
    image = ((rows - 16) ** 2 + (cols - 12) ** 2 < 60) + 0.5 * (np.abs(rows - cols) < 2)
    image = image.astype(np.float32)
    S = Scattering2D(J=2, shape=(32, 32), L=8)
    image_hat, loss = reconstruct(S, S(image), key=jax.random.key(0), steps=400, progress=False)
    assert image_hat.shape == (32, 32)
    assert loss[-1] < loss[0] / 100, (loss[0], loss[-1])


@jax.tree_util.register_pytree_node_class
class Toy:
    """A tiny transform ``x -> |x W|`` (a pytree with one array leaf): compiles in milliseconds."""

    shape = (16,)

    def __init__(self, weight, as_dict=False):
        self.weight, self.as_dict = weight, as_dict

    def __call__(self, x):
        out = jax.numpy.abs(x @ self.weight)
        return {"low": out[..., :4], "high": out[..., 4:]} if self.as_dict else out

    def tree_flatten(self):
        return (self.weight,), self.as_dict

    @classmethod
    def tree_unflatten(cls, as_dict, children):
        return cls(children[0], as_dict)


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(0)
    S = Toy(jax.numpy.asarray(rng.standard_normal((16, 24)), jax.numpy.float32))
    return S, rng.standard_normal(16).astype(np.float32)


def test_any_transform_batch_x0_custom_optimizer_and_loss(small):
    S, x = small
    batch = np.stack([x, -x[::-1]])
    x_hat, loss = reconstruct(S, S(batch), steps=5, chunk_size=2, progress=False)
    assert x_hat.shape == (2, 16) and loss.shape == (6,) and loss[-1] < loss[0]

    x0 = np.random.default_rng(1).standard_normal(16).astype(np.float32)
    x_hat, loss = reconstruct(S, S(x), x0, steps=30, optimizer=optax.adam(0.05), loss="mse", progress=False)
    assert loss[0] == pytest.approx(float(np.mean((np.asarray(S(x0)) - np.asarray(S(x))) ** 2)), rel=1e-4)
    assert loss[-1] < loss[0]

    calls = []

    def l1(coefficients, target):
        calls.append(1)
        return jax.numpy.abs(coefficients - target).sum()

    _, loss = reconstruct(S, S(x), x0, steps=3, learning_rate=0.01, loss=l1, progress=False)
    assert calls and loss.shape == (4,)


def test_pytree_coefficients(small):
    S, x = small
    S_dict = Toy(S.weight, as_dict=True)
    x_hat, loss = reconstruct(S_dict, S_dict(x), steps=20, progress=False)
    assert x_hat.shape == (16,) and loss[-1] < loss[0]


def test_text_progress_bar_without_tqdm(small, monkeypatch, capsys):
    S, x = small
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    reconstruct(S, S(x), steps=3, chunk_size=2, progress=True)
    err = capsys.readouterr().err
    assert "reconstruct: [" in err and "3/3" in err and "loss=" in err
    reconstruct(S, S(x), steps=3, chunk_size=2)  # not a terminal: silent by default
    assert capsys.readouterr().err == ""


def test_bad_arguments_are_explained(small):
    S, x = small
    target = S(x)
    with pytest.raises(ValueError, match="steps"):
        reconstruct(S, target, steps=0)
    with pytest.raises(ValueError, match="loss"):
        reconstruct(S, target, loss="l2")
    with pytest.raises(ValueError, match="not both"):
        reconstruct(S, target, optimizer=optax.sgd(0.1), learning_rate=0.1)
    with pytest.raises(ValueError, match="target_coefficients"):
        reconstruct(S, target[..., :-1])
    with pytest.raises(ValueError, match="pass x0"):
        reconstruct(lambda x: S(x), target)
    with pytest.raises(TypeError, match="x0"):
        reconstruct(S, target, np.zeros(16, np.int32))


def test_missing_optax_names_the_extra(small, monkeypatch):
    S, x = small
    monkeypatch.setitem(sys.modules, "optax", None)
    with pytest.raises(ImportError, match=r"scatterjax\[optax\]"):
        reconstruct(S, S(x))
