"""reconstruct: the loss falls (100x in 400 Adam steps from white noise on real transforms); a resumed run
gives the same bits as an uninterrupted one; every bad argument is refused with its name."""

from __future__ import annotations

import sys
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import scatterjax
from scatterjax.examples import chirp_and_am_tone


def test_1d_signal_loss_falls_100x_in_400_steps_and_resumes_bit_for_bit():
    x, _ = chirp_and_am_tone(2048)
    S = scatterjax.Scattering1D(J=6, shape=2048, Q=8)
    result = scatterjax.reconstruct(S, S(x), key=jax.random.key(0), steps=400, progress=False)
    x_hat, loss = result  # still unpacks as (x, loss_history)
    assert x_hat is result.x and loss is result.loss_history
    assert x_hat.shape == (2048,) and x_hat.dtype == np.float32
    assert loss.shape == (401,) and loss.dtype == np.float64 and np.isfinite(loss).all()
    assert loss[-1] < loss[0] / 100, (loss[0], loss[-1])
    # The last entry is the loss of the returned signal.
    target = np.asarray(S(x), np.float64)
    relative = np.sum((np.asarray(S(x_hat), np.float64) - target) ** 2) / np.sum(target**2)
    np.testing.assert_allclose(loss[-1], relative, rtol=1e-3)
    assert 0 < result.steps_per_second < np.inf and result.compile_seconds > 0
    np.testing.assert_allclose(result.steps_per_second, 400 / result.run_seconds)

    # 250 steps, then 150 more from the returned state: the same bits as the 400 in one go (the
    # compiled program is the one above, so this also shows that it was cached).
    first = scatterjax.reconstruct(S, S(x), key=0, steps=250, progress=False)
    assert first.compile_seconds < result.compile_seconds / 10, (first.compile_seconds, result.compile_seconds)
    rest = scatterjax.reconstruct(S, S(x), first.x, opt_state=first.opt_state, steps=150, progress=False)
    np.testing.assert_array_equal(np.asarray(rest.x), np.asarray(x_hat))
    np.testing.assert_array_equal(np.concatenate([first.loss_history[:-1], rest.loss_history]), loss)


def test_2d_image_loss_falls_100x_in_400_steps():
    rows, cols = np.mgrid[:32, :32]
    image = ((rows - 16) ** 2 + (cols - 12) ** 2 < 60) + 0.5 * (np.abs(rows - cols) < 2)
    image = image.astype(np.float32)
    S = scatterjax.Scattering2D(J=2, shape=(32, 32), L=8)
    image_hat, loss = scatterjax.reconstruct(S, S(image), key=jax.random.key(0), steps=400, progress=False)
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
    x_hat, loss = scatterjax.reconstruct(S, S(batch), steps=5, chunk_size=2, progress=False)
    assert x_hat.shape == (2, 16) and loss.shape == (6,) and loss[-1] < loss[0]

    x0 = np.random.default_rng(1).standard_normal(16).astype(np.float32)
    x_hat, loss = scatterjax.reconstruct(
        S, S(x), x0, steps=30, optimizer=optax.adam(0.05), loss="mse", progress=False
    )
    assert loss[0] == pytest.approx(float(np.mean((np.asarray(S(x0)) - np.asarray(S(x))) ** 2)), rel=1e-4)
    assert loss[-1] < loss[0]

    calls = []

    def l1(coefficients, target):
        calls.append(1)
        return jax.numpy.abs(coefficients - target).sum()

    _, loss = scatterjax.reconstruct(S, S(x), x0, steps=3, learning_rate=0.01, loss=l1, progress=False)
    assert calls and loss.shape == (4,)


def test_pytree_coefficients(small):
    S, x = small
    S_dict = Toy(S.weight, as_dict=True)
    x_hat, loss = scatterjax.reconstruct(S_dict, S_dict(x), steps=20, progress=False)
    assert x_hat.shape == (16,) and loss[-1] < loss[0]


