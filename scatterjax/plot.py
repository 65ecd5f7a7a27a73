"""Figures of filter banks and scattering coefficients (needs matplotlib: ``pip install "scatterjax[plots]"``).

Every function returns the ``matplotlib.figure.Figure`` it drew on (created with pyplot, so
``plt.show()`` and notebooks display it); functions that draw one panel also take ``ax=`` to draw
into an existing axes. Frequencies are in Hz when ``sample_rate`` is given, in cycles per sample
otherwise, and always on a logarithmic axis; colour scales are logarithmic unless ``log=False``.

Example:
  >>> import scatterjax, scatterjax.plot
  >>> from scatterjax.examples import chirp_and_am_tone
  >>> x, rate = chirp_and_am_tone(2**13)
  >>> S = scatterjax.Scattering1D(J=8, shape=x.shape[-1], Q=8)
  >>> fig = scatterjax.plot.scattering1d(S(x), S, x, sample_rate=rate)
  >>> fig.savefig("scattering.png")  # doctest: +SKIP
"""

from __future__ import annotations

import math

import numpy as np

from ._scattering1d import design as design

__all__ = [
    "filter_bank",
    "first_order",
    "jtfs_joint",
    "loss_history",
    "scalogram",
    "scattering1d",
    "scattering2d",
    "second_order",
    "spin_energy",
]

_DYNAMIC_RANGE = 1e-3  # log colour scales span three decades below the maximum


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            'scatterjax.plot needs matplotlib, which is not installed. Install it with: '
            'pip install "scatterjax[plots]"'
        ) from error
    return plt


def _new_axes(ax, figsize):
    plt = _pyplot()
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax


def _frequency_unit(sample_rate):
    if sample_rate is None:
        return 1.0, "cycles/sample"
    rate = float(sample_rate)
    if not (np.isfinite(rate) and rate > 0):
        raise ValueError(f"sample_rate must be a finite number of samples per second > 0, or None; got {sample_rate}.")
    return rate, "Hz"


def _edges(centres) -> np.ndarray:
    """Cell edges (geometric midpoints) around increasing positive centres, for ``pcolormesh``."""
    centres = np.asarray(centres, dtype=float)
    if centres.size == 1:
        return np.array([centres[0] / 1.5, centres[0] * 1.5])
    mids = np.sqrt(centres[1:] * centres[:-1])
    return np.concatenate([[centres[0] ** 2 / mids[0]], mids, [centres[-1] ** 2 / mids[-1]]])


def _color_norm(values, log: bool):
    from matplotlib.colors import LogNorm, Normalize

    finite = np.asarray(values)[np.isfinite(values)]
    top = float(finite.max()) if finite.size else 1.0
    if not log:
        return Normalize(vmin=float(finite.min()) if finite.size else 0.0, vmax=top)
    top = top if top > 0 else 1.0
    return LogNorm(vmin=top * _DYNAMIC_RANGE, vmax=top)


def _clip_for_log(values, log: bool):
    if not log:
        return values
    positive = np.asarray(values, dtype=float)
    floor = np.nanmax(positive) * _DYNAMIC_RANGE if np.isfinite(positive).any() else 1e-30
    return np.where(positive > floor, positive, floor)


def _single(Sx, channel_axes: int, what: str) -> np.ndarray:
    """``Sx`` as a NumPy array for one signal, rejecting batches with a pointer to indexing."""
    if isinstance(Sx, (list, dict)):
        raise TypeError(
            f"{what} plots the array output (out_type='array'); got a {type(Sx).__name__}. Compute Sx with a "
            "transform built with out_type='array'."
        )
    Sx = np.asarray(Sx, dtype=np.float64)
    if Sx.ndim != channel_axes:
        expected = "(C, N_out)" if channel_axes == 2 else "(C, M_out, N_out)"
        raise ValueError(
            f"{what} plots the coefficients of one signal, of shape {expected}; got shape {Sx.shape}. "
            "Index the batch first, e.g. Sx[0]."
        )
    return Sx


def _check_channels(Sx, meta, transform):
    if Sx.shape[0] != len(meta["order"]):
        raise ValueError(
            f"Sx has {Sx.shape[0]} channels but {transform!r} produces {len(meta['order'])}: pass the "
            "coefficients computed by this transform (out_type='array')."
        )


