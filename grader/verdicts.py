"""Graded checks: a spec's checks applied to a submission's task records, one row each.

What each kind observes, its interval and pass rule live in the registry (`grader.checks`);
here a row is made of them: points under the assignment's borderline policy, and the notes
a report shows (a threshold relative to the reference solution, paired counts, a borderline
result explained, partial credit). Checks are graded once resolved (`grader.thresholds`).
A check that does not measure learning earns nothing below the learning floor (`grader.floor`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from grader import floor, stats
from grader.checks import AssignmentSpec, Check, CheckKind, kind_of
from grader.messages import Message, render
from grader.records import CheckResult, ReferenceThreshold, TaskRecord


def evaluate_checks(
    assignment: AssignmentSpec, tasks: Mapping[str, TaskRecord]
) -> tuple[CheckResult, ...]:
    """One result per check of every task; a failed task's checks score zero, observed None."""
    rule = learning_rule(assignment)
    return tuple(
        grade(task_id, check, tasks, assignment.borderline, rule)
        for task_id, task in assignment.tasks.items()
        for check in task.checks
    )


def learning_rule(assignment: AssignmentSpec) -> floor.Rule:
    """The assignment's learning floor, each task's capped by its lowest (resolved)
    `min_test_accuracy` threshold."""
    caps = {
        task_id: min(accuracy)
        for task_id, task in assignment.tasks.items()
        if (accuracy := [kind_of(c).threshold for c in task.checks
                         if c.kind == "min_test_accuracy" and not c.relative])
    }  # fmt: skip
    return floor.Rule(assignment.learning_floor, caps)


def grade(
    task_id: str,
    check: Check,
    tasks: Mapping[str, TaskRecord],
    policy: str = "flag",
    rule: floor.Rule = floor.DEFAULT_RULE,
) -> CheckResult:
    """One check of one task, with its texts by id and in English.

    `policy` (one of `BORDERLINE_POLICIES`) decides what a borderline check earns; `rule`
    where a check that does not measure learning starts to count (`learning_rule`).
    `passed` stays the measurement against the threshold either way.
    """
    kind, record = kind_of(check), tasks.get(task_id)
    observed = kind.observe(record, tasks) if record is not None and record.ok else None
    passed = observed is not None and kind.passes(observed)
    required = kind.required()
    notes = [] if check.reference is None else [_reference_note(kind, check.reference)]
    scored = _Scored(0.0, True, False, None, [])
    if observed is None:
        said = _not_measured(kind, record)
    else:
        assert record is not None  # observed only when the task was graded
        said = kind.observed(observed, passed, record)
        scored = _score(kind, task_id, tasks, observed, passed, policy, rule)
    notes = scored.gate_notes + notes + scored.notes
    return CheckResult(
        id=f"{task_id}.{kind.name}", task=task_id, kind=kind.name, passed=passed,
        observed=observed, threshold=kind.threshold, points=scored.points,
        max_points=check.points, required=render(required, "en"), message=render(said, "en"),
        required_message=required, observed_message=said, compare_to=check.compare_to,
        interval=scored.interval, borderline=scored.borderline,
        notes=tuple(render(m, "en") for m in notes), note_messages=tuple(notes),
        reference=check.reference, counted=scored.counted,
    )  # fmt: skip


@dataclass
class _Scored:
    """What a measured check earned, and the notes that explain it (gate notes first)."""

    points: float
    counted: bool
    borderline: bool
    interval: stats.Interval | None
    gate_notes: list[Message]
    notes: list[Message] = field(default_factory=list)


def _score(
    kind: CheckKind,
    task_id: str,
    tasks: Mapping[str, TaskRecord],
    observed: float,
    passed: bool,
    policy: str,
    rule: floor.Rule,
) -> _Scored:
    """Points of a measured check under the borderline policy and the learning floor."""
    record = tasks[task_id]
    interval = kind.interval(record, tasks)
    own = stats.contains(interval, kind.threshold)  # borderline against its own threshold
    earned = kind.earned(observed, passed, own, policy)
    floors = _floors(kind, task_id, tasks, rule)
    points, counted, gate_notes = floor.gate(task_id, floors, earned, policy)
    candidates = (
        kind.detail(record, tasks),  # e.g. the images two compared models disagree on
        _borderline_note(kind, observed, interval, policy) if own else None,
        # the ramp's share, unless the floor changed the points
        _partial_note(kind, observed, passed, points) if points == earned else None,
    )
    borderline = own or any(f.borderline for f in floors)
    notes = [m for m in candidates if m is not None]
    return _Scored(points, counted, borderline, interval, gate_notes, notes)


def _floors(
    kind: CheckKind, task_id: str, tasks: Mapping[str, TaskRecord], rule: floor.Rule
) -> list[floor.Floor]:
    """The floors a check depends on: none for a kind that measures learning; else its own
    task's, and the compared task's for a comparing kind (its own first)."""
    if kind.learning:
        return []
    ids = [task_id, *([kind.check.compare_to] if kind.compares and kind.check.compare_to else [])]
    return [f for t in ids if (f := rule.measure(t, tasks.get(t))) is not None]


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
