"""Filters shown in kymatio's layout, marked read-only.

The transforms compute with their own filter bank (grouped, cropped copies passed into the jitted
program), not with the arrays that ``S.psi1_f``, ``S.psi``, ``S.filters``... show in kymatio's
layout. In kymatio, editing those filters changes what the transform computes; here it would not,
so instead of being ignored such an edit raises: NumPy's ``ValueError: assignment destination is
read-only`` for an array edited in place, a ``TypeError`` for a list or dict whose entries are
replaced, added or removed. (For other filters, build a transform with other settings.) Copies
(``copy.deepcopy``, ``list(...)``, ``dict(...)``, ``np.array(...)``) are ordinary, writable objects.
"""

from __future__ import annotations

import jax
import numpy as np

_FIX = (
    "these filters are read-only: the transform computes with its own filter bank, so editing "
    "kymatio's layout would not change the coefficients. Build a transform with other settings "
    "for other filters, or edit a copy (copy.deepcopy) for your own use."
)


def _refuse(*args, **kwargs):
    raise TypeError(_FIX)


class ReadOnlyList(list):
    """A ``list`` whose entries cannot be replaced, added or removed (``TypeError``)."""

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse

    def __reduce__(self):  # copies and pickles are plain lists
        return list, (list(self),)


class ReadOnlyDict(dict):
    """A ``dict`` whose entries cannot be replaced, added or removed (``TypeError``)."""

    __setitem__ = __delitem__ = __ior__ = _refuse
    update = setdefault = pop = popitem = clear = _refuse

    def __reduce__(self):  # copies and pickles are plain dicts
        return dict, (dict(self),)


# Pytree nodes like list and dict (``jax.tree_util`` sees the arrays inside), rebuilt as plain ones.
jax.tree_util.register_pytree_with_keys(
    ReadOnlyList,
    lambda items: ([(jax.tree_util.SequenceKey(index), item) for index, item in enumerate(items)], None),
    lambda _, items: list(items),
)
jax.tree_util.register_pytree_with_keys(
    ReadOnlyDict,
    lambda mapping: ([(jax.tree_util.DictKey(key), mapping[key]) for key in sorted(mapping)], tuple(sorted(mapping))),
    lambda keys, values: dict(zip(keys, values)),
)


def read_only(tree):
    """``tree`` (nested lists, tuples and dicts) with every NumPy array in it made read-only, and
    its lists and dicts made :class:`ReadOnlyList` and :class:`ReadOnlyDict`.

    Example:
      >>> import numpy as np
      >>> filters = read_only({"levels": [np.zeros(4)], "j": 0})
      >>> filters["levels"][0].flags.writeable
      False
      >>> filters["levels"][0] = np.ones(4)
      Traceback (most recent call last):
      ...
      TypeError: these filters are read-only: ...
    """
    if isinstance(tree, np.ndarray):
        tree.flags.writeable = False
        return tree
    if isinstance(tree, dict):
        return ReadOnlyDict({key: read_only(value) for key, value in tree.items()})
    if isinstance(tree, list):
        return ReadOnlyList(read_only(item) for item in tree)
    if isinstance(tree, tuple):
        return tuple(read_only(item) for item in tree)
    return tree
