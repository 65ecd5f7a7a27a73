"""``scatterjax extract --pad-mode`` and ``scatterjax.plot.scalogram(..., pad_mode=)``.

Oracles: the transforms built with the same ``pad_mode`` (extract), and the scalogram's definition
in float64 NumPy (plot): the signal padded as the transform pads it, times kymatio's first-order
filters ``psi1_f[n]['levels'][0]`` in Fourier, inverse FFT, cropped, averaged over blocks of time.
"""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import scatterjax  # noqa: E402
from scatterjax import plot  # noqa: E402
from scatterjax._applications import extract as extract_module  # noqa: E402
from scatterjax._core.padding import PAD_MODES  # noqa: E402
from scatterjax.extract import main as extract_main  # noqa: E402

_NUMPY_PAD = {"reflect": "reflect", "symmetric": "symmetric", "zero": "constant", "periodic": "wrap"}

CASES = {  # --dim -> (options, core class, its arguments, item shape)
    "1": (["--J", "3", "--Q", "2"], "Scattering1D", dict(J=3, Q=2), (64,)),
    "2": (["--J", "2", "--L", "2"], "Scattering2D", dict(J=2, L=2), (16, 16)),
    "jtfs": (["--J", "3", "--J-fr", "1", "--Q", "2"], "TimeFrequencyScattering", dict(J=3, J_fr=1, Q=2), (64,)),
}


@pytest.mark.parametrize("dim", CASES)
def test_extract_pad_mode_is_the_transform_setting(tmp_path, dim):
    options, name, kwargs, shape = CASES[dim]
    items = np.random.default_rng(1).standard_normal((2, *shape)).astype(np.float32)
    np.save(tmp_path / "items.npy", items)
    out = tmp_path / "out" / "features.npy"
    command = [str(tmp_path / "items.npy"), "--out", str(out), "--dim", dim, *options, "--quiet"]
    assert extract_main([*command, "--pad-mode", "zero"]) == 0
    zero = np.asarray(getattr(scatterjax, name)(shape=shape, pad_mode="zero", **kwargs)(items))
    reflect = np.asarray(getattr(scatterjax, name)(shape=shape, **kwargs)(items))
    np.testing.assert_allclose(np.load(out), zero, rtol=1e-5, atol=1e-6 * np.abs(zero).max())
    assert np.abs(zero - reflect).max() > 1e-3 * np.abs(reflect).max()  # the option changed the numbers
    transform = json.loads(out.with_suffix(".json").read_text())["config"]["transform"]
    assert transform["pad_mode"] == "zero"
    if dim == "1":
        # The default is not recorded (runs started before --pad-mode resume); naming it is the same run.
        assert extract_main([*command, "--overwrite"]) == 0
        assert "pad_mode" not in json.loads(out.with_suffix(".json").read_text())["config"]["transform"]
        assert extract_main([*command, "--pad-mode", "reflect"]) == 0  # complete: nothing to redo
        np.testing.assert_allclose(np.load(out), reflect, rtol=1e-5, atol=1e-6 * np.abs(reflect).max())


def test_extract_pad_mode_errors(tmp_path, capsys):
    assert extract_module.PAD_MODES == PAD_MODES  # the CLI's copy of the choices
    np.save(tmp_path / "volume.npy", np.zeros((8, 8, 8), np.float32))
    command = [str(tmp_path / "volume.npy"), "--out", str(tmp_path / "o.npy"), "--J", "1"]
    assert extract_main([*command, "--dim", "3", "--pad-mode", "zero"]) == 2
    assert "--pad-mode applies to --dim 1 and 2 and jtfs only; got --dim 3" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        extract_main([*command, "--pad-mode", "mirror"])
    assert exit_info.value.code == 2
    assert "--pad-mode: invalid choice: 'mirror'" in capsys.readouterr().err


def _definition(x, J, Q, pad_mode, max_columns):
    """The scalogram image from the definition, in float64: (N1, columns), increasing frequency."""
    S = scatterjax.Scattering1D(J=J, shape=x.shape[-1], Q=Q)
    padded = np.pad(x.astype(np.float64), (S.pad_left, S.pad_right), mode=_NUMPY_PAD[pad_mode])
    spectrum = np.fft.fft(padded)
    modulus = np.abs(np.stack([np.fft.ifft(spectrum * psi["levels"][0]) for psi in S.psi1_f]))
    modulus = modulus[:, S.ind_start[0] : S.ind_end[0]]
    factor = x.shape[-1] // max_columns
    return modulus.reshape(len(S.psi1_f), max_columns, factor).mean(-1)[::-1]


@pytest.mark.parametrize("pad_mode", ["reflect", "zero"])
def test_plot_scalogram_is_the_transform_scalogram(pad_mode):
    x = np.random.default_rng(2).standard_normal(512)
    kwargs = dict(log=False, max_columns=128)
    if pad_mode == "reflect":  # the signature before pad_mode, unchanged
        fig = plot.scalogram(x, 5, 4, **kwargs)
    else:
        fig = plot.scalogram(x, 5, 4, pad_mode=pad_mode, **kwargs)
    image = np.asarray(fig.axes[0].collections[0].get_array()).reshape(-1, 128)
    expected = _definition(x, 5, 4, pad_mode, 128)
    assert np.linalg.norm(image - expected) / np.linalg.norm(expected) <= 1e-5  # float32 transform
    plt.close("all")
    with pytest.raises(ValueError, match="pad_mode"):
        plot.scalogram(x, 5, 4, pad_mode="mirror")
