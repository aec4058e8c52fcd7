"""Check kinds in one registry: spec fields, what each observes, passing, texts and hints.

Each measured value carries its 95 % interval (`grader.stats`); a check whose threshold lies
inside that interval is *borderline*: it is scored as the assignment's `borderline` policy
says and flagged, never silently flipped. A check may give partial credit on a ramp
(`partial_from`). A measured kind may take a threshold relative to the reference solution
(`grader.thresholds`); a kind not measuring learning counts above the floor (`grader.floor`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol

from grader import stats
from grader.assignment import Check
from grader.messages import Message
from grader.records import BaseReuse, TaskRecord

# What a borderline check earns: as measured (flagged for review), full points, or at least half
BORDERLINE_POLICIES = ("flag", "pass", "half")


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

    @property
    def borderline(self) -> str: ...

    @property
    def learning_floor(self) -> float: ...


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
    ramps: ClassVar[bool] = True  # may give partial credit: spec key `partial_from`
    relative: ClassVar[bool] = True  # threshold may be `{ reference = offset }` (measured value)
    # measures learning (an accuracy): judged as it is; any other kind counts only when its
    # task (and the task it compares with) is above the learning floor (`grader.floor`)
    learning: ClassVar[bool] = False

    def __init__(self, check: Check) -> None:
        self.check = check

    @property
    def threshold(self) -> float:
        """The threshold as a number (a relative one once resolved from the reference)."""
        return self.check.number(self.check.threshold)

    @property
    def partial_from(self) -> float | None:
        start = self.check.partial_from
        return None if start is None else self.check.number(start)

    @classmethod
    def spec_keys(cls) -> tuple[str, ...]:
        """The keys a `[[tasks.<id>.checks]]` table of this kind may hold."""
        return (("kind", "threshold", "points") + (("compare_to",) if cls.compares else ())
                + (("partial_from",) if cls.ramps else ()))  # fmt: skip

    @classmethod
    def ramp_start_ok(cls, partial_from: float, threshold: float) -> bool:
        """Whether `partial_from` is a valid ramp start: in bounds, on the failing side."""
        failing = partial_from > threshold if cls.at_most else partial_from < threshold
        return cls.bounds.contains(partial_from) and failing

    def interval(self, task: TaskRecord, tasks: Mapping[str, TaskRecord]) -> stats.Interval | None:
        """The 95 % interval of the observed value (None: exact, or not recorded)."""
        return None

    def detail(self, task: TaskRecord, tasks: Mapping[str, TaskRecord]) -> Message | None:
        """A further note on the measurement (e.g. image counts of a comparison), if any."""
        return None

    def earned(self, observed: float, passed: bool, borderline: bool, policy: str) -> float:
        """The points of an observation: full when passed, else the ramp, raised for a
        borderline result by the assignment's policy (`pass`: full, `half`: at least half)."""
        full = self.check.points
        if passed or (borderline and policy == "pass"):
            return full
        earned = full * self.ramp(observed)
        if borderline and policy == "half":
            earned = max(earned, full / 2)
        return round(earned, 2)

    def ramp(self, observed: float) -> float:
        """The share of the points the ramp gives `observed` (0 without `partial_from`)."""
        start, t = self.partial_from, self.threshold
        if start is None or start == t:
            return 0.0
        share = (
            (start - observed) / (start - t) if self.at_most else (observed - start) / (t - start)
        )
        return min(1.0, max(0.0, share))

    @classmethod
    def feedback_id(cls) -> str:
        return f"feedback.{cls.name}"

    def observe(self, task: TaskRecord, tasks: Mapping[str, TaskRecord]) -> float | None:
        """The measured value of a graded (`ok`) task, or None when it cannot be measured."""
        raise NotImplementedError

    def passes(self, observed: float) -> bool:
        t = self.threshold
        return observed <= t if self.at_most else observed >= t

    def required(self) -> Message:
        return Message(f"check.{self.name}.required", self._params())

    def observed(self, observed: float, passed: bool, task: TaskRecord) -> Message:
        """What was measured, against the threshold."""
        params = {**self._params(), "observed": observed}
        if passed:
            return Message("check.observed.met", params)
        missed = abs(observed - self.threshold)
        word = "check.observed.over" if self.at_most else "check.observed.short"
        return Message(word, {**params, "missed": missed})

    def hint(self, facts: Facts) -> Hint | None:
        """What the quick self-check can already say about this check (None: nothing)."""
        return None

    def _params(self) -> dict[str, object]:
        params: dict[str, object] = {"threshold": self.threshold}
        if self.compares:
            params["other"] = self.check.compare_to
        return params


