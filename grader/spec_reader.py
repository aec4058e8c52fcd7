"""A TOML table read with typed, checked values; errors name the file, the key and the value."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from grader.errors import SpecError

_TYPE_NAMES = {
    int: "an integer",
    float: "a number",
    str: "a string",
    bool: "true or false",
    list: "a list",
    dict: "a table",
}


class TableReader:
    """Reads one TOML table, remembering where it is so errors can name the key."""

    def __init__(self, path: Path, table: dict[str, Any], where: str = "") -> None:
        self.path, self.table, self.where = path, table, where

    def name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fail(self, key: str, value: Any, expected: str) -> SpecError:
        name = self.name(key)
        return SpecError(f"{self.path}: `{name}` must be {expected}. Received: {name}={value!r}")

    def get(
        self,
        key: str,
        kind: type | tuple[type, ...],
        default: Any = ...,
        *,
        check: Callable[[Any], bool] | None = None,
        expected: str = "",
    ) -> Any:
        """The value at `key`, of type `kind` and passing `check`; `default` when absent.

        Raises:
            SpecError: missing without a default, of another type, or failing `check`.
        """
        if key not in self.table:
            if default is ...:
                raise self.fail(key, "<missing>", expected or f"set ({type_name(kind)})")
            return default
        value = self.table[key]
        ok = isinstance(value, kind) and not (isinstance(value, bool) and kind in (int, float))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok or (check is not None and not check(value)):
            raise self.fail(key, value, expected or type_name(kind))
        return value

    def positive(self, key: str, default: Any = ...) -> int:
        """A positive integer (`default` when absent)."""
        return self.get(key, int, default, check=lambda v: v > 0, expected="a positive integer")

    def sub(self, key: str, default: Any = ...) -> TableReader:
        """The reader of the table at `key` (an empty one when absent and `default` given)."""
        table = self.get(key, dict, {} if default is not ... else ..., expected="a table")
        return TableReader(self.path, table, self.name(key))

    def item(self, key: str, index: int, table: Any) -> TableReader:
        """The reader of the `index`-th table of the array at `key`."""
        if not isinstance(table, dict):
            raise self.fail(f"{key}[{index}]", table, "a table")
        return TableReader(self.path, table, self.name(f"{key}[{index}]"))

    def reject_unknown(self, allowed: Iterable[str]) -> None:
        """A key outside `allowed` is an error: a typo must never pass silently."""
        allowed = list(allowed)
        for key in self.table:
            if key not in allowed:
                raise self.fail(key, self.table[key], f"one of the known keys {allowed} (typo?)")


def type_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)


def field_names(cls: type, *, besides: Iterable[str] = ()) -> tuple[str, ...]:
    """A dataclass's field names but `besides`: the TOML keys a table of it may hold."""
    skip = set(besides)
    return tuple(f.name for f in dataclasses.fields(cls) if f.name not in skip)
