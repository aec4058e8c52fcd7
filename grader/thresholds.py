"""Thresholds relative to the instructor's reference solution, made numbers (pure).

`threshold = { reference = -0.05 }` on a check means the reference solution's observed value
for the same check (same task, same kind, measured as a student's would be) plus -0.05;
`partial_from` may say the same. `resolve` turns every such check into an ordinary one that
remembers where its numbers came from (`Check.reference`), or says which check cannot be.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from grader.assignment import Assignment, Check, Relative
from grader.checks import KINDS, kind_of
from grader.errors import GradingError
from grader.records import ReferenceThreshold, TaskRecord


def resolve(assignment: Assignment, reference: Mapping[str, TaskRecord]) -> Assignment:
    """The assignment with every relative check resolved from the reference's task records.

    Raises:
        GradingError: the reference has no value for a relative check (its task failed, or
            the task it is compared with did), or a resolved number is one the check cannot
            take; the message names the task and the check.
    """
    tasks = {
        task_id: replace(
            task, checks=tuple(resolve_check(task_id, c, reference) for c in task.checks)
        )
        for task_id, task in assignment.tasks.items()
    }
    return replace(assignment, tasks=tasks)


def resolve_check(task_id: str, check: Check, reference: Mapping[str, TaskRecord]) -> Check:
    """One check with numbers for its thresholds (unchanged when it has no relative one)."""
    if not check.relative:
        return check
    value = reference_value(task_id, check, reference)
    threshold, start = _number(check.threshold, value), None
    if check.partial_from is not None:
        start = _number(check.partial_from, value)
    kind, where = KINDS[check.kind], f"task {task_id!r}, check {check.kind}"
    if not kind.bounds.contains(threshold):
        raise GradingError(
            f"{where}: the reference solution's {value:.3f} {_offset(check.threshold)} gives "
            f"the threshold {threshold:.3f}, and this check needs {kind.bounds.expected}. "
            "Change the offset in assignment.toml."
        )
    if start is not None and not kind.ramp_start_ok(start, threshold):
        side = "above" if kind.at_most else "below"
        raise GradingError(
            f"{where}: partial_from resolves to {start:.3f}, which must be {side} the "
            f"threshold {threshold:.3f} (the reference solution's value is {value:.3f}). "
            "Change partial_from or the threshold in assignment.toml."
        )
    origin = ReferenceThreshold(value, _offset_of(check.threshold), _offset_of(check.partial_from))
    return replace(check, threshold=threshold, partial_from=start, reference=origin)


def reference_value(task_id: str, check: Check, reference: Mapping[str, TaskRecord]) -> float:
    """The reference solution's observed value for `check` of `task_id`.

    Raises:
        GradingError: the reference did not produce that value; the message says why.
    """
    where = f"task {task_id!r}, check {check.kind}"
    record = reference.get(task_id)
    if record is None or not record.ok:
        why = "has no such task" if record is None else f"failed it: {record.error}"
        raise GradingError(f"{where} is relative to the reference solution, which {why}")
    observed = kind_of(check).observe(record, reference)
    if observed is None:
        other = f"its task {check.compare_to!r} " if check.compare_to else ""
        raise GradingError(
            f"{where} is relative to the reference solution, which has no value for it "
            f"({other}was not measured). Fix the reference solution."
        )
    return observed


def without_relative(assignment: Assignment) -> Assignment:
    """The assignment without its relative checks (a self-check has no reference solution)."""
    tasks = {
        task_id: replace(task, checks=tuple(c for c in task.checks if not c.relative))
        for task_id, task in assignment.tasks.items()
    }
    return replace(assignment, tasks=tasks)


def _number(value: float | Relative, reference_value: float) -> float:
    # rounded: 0.7 - 0.05 must read 0.65, not 0.6499999999999999, in the result file
    return round(reference_value + value.offset, 10) if isinstance(value, Relative) else value


def _offset_of(value: float | Relative | None) -> float | None:
    return value.offset if isinstance(value, Relative) else None


def _offset(value: float | Relative) -> str:
    return f"{value.offset:+.3f}" if isinstance(value, Relative) else ""