class MinTestAccuracy(CheckKind):
    name, bounds, learning = "min_test_accuracy", DIFFERENCE, True

    def observe(self, task: TaskRecord, tasks: Mapping[str, TaskRecord]) -> float | None:
        return None if task.metrics is None else task.metrics.test_accuracy

    def interval(self, task: TaskRecord, tasks: Mapping[str, TaskRecord]) -> stats.Interval | None:
        return None if task.metrics is None else task.metrics.test_accuracy_interval


class MinValAccuracy(CheckKind):
    name, bounds, learning = "min_val_accuracy", ACCURACY, True

    def observe(self, task: TaskRecord, tasks: Mapping[str, TaskRecord]) -> float | None:
        return None if task.metrics is None else task.metrics.val_accuracy

    def interval(self, task: TaskRecord, tasks: Mapping[str, TaskRecord]) -> stats.Interval | None:
        return None if task.metrics is None else task.metrics.val_accuracy_interval


class MaxGap(CheckKind):
    name, bounds, at_most = "max_gap", DIFFERENCE, True

    def observe(self, task: TaskRecord, tasks: Mapping[str, TaskRecord]) -> float | None:
        return None if task.metrics is None else task.metrics.gap

    def interval(self, task: TaskRecord, tasks: Mapping[str, TaskRecord]) -> stats.Interval | None:
        return None if task.metrics is None else task.metrics.gap_interval


class MaxParams(CheckKind):
    name, bounds, at_most, relative = "max_params", COUNT, True, False  # exact: write the count

    def observe(self, task: TaskRecord, tasks: Mapping[str, TaskRecord]) -> float | None:
        return None if task.params is None else float(task.params)

    def observed(self, observed: float, passed: bool, task: TaskRecord) -> Message:
        verdict = "check.max_params.within" if passed else "check.max_params.over"
        return Message(verdict, {"observed": observed})

    def hint(self, facts: Facts) -> Hint | None:
        if self.passes(facts.params):
            return None
        params = {"params": facts.params, "threshold": self.threshold}
        detail = Message("check.max_params.hint_over", params)
        return Hint(Message("check.max_params.hint"), "warning", detail)


class ReusesBase(CheckKind):
    name, bounds, ramps, relative = "reuses_base", COUNT, False, False

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
    compares = True  # `compare_to` names the task it must beat (the spec's own task id)

    def observe(self, task: TaskRecord, tasks: Mapping[str, TaskRecord]) -> float | None:
        other = tasks.get(self.check.compare_to or "")
        if task.metrics is None or other is None or not other.ok or other.metrics is None:
            return None
        return task.metrics.test_accuracy - other.metrics.test_accuracy

    def interval(self, task: TaskRecord, tasks: Mapping[str, TaskRecord]) -> stats.Interval | None:
        """Newcombe's paired interval: both models were scored on the same test images."""
        table = self._table(task, tasks)
        return None if table is None else stats.paired_difference(*table)

    def detail(self, task: TaskRecord, tasks: Mapping[str, TaskRecord]) -> Message | None:
        table = self._table(task, tasks)
        if table is None:
            return None
        params = {"other": self.check.compare_to, "only_task": table[1],
                  "only_other": table[2], "images": sum(table)}  # fmt: skip
        return Message("check.beats_scratch.paired", params)

    def _table(
        self, task: TaskRecord, tasks: Mapping[str, TaskRecord]
    ) -> tuple[int, int, int, int] | None:
        other = tasks.get(self.check.compare_to or "")
        if other is None or task.test_correct is None or other.test_correct is None:
            return None
        return stats.discordant(task.test_correct, other.test_correct)


KINDS: dict[str, type[CheckKind]] = {
    kind.name: kind
    for kind in (MinTestAccuracy, MinValAccuracy, MaxGap, MaxParams, ReusesBase, BeatsScratch)
}


def kind_of(check: Check) -> CheckKind:
    """The registered kind of a spec's check, bound to it."""
    return KINDS[check.kind](check)
