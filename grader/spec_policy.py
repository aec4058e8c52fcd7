"""The spec's course policies, which change grades but never training: the due date and late
policy (`[late]`) and what Gradescope shows students (`[gradescope]`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from grader.spec_reader import TableReader, field_names

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")  # Gradescope's


@dataclass(frozen=True)
class LatePolicy:
    """How late work loses points. Days late are counted up (a minute late is one day); a
    submission the LMS only marks late, without its time, counts `unknown_time_days`."""

    due: dt.datetime  # with its UTC offset
    per_day: float = 0.0  # share of the maximum score deducted per day late
    max_penalty: float = 1.0  # the deduction never exceeds this share of the maximum
    cap: float = 1.0  # late work earns at most this share of the maximum
    grace_minutes: int = 0  # a submission this close after `due` is on time
    unknown_time_days: int = 1  # days late of work marked late whose time is unknown


@dataclass(frozen=True)
class Gradescope:
    """What Gradescope shows: each check as a test, with these visibilities."""

    visibility: str = "visible"  # checks on the validation split, limits, errors
    hidden_visibility: str = "after_published"  # checks that measure the hidden test split


def read_late(r: TableReader) -> LatePolicy | None:
    """`[late]`, or None without one (no late penalty)."""
    if "late" not in r.table:
        return None
    t = r.sub("late")
    t.reject_unknown(field_names(LatePolicy))
    share: dict[str, Any] = {"check": lambda v: 0 <= v <= 1, "expected": "a number in [0, 1]"}
    return LatePolicy(
        due=t.get("due", dt.datetime, check=lambda v: v.tzinfo is not None,
                  expected="a date and time with its UTC offset, e.g. 2026-12-01T23:59:00+01:00"),
        per_day=t.get("per_day", float, 0.0, **share),
        max_penalty=t.get("max_penalty", float, 1.0, **share),
        cap=t.get("cap", float, 1.0, **share),
        grace_minutes=t.get("grace_minutes", int, 0, check=lambda v: v >= 0,
                            expected="an integer >= 0"),
        unknown_time_days=t.get("unknown_time_days", int, 1, check=lambda v: v >= 0,
                                expected="an integer >= 0"),
    )  # fmt: skip


def read_gradescope(r: TableReader) -> Gradescope:
    """`[gradescope]`, its defaults when absent."""
    t = r.sub("gradescope", {})
    t.reject_unknown(field_names(Gradescope))
    choice: dict[str, Any] = {
        "check": lambda v: v in VISIBILITIES,
        "expected": f"one of {list(VISIBILITIES)}",
    }
    return Gradescope(
        visibility=t.get("visibility", str, "visible", **choice),
        hidden_visibility=t.get("hidden_visibility", str, "after_published", **choice),
    )
