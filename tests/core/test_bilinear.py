"""bilinear_map: the value from the evaluated form, the derivative from the other form."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from scatterjax._core.bilinear import bilinear_map


def _marked_form(a, b, scale):
    # The same map as `_marked` without its mark: the derivative must come from here.
    return (a * b).sum(axis=-1) * scale


@bilinear_map(_marked_form, nondiff_argnums=(2,))
def _marked(a, b, scale):
    # The evaluated form carries a mark (+1) that its derivative form lacks, so a test can tell
    # which form produced a value and which a derivative.
    return (a * b).sum(axis=-1) * scale + 1.0


def _arrays():
    rng = np.random.default_rng(0)
    return jnp.asarray(rng.standard_normal((4, 6)), jnp.float32), jnp.asarray(rng.standard_normal((4, 6)), jnp.float32)


def test_value_is_the_evaluated_form_and_derivative_the_other():
    a, b = _arrays()
    value, (d_a, d_b) = jax.jit(jax.value_and_grad(lambda a, b: _marked(a, b, 3.0).sum(), argnums=(0, 1)))(a, b)
    np.testing.assert_allclose(value, float(((a * b).sum() * 3.0) + 4.0), rtol=1e-5)
    np.testing.assert_allclose(d_a, 3.0 * b, rtol=1e-5)
    np.testing.assert_allclose(d_b, 3.0 * a, rtol=1e-5)


def test_tangent_adds_both_terms_and_leaves_out_symbolic_zeros():
    a, b = _arrays()
    t_a, t_b = _arrays()[::-1]
    out, tangent = jax.jvp(lambda a, b: _marked(a, b, 2.0), (a, b), (t_a, t_b))
    np.testing.assert_array_equal(out, _marked(a, b, 2.0))
    np.testing.assert_allclose(tangent, 2.0 * ((t_a * b).sum(-1) + (a * t_b).sum(-1)), rtol=1e-5)
    # Differentiated in `a` only, `b` is a constant: its tangent is a symbolic zero.
    _, tangent_a = jax.jvp(lambda a: _marked(a, b, 2.0), (a,), (t_a,))
    np.testing.assert_allclose(tangent_a, 2.0 * (t_a * b).sum(-1), rtol=1e-5)


def test_gradients_check_in_both_modes():
    a, b = _arrays()
    check_grads(lambda a, b: _marked(a, b, 0.5), (a, b), order=2, atol=1e-2, rtol=1e-2, modes=("fwd", "rev"))


def test_settings_must_follow_the_arrays():
    with pytest.raises(ValueError, match="nondiff_argnums"):
        bilinear_map(_marked_form, nondiff_argnums=(0,))
