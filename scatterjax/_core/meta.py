"""Per-channel metadata tables shared by the transforms' ``meta()``.

A scattering path is a tuple of filter indices, one per order (``()`` for order 0, ``(n1,)``,
``(n1, n2)``, ...). ``meta()`` describes each output channel by one row per field, with one column
per order, NaN where the path is shorter than ``max_order``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def path_orders(paths: Sequence[tuple[int, ...]]) -> np.ndarray:
    """``(C,)`` int: the order (length) of each path."""
    return np.array([len(path) for path in paths], dtype=int)


def path_table(paths: Sequence[tuple[int, ...]], width: int, value: Callable[[int, int], float]) -> np.ndarray:
    """``(C, width)`` float64 table with ``value(order_index, n)`` for each filter ``n`` of each path.

    Entries beyond a path's length are NaN.

    Example:
      >>> path_table([(), (3,), (3, 5)], 2, lambda order, n: 10 * order + n)
      array([[nan, nan],
             [ 3., nan],
             [ 3., 15.]])
    """
    table = np.full((len(paths), width), np.nan)
    for row, path in enumerate(paths):
        for order, n in enumerate(path):
            table[row, order] = value(order, n)
    return table
