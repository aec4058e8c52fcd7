"""The learning floor: a task's checks that do not measure learning count only above chance.

A diverged model or one with nothing to train stays at chance, where a small gap and a small
parameter count come for free. So a check that does not measure learning (`max_gap`,
`max_params`, `reuses_base`, and `beats_scratch` for both tasks it compares) earns nothing
while its task's hidden-test accuracy is below the floor; the accuracy checks themselves are
judged as usual.

Chance is what always answering the test's most common class scores (1/k on a balanced
k-class test). The floor lies a share of the way from chance to a perfect score,
`chance + share × (1 − chance)`, the share being the spec's `learning_floor` (default 0.1:
0.19 for 10 classes, 0.40 for 3, 0.55 for 2; 0 turns the floor off), and never above the
task's own `min_test_accuracy` threshold: a model that passes the instructor's accuracy
check has learned enough. Not a multiple of chance: 2 × chance is 0.20 for ten classes but
0.67 for three (above the shipped scratch task's pass mark, 0.50) and 1.0 for two.

The accuracy has a 95 % interval: when the floor lies inside it the decision is borderline,
flagged for review and settled by the assignment's `borderline` policy, as for any check.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from grader import stats
from grader.messages import Message
from grader.records import TaskRecord

DEFAULT_SHARE = 0.1  # of the way from chance to a perfect score


@dataclass(frozen=True)
class Floor:
    """One task's hidden-test accuracy against its learning floor."""

    task: str
    accuracy: float
    interval: stats.Interval | None
    classes: int
    chance: float
    floor: float

    @property
    def below(self) -> bool:
        return self.accuracy < self.floor

    @property
    def borderline(self) -> bool:
        """The floor lies inside the accuracy's 95 % interval: the measurement cannot tell."""
        return stats.contains(self.interval, self.floor)

    def params(self) -> dict[str, object]:
        low, high = self.interval or (self.accuracy, self.accuracy)
        return {"task": self.task, "accuracy": self.accuracy, "classes": self.classes,
                "chance": self.chance, "floor": self.floor, "low": low, "high": high}  # fmt: skip


def level(chance: float, share: float) -> float:
    """The floor `share` of the way from `chance` to a perfect score (rounded for display)."""
    return round(chance + share * (1.0 - chance), 10)


def chance_of(record: TaskRecord) -> float | None:
    """What always answering the test's most common class scores (None: no test images)."""
    counts = record.split.test
    if len(counts) == len(record.classes) and sum(counts) > 0:
        return max(counts) / sum(counts)
    return 1.0 / len(record.classes) if record.classes else None


@dataclass(frozen=True)
class Rule:
    """An assignment's learning floor: the spec's share, and per task the cap on its floor
    (its lowest `min_test_accuracy` threshold; a task without one has no cap)."""

    share: float = DEFAULT_SHARE
    caps: Mapping[str, float] = field(default_factory=dict)

    def measure(self, task_id: str, record: TaskRecord | None) -> Floor | None:
        """The floor of a graded task (None: the floor is off, or the task has no accuracy)."""
        if self.share <= 0 or record is None or not record.ok or record.metrics is None:
            return None
        accuracy, chance = record.metrics.test_accuracy, chance_of(record)
        if chance is None or not math.isfinite(accuracy):
            return None
        floor = min(level(chance, self.share), self.caps.get(task_id, 1.0))
        interval = record.metrics.test_accuracy_interval
        return Floor(task_id, accuracy, interval, len(record.classes), chance, floor)


DEFAULT_RULE = Rule()  # the default share, no caps (a check graded on its own)


def gate(
    check_task: str, floors: Sequence[Floor], points: float, policy: str
) -> tuple[float, bool, list[Message]]:
    """(points, counted, notes) of a check that does not measure learning, read from tasks
    whose floors are `floors` (its own task first).

    Below a floor it is not counted: no points. When every floor it missed lies within the
    accuracy's noise, the assignment's `policy` decides as for a borderline check: `flag` keeps
    the measured verdict (flagged), `pass` counts the check, `half` gives half its points.
    """
    below = [f for f in floors if f.below]
    noisy = [f for f in floors if f.borderline]
    rescued = bool(below) and all(f.borderline for f in below) and policy in ("pass", "half")
    notes = [_borderline_note(f, policy) for f in noisy]
    if below and not rescued:
        return 0.0, False, [_not_counted(check_task, below[0]), *notes]
    if below and policy == "half":
        points = round(points / 2, 2)
    return points, True, notes


def _not_counted(check_task: str, floor: Floor) -> Message:
    which = "learning.not_counted" if floor.task == check_task else "learning.not_counted_other"
    return Message(which, floor.params())


def _borderline_note(floor: Floor, policy: str) -> Message:
    return Message(f"learning.borderline.{policy if floor.below else 'above'}", floor.params())
