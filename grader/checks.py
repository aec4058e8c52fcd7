"""Check kinds in one registry: spec fields, what each observes, passing, texts and hints."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol

from grader.messages import Message, render
from grader.records import BaseReuse, CheckResult, TaskRecord


@dataclass(frozen=True)
class Check:
    """One graded requirement of a task, as the spec states it; `kind` names a `KINDS` class."""

    kind: str
    threshold: float
    points: float
    compare_to: str | None = None  # for kinds that compare two tasks: the other task


@dataclass(frozen=True)
class Bounds:
    """The thresholds a kind accepts, and how a spec error describes them."""

    low: float
    high: float
    expected: str
    low_inclusive: bool = True

    def contains(self, value: float) -> bool:
        above = value >= self.low if self.low_inclusive else value > self.low
        return above and value <= self.high


ACCURACY = Bounds(0.0, 1.0, "an accuracy in [0, 1]")
DIFFERENCE = Bounds(-1.0, 1.0, "an accuracy in [-1, 1]")
COUNT = Bounds(0.0, math.inf, "a positive number", low_inclusive=False)


class TaskSpec(Protocol):
    """What grading reads of a task's spec (`grader.assignment.Task`)."""

    @property
    def checks(self) -> tuple[Check, ...]: ...


class AssignmentSpec(Protocol):
    """What grading reads of an assignment (`grader.assignment.Assignment`)."""

    @property
    def tasks(self) -> Mapping[str, TaskSpec]: ...


class Facts(Protocol):
    """What the quick self-check knows of a built model before any grading."""

    @property
    def params(self) -> int: ...

    @property
    def base_reuse(self) -> BaseReuse | None: ...


@dataclass(frozen=True)
class Hint:
    """A self-check row a check kind can fill before grading: name, verdict, detail."""

    name: Message
    status: Literal["ok", "problem", "warning"]
    detail: Message


class CheckKind:
    """One kind of graded check, bound to one check of the spec (`self.check`).

    A subclass names itself, its threshold bounds, and whether it passes at most or at
    least its threshold; it says what it observes of a task. Its texts are
    `check.<name>.required` (params `threshold`, `other`) and `feedback.<name>`.
    """

    name: ClassVar[str]
    bounds: ClassVar[Bounds]
    at_most: ClassVar[bool] = False  # passes when observed <= threshold (else >=)
    compares: ClassVar[bool] = False  # reads another task too: spec key `compare_to`
    default_compare_to: ClassVar[str | None] = None  # None: `compare_to` is required

    def __init__(self, check: Check) -> None:
        self.check = check

    @classmethod
    def spec_keys(cls) -> tuple[str, ...]:
        """The keys a `[[tasks.<id>.checks]]` table of this kind may hold."""
        return ("kind", "threshold", "points") + (("compare_to",) if cls.compares else ())

    @classmethod
    def feedback_id(cls) -> str:
        return f"feedback.{cls.name}"

    def observe(self, task: TaskRecord, tasks: Mapping[str, TaskRecord]) -> float | None:
        """The measured value of a graded (`ok`) task, or None when it cannot be measured."""
        raise NotImplementedError

    def passes(self, observed: float) -> bool:
        t = self.check.threshold
        return observed <= t if self.at_most else observed >= t

    def required(self) -> Message:
        return Message(f"check.{self.name}.required", self._params())

    def observed(self, observed: float, passed: bool, task: TaskRecord) -> Message:
        """What was measured, against the threshold."""
        params = {**self._params(), "observed": observed}
        if passed:
            return Message("check.observed.met", params)
        missed = abs(observed - self.check.threshold)
        word = "check.observed.over" if self.at_most else "check.observed.short"
        return Message(word, {**params, "missed": missed})

    def hint(self, facts: Facts) -> Hint | None:
        """What the quick self-check can already say about this check (None: nothing)."""
        return None

    def _params(self) -> dict[str, object]:
        params: dict[str, object] = {"threshold": self.check.threshold}
        if self.compares:
            params["other"] = self.check.compare_to
        return params


class MinTestAccuracy(CheckKind):
    name, bounds = "min_test_accuracy", DIFFERENCE

    def observe(self, task: TaskRecord, tasks: Mapping[str, TaskRecord]) -> float | None:
        return None if task.metrics is None else task.metrics.test_accuracy


class MinValAccuracy(CheckKind):
    name, bounds = "min_val_accuracy", ACCURACY

    def observe(self, task: TaskRecord, tasks: Mapping[str, TaskRecord]) -> float | None:
        return None if task.metrics is None else task.metrics.val_accuracy


