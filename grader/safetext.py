"""Text from a submission made safe to show: no escape sequences, control characters or
bidi overrides, and a bounded length (pure stdlib: the console, the CSV and reports use it).

A name, a folder name or a message may come from a student (or from code a student's
submission ran); written raw, it could clear the instructor's screen, set the window title,
write the clipboard (OSC 52) or forge a line after a carriage return.
"""

from __future__ import annotations

import re

# Escape sequences (CSI, OSC, DCS/PM/APC/SOS, two-byte ESC x, 8-bit CSI), every other control
# or bidi-override character, and lone surrogates (how Python spells a file name's bytes that
# are not UTF-8: writing one to a UTF-8 terminal or file raises).
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[P^_X][^\x1b]*(?:\x1b\\)?|\x1b.?|\x9b[0-?]*[ -/]*[@-~]?"
)
_BLANKS = re.compile(r"[\t\n\r\v\f\u2028\u2029]+")
_CONTROLS = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
MARK = "\ufffd"  # what stands for a removed sequence in a name (see `clean_name`)
NAME_WIDTH = 40


def clean(text: object, limit: int | None = 300, mark: str = "") -> str:
    """`text` with escape sequences and control characters removed (each replaced by `mark`),
    blanks (newlines, tabs) as one space, cut to `limit` characters."""
    value = _ESCAPES.sub(mark, str(text))
    value = _CONTROLS.sub(mark, _BLANKS.sub(" ", value))
    return value if limit is None or len(value) <= limit else value[: limit - 1] + "…"


def clean_name(text: object, limit: int | None = NAME_WIDTH) -> str:
    """A student's or a folder's name made safe, what was removed marked with U+FFFD: a
    folder named `alice` plus an escape must not show as (and share a row with) `alice`."""
    return clean(text, limit, MARK)


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection"),
# leading blanks or not; the full-width forms too (some spreadsheets fold them to ASCII).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
CELL_MAX_CHARS = 300  # of a name in a spreadsheet cell


def safe_cell(text: object) -> str:
    """`text` for a CSV cell a spreadsheet opens: cleaned (see `clean`; U+FFFD where something
    was removed), with a leading apostrophe when a spreadsheet would read it as a formula.
    For text only: a number written as a number is never a formula."""
    cell = clean(text, CELL_MAX_CHARS, MARK)
    return "'" + cell if cell.lstrip(" ").startswith(FORMULA_STARTS) else cell
