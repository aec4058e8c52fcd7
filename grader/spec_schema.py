"""The shapes `grader.spec_keys` describes keys with: a table of keys, each with its type,
default (or how it is derived), allowed range or choices, and meaning."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Derived:
    """A default computed from the rest of the spec, described in words."""

    text: str


REQUIRED = Derived("required")  # the key has no default


@dataclass(frozen=True)
class Range:
    """A numeric bound: `[low, high]`, an end open when it says so; per item of a list."""

    low: float
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    integer: bool = True
    per_item: bool = False  # a list whose every item has this range (image_size)

    def text(self) -> str:
        """`an integer ≥ 1`, `a number in (0, 10)`, `each side an integer in [8, 1024]`."""
        kind = "an integer" if self.integer else "a number"
        kind = f"each side {kind}" if self.per_item else kind
        low, high = (f"{v:g}" if isinstance(v, float) else str(v) for v in (self.low, self.high))
        if self.high == math.inf:
            return f"{kind} {'>' if self.low_open else '≥'} {low}"
        left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
        return f"{kind} in {left}{low}, {high}{right}"


@dataclass(frozen=True)
class Key:
    """One key of a table: what it holds and what it means."""

    name: str
    type: str
    default: object
    meaning: str
    choices: tuple[object, ...] = ()  # the only values accepted
    ranges: tuple[Range, ...] = ()  # numeric bounds (several: any one of them)
    allowed: str = ""  # other constraints, in words

    def allowed_text(self) -> str:
        """The choices or bounds, then any other constraint, in words."""
        values = [", ".join(f"`{toml(c)}`" for c in self.choices)] if self.choices else []
        values += [r.text() for r in self.ranges]
        parts = [" or ".join(values)] if values else []
        return "; ".join(parts + ([self.allowed] if self.allowed else []))


@dataclass(frozen=True)
class Table:
    """A table of the spec: `path` as written in TOML (`<id>`, `<name>`: any name)."""

    path: str
    title: str
    intro: str
    keys: tuple[Key, ...]

    def names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.keys)


def toml(value: object) -> str:
    """A value as written in TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    return repr(value)  # a number: 6.0, 0.001, 32
