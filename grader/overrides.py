"""`overrides.toml`: an instructor's adjustments to students' scores, each with its reason.

One table per student id (the submission folder's name)::

    [ana]
    points = 1.5            # added to the score (negative: deducted)
    reason = "task transfer regraded by hand: the test split had a corrupt image"

    [bruno]
    excuse_late = true      # no late penalty (an extension)
    reason = "medical extension to Dec 3"

    [carla]
    score = 7               # the score is set to this (before the late penalty)
    reason = "..."

Every mistake (an unknown key or student, a wrong type, `points` with `score`, no reason)
stops grading with a message naming the file, the student, the key and the fix.
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Collection
from pathlib import Path
from typing import Any

from grader.adjust import Override
from grader.errors import GradingError
from grader.safetext import clean
from grader.tomlcompat import tomllib

DEFAULT = Path("overrides.toml")  # in the current folder
MAX_BYTES = 1 * 2**20
MAX_REASON_CHARS = 500
KEYS = ("points", "score", "excuse_late", "reason")


def read_overrides(path: Path | None, students: Collection[str]) -> dict[str, Override]:
    """The overrides in `path` (None: `overrides.toml` in the current folder, if there is
    one), by student id; every id must be one of `students`.

    Raises:
        GradingError: the file is missing (when named), unreadable, or wrong anywhere.
    """
    if path is None and not DEFAULT.exists():
        return {}
    path = DEFAULT if path is None else path
    data = _parse(path)
    unknown = sorted(set(data) - set(students))
    if unknown:
        known = ", ".join(sorted(students)[:20]) + (" …" if len(students) > 20 else "")
        raise GradingError(
            f"{path}: [{clean(unknown[0], 80)}] is not a student of this class (no submission "
            f"folder of that name). Write the folder's name as the table's name; known: {known}"
        )
    return {student: _override(path, student, table) for student, table in data.items()}


def _parse(path: Path) -> dict[str, Any]:
    """The TOML of a small regular file."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise GradingError(f"{path}: not a regular file. Pass --overrides FILE, a .toml file.")
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise GradingError(
            f"{path}: no such file. Write it (see the README's overrides section) or pass "
            "--overrides with the right path."
        ) from None
    except OSError as exc:
        raise GradingError(
            f"{path}: cannot be read ({exc.strerror}). Check its permissions."
        ) from None
    if len(raw) > MAX_BYTES:
        raise GradingError(f"{path}: larger than {MAX_BYTES // 2**20} MiB: not an overrides "
                           "file. Keep one short table per student.")  # fmt: skip
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise GradingError(
            f"{path}: not valid TOML ({clean(exc, 200)}). Fix the line it names; each "
            "student is a table: [id], then key = value lines."
        ) from None


def _override(path: Path, student: str, table: Any) -> Override:
    where = f"{path}: [{clean(student, 80)}]"
    if not isinstance(table, dict):
        raise GradingError(
            f"{where} must be a table: write [{clean(student, 80)}] on its own line, then "
            '`reason = "..."` and `points`, `score` or `excuse_late`.'
        )
    for key in table:
        if key not in KEYS:
            raise GradingError(f"{where}: unknown key `{clean(key, 80)}`. Use only {list(KEYS)} "
                               "(typo?).")  # fmt: skip
    if "points" in table and "score" in table:
        raise GradingError(f"{where}: `points` and `score` together. Keep one: `points` adds "
                           "to the graded score, `score` replaces it.")  # fmt: skip
    if not {"points", "score", "excuse_late"} & set(table):
        raise GradingError(f"{where}: nothing to change. Add `points`, `score` or "
                           "`excuse_late = true`.")  # fmt: skip
    return Override(
        reason=_reason(where, table.get("reason")),
        points=_number(where, "points", table.get("points")),
        score=_number(where, "score", table.get("score"), minimum=0.0),
        excuse_late=_flag(where, table.get("excuse_late", False)),
    )


def _reason(where: str, value: Any) -> str:
    if value is None:
        raise GradingError(f"{where}: no `reason`. Add `reason = \"...\"`: the student's "
                           "report shows it.")  # fmt: skip
    text = clean(value, None) if isinstance(value, str) else ""
    if not text.strip():
        raise GradingError(
            f"{where}: `reason` must be a text the student can read, e.g. "
            f'reason = "medical extension". Received: {clean(repr(value), 80)}'
        )
    if len(text) > MAX_REASON_CHARS:
        raise GradingError(f"{where}: `reason` is {len(text)} characters long. Keep it under "
                           f"{MAX_REASON_CHARS}.")  # fmt: skip
    return text.strip()


def _number(where: str, key: str, value: Any, minimum: float = -math.inf) -> float | None:
    if value is None:
        return None
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value < minimum:
        bound = "a number" if minimum == -math.inf else f"a number ≥ {minimum:g}"
        raise GradingError(f"{where}: `{key}` must be {bound}, e.g. {key} = 1.5. Received: "
                           f"{clean(repr(value), 80)}")  # fmt: skip
    return float(value)


def _flag(where: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise GradingError(f"{where}: `excuse_late` must be true or false. Received: "
                           f"{clean(repr(value), 80)}")  # fmt: skip
    return value
