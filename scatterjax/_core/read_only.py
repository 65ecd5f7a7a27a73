"""Filters shown in kymatio's layout, marked read-only.

The transforms compute with their own filter bank (grouped, cropped copies passed into the jitted
program), not with the arrays that ``S.psi1_f``, ``S.psi``, ``S.filters``... show in kymatio's
layout. In kymatio, editing those arrays in place changes what the transform computes; here it
would not, so instead of being ignored such an edit raises NumPy's ``ValueError: assignment
destination is read-only``. (For other filters, build a transform with other settings.)
"""

from __future__ import annotations

import jax
import numpy as np


def read_only(tree):
    """``tree`` (nested lists, tuples and dicts), with every NumPy array in it made read-only.

    Example:
      >>> import numpy as np
      >>> filters = read_only({"levels": [np.zeros(4)], "j": 0})
      >>> filters["levels"][0].flags.writeable
      False
    """
    for leaf in jax.tree_util.tree_leaves(tree):
        if isinstance(leaf, np.ndarray):
            leaf.flags.writeable = False
    return tree
