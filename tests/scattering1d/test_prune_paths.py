"""Scattering1D(prune_paths=True): the bandwidth rule of scatterjax._scattering1d.pruning.

Dropped paths are absent from the output, meta() and output_size(); kept paths keep their exact
values; the dropped ones hold a small share of the energy (bound stated below).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import scatterjax
from scatterjax._scattering1d.pruning import PRUNE_RATIO, keeps_energy
from scatterjax.examples import chirp_and_am_tone

N = 2**12
# Share of the order-2 energy (averaged transform, J=8, Q=(8, 2)) the dropped paths may hold.
# Measured: 4e-2 on white noise (the worst case), 1e-4 on the chirp and AM tone.
DISCARDED_BOUND = 0.06


@pytest.fixture(scope="module")
def pair():
    kwargs = dict(J=8, shape=N, Q=(8, 2), max_order=3, out_type="dict")
    return scatterjax.Scattering1D(**kwargs), scatterjax.Scattering1D(**kwargs, prune_paths=True)


@pytest.fixture(scope="module")
def signals():
    noise = np.random.default_rng(0).standard_normal(N).astype(np.float32)
    return {"white noise": noise, "audio": chirp_and_am_tone(N)[0]}


def test_dropped_paths_follow_the_stated_rule(pair):
    full, pruned = pair
    kept = set(pruned.meta()["key"])
    meta = full.meta()
    assert kept < set(meta["key"])
    for key, xi, sigma in zip(meta["key"], meta["xi"], meta["sigma"]):
        expected = all(keeps_energy(xi[i + 1], sigma[i + 1], sigma[i]) for i in range(len(key) - 1))
        assert (key in kept) == expected, key
    sizes = pruned.output_size(detail=True)
    assert sizes[:2] == full.output_size(detail=True)[:2]  # orders 0 and 1 are never pruned
    assert sum(sizes) == len(pruned.meta()["key"]) == pruned.meta()["xi"].shape[0]
    assert PRUNE_RATIO == 3.0  # the docstrings state this ratio


@pytest.mark.parametrize("signal", ["white noise", "audio"])
def test_kept_paths_are_exact_and_dropped_energy_is_small(pair, signals, signal):
    full, pruned = pair
    x = signals[signal]
    everything, kept = full(x), pruned(x)
    assert list(kept) == pruned.meta()["key"]
    for key, coefficients in kept.items():
        np.testing.assert_array_equal(np.asarray(coefficients), np.asarray(everything[key]), err_msg=str(key))
    energy = {key: float(np.sum(np.asarray(value, np.float64) ** 2)) for key, value in everything.items()}
    order2 = sum(e for key, e in energy.items() if len(key) == 2)
    dropped = sum(e for key, e in energy.items() if len(key) == 2 and key not in kept)
    assert 0 < dropped / order2 < DISCARDED_BOUND, dropped / order2


def test_bad_prune_paths_names_the_argument():
    with pytest.raises(TypeError, match="prune_paths must be True or False"):
        scatterjax.Scattering1D(J=4, shape=128, prune_paths="yes")


def test_adapter_passes_prune_paths_to_the_core():
    seqx = pytest.importorskip("scatterjax.equinox")
    kwargs = dict(J=5, shape=256, Q=(8, 2), prune_paths=True)
    core, module = scatterjax.Scattering1D(**kwargs), seqx.Scattering1D(**kwargs)
    assert module.output_size() == core.output_size() < scatterjax.Scattering1D(J=5, shape=256, Q=(8, 2)).output_size()
    x = np.random.default_rng(1).standard_normal((2, 256)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(module(jnp.asarray(x))), np.asarray(core(x)))
