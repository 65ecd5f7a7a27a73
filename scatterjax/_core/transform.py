"""What every transform object shares: an immutable, callable pytree around a filter bank.

A transform object holds exactly one child, its filter bank (a pytree of arrays), and static
settings. Flattening it gives the bank's arrays as leaves, so ``jax.jit(lambda S, x: S(x))(S, x)``
passes the filters as arguments (never as constants) and ``jax.tree_util`` / Equinox / Flax see them.
"""

from __future__ import annotations

from typing import Any

import jax
from jax.sharding import NamedSharding


class ScatteringTransform:
    """Base class: immutable after ``__init__``, flattened to ``(bank,)`` plus static settings.

    Subclasses set ``self.bank`` and every entry of ``_static_fields`` in ``__init__`` (through
    ``_set``) and register themselves with ``@jax.tree_util.register_pytree_node_class``.
    """

    _static_fields: tuple[str, ...] = ()

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f"{type(self).__name__} is immutable; build a new one instead of setting {name!r}."
        )

    def tree_flatten(self):
        return (self.bank,), tuple(getattr(self, name) for name in self._static_fields)

    @classmethod
    def tree_unflatten(cls, static, children):
        obj = object.__new__(cls)
        object.__setattr__(obj, "bank", children[0])
        for name, value in zip(cls._static_fields, static):
            object.__setattr__(obj, name, value)
        return obj

    def _per_device_call(self, x):
        """``self(x)`` per device when ``x`` is a batch-sharded array (see :func:`batch_mesh_of`),
        else ``None``. A 'list' output holds Python ints per path and is never routed."""
        mesh = batch_mesh_of(x) if getattr(self, "out_type", "array") != "list" else None
        if mesh is None:
            return None
        from .sharding import sharded_apply

        return sharded_apply(self, x, mesh)

    def __repr__(self) -> str:
        settings = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._repr_fields)
        return f"{type(self).__name__}({settings})"

    _repr_fields: tuple[str, ...] = ()


def batch_mesh_of(x):
    """The mesh over which ``x``'s leading axis (only) is split, or ``None``.

    Such inputs go through :func:`scatterjax._core.sharding.sharded_apply`: XLA's partitioner does not
    split FFTs along batch dimensions and would gather the whole batch onto every device.
    """
    if not isinstance(x, jax.Array) or isinstance(x, jax.core.Tracer) or x.ndim < 2:
        return None
    sharding = x.sharding
    if not isinstance(sharding, NamedSharding) or len(sharding.device_set) < 2:
        return None
    spec = tuple(sharding.spec) + (None,) * (x.ndim - len(sharding.spec))
    if spec[0] is None or any(entry is not None for entry in spec[1:]):
        return None
    axes = spec[0] if isinstance(spec[0], tuple) else (spec[0],)
    if len(axes) != 1 or sharding.mesh.shape[axes[0]] != sharding.mesh.devices.size:
        return None
    return sharding.mesh


def tree_leaves_nbytes(tree) -> int:
    """Total bytes of the array leaves of ``tree`` (e.g. the memory a filter bank occupies)."""
    return sum(leaf.size * leaf.dtype.itemsize for leaf in jax.tree_util.tree_leaves(tree))
