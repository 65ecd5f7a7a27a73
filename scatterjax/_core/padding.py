"""What fills the border before a periodic transform: the ``pad_mode`` argument.

Scattering1D, Scattering2D and TimeFrequencyScattering convolve by FFT, i.e. circularly, over a
padded signal: what the padding holds is what the signal's ends see. Each mode is a NumPy
``np.pad`` mode (``jnp.pad`` gives the same numbers), shown on ``a b c d`` padded by 3 each side:

- ``'reflect'``  ``d c b | a b c d | c b a``: mirrored about the edge sample, which is not
  repeated. kymatio's padding, and the default.
- ``'symmetric'`` ``c b a | a b c d | d c b``: mirrored about the edge, the edge sample repeated.
- ``'zero'``  ``0 0 0 | a b c d | 0 0 0``: ``np.pad(mode='constant')`` with 0.
- ``'periodic'``  ``b c d | a b c d | a b c``: the signal repeated, ``np.pad(mode='wrap')``.

A pad wider than the signal (2D pads up to ``2**J`` pixels, which can be the whole image) repeats
the rule, as ``np.pad`` does for every width: ``jnp.pad`` matches it (checked for pads up to twice
the signal length in ``tests/scattering2d/test_scattering2d_pad_modes.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .validation import as_setting, check_choice

PAD_MODES = ("reflect", "symmetric", "zero", "periodic")
_NUMPY_MODES = {"reflect": "reflect", "symmetric": "symmetric", "zero": "constant", "periodic": "wrap"}


def check_pad_mode(pad_mode) -> str:
    """Return ``pad_mode`` as a plain ``str`` (NumPy strings too), or raise a ``ValueError`` naming
    ``pad_mode`` and listing :data:`PAD_MODES`."""
    pad_mode = as_setting(pad_mode)
    check_choice("pad_mode", pad_mode, PAD_MODES)
    return str(pad_mode)


def numpy_pad_mode(pad_mode: str) -> str:
    """The ``np.pad``/``jnp.pad`` mode of ``pad_mode`` (``'zero'`` -> ``'constant'``, ``'periodic'``
    -> ``'wrap'``)."""
    return _NUMPY_MODES[pad_mode]


def pad_signal(x, widths: Sequence[tuple[int, int]], pad_mode: str):
    """Pad ``x`` by ``widths`` (one ``(before, after)`` per axis, as ``np.pad``) with ``pad_mode``.

    JAX arrays (and tracers) are padded with ``jnp.pad``, anything else with ``np.pad``: NumPy in,
    NumPy out. The dtype is kept.

    Example:
      >>> import numpy as np
      >>> from scatterjax._core.padding import pad_signal
      >>> pad_signal(np.array([1.0, 2.0, 3.0]), [(2, 2)], "symmetric")
      array([2., 1., 1., 2., 3., 3., 2.])
    """
    xp = jnp if isinstance(x, jax.Array) else np
    return xp.pad(x, [tuple(w) for w in widths], mode=_NUMPY_MODES[pad_mode])
