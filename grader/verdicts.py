"""Graded checks: a spec's checks applied to a submission's task records, one row each.

What each kind observes, its interval and pass rule live in the registry (`grader.checks`);
here a row is made of them: points under the assignment's borderline policy, and the notes
a report shows (a threshold relative to the reference solution, paired counts, a borderline
result explained, partial credit). Checks are graded once resolved (`grader.thresholds`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from grader import stats
from grader.checks import AssignmentSpec, Check, CheckKind, kind_of
from grader.messages import Message, render
from grader.records import CheckResult, ReferenceThreshold, TaskRecord


def evaluate_checks(
    assignment: AssignmentSpec, tasks: Mapping[str, TaskRecord]
) -> tuple[CheckResult, ...]:
    """One result per check of every task; a failed task's checks score zero, observed None."""
    return tuple(
        grade(task_id, check, tasks, assignment.borderline)
        for task_id, task in assignment.tasks.items()
        for check in task.checks
    )


def grade(
    task_id: str, check: Check, tasks: Mapping[str, TaskRecord], policy: str = "flag"
) -> CheckResult:
    """One check of one task, with its texts by id and in English.

    `policy` (one of `BORDERLINE_POLICIES`) decides what a borderline check earns.
    """
    kind, record = kind_of(check), tasks.get(task_id)
    observed = kind.observe(record, tasks) if record is not None and record.ok else None
    passed = observed is not None and kind.passes(observed)
    required, interval, borderline, points = kind.required(), None, False, 0.0
    notes = [] if check.reference is None else [_reference_note(kind, check.reference)]
    if observed is None:
        said = _not_measured(kind, record)
    else:
        assert record is not None  # observed only when the task was graded
        said = kind.observed(observed, passed, record)
        interval = kind.interval(record, tasks)
        borderline = stats.contains(interval, kind.threshold)
        points = kind.earned(observed, passed, borderline, policy)
        candidates = (
            kind.detail(record, tasks),  # e.g. the images two compared models disagree on
            _borderline_note(kind, observed, interval, policy) if borderline else None,
            _partial_note(kind, observed, passed, points),
        )
        notes += [m for m in candidates if m is not None]
    return CheckResult(
        id=f"{task_id}.{kind.name}", task=task_id, kind=kind.name, passed=passed,
        observed=observed, threshold=kind.threshold, points=points,
        max_points=check.points, required=render(required, "en"), message=render(said, "en"),
        required_message=required, observed_message=said, compare_to=check.compare_to,
        interval=interval, borderline=borderline, notes=tuple(render(m, "en") for m in notes),
        note_messages=tuple(notes), reference=check.reference,
    )  # fmt: skip


def _borderline_note(
    kind: CheckKind, observed: float, interval: stats.Interval | None, policy: str
) -> Message:
    """Why a borderline check is flagged, and what the assignment's policy made of it."""
    low, high = interval if interval is not None else (observed, observed)
    params = {"observed": observed, "threshold": kind.threshold, "low": low, "high": high}
    return Message(f"check.borderline.{policy}", params)


def _partial_note(kind: CheckKind, observed: float, passed: bool, points: float) -> Message | None:
    """Partial credit from the ramp, when some but not all points were earned that way."""
    start = kind.partial_from
    if passed or start is None or not 0 < kind.ramp(observed) < 1:
        return None
    params = {"points": points, "max_points": kind.check.points, "observed": observed,
              "partial_from": start, "threshold": kind.threshold}  # fmt: skip
    return Message("check.partial", params)


def _reference_note(kind: CheckKind, origin: ReferenceThreshold) -> Message:
    """The threshold is the reference solution's value plus an offset (or only the ramp is)."""
    params = {"threshold": kind.threshold, "value": origin.value}
    if origin.offset is None:
        start = kind.partial_from if kind.partial_from is not None else origin.value
        return Message("reference.partial_from", {**params, "partial_from": start,
                       "offset": origin.partial_from_offset or 0.0})  # fmt: skip
    return Message("reference.threshold", {**params, "offset": origin.offset})


def _not_measured(kind: CheckKind, record: TaskRecord | None) -> Message:
    if record is not None and record.ok and kind.compares:
        return Message("check.not_measured_other", {"other": kind.check.compare_to})
    return Message("check.not_measured")


def total_score(results: Sequence[CheckResult]) -> tuple[float, float]:
    """(points earned, points possible)."""
    return sum(c.points for c in results), sum(c.max_points for c in results)
