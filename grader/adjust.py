"""Adjustments to a graded score decided outside grading (pure): the late penalty of the
assignment's `[late]` policy and an instructor's override from `overrides.toml`.

The override comes first (a score set or points added correct the grading), then the late
penalty, computed on the corrected score (its `cap` limits what late work earns). The final
score is clamped to [0, max_score]. Each adjustment states its reason by message id, so a
report renders it in its own language; its English rendering is stored beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from grader.lms.student import StudentInfo
from grader.messages import Message, render
from grader.records import Adjustment, Result
from grader.spec_policy import LatePolicy

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Override:
    """An instructor's decision about one student (one table of `overrides.toml`)."""

    reason: str
    points: float | None = None  # added to the score (negative: deducted)
    score: float | None = None  # the score is set to this (exclusive with `points`)
    excuse_late: bool = False  # no late penalty (an extension)


def late_days(info: StudentInfo, policy: LatePolicy) -> int | None:
    """Days late, counted up from `due + grace_minutes` (a minute late is one day, days
    being 24 hours whatever the offsets); None when on time. Work the LMS marked late
    without its time counts `unknown_time_days` (None when that is 0)."""
    submitted = info.submitted()
    if submitted is None:
        return (policy.unknown_time_days or None) if info.late else None
    deadline = policy.due + timedelta(minutes=policy.grace_minutes)
    if submitted <= deadline:
        return None
    return math.ceil((submitted - deadline) / DAY)


def adjustments(
    score: float,
    max_score: float,
    info: StudentInfo,
    policy: LatePolicy | None,
    override: Override | None,
) -> tuple[Adjustment, ...]:
    """The override's adjustment, then the late penalty's (empty: nothing to adjust)."""
    found: list[Adjustment] = []
    if override is not None and (override.points is not None or override.score is not None):
        found.append(_override(score, override))
    corrected = score + sum(a.points for a in found)
    days = None if policy is None else late_days(info, policy)
    if policy is not None and days is not None:
        if override is not None and override.excuse_late:
            found.append(_excused(days, policy, override))
        else:
            found.append(_late(days, corrected, max_score, policy, info))
    return tuple(found)


def final_score(score: float, max_score: float, found: Sequence[Adjustment]) -> float | None:
    """The score after `found`, clamped to [0, max_score]; None when there are none."""
    if not found:
        return None
    total = score + sum(a.points for a in found)
    return round(min(max(total, 0.0), max_score), 6)


def adjusted(result: Result, info: StudentInfo, policy: LatePolicy | None,
             override: Override | None) -> Result:  # fmt: skip
    """`result` with its adjustments and final score computed afresh."""
    found = adjustments(result.score, result.max_score, info, policy, override)
    final = final_score(result.score, result.max_score, found)
    return replace(result, adjustments=found, final_score=final)


def late_days_of(result: Result) -> int | None:
    """The days late its late adjustment counted (None: on time, or no late policy)."""
    for adjustment in result.adjustments:
        if adjustment.kind == "late" and adjustment.message is not None:
            days = adjustment.message.params.get("days")
            return days if isinstance(days, int) else None
    return None


def due_text(due: datetime) -> str:
    """`2026-12-01 23:59 +01:00`: the due date as the policy wrote it, with its offset."""
    offset = due.strftime("%z")
    return f"{due:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:]}" if offset else f"{due:%Y-%m-%d %H:%M}"


def _adjustment(kind: Literal["late", "override"], points: float, message: Message) -> Adjustment:
    return Adjustment(kind, points, render(message, "en"), message)


def _override(score: float, override: Override) -> Adjustment:
    if override.score is not None:
        params = {"score": override.score, "reason": override.reason}
        points = round(override.score - score, 6)
        return _adjustment("override", points, Message("adjust.score", params))
    points = float(override.points or 0.0)
    message = Message("adjust.points", {"points": points, "reason": override.reason})
    return _adjustment("override", points, message)


def _late(
    days: int, score: float, max_score: float, policy: LatePolicy, info: StudentInfo
) -> Adjustment:
    """The per-day penalty, raised to what brings the score down to the cap if that is more."""
    per_day = min(policy.per_day * days, policy.max_penalty) * max_score
    to_cap = score - policy.cap * max_score
    capped = to_cap > per_day
    points = -round(max(per_day, to_cap, 0.0), 2) or 0.0  # never -0.0
    unknown = "_unknown" if info.submitted() is None else ""
    rule = "_capped" if capped else ""
    params = {"days": days, "due": due_text(policy.due), "points": points,
              "per_day": policy.per_day, "max_penalty": policy.max_penalty,
              "cap": policy.cap}  # fmt: skip
    return _adjustment("late", points, Message(f"adjust.late{unknown}{rule}.{_plural(days)}",
                                               params))  # fmt: skip


def _excused(days: int, policy: LatePolicy, override: Override) -> Adjustment:
    params = {"days": days, "due": due_text(policy.due), "reason": override.reason}
    return _adjustment("late", 0.0, Message(f"adjust.late_excused.{_plural(days)}", params))


def _plural(days: int) -> str:
    return "one" if days == 1 else "other"
