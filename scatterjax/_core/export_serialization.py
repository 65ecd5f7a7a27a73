"""Transforms and filter banks as arguments of a serialized ``jax.export`` artifact.

``jax.export`` stores the tree structure of an exported function's arguments (its calling
convention) in the serialized artifact, so every custom pytree node among them needs its static
metadata written as bytes. Ours is plain data: ints, floats, bools, strings, ``None``, tuples, and
scatterjax's frozen plan dataclasses. It is written as JSON. Reading it back builds only those
types (no pickle), so an artifact cannot name any other class to construct.

Example:
  >>> import jax, scatterjax
  >>> S = scatterjax.Scattering1D(J=2, shape=64, Q=1)
  >>> exported = jax.export.export(jax.jit(lambda S, x: S(x)))(S, jax.numpy.ones((1, 64)))
  >>> jax.export.deserialize(exported.serialize()).call(S, jax.numpy.ones((1, 64))).shape
  (1, 4, 16)
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
from typing import Any

import jax

_PACKAGE = "scatterjax"


def serializable_for_export(cls: type) -> type:
    """Register ``cls`` (already a pytree node) so that ``jax.export`` can serialize a tree holding
    it; returns ``cls``, so it also serves as a class decorator (below the pytree one)."""
    jax.export.register_pytree_node_serialization(
        cls,
        serialized_name=f"{cls.__module__}.{cls.__qualname__}",
        serialize_auxdata=encode_metadata,
        deserialize_auxdata=decode_metadata,
    )
    return cls


def encode_metadata(value: Any) -> bytes:
    """``value`` (static pytree metadata) as JSON bytes; ``TypeError`` naming any other type.

    >>> decode_metadata(encode_metadata((1, 2.5, None, ("a", True))))
    (1, 2.5, None, ('a', True))
    """
    return json.dumps(_to_json(value), allow_nan=True, separators=(",", ":")).encode()


def decode_metadata(data: bytes) -> Any:
    """The metadata :func:`encode_metadata` wrote."""
    return _from_json(json.loads(data.decode()))


def _to_json(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isnan(value):  # NaN != NaN would make the stored calling convention never match
            raise TypeError("cannot serialize NaN in a transform's static settings")
        return value
    if isinstance(value, tuple):
        return {"tuple": [_to_json(item) for item in value]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and _ours(type(value)):
        fields = {field.name: _to_json(getattr(value, field.name)) for field in dataclasses.fields(value)}
        return {"dataclass": _name(type(value)), "fields": fields}
    raise TypeError(f"cannot serialize {type(value).__qualname__} in a transform's static settings")


def _from_json(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if value.keys() == {"tuple"}:
        return tuple(_from_json(item) for item in value["tuple"])
    if value.keys() == {"dataclass", "fields"}:
        cls = _dataclass_named(value["dataclass"])
        names = [field.name for field in dataclasses.fields(cls)]
        if sorted(names) != sorted(value["fields"]):
            raise ValueError(f"the stored fields of {value['dataclass']} are not this version's: {names}")
        # Frozen dataclasses: set the fields as their own __init__ does, without re-validating.
        obj = object.__new__(cls)
        for name in names:
            object.__setattr__(obj, name, _from_json(value["fields"][name]))
        return obj
    raise ValueError(f"not a serialized scatterjax setting: {sorted(value)}")


def _in_package(module_name: str) -> bool:
    return module_name == _PACKAGE or module_name.startswith(_PACKAGE + ".")


def _ours(cls: type) -> bool:
    return _in_package(cls.__module__)


def _name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _dataclass_named(name: str) -> type:
    """The scatterjax dataclass ``module:qualname`` (nothing outside the package)."""
    module_name, _, qualname = name.partition(":")
    if not _in_package(module_name):
        raise ValueError(f"a serialized scatterjax setting names a class outside scatterjax: {name}")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    if not (isinstance(obj, type) and dataclasses.is_dataclass(obj) and _ours(obj)):
        raise ValueError(f"a serialized scatterjax setting names no scatterjax dataclass: {name}")
    return obj