class MaxGap(CheckKind):
    name, bounds, at_most = "max_gap", DIFFERENCE, True

    def observe(self, task: TaskRecord, tasks: Mapping[str, TaskRecord]) -> float | None:
        return None if task.metrics is None else task.metrics.gap


class MaxParams(CheckKind):
    name, bounds, at_most = "max_params", COUNT, True

    def observe(self, task: TaskRecord, tasks: Mapping[str, TaskRecord]) -> float | None:
        return None if task.params is None else float(task.params)

    def observed(self, observed: float, passed: bool, task: TaskRecord) -> Message:
        verdict = "check.max_params.within" if passed else "check.max_params.over"
        return Message(verdict, {"observed": observed})

    def hint(self, facts: Facts) -> Hint | None:
        if self.passes(facts.params):
            return None
        params = {"params": facts.params, "threshold": self.check.threshold}
        detail = Message("check.max_params.hint_over", params)
        return Hint(Message("check.max_params.hint"), "warning", detail)


class ReusesBase(CheckKind):
    name, bounds = "reuses_base", COUNT

    def observe(self, task: TaskRecord, tasks: Mapping[str, TaskRecord]) -> float | None:
        return float(task.base_reuse.reused_layers if task.base_reuse else 0)

    def observed(self, observed: float, passed: bool, task: TaskRecord) -> Message:
        total = task.base_reuse.base_layers if task.base_reuse else 0
        return Message("check.reuses_base.observed", {"observed": observed, "total": total})

    def hint(self, facts: Facts) -> Hint | None:
        reuse = facts.base_reuse
        held = reuse.reused_layers if reuse else 0
        params = {"held": held, "total": reuse.base_layers if reuse else "?"}
        ok = self.passes(held)
        verdict = "check.reuses_base.hint_ok" if ok else "check.reuses_base.hint_problem"
        detail = Message(verdict, params)
        return Hint(Message("check.reuses_base.hint"), "ok" if ok else "problem", detail)


class BeatsScratch(CheckKind):
    name, bounds = "beats_scratch", DIFFERENCE
    compares, default_compare_to = True, "scratch"

    def observe(self, task: TaskRecord, tasks: Mapping[str, TaskRecord]) -> float | None:
        other = tasks.get(self.check.compare_to or "")
        if task.metrics is None or other is None or not other.ok or other.metrics is None:
            return None
        return task.metrics.test_accuracy - other.metrics.test_accuracy


KINDS: dict[str, type[CheckKind]] = {
    kind.name: kind
    for kind in (MinTestAccuracy, MinValAccuracy, MaxGap, MaxParams, ReusesBase, BeatsScratch)
}


def kind_of(check: Check) -> CheckKind:
    """The registered kind of a spec's check, bound to it."""
    return KINDS[check.kind](check)


def evaluate_checks(
    assignment: AssignmentSpec, tasks: Mapping[str, TaskRecord]
) -> tuple[CheckResult, ...]:
    """One result per check of every task; a failed task's checks score zero, observed None."""
    return tuple(
        grade(task_id, check, tasks)
        for task_id, task in assignment.tasks.items()
        for check in task.checks
    )


def grade(task_id: str, check: Check, tasks: Mapping[str, TaskRecord]) -> CheckResult:
    """One check of one task, with its texts by id and in English."""
    kind, record = kind_of(check), tasks.get(task_id)
    observed = kind.observe(record, tasks) if record is not None and record.ok else None
    passed = observed is not None and kind.passes(observed)
    required = kind.required()
    if observed is None:
        said = _not_measured(kind, record)
    else:
        assert record is not None  # observed only when the task was graded
        said = kind.observed(observed, passed, record)
    return CheckResult(
        id=f"{task_id}.{kind.name}", task=task_id, kind=kind.name, passed=passed,
        observed=observed, threshold=check.threshold, points=check.points if passed else 0.0,
        max_points=check.points, required=render(required, "en"), message=render(said, "en"),
        required_message=required, observed_message=said, compare_to=check.compare_to,
    )  # fmt: skip


def _not_measured(kind: CheckKind, record: TaskRecord | None) -> Message:
    if record is not None and record.ok and kind.compares:
        return Message("check.not_measured_other", {"other": kind.check.compare_to})
    return Message("check.not_measured")


def total_score(results: Sequence[CheckResult]) -> tuple[float, float]:
    """(points earned, points possible)."""
    return sum(c.points for c in results), sum(c.max_points for c in results)
