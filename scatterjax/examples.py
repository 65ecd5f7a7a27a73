"""Built-in example data, generated in code (no downloads)."""

from __future__ import annotations

import math

import numpy as np

from ._core.validation import check_int, check_output_memory


def _positive_number(name: str, value) -> float:
    """``value`` as a float, or a ``ValueError`` naming ``name`` unless it is finite and > 0."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r} of type {type(value).__name__}.") from None
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}.")
    return number


def chirp_and_am_tone(n_samples: int = 2**15, sample_rate: float = 16000.0):
    """A linear chirp (300 Hz → 2 kHz) plus a 4 kHz tone amplitude-modulated at 30 Hz.

    Returns ``(x, sample_rate)`` with ``x`` float32 of shape ``(n_samples,)``.

    Raises ``TypeError``/``ValueError`` unless ``n_samples`` is an integer >= 1 and
    ``sample_rate`` a finite number > 0.
    """
    n_samples = check_int("n_samples", n_samples, minimum=1)
    sample_rate = _positive_number("sample_rate", sample_rate)
    check_output_memory(8 * 8 * n_samples, f"n_samples={n_samples}", "Use a smaller n_samples.")
    t = np.arange(n_samples) / sample_rate
    duration = n_samples / sample_rate
    f0, f1 = 300.0, 2000.0
    chirp = np.sin(2 * np.pi * (f0 * t + 0.5 * (f1 - f0) / duration * t**2))
    envelope = 1.0 + 0.8 * np.sin(2 * np.pi * 30.0 * t)
    am_tone = 0.5 * envelope * np.sin(2 * np.pi * 4000.0 * t)
    return (chirp + am_tone).astype(np.float32), sample_rate


def exponential_chirps(n_samples: int = 2**12, low: float = 0.002, high: float = 0.45) -> np.ndarray:
    """A rising and a falling exponential chirp (unit amplitude), for joint time-frequency scattering.

    The rising chirp's instantaneous frequency goes from ``low`` to ``high`` cycles per sample
    geometrically (a straight line in log-frequency, so its slope along the first-order filter
    index ``n1`` is constant); the falling chirp is the same signal reversed in time.

    Args:
      n_samples: length of each chirp.
      low, high: start and end frequencies of the rising chirp, in cycles per sample
        (``0 < low < high <= 0.5``).

    Returns: float32 array of shape ``(2, n_samples)``: row 0 rises, row 1 falls, so
    ``rising, falling = exponential_chirps()`` unpacks them and the array can be transformed as a batch.
    """
    n_samples = check_int("n_samples", n_samples, minimum=1)
    check_output_memory(8 * 8 * n_samples, f"n_samples={n_samples}", "Use a smaller n_samples.")
    if not 0 < low < high <= 0.5:
        raise ValueError(f"need 0 < low < high <= 0.5 (cycles per sample); got low={low}, high={high}.")
    growth = np.log(high / low)
    t = np.arange(n_samples) / n_samples
    # Phase = 2 pi * integral of low * exp(growth * t) over samples.
    phase = 2 * np.pi * low * n_samples * np.expm1(growth * t) / growth
    rising = np.sin(phase)
    return np.stack([rising, rising[::-1]]).astype(np.float32)


def texture_image(size: int = 32) -> np.ndarray:
    """A ``size`` x ``size`` float32 image in [0, 1]: a handwritten digit from scikit-learn's
    ``load_digits`` (shipped with it, no download) upsampled 4x when size is 32 and scikit-learn is
    installed; otherwise oriented stripes under a disk. ``size``: an integer >= 1."""
    size = check_int("size", size, minimum=1)
    check_output_memory(6 * 8 * size**2, f"size={size}", "Use a smaller size.")
    if size == 32:
        try:
            from sklearn.datasets import load_digits

            digit = load_digits().images[0] / 16.0
            return np.kron(digit, np.ones((4, 4))).astype(np.float32)
        except ImportError:
            pass
    rows, cols = np.mgrid[:size, :size] / size
    stripes = 0.5 + 0.5 * np.sin(2 * np.pi * 6 * (rows * np.cos(0.6) + cols * np.sin(0.6)))
    disk = ((rows - 0.5) ** 2 + (cols - 0.5) ** 2) < 0.1
    return (stripes * disk).astype(np.float32)


def molecule_density(positions, charges, size: int = 32, width: float = 1.5) -> np.ndarray:
    """Sum of Gaussians of ``width`` voxels, one per atom, scaled by its charge, on a ``size``^3 grid.

    Args:
      positions: (atoms, 3) coordinates in voxels (the grid centre is ``size / 2``).
      charges: (atoms,) weights.

    Returns: float32 array of shape ``(size, size, size)``.

    Raises ``ValueError`` for positions not of shape ``(atoms, 3)``, charges not of shape
    ``(atoms,)``, non-finite values, ``size`` < 1 or ``width`` not a finite number > 0.
    """
    size = check_int("size", size, minimum=1)
    width = _positive_number("width", width)
    positions, charges = np.asarray(positions, float), np.asarray(charges, float)
    if positions.ndim != 2 or positions.shape[1] != 3 or charges.shape != positions.shape[:1]:
        raise ValueError(
            f"positions must have shape (atoms, 3) and charges (atoms,); got {positions.shape} and {charges.shape}."
        )
    if not (np.isfinite(positions).all() and np.isfinite(charges).all()):
        raise ValueError("positions and charges must be finite (they hold NaN or Inf).")
    check_output_memory(5 * 8 * size**3, f"size={size}", "Use a smaller size.")
    grid = np.stack(np.meshgrid(*(np.arange(size),) * 3, indexing="ij"), axis=-1).astype(np.float64)
    density = np.zeros((size,) * 3)
    for position, charge in zip(positions, charges):
        squared = ((grid - position) ** 2).sum(axis=-1)
        density += charge * np.exp(-squared / (2 * width**2)) / (2 * np.pi * width**2) ** 1.5
    return density.astype(np.float32)


def water_like_molecule() -> tuple[np.ndarray, np.ndarray]:
    """Atom positions (voxels, relative to the origin) and charges of a small bent triatomic."""
    positions = np.array([[0.0, 0.0, 0.0], [4.0, 2.5, 0.5], [-4.0, 2.5, -0.5]])
    return positions, np.array([8.0, 1.0, 1.0])