def _log_frequency_axes(ax):
    """Readable tick labels on the log axes of ``ax``: plain numbers at 1, 2, 5 per decade (1 per
    decade beyond three decades), no minor labels (matplotlib's own collide on short ranges)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    for axis, (low, high) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
        if axis.get_scale() != "log" or not 0 < min(low, high):
            continue
        decades = math.log10(max(low, high) / min(low, high))
        axis.set_major_locator(LogLocator(base=10, subs=(1.0,) if decades > 3 else (1.0, 2.0, 5.0)))
        axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axis.set_minor_formatter(NullFormatter())


def _time_blocks(image: np.ndarray, max_columns: int) -> np.ndarray:
    """Average ``image`` over blocks of columns so that at most ``max_columns`` remain."""
    factor = max(1, math.ceil(image.shape[-1] / max_columns))
    usable = image.shape[-1] // factor * factor
    return image[..., :usable].reshape(*image.shape[:-1], usable // factor, factor).mean(-1)


# --- 1D -----------------------------------------------------------------------------------------


def filter_bank(transform, *, sample_rate=None, figsize=(8, 6)):
    """The wavelets and low-pass of a ``Scattering1D`` in Fourier, with their Littlewood–Paley sum.

    One panel per order: ``|psi_hat|^2`` of every wavelet, ``|phi_hat|^2`` of the low-pass
    (dashed) and their sum ``A(w) = |phi_hat(w)|^2 + sum_lambda |psi_hat_lambda(w)|^2`` (black),
    on positive frequencies at the padded length the transform uses. ``A`` close to 1 over the
    band means the filter bank covers every frequency (energy is neither lost nor amplified much).

    Args:
      transform: a ``scatterjax.Scattering1D``.
      sample_rate: samples per second, for a frequency axis in Hz.

    Returns: the Figure.
    """
    plt = _pyplot()
    length = int(getattr(transform, "N_padded", transform.shape[-1]))
    J = transform.J
    Q = tuple(transform.Q)
    T = design.lowpass_samples(transform.T, J)
    scale, unit = _frequency_unit(sample_rate)
    bins = np.arange(1, length // 2 + 1)
    frequencies = bins / length * scale
    phi = np.abs(design.gaussian_filter(length, design.SIGMA0 / T)[bins]) ** 2

    orders = Q[: transform.max_order]
    fig, axes = plt.subplots(len(orders), 1, figsize=figsize, layout="constrained", squeeze=False)
    colors = plt.get_cmap("viridis")
    for order, (ax, q) in enumerate(zip(axes[:, 0], orders), start=1):
        params = design.wavelet_params(J, q)
        total = phi.copy()
        count = len(params.xi)
        for n, (xi, sigma) in enumerate(zip(params.xi, params.sigma)):
            energy = np.abs(design.morlet_filter(length, xi, sigma)[bins]) ** 2
            total += energy
            ax.plot(frequencies, energy, color=colors(n / max(count - 1, 1)), lw=0.8)
        ax.plot(frequencies, phi, "k--", lw=1.0, label=f"low-pass φ (T={T:g} samples)")
        ax.plot(frequencies, total, "k", lw=1.6, label="Littlewood–Paley sum A(ω)")
        ax.set(
            xscale="log",
            xlim=(frequencies[0], frequencies[-1]),
            ylim=(0, max(1.05, 1.05 * total.max())),
            title=f"Order {order}: {count} wavelets (J={J}, Q={q})",
            xlabel=f"frequency ({unit})",
            ylabel="squared gain |ψ̂(ω)|²",
        )
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(loc="lower left", fontsize="small")
        _log_frequency_axes(ax)
    return fig


def scalogram(
    x, J, Q=8, *, sample_rate=None, log=True, max_columns=1024, ax=None, figsize=(8, 4), pad_mode="reflect"
):
    """The scalogram ``|x * psi_lambda|(t)`` of a 1D signal: the first-order modulus before averaging.

    Computed by ``Scattering1D(J, N, Q, pad_mode=pad_mode).scalogram(x)`` (the transform's own
    wavelets and padding, at the full rate), averaged over blocks of time for display.

    Args:
      x: one real signal, shape ``(N,)``.
      J, Q: largest scale ``2**J`` and wavelets per octave.
      sample_rate: samples per second, for axes in seconds and Hz.
      log: logarithmic colour scale (three decades).
      max_columns: at most this many time columns are drawn.
      pad_mode: what the signal's ends see: ``'reflect'`` (default), ``'symmetric'``, ``'zero'``
        or ``'periodic'`` (see ``Scattering1D``).

    Returns: the Figure.

    Example:
      >>> import numpy as np, scatterjax.plot
      >>> x = np.sin(0.05 * np.arange(2048) ** 1.3)
      >>> fig = scatterjax.plot.scalogram(x, J=6, Q=8, pad_mode="zero")
    """
    from ._scattering1d.frontend import Scattering1D

    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"scalogram plots one signal of shape (N,); got shape {x.shape}. Index the batch first.")
    length = x.shape[0]
    transform = Scattering1D(J=J, shape=length, Q=Q, max_order=1, pad_mode=pad_mode)
    # float32 is plenty for an image, and avoids the core's float64-without-x64 warning.
    modulus = np.asarray(transform.scalogram(x.astype(np.float32)))  # (N1, N), n1 order
    meta = transform.meta()
    image = _time_blocks(modulus, max_columns)[::-1]  # increasing frequency
    scale, unit = _frequency_unit(sample_rate)
    frequencies = meta["xi"][meta["order"] == 1, 0][::-1] * scale
    duration, time_unit = (length / sample_rate, "s") if sample_rate else (length, "samples")

    fig, ax = _new_axes(ax, figsize)
    mesh = ax.pcolormesh(
        np.linspace(0, duration, image.shape[-1] + 1), _edges(frequencies), _clip_for_log(image, log),
        norm=_color_norm(image, log), shading="flat",
    )
    ax.set(yscale="log", xlabel=f"time ({time_unit})", ylabel=f"wavelet centre frequency ({unit})",
           title=f"Scalogram |x ⋆ ψλ| (J={J}, Q={Q})")
    _log_frequency_axes(ax)
    fig.colorbar(mesh, ax=ax, label="|x ⋆ ψλ|")
    return fig


def first_order(Sx, transform, *, sample_rate=None, log=True, ax=None, figsize=(8, 4)):
    """First-order coefficients ``S1 x(t, lambda1)`` of one signal as an image: time × frequency.

    Args:
      Sx: ``transform(x)`` for one signal, shape ``(C, N_out)``.
      transform: the ``scatterjax.Scattering1D`` that computed it.
      sample_rate: samples per second, for axes in seconds and Hz.
      log: logarithmic colour scale (three decades).

    Returns: the Figure.
    """
    Sx = _single(Sx, 2, "first_order")
    meta = transform.meta()
    _check_channels(Sx, meta, transform)
    order1 = np.flatnonzero(meta["order"] == 1)[::-1]  # increasing frequency
    scale, unit = _frequency_unit(sample_rate)
    frequencies = meta["xi"][order1, 0] * scale
    image = Sx[order1]
    N = transform.shape[-1]
    duration, time_unit = (N / sample_rate, "s") if sample_rate else (N, "samples")

    fig, ax = _new_axes(ax, figsize)
    mesh = ax.pcolormesh(
        np.linspace(0, duration, image.shape[-1] + 1), _edges(frequencies), _clip_for_log(image, log),
        norm=_color_norm(image, log), shading="flat",
    )
    T = design.lowpass_samples(transform.T, transform.J)
    ax.set(yscale="log", xlabel=f"time ({time_unit})", ylabel=f"wavelet centre frequency ξ1 ({unit})",
           title=f"First order S1 (J={transform.J}, Q={transform.Q[0]}, T={T:g} samples)")
    _log_frequency_axes(ax)
    fig.colorbar(mesh, ax=ax, label="S1")
    return fig


def _second_order_grid(Sx, meta, scale, normalize):
    order1 = np.flatnonzero(meta["order"] == 1)
    order2 = np.flatnonzero(meta["order"] == 2)
    averages = Sx.mean(axis=-1)
    xi1 = meta["xi"][order2, 0] * scale
    xi2 = meta["xi"][order2, 1] * scale
    carriers = np.unique(xi1)
    modulations = np.unique(xi2)
    grid = np.full((carriers.size, modulations.size), np.nan)
    parent = {int(meta["n"][c, 0]): c for c in order1}
    # Ratios over carriers with almost no energy are noise: leave them blank.
    floor = _DYNAMIC_RANGE * averages[order1].max()
    for c, a, b in zip(order2, xi1, xi2):
        value = averages[c]
        if normalize:
            parent_energy = averages[parent[int(meta["n"][c, 0])]]
            value = value / parent_energy if parent_energy > floor else np.nan
        grid[np.searchsorted(carriers, a), np.searchsorted(modulations, b)] = value
    return carriers, modulations, grid


def second_order(Sx, transform, *, sample_rate=None, normalize=False, log=True, ax=None, figsize=(6, 5)):
    """Time-averaged second-order coefficients of one signal: modulation frequency × frequency.

    Cell ``(xi2, xi1)`` shows the time average of ``S2 x(t, lambda1, lambda2)``: how much the
    envelope of the band around ``xi1`` fluctuates at the rate ``xi2`` (amplitude modulation,
    beating, onsets). Empty cells are paths scattering does not compute (``xi2`` above ``xi1``'s
    bandwidth).

    Args:
      Sx: ``transform(x)`` for one signal, shape ``(C, N_out)``, from a transform with
        ``max_order=2``.
      transform: the ``scatterjax.Scattering1D`` that computed it.
      sample_rate: samples per second, for axes in Hz.
      normalize: divide each path by the time average of its first-order parent
        (``S2 / S1``: modulation depth rather than energy); blank where the parent holds less
        than 1e-3 of the largest first-order average.
      log: logarithmic colour scale (three decades).

    Returns: the Figure.
    """
    Sx = _single(Sx, 2, "second_order")
    meta = transform.meta()
    _check_channels(Sx, meta, transform)
    if not (meta["order"] == 2).any():
        raise ValueError("second_order needs coefficients from a transform with max_order=2.")
    scale, unit = _frequency_unit(sample_rate)
    carriers, modulations, grid = _second_order_grid(Sx, meta, scale, normalize)

    fig, ax = _new_axes(ax, figsize)
    mesh = ax.pcolormesh(_edges(modulations), _edges(carriers), np.ma.masked_invalid(grid),
                         norm=_color_norm(grid, log), shading="flat")
    label = "time-averaged S2 / S1" if normalize else "time-averaged S2"
    title = "Second order, averaged over time" + (": S2 / S1 (modulation depth)" if normalize else "")
    ax.set(xscale="log", yscale="log", xlabel=f"modulation frequency ξ2 ({unit})",
           ylabel=f"carrier frequency ξ1 ({unit})", title=title)
    _log_frequency_axes(ax)
    fig.colorbar(mesh, ax=ax, label=label)
    return fig


def scattering1d(Sx, transform, x=None, *, sample_rate=None, log=True, figsize=(9, 10)):
    """Overview of one signal's scattering: the signal (if given), S1 (time × frequency) and S2.

    Args:
      Sx: ``transform(x)`` for one signal, shape ``(C, N_out)``.
      transform: the ``scatterjax.Scattering1D`` that computed it.
      x: the signal itself, shape ``(N,)`` (optional: drawn in a top panel).
      sample_rate: samples per second, for axes in seconds and Hz.
      log: logarithmic colour scales.

    Returns: the Figure.
    """
    plt = _pyplot()
    Sx = _single(Sx, 2, "scattering1d")
    has_second = bool((transform.meta()["order"] == 2).any())
    rows = (x is not None) + 1 + has_second
    fig, axes = plt.subplots(rows, 1, figsize=figsize, layout="constrained", squeeze=False)
    axes = list(axes[:, 0])
    if x is not None:
        x = np.asarray(x)
        ax = axes.pop(0)
        N = x.shape[-1]
        t = np.arange(N) / sample_rate if sample_rate else np.arange(N)
        ax.plot(t, x, lw=0.4)
        ax.set(xlim=(t[0], t[-1]), xlabel="time (s)" if sample_rate else "time (samples)",
               ylabel="amplitude", title="Signal")
    first_order(Sx, transform, sample_rate=sample_rate, log=log, ax=axes.pop(0))
    if has_second:
        second_order(Sx, transform, sample_rate=sample_rate, log=log, ax=axes.pop(0))
    return fig


# --- 2D -----------------------------------------------------------------------------------------


def scattering2d(Sx, transform, *, image=None, log=False, figsize=None):
    """Scattering coefficients of one image, by scale and orientation.

    Top: the first-order maps ``S1 x[j1, theta1]`` in a grid (rows: scale ``2**j1`` pixels;
    columns: wavelet orientation), on one colour scale. Bottom (``max_order=2``), from the left:
    the image itself if given; the spatial average of every second-order path as a matrix, rows
    ``(j1, theta1)``, columns ``(j2, theta2)`` (blank where ``j2 <= j1``: not computed); and a polar
    plot of the spatially averaged ``S1`` against orientation, one curve per scale (orientations are
    axial, so each value is drawn at ``theta`` and ``theta + 180°``). With ``max_order=1`` the image
    sits on the left of the first-order grid.

    Args:
      Sx: ``transform(x)`` for one image, shape ``(C, M_out, N_out)``.
      transform: the ``Scattering2D`` that computed it.
      image: the input image ``(M, N)`` (optional).
      log: logarithmic colour scales (three decades).

    Returns: the Figure.
    """
    plt = _pyplot()
    Sx = _single(Sx, 3, "scattering2d")
    meta = transform.meta()
    _check_channels(Sx, meta, transform)
    J, L = transform.J, transform.L
    order1 = np.flatnonzero(meta["order"] == 1)
    order2 = np.flatnonzero(meta["order"] == 2)
    angles = np.degrees(meta["angle"][order1[:L], 0])
    has_second = order2.size > 0
    rows2 = (J - 1) * L  # second-order rows j1 = 0..J-2 and columns j2 = 1..J-1
    if figsize is None:
        figsize = (1.25 * L + 3.5, 1.25 * J + 1.0 + (0.32 * rows2 + 1.6 if has_second else 0.0))
    fig = plt.figure(figsize=figsize, layout="constrained")
    top, bottom = (fig.subfigures(2, 1, height_ratios=[1.25 * J + 1.0, 0.32 * rows2 + 1.6])
                   if has_second else (fig, None))

    # With a second order the image goes in the bottom row, beside the matrix, so that neither row
    # leaves most of the canvas empty; without one it sits left of the first-order grid.
    extra = image is not None and not has_second
    axes = top.subplots(J, L + extra, squeeze=False,
                        gridspec_kw={"width_ratios": ([1.6] if extra else []) + [1] * L})
    if extra:
        image_ax = axes[0, 0]
        image_shown = image_ax.imshow(np.asarray(image), cmap="gray")
        image_ax.set(title="input image", xlabel="x (pixels)", ylabel="y (pixels)")
        top.colorbar(image_shown, ax=image_ax, label="intensity", shrink=0.8)
        for ax in axes[1:, 0]:
            ax.set_axis_off()
    maps = Sx[order1].reshape(J, L, *Sx.shape[-2:])
    norm = _color_norm(maps, log)
    for j in range(J):
        for t in range(L):
            ax = axes[j, t + extra]
            shown = ax.imshow(_clip_for_log(maps[j, t], log), norm=norm, cmap="magma")
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_title(f"θ1={angles[t]:.0f}°", fontsize="small")
            if t == 0:
                ax.set_ylabel(f"j1={j}\n(scale {2**j} px)", fontsize="small")
    top.colorbar(shown, ax=axes[:, extra:].ravel().tolist(), label="S1", shrink=0.9)
    size = "×".join(map(str, Sx.shape[-2:]))
    top.suptitle(f"First order S1 by scale (rows) and orientation (columns), J={J}, L={L}: each map is "
                 f"{size}, one value per {2**J}×{2**J} input pixels", fontsize="medium")

    if has_second:
        grid = np.full((rows2, rows2), np.nan)
        averages = Sx[order2].mean(axis=(-2, -1))
        for c, value in zip(order2, averages):
            grid[int(meta["n"][c, 0]), int(meta["n"][c, 1]) - L] = value
        widths = ([1.0] if image is not None else []) + [1.6, 1.0]
        grid_spec = bottom.add_gridspec(1, len(widths), width_ratios=widths)
        if image is not None:
            image_ax = bottom.add_subplot(grid_spec[0])
            image_shown = image_ax.imshow(np.asarray(image), cmap="gray")
            image_ax.set(title="input image", xlabel="x (pixels)", ylabel="y (pixels)")
            bottom.colorbar(image_shown, ax=image_ax, label="intensity", shrink=0.8)
        ax = bottom.add_subplot(grid_spec[-2])
        rose = bottom.add_subplot(grid_spec[-1], projection="polar")
        averages1 = Sx[order1].reshape(J, L, -1).mean(axis=-1)
        theta = np.radians(np.concatenate([angles, angles + 180.0, angles[:1]]))
        for j in range(J):
            values = np.concatenate([averages1[j], averages1[j], averages1[j, :1]])
            rose.plot(theta, values, marker=".", label=f"j1={j}")
        rose.set_title("S1 averaged over space,\nby orientation θ1", fontsize="small")
        rose.tick_params(labelsize="x-small")
        rose.legend(fontsize="x-small", loc="lower left", bbox_to_anchor=(0.9, -0.1))
        mesh = ax.imshow(np.ma.masked_invalid(grid), norm=_color_norm(grid, log), cmap="viridis",
                         interpolation="nearest", aspect="equal")
        cells = np.arange(rows2)
        angle_labels = [f"{angles[t]:.0f}°" for t in cells % L]
        ax.set_xticks(cells, angle_labels, rotation=90, fontsize="x-small")
        ax.set_yticks(cells, angle_labels, fontsize="x-small")
        blocks = np.arange(J - 1) * L + (L - 1) / 2
        ax.secondary_xaxis("top").set_xticks(blocks, [f"j2={j}" for j in range(1, J)])
        ax.secondary_yaxis("right").set_yticks(blocks, [f"j1={j}" for j in range(J - 1)])
        for boundary in np.arange(1, J - 1) * L - 0.5:
            ax.axhline(boundary, color="k", lw=0.8)
            ax.axvline(boundary, color="k", lw=0.8)
        ax.set(xlabel="second wavelet: orientation θ2 within scale j2 (top)",
               ylabel="first wavelet: orientation θ1 within scale j1 (right)")
        bottom.suptitle(("The input image; " if image is not None else "")
                        + "second order S2 averaged over space (blank: j2 ≤ j1, not computed); S1 by orientation",
                        fontsize="medium")
        bottom.colorbar(mesh, ax=ax, label="spatially averaged S2")
    return fig


# --- joint time-frequency scattering --------------------------------------------------------------


def spin_energy(Sx, transform, *, order=2) -> dict[int, np.ndarray]:
    """Energy (sum of squares) of joint time-frequency scattering coefficients, by spin.

    Spin +1 paths respond to rising pitch (chirps going up), spin -1 to falling pitch and spin 0
    (the low-pass along log-frequency) to neither; for an up-chirp ``E[+1] / E[-1]`` is well above
    1, for a down-chirp well below. Needs no matplotlib.

    Args:
      Sx: ``transform(x)`` with ``out_type='array'``: ``(*batch, C, N_out)`` (``format='time'``) or
        ``(*batch, C_joint, R, N_out)`` (``format='joint'``; the frequency rows beyond the last
        first-order filter count too).
      transform: the ``scatterjax.TimeFrequencyScattering`` that computed it.
      order: 1, 2 or None (both).

    Returns: ``{+1: E, 0: E, -1: E}``, each a float64 array of shape ``batch`` (0-d for one
    signal); a spin without paths (-1 at order 1) has energy 0.
    """
    if order not in (1, 2, None):
        raise ValueError(f"order must be 1, 2 or None (both); got {order!r}.")
    meta = transform.meta()
    spin, orders = meta["spin"], meta["order"]
    Sx = np.asarray(Sx, dtype=np.float64)
    channel_axis = -3 if transform.format == "joint" else -2
    if transform.out_type != "array" or Sx.ndim < -channel_axis or Sx.shape[channel_axis] != spin.size:
        expected = "(*batch, C_joint, R, N_out)" if channel_axis == -3 else "(*batch, C, N_out)"
        raise ValueError(
            f"spin_energy needs the array output of {transform!r}, of shape {expected} with "
            f"{spin.size} channels; got shape {Sx.shape}."
        )
    squares = np.moveaxis(Sx**2, channel_axis, -1)
    squares = squares.sum(axis=tuple(range(squares.ndim + channel_axis, squares.ndim - 1)))
    selected = np.isin(orders, (1, 2) if order is None else (order,))
    return {value: squares[..., selected & (spin == value)].sum(axis=-1) for value in (1, 0, -1)}


def _spin_label(spin: float, xi_fr: float) -> str:
    if spin == 0:
        return "spin 0\n(low-pass)"
    return f"spin {int(spin):+d}\nξfr={xi_fr:+.3g}"


def jtfs_joint(Sx, transform, *, n2=None, first_order=True, sample_rate=None, log=False, title=None,
               figsize=None, fig=None):
    """Joint time-frequency scattering of one signal: an ``n1 × time`` image per path, in a grid.

    Rows: the frequency filters along log-frequency, sorted by their centre ``xi_fr`` (spin +1
    wavelets from the finest, the spin-0 low-pass, then spin -1 wavelets to the finest).
    Columns: the first-order paths (spin >= 0 only) and one column per second-order wavelet
    ``n2``. Each panel shows the path's coefficients with rows ``n1 = row * stride_fr`` (first-order
    filter index: 0 at the highest frequency, at the top) and time along the horizontal axis;
    below the dashed line the rows lie beyond the path's last first-order filter (the zero-padded
    part of the frequency axis, kept by the joint array). A rising chirp lights up the spin +1
    rows, a falling one the spin -1 rows; the panels of one column share their colour scale, linear
    by default (the spin contrast, a few times in amplitude, is what this figure is for).

    Args:
      Sx: ``transform(x)`` for one signal, shape ``(C_joint, R, N_out)``.
      transform: the ``scatterjax.TimeFrequencyScattering`` that computed it, with
        ``format='joint'`` and ``out_type='array'``.
      n2: the second-order wavelet indices to show (an int or a sequence; ``meta()['n'][:, 1]``);
        None: every one.
      first_order: include the first-order column.
      sample_rate: samples per second, for a time axis in seconds and ``xi2`` in Hz.
      log: logarithmic colour scales (three decades below each column's maximum).
      title: the figure title (default: the transform's parameters and how to read the rows).
      fig: a Figure or SubFigure to draw in (e.g. one of ``fig.subfigures(1, 2)``, to compare two
        signals); by default a new Figure.

    Returns: the Figure (the root Figure when drawing into a SubFigure).
    """
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    if getattr(transform, "format", None) != "joint" or transform.out_type != "array":
        raise ValueError(
            "jtfs_joint plots the output of TimeFrequencyScattering(..., format='joint', out_type='array'); "
            f"got {transform!r}."
        )
    Sx = _single(Sx, 3, "jtfs_joint")
    meta = transform.meta()
    _check_channels(Sx, meta, transform)
    orders, spins, xi_fr, n_fr = meta["order"], meta["spin"], meta["xi_fr"], meta["n_fr"]
    n2_of = meta["n"][:, 1]
    available = sorted({int(v) for v in n2_of[orders == 2]})
    if n2 is None:
        chosen = available
    else:
        chosen = [int(v) for v in np.atleast_1d(n2)]
        missing = sorted(set(chosen) - set(available))
        if missing:
            raise ValueError(f"n2={missing} has no second-order path; available n2: {available}.")
    columns = ([(1, None)] if first_order else []) + [(2, v) for v in chosen]
    if not columns:
        raise ValueError("nothing to draw: pass first_order=True or some n2.")
    filters = sorted({(float(xi_fr[c]), float(spins[c]), int(n_fr[c])) for c in range(len(orders))}, reverse=True)
    row_of = {n: r for r, (_, _, n) in enumerate(filters)}

    rows_fr, length = Sx.shape[-2:]
    stride_fr = transform.N_frequency // rows_fr  # n1 spacing of the rows
    j1 = np.asarray(transform.bank.time.j1)
    j2 = np.asarray(transform.bank.time.j2)
    xi2 = np.asarray(transform.bank.time.xi2)
    scale, unit = _frequency_unit(sample_rate)
    duration, time_unit = (transform.N / sample_rate, "s") if sample_rate else (transform.N, "samples")
    extent = (0, duration, (rows_fr - 0.5) * stride_fr, -0.5 * stride_fr)

    if fig is None:
        if figsize is None:
            figsize = (1.9 * len(columns) + 1.6, 1.05 * len(filters) + 1.8)
        fig = plt.figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(len(filters), len(columns), sharex=True, sharey=True, squeeze=False)
    cmap = plt.get_cmap("magma")
    cmap = cmap.with_extremes(bad=cmap(0.0), under=cmap(0.0))
    for k, (order, column_n2) in enumerate(columns):
        paths = np.flatnonzero((orders == order) & ((n2_of == column_n2) if order == 2 else True))
        real_rows = j1.size if order == 1 else int(np.sum(j1 < j2[column_n2]))
        norm = _color_norm(Sx[paths], log)
        shown = None
        for r in range(len(filters)):
            axes[r, k].set_facecolor("0.92")
        for c in paths:
            ax = axes[row_of[int(n_fr[c])], k]
            shown = ax.imshow(Sx[c], cmap=cmap, norm=norm, aspect="auto", interpolation="nearest", extent=extent)
            ax.axhline(real_rows - 0.5, color="w", lw=0.8, ls="--")
        if order == 1:
            heading = "order 1"
            for r, (_, spin, _) in enumerate(filters):
                if spin < 0:  # first order has no spin -1 paths
                    axes[r, k].text(0.5, 0.5, "(none)", ha="center", va="center", transform=axes[r, k].transAxes,
                                    fontsize="small", color="0.4")
        else:
            heading = f"order 2, n2={column_n2} (j2={int(j2[column_n2])})\nξ2={xi2[column_n2] * scale:.3g} {unit}"
        axes[0, k].set_title(heading, fontsize="small")
        ticks = {} if log else {"ticks": MaxNLocator(nbins=2), "format": "%.2g"}
        fig.colorbar(shown, ax=axes[:, k].tolist(), location="bottom", shrink=0.9, aspect=12,
                     label="S2" if order == 2 else "S1", **ticks)
    for r, (xi, spin, _) in enumerate(filters):
        axes[r, 0].set_ylabel(f"{_spin_label(spin, xi)}\nn1", fontsize="small")
    for ax in axes[-1]:
        ax.set_xlabel(f"time ({time_unit})", fontsize="small")
    for ax in axes.ravel():
        ax.tick_params(labelsize="x-small")
    if title is None:
        title = (f"Joint time-frequency scattering (J={transform.J}, J_fr={transform.J_fr}, Q={transform.Q[0]})\n"
                 f"rows n1 = 0, {stride_fr}, {2 * stride_fr}, … (0: highest frequency); below the dashed line: "
                 "the zero-padded part of the n1 axis")
    fig.suptitle(title, fontsize="medium")
    get_root = getattr(fig, "get_figure", None)
    try:
        return get_root(root=True) if get_root is not None else fig
    except TypeError:  # matplotlib < 3.10
        return fig.figure


# --- optimisation ---------------------------------------------------------------------------------


def loss_history(losses, *, label=None, ylabel="loss", ax=None, figsize=(6, 4)):
    """A loss curve (e.g. from :func:`scatterjax.reconstruct`) on a logarithmic axis.

    Args:
      losses: 1D array of loss values, one per step.
      label: legend entry (several curves can share ``ax``).
      ylabel: the y-axis label.

    Returns: the Figure.
    """
    losses = np.asarray(losses, dtype=np.float64)
    if losses.ndim != 1:
        raise ValueError(f"losses must be one value per step, shape (steps,); got shape {losses.shape}.")
    fig, ax = _new_axes(ax, figsize)
    ax.plot(np.arange(losses.size), losses, label=label)
    ax.set(yscale="log", xlabel="optimizer step", ylabel=ylabel, title="Loss history")
    ax.grid(True, which="both", alpha=0.3)
    if label is not None:
        ax.legend()
    return fig
