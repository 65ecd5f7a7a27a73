"""Progress bars for long work (extraction, reconstruction): ``tqdm.auto``, notebook-aware."""

from __future__ import annotations

from typing import Any


def progress_bar(total: int | None, description: str, *, enabled: bool = True, unit: str = "it", **kwargs: Any):
    """A ``tqdm`` bar over ``total`` steps, shown on stderr (a widget in notebooks).

    ``enabled=False`` gives a bar that prints nothing, so callers need no branches.

    Example:
      >>> import io
      >>> with progress_bar(3, "demo", file=io.StringIO()) as bar:
      ...     for _ in range(3):
      ...         _ = bar.update(1)
      >>> bar.n
      3
    """
    # Imported here: in a notebook kernel without ipywidgets, importing tqdm.auto warns, and
    # importing scatterjax must not.
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, disable=not enabled, unit=unit, dynamic_ncols=True, **kwargs)
