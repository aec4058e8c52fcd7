"""Frozen dataclasses to and from JSON, checked against their type hints (pure stdlib).

Records and the host-worker protocol share it: what a child wrote is decoded with the same
type checks as a stored result, so a renamed key or a wrong type fails where it is read.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any, TypeVar, Union

T = TypeVar("T")


class DecodeError(ValueError):
    """JSON that does not match the dataclass it should hold; the message names the path."""


def to_json(value: Any) -> Any:
    """Plain JSON values: dataclasses become objects, tuples lists, NaN and inf null."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN: a missing measurement is stored as null
    if hasattr(value, "code") and hasattr(value, "fault"):  # an ErrorKind
        return value.code
    return value


def from_json(cls: type[T], data: Any, path: str = "$") -> T:
    """Build `cls` (a dataclass) from JSON data, checking every field's type.

    Missing fields with defaults take them; unknown keys are ignored (added by newer code).

    Raises:
        DecodeError: a field is missing or has the wrong type; the message names it.
    """
    return _decode(cls, data, path)


def _decode(hint: Any, data: Any, path: str) -> Any:
    origin = typing.get_origin(hint)
    if hint is Any:
        return data
    if origin in (Union, types.UnionType):
        return _decode_union(hint, data, path)
    if dataclasses.is_dataclass(hint):
        return _decode_dataclass(hint, data, path)
    if origin in (list, tuple):
        return _decode_sequence(hint, data, path)
    if origin is dict or hint is dict:
        if not isinstance(data, dict):
            raise DecodeError(f"{path}: expected an object, got {type(data).__name__}")
        args = typing.get_args(hint)
        value_hint = args[1] if args else Any
        return {str(k): _decode(value_hint, v, f"{path}.{k}") for k, v in data.items()}
    if origin is typing.Literal:
        if data not in typing.get_args(hint):
            raise DecodeError(f"{path}: expected one of {typing.get_args(hint)}, got {data!r:.60}")
        return data
    return _decode_scalar(hint, data, path)


def _decode_union(hint: Any, data: Any, path: str) -> Any:
    options = typing.get_args(hint)
    if data is None and type(None) in options:
        return None
    errors = []
    for option in options:
        if option is type(None):
            continue
        try:
            return _decode(option, data, path)
        except DecodeError as exc:
            errors.append(str(exc))
    raise DecodeError(errors[0] if len(errors) == 1 else f"{path}: matches none of {options}")


def _decode_dataclass(cls: Any, data: Any, path: str) -> Any:
    if not isinstance(data, dict):
        raise DecodeError(f"{path}: expected an object, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    values = {}
    for field in dataclasses.fields(cls):
        if field.name in data:
            values[field.name] = _decode(
                hints[field.name], data[field.name], f"{path}.{field.name}"
            )
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise DecodeError(f"{path}: missing field {field.name!r}")
    return cls(**values)


def _decode_sequence(hint: Any, data: Any, path: str) -> Any:
    if not isinstance(data, list | tuple):
        raise DecodeError(f"{path}: expected a list, got {type(data).__name__}")
    args = typing.get_args(hint)
    item = args[0] if args else Any
    if typing.get_origin(hint) is tuple and not (len(args) == 2 and args[1] is Ellipsis):
        if len(args) != len(data):
            raise DecodeError(f"{path}: expected {len(args)} items, got {len(data)}")
        return tuple(
            _decode(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, data, strict=True))
        )
    decoded = [_decode(item, v, f"{path}[{i}]") for i, v in enumerate(data)]
    return tuple(decoded) if typing.get_origin(hint) is tuple else decoded


def _decode_scalar(hint: Any, data: Any, path: str) -> Any:
    if hasattr(hint, "parse") and isinstance(data, str):  # an enum with a tolerant parser
        return hint.parse(data)
    if hint is float and isinstance(data, int | float) and not isinstance(data, bool):
        return float(data)
    if hint is float and data is None:
        return math.nan  # written as null: a measurement that could not be made
    if (
        isinstance(hint, type)
        and isinstance(data, hint)
        and not (isinstance(data, bool) and hint is int)
    ):
        return data
    raise DecodeError(f"{path}: expected {getattr(hint, '__name__', hint)}, got {data!r:.60}")
