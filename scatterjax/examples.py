"""Built-in example data, generated in code (no downloads)."""

from __future__ import annotations

import numpy as np


def chirp_and_am_tone(n_samples: int = 2**15, sample_rate: float = 16000.0):
    """A linear chirp (300 Hz → 2 kHz) plus a 4 kHz tone amplitude-modulated at 30 Hz.

    Returns ``(x, sample_rate)`` with ``x`` float32 of shape ``(n_samples,)``.
    """
    t = np.arange(n_samples) / sample_rate
    duration = n_samples / sample_rate
    f0, f1 = 300.0, 2000.0
    chirp = np.sin(2 * np.pi * (f0 * t + 0.5 * (f1 - f0) / duration * t**2))
    envelope = 1.0 + 0.8 * np.sin(2 * np.pi * 30.0 * t)
    am_tone = 0.5 * envelope * np.sin(2 * np.pi * 4000.0 * t)
    return (chirp + am_tone).astype(np.float32), sample_rate
