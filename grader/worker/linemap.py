"""Where a line of a module made from a notebook came from, read back from the module itself.

The notebook conversion (grader/notebook) writes each kept cell below a `# --- cell N ---`
line, line K of the cell K lines below it, and ends the module with the names that only its
left-out lines set. This module owns that format: the conversion writes it with these
constants, and a worker reads it back to point a student at a cell and line of their notebook
(not at a line of a file they never wrote), and at the left-out line behind a NameError.
"""

from __future__ import annotations

import functools
import re
import traceback
from collections.abc import Sequence

MARKER = "# Made by the grader from"  # the first line of every converted module
CELL_HEADER = "# --- cell {cell} ---"
SECTION = "# --- "  # any line starting so ends the lines of the cell above it
DROPPED_HEADER = "# --- names that only left-out lines set (read by the grader) ---"
DROPPED_ENTRY = "# {name}: cell {cell}, line {line}: {code}"
MAX_BYTES = 8 * 2**20  # a converted module is much smaller; never read more
_HEADER = re.compile(r"# --- cell (\d+) ---")
_ENTRY = re.compile(r"# (\w+): cell (\d+), line (\d+): (.*)")


@functools.cache
def converted_lines(path: str) -> tuple[str, ...]:
    """The lines of `path` if it is a module made from a notebook, else ()."""
    try:
        with open(path, "rb") as file:
            text = file.read(MAX_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return ()
    return tuple(text.split("\n")) if text.startswith(MARKER) else ()


def notebook_name(path: str) -> str | None:
    """The notebook a converted module was made from (`submission.ipynb`), else None."""
    lines = converted_lines(path)
    return lines[0].removeprefix(MARKER).split(":")[0].strip() if lines else None


def cell_line(path: str, lineno: int) -> tuple[int, int] | None:
    """(cell, line) of line `lineno` (1-based) of a converted module; None elsewhere."""
    return cell_of(converted_lines(path), lineno)


def cell_of(lines: Sequence[str], lineno: int) -> tuple[int, int] | None:
    """(cell, line) of line `lineno` (1-based) of a converted module's `lines`, or None (the
    module's own lines: its head, imports it may skip, the list of left-out names)."""
    if not 0 < lineno <= len(lines) or lines[lineno - 1].startswith(SECTION):
        return None
    for row in range(lineno - 2, -1, -1):  # the lines above `lineno`
        if lines[row].startswith(SECTION):
            header = _HEADER.fullmatch(lines[row])
            return (int(header[1]), lineno - 1 - row) if header else None
    return None


def where(path: str, lineno: int) -> str:
    """`cell 14, line 2` in a converted module, else `submission line 146`."""
    found = cell_line(path, lineno)
    return f"cell {found[0]}, line {found[1]}" if found else f"submission line {lineno}"


def dropped_setter(path: str, name: str) -> tuple[int, int, str] | None:
    """(cell, line, code) of the left-out line that alone set `name` in a converted module."""
    lines = converted_lines(path)
    if DROPPED_HEADER not in lines:
        return None
    for text in lines[lines.index(DROPPED_HEADER) + 1 :]:
        entry = _ENTRY.fullmatch(text)
        if entry and entry[1] == name:
            return int(entry[2]), int(entry[3]), entry[4]
    return None


def dropped_name(exc: BaseException | None) -> dict[str, str | int] | None:
    """For a NameError raised in a converted module on a name only a left-out line set: the
    name and that line (cell, line, code); else None."""
    if not isinstance(exc, NameError) or isinstance(exc, UnboundLocalError):
        return None
    name = getattr(exc, "name", None)
    if not isinstance(name, str):
        return None
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        found = dropped_setter(frame.filename, name)
        if found is not None:
            cell, line, code = found
            return {"name": name, "cell": cell, "line": line, "code": code}
    return None
