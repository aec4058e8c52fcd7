"""Student-facing texts by id: stored as an id plus parameters, rendered in a language.

Result files keep `Message(id, params)`, never a sentence to be matched later, so a report
is written in its own language from the same stored data, and rewording a text changes
every report rendered after it. Numbers are formatted the language's way (Babel): a
Spanish report writes 500.000 parámetros and 0,692.
"""

from __future__ import annotations

import functools
import math
import re
import string
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal

from grader.messages import (
    adjustments,
    diagnoses,
    environment,
    errors,
    feedback,
    grading,
    integrity,
    learning,
    limits,
    notebooks,
    notes,
    reference,
    similarity,
    staging,
)

LANGUAGES = ("en", "es")
# Each catalog module maps an id to its text in every language; see `catalog()`.
MODULES = (errors, grading, feedback, notes, diagnoses, notebooks, limits, reference, environment,
           staging, integrity, learning, adjustments, similarity)  # fmt: skip
_SPEC = re.compile(r"(?P<sign>[+]?)(?P<comma>,?)(?:\.(?P<digits>\d+))?(?P<type>[fd%]?)")


@dataclass(frozen=True)
class Message:
    """A text by id, with the values it shows (JSON-safe: str, int, float, bool, lists)."""

    id: str
    params: dict[str, Any] = field(default_factory=dict)


def render(message: Message, language: str) -> str:
    """The message in `language`, numbers formatted for it.

    Raises:
        KeyError: the id has no text in that language (a test checks every id has all).
    """
    return LocaleFormatter(language).format(catalog()[message.id][language], **message.params)


@functools.cache
def catalog() -> dict[str, dict[str, str]]:
    """Every message id with its texts by language (ids are unique across modules)."""
    merged: dict[str, dict[str, str]] = {}
    for module in MODULES:
        merged.update(module.TEXTS)
    return merged


def text(message_id: str, language: str, **params: Any) -> str:
    """Shorthand for `render(Message(message_id, params), language)`."""
    return render(Message(message_id, params), language)


def number(value: float, spec: str, language: str) -> str:
    """Format `value` as Python's format `spec` would (`.3f`, `+.3f`, `,.0f`, `,`, `.0%`),
    with the language's decimal and grouping marks."""
    match = _SPEC.fullmatch(spec)
    if match is None:
        return format(value, spec)
    digits = int(match["digits"]) if match["digits"] is not None else None
    if match["type"] == "%":
        value, digits = value * 100, digits or 0
    pattern = ("#,##0" if match["comma"] else "0") + ("." + "0" * digits if digits else "")
    if digits is None and match["type"] != "d" and not float(value).is_integer():
        pattern += ".###"
    if match["sign"]:
        pattern = f"+{pattern};-{pattern}"
    # A float's exact binary value, rounded half-even, is what Python's format writes;
    # Babel would round its shortest repr instead (0.0125: Python 0.013, Babel 0.012).
    exact = Decimal(value) if isinstance(value, float) and math.isfinite(value) else value
    out = format_decimal(exact, format=pattern, locale=language)
    if match["type"] == "%":
        out += "%" if language == "en" else "\u00a0%"
    return out


class LocaleFormatter(string.Formatter):
    """`str.format` whose numeric fields follow the language's conventions."""

    def __init__(self, language: str) -> None:
        self.language = language

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return super().format_field(value, format_spec)
        return number(value, format_spec, self.language)