def test_resume_from_opt_state_is_bit_identical_and_leaves_the_inputs_usable(small):
    S, x = small
    target = S(x)
    whole = scatterjax.reconstruct(S, target, key=3, steps=17, chunk_size=5, progress=False)
    first = scatterjax.reconstruct(S, target, key=3, steps=9, chunk_size=5, progress=False)
    rest = scatterjax.reconstruct(S, target, first.x, opt_state=first.opt_state, steps=8, chunk_size=5, progress=False)
    np.testing.assert_array_equal(np.asarray(rest.x), np.asarray(whole.x))
    np.testing.assert_array_equal(np.concatenate([first.loss_history[:-1], rest.loss_history]), whole.loss_history)
    for a, b in zip(jax.tree_util.tree_leaves(rest.opt_state), jax.tree_util.tree_leaves(whole.opt_state)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # Adam's step counter went on (bias correction continues), and the default learning rate
    # 0.1 * std(x0) of the first run is kept, not recomputed from the new x0.
    assert int(rest.opt_state.count) == 17
    assert float(rest.opt_state.hyperparams["learning_rate"]) == float(first.opt_state.hyperparams["learning_rate"])
    # The buffers are donated inside the loop, but only private copies: the caller's x0 and
    # opt_state are intact and can be used again, with the same result.
    assert not first.x.is_deleted()
    assert not any(leaf.is_deleted() for leaf in jax.tree_util.tree_leaves(first.opt_state))
    again = scatterjax.reconstruct(S, target, first.x, opt_state=first.opt_state, steps=8, chunk_size=5, progress=False)
    np.testing.assert_array_equal(np.asarray(again.x), np.asarray(whole.x))
    # An explicit learning_rate replaces the stored one.
    other = scatterjax.reconstruct(
        S, target, first.x, opt_state=first.opt_state, steps=2, learning_rate=0.5, progress=False
    )
    assert float(other.opt_state.hyperparams["learning_rate"]) == 0.5


def test_the_filters_are_jit_arguments_so_a_new_transform_reuses_the_program(small):
    S, x = small
    other = Toy(2 * S.weight[::-1])  # same configuration, other filter values
    first = scatterjax.reconstruct(S, S(x), key=0, steps=6, chunk_size=11, progress=False)
    second = scatterjax.reconstruct(other, S(x), key=0, steps=6, chunk_size=11, progress=False)
    # Constants baked into the program would need a second compilation.
    assert second.compile_seconds < first.compile_seconds / 5, (first.compile_seconds, second.compile_seconds)
    # ... and the second run did use the new filters: its first loss is the one of the new transform.
    x0 = np.asarray(second.x)  # any signal: check the loss formula against the second transform
    assert not np.array_equal(np.asarray(first.x), x0)
    manual = scatterjax.reconstruct(other, S(x), x0, steps=1, chunk_size=11, learning_rate=1e-3, progress=False)
    expected = np.sum((np.asarray(other(x0), np.float64) - np.asarray(S(x), np.float64)) ** 2) / np.sum(
        np.asarray(S(x), np.float64) ** 2
    )
    np.testing.assert_allclose(manual.loss_history[0], expected, rtol=1e-5)


def test_optimizer_by_name(small):
    S, x = small
    target = S(x)
    by_default = scatterjax.reconstruct(S, target, key=0, steps=12, progress=False)
    by_name = scatterjax.reconstruct(S, target, key=0, steps=12, optimizer="adam", progress=False)
    np.testing.assert_array_equal(np.asarray(by_name.x), np.asarray(by_default.x))
    sgd = scatterjax.reconstruct(S, target, key=0, steps=40, optimizer="sgd", learning_rate=0.1, progress=False)
    assert sgd.loss_history[-1] < sgd.loss_history[0] / 2, sgd.loss_history[[0, -1]]
    with pytest.raises(ValueError, match=r"optimizer 'sgd' needs an explicit learning_rate"):
        scatterjax.reconstruct(S, target, optimizer="sgd", steps=2, progress=False)
    with pytest.raises(ValueError, match=r"optimizer 'adamm' is not an optax optimizer.*adamw"):
        scatterjax.reconstruct(S, target, optimizer="adamm", steps=2, progress=False)
    with pytest.raises(TypeError, match=r"optimizer must be an optax.GradientTransformation.*got int"):
        scatterjax.reconstruct(S, target, optimizer=3, steps=2, progress=False)
    with pytest.raises(ValueError, match="not both"):
        scatterjax.reconstruct(S, target, optimizer=optax.sgd(0.1), learning_rate=0.1)


@pytest.mark.parametrize("steps", [np.int64(7), np.array(7), jnp.asarray(7), np.uint8(7)])
def test_steps_accepts_any_integral(small, steps):
    S, x = small
    result = scatterjax.reconstruct(S, S(x), steps=steps, chunk_size=np.int32(3), progress=False)
    assert result.loss_history.shape == (8,) and result.loss_history[-1] < result.loss_history[0]


@pytest.mark.parametrize("steps", [0, -1, 7.0, True, np.float32(7), np.array([7]), "7"])
def test_steps_refuses_non_integers(small, steps):
    S, x = small
    with pytest.raises(ValueError, match=r"steps must be an integer >= 1 .*got"):
        scatterjax.reconstruct(S, S(x), steps=steps, progress=False)


@pytest.mark.parametrize("rate", [-0.1, 0.0, np.nan, np.inf, -np.inf, np.float32(np.nan)])
def test_learning_rate_must_be_finite_and_positive(small, rate):
    S, x = small
    with pytest.raises(ValueError, match=r"learning_rate must be a finite number > 0; got"):
        scatterjax.reconstruct(S, S(x), learning_rate=rate, steps=2, progress=False)


@pytest.mark.parametrize("rate", ["0.1", [0.1], object(), 1j])
def test_learning_rate_must_be_a_number(small, rate):
    S, x = small
    with pytest.raises(TypeError, match="learning_rate must be a real number"):
        scatterjax.reconstruct(S, S(x), learning_rate=rate, steps=2, progress=False)


def test_learning_rate_accepts_numpy_and_0d_arrays(small):
    S, x = small
    plain = scatterjax.reconstruct(S, S(x), key=0, learning_rate=0.05, steps=4, progress=False)
    for rate in (np.float64(0.05), np.array(0.05), 0.05):
        other = scatterjax.reconstruct(S, S(x), key=0, learning_rate=rate, steps=4, progress=False)
        np.testing.assert_array_equal(np.asarray(other.x), np.asarray(plain.x))


def test_key_forms(small):
    S, x = small
    reference = scatterjax.reconstruct(S, S(x), key=jax.random.key(5), steps=3, progress=False)
    for key in (5, np.int64(5), jnp.asarray(5), jax.random.PRNGKey(5)):
        other = scatterjax.reconstruct(S, S(x), key=key, steps=3, progress=False)
        np.testing.assert_array_equal(np.asarray(other.x), np.asarray(reference.x))
    different = scatterjax.reconstruct(S, S(x), key=6, steps=3, progress=False)
    assert not np.array_equal(np.asarray(different.x), np.asarray(reference.x))
    for key in ("0", 1.5, jax.random.split(jax.random.key(0), 2)):
        with pytest.raises(TypeError, match=r"key must be an int seed, a jax.random.key"):
            scatterjax.reconstruct(S, S(x), key=key, steps=3, progress=False)


def test_shapes_are_checked_and_named(small):
    S, x = small
    target = S(x)
    with pytest.raises(ValueError, match=r"target_coefficients do not match the transform.*\(24,\).*\(23,\)"):
        scatterjax.reconstruct(S, target[..., :-1])
    # A batch of two initial signals for a single target: both shapes in the message.
    with pytest.raises(
        ValueError, match=r"target_coefficients and x0 do not match: x0 of shape \(2, 16\) .*\(2, 24\).*\(24,\)"
    ):
        scatterjax.reconstruct(S, target, np.zeros((2, 16), np.float32))
    with pytest.raises(ValueError, match=r"x0 has shape \(15,\), but the transform takes signals of shape \(16,\)"):
        scatterjax.reconstruct(S, target, np.zeros(15, np.float32))
    with pytest.raises(ValueError, match="pass x0"):
        scatterjax.reconstruct(lambda x: S(x), target)
    with pytest.raises(TypeError, match="x0 must be a float array; got dtype int32"):
        scatterjax.reconstruct(S, target, np.zeros(16, np.int32))
    with pytest.raises(ValueError, match="x0 contains NaN or Inf"):
        scatterjax.reconstruct(S, target, np.full(16, np.nan, np.float32))
    with pytest.raises(ValueError, match="target_coefficients contain NaN or Inf"):
        scatterjax.reconstruct(S, target.at[0].set(jnp.inf))
    with pytest.raises(ValueError, match=r"loss must be 'relative', 'mse' or a callable; got 'l2'"):
        scatterjax.reconstruct(S, target, loss="l2")
    with pytest.raises(ValueError, match=r"chunk_size must be an integer >= 1"):
        scatterjax.reconstruct(S, target, chunk_size=0)


def test_opt_state_of_another_optimizer_is_refused(small):
    S, x = small
    x0 = np.random.default_rng(4).standard_normal(16).astype(np.float32)
    with pytest.raises(ValueError, match="opt_state does not belong to this optimizer"):
        scatterjax.reconstruct(S, S(x), x0, opt_state=optax.sgd(0.1).init(x0), steps=2, progress=False)
    state = scatterjax.reconstruct(S, S(x), x0, steps=2, progress=False).opt_state
    mismatch = r"opt_state does not match x0: .*shape \(16,\) where optimizer.init\(x0\) has shape \(2, 16\)"
    with pytest.raises(ValueError, match=mismatch):
        scatterjax.reconstruct(S, S(np.stack([x0, x0])), np.stack([x0, x0]), opt_state=state, steps=2)


def test_all_zero_target(small):
    """The relative loss divides by ||target||^2: for a zero target it was 0/0 = NaN at every step
    (and the noise, scaled to the target's norm, was zero too, hence a zero default learning rate).
    Now the relative loss is refused with the reason, and the MSE loss drives x towards 0."""
    S, x = small
    zero = jnp.zeros_like(S(x))
    with pytest.raises(ValueError, match=r"target_coefficients are all zero.*0/0.*loss='mse'"):
        scatterjax.reconstruct(S, zero, steps=3, progress=False)
    x0 = np.random.default_rng(2).standard_normal(16).astype(np.float32)
    result = scatterjax.reconstruct(S, zero, x0, loss="mse", steps=60, progress=False)
    assert np.isfinite(result.loss_history).all()
    assert result.loss_history[-1] < result.loss_history[0] / 10, result.loss_history[[0, -1]]
    with pytest.raises(ValueError, match=r"default learning_rate .* target is all zeros"):
        scatterjax.reconstruct(S, zero, loss="mse", steps=3, progress=False)


def test_divergence_warns_with_the_step_and_the_rate(small):
    S, x = small
    with pytest.warns(RuntimeWarning, match=r"NaN or Inf at step \d+.*learning_rate=1e\+30"):
        scatterjax.reconstruct(S, S(x), key=0, optimizer="sgd", learning_rate=1e30, steps=40, progress=False)


def test_progress_bar_shows_loss_and_steps_per_second(small, capsys):
    S, x = small
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no tqdm warning either
        scatterjax.reconstruct(S, S(x), steps=6, chunk_size=2, progress=True)
    err = capsys.readouterr().err
    assert "reconstruct" in err and "6/6" in err and "loss=" in err and "step/s" in err, err
    scatterjax.reconstruct(S, S(x), steps=3, chunk_size=2)  # not a terminal: silent by default
    assert capsys.readouterr().err == ""


def test_missing_optax_names_the_extra(small, monkeypatch):
    S, x = small
    monkeypatch.setitem(sys.modules, "optax", None)
    with pytest.raises(ImportError, match=r"scatterjax\[optax\]"):
        scatterjax.reconstruct(S, S(x))
