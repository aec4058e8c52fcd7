"""Result files as typed records: frozen dataclasses, versioned JSON, upgrades, atomic writes.

`SCHEMA` is written in every result and checked on read (`grader.recordschema`): an older
file is upgraded, a newer or unknown one refused with a message saying what to do. A failed
task is built by one constructor, `TaskRecord.failed`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from grader import codec
from grader.atomic import write_atomic
from grader.errors import ErrorKind, RecordError
from grader.messages import Message, render
from grader.protocol import Layer as LayerRow
from grader.protocol import Metrics, Sample
from grader.protocol import Reuse as BaseReuse
from grader.recordschema import SCHEMA, UPGRADES, upgrade

TaskStatus = Literal["ok", "error", "timeout"]


@dataclass(frozen=True)
class SplitCounts:
    """Images per class in each part of a task's split."""

    name: str
    train: tuple[int, ...]
    val: tuple[int, ...]
    test: tuple[int, ...]


@dataclass(frozen=True)
class TaskRecord:
    """Everything measured for one task of one submission (what a report reads)."""

    title: str
    classes: tuple[str, ...]
    split: SplitCounts
    status: TaskStatus = "error"
    error_kind: ErrorKind | None = None
    error: str | None = None  # the message in English (console, CSV, older readers)
    log_tail: str = ""
    metrics: Metrics | None = None
    history: dict[str, tuple[float, ...]] | None = None
    best_epoch: int | None = None
    epochs: int = 0
    batch_size: int | None = None
    seconds: float = 0.0
    params: int | None = None
    trainable_params: int | None = None
    non_trainable_params: int | None = None
    optimizer: str | None = None
    loss: str | None = None
    label_format: str | None = None
    layers: tuple[LayerRow, ...] = ()
    confusion_matrix: tuple[tuple[int, ...], ...] | None = None
    samples: tuple[Sample, ...] = ()
    base_reuse: BaseReuse | None = None
    evaluated_in: str | None = None  # safe_mode | student_sandbox
    error_message: Message | None = None  # the error by id, rendered in the report's language
    # per hidden-test image, in order: '1' right, '0' wrong (paired comparisons of two tasks);
    # a string, not a list: one character an image keeps the indented JSON file small
    test_correct: str | None = None
    # time (schema 5): `epochs` completed of `planned_epochs`, the CPU-seconds charged to the
    # budget; `stopped_by` a limit ("cpu": the budget, "wall": the backstop), in which case
    # the model after epoch `epochs` was scored, with `limit_note` (English) / `limit_message`
    planned_epochs: int | None = None
    cpu_seconds: float | None = None
    stopped_by: Literal["cpu", "wall"] | None = None
    limit_note: str | None = None
    limit_message: Message | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def failed(
        self, kind: ErrorKind, message: Message, *, log_tail: str | None = None
    ) -> TaskRecord:
        """This task as failed with `kind`; the one way a failed record is made."""
        return replace(
            self,
            status="timeout" if kind is ErrorKind.TIMEOUT else "error",
            error_kind=kind,
            error=render(message, "en"),
            error_message=message,
            log_tail=self.log_tail if log_tail is None else log_tail,
        )


@dataclass(frozen=True)
class ReferenceThreshold:
    """Where a threshold relative to the instructor's reference solution came from."""

    value: float  # the reference solution's observed value for the same check
    offset: float | None  # threshold = value + offset (None: the threshold was a number)
    partial_from_offset: float | None = None  # partial_from = value + this, when relative


@dataclass(frozen=True)
class CheckResult:
    """One graded check of one task."""

    id: str
    task: str
    kind: str
    passed: bool
    observed: float | None
    threshold: float
    points: float
    max_points: float
    required: str  # English renderings, for readers of the JSON file
    message: str
    required_message: Message | None = None  # by id: what reports render
    observed_message: Message | None = None
    compare_to: str | None = None  # the other task of a comparing check (beats_scratch)
    interval: tuple[float, float] | None = None  # 95 % interval of `observed` (schema 3)
    borderline: bool = False  # the threshold lies inside `interval`: flagged for review
    notes: tuple[str, ...] = ()  # further notes in English (paired counts, borderline, ramp)
    note_messages: tuple[Message, ...] = ()  # the same by id: what reports render
    reference: ReferenceThreshold | None = None  # a threshold relative to the reference (4)
    # False: its model is below the learning floor (`grader.floor`), so the check earns
    # nothing whatever it measured; `note_messages[0]` says why
    counted: bool = True


@dataclass(frozen=True)
class Adjustment:
    """A change to a submission's score decided outside its grading: a late penalty from the
    assignment's policy, or an instructor's override (`overrides.toml`), with its reason."""

    kind: Literal["late", "override"]
    points: float  # added to the score: negative for a deduction
    reason: str  # English, for readers of the JSON file and the exports
    message: Message | None = None  # the same by id: what reports render


@dataclass(frozen=True)
class DroppedLine:
    """A notebook line grading left out, and why."""

    cell: int
    line: int
    code: str
    reason: str  # English
    reason_message: Message | None = None


@dataclass(frozen=True)
class AssignmentInfo:
    """Which assignment a result belongs to, and the language of its reports."""

    id: str
    title: str
    language: str


@dataclass(frozen=True)
class Provenance:
    """What a result was computed from and with: to decide reuse and to reproduce it."""

    grader_version: str
    schema: int
    spec_hash: str
    data_fingerprint: str
    split_key: str
    submission_hash: str
    seed: int
    isolation: str
    tensorflow: str | None
    keras: str | None
    numpy: str | None
    python: str
    date: str
    base_model: dict[str, Any] | None = None
    memory_cap: str | None = None
    cpu: str | None = None
    grader_hash: str | None = None  # the grader's own code (reports excluded): part of reuse
    numerics: dict[str, str] | None = None  # settings that fix training's arithmetic (issue 10)
    reference_hash: str | None = None  # the reference solution relative thresholds came from
    training_hash: str | None = None  # the spec as training sees it (`Assignment.training_hash`)
    packing: dict[str, str] | None = None  # submissions graded at once, cores, threads a child


@dataclass(frozen=True)
class Result:
    """One submission's graded result: the content of `results/<student>.json`."""

    schema: int
    mode: Literal["grade", "check"]
    student: str
    name: str
    name_warning: str | None
    score: float
    max_score: float
    status: Literal["ok", "partial", "error"]
    assignment: AssignmentInfo
    tasks: dict[str, TaskRecord]
    checks: tuple[CheckResult, ...]
    provenance: Provenance
    notebook_dropped: tuple[DroppedLine, ...] = ()
    name_warning_message: Message | None = None
    adjustments: tuple[Adjustment, ...] = ()  # late penalty, instructor overrides (schema 6)
    final_score: float | None = None  # the score after `adjustments`; None: none applied

    @property
    def grade(self) -> float:
        """What the gradebook gets: the score after adjustments."""
        return self.score if self.final_score is None else self.final_score

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = codec.to_json(self)
        return data

    @classmethod
    def from_json(cls, data: Any) -> Result:
        """A result from its JSON, upgraded from older schemas.

        Raises:
            RecordError: not a result, made by a newer grader, or malformed.
        """
        if not isinstance(data, dict):
            raise RecordError("not a result file (expected a JSON object)")
        data = upgrade(data)
        try:
            return codec.from_json(cls, data)
        except codec.DecodeError as exc:
            raise RecordError(f"malformed result ({exc})") from None


def read_result(path: Path) -> Result:
    """Load and upgrade one result file.

    Raises:
        RecordError: unreadable, not JSON, or not a result this grader can read.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise RecordError(f"{path.name}: cannot be read ({exc})") from None
    try:
        return Result.from_json(data)
    except RecordError as exc:
        raise RecordError(f"{path.name}: {exc}") from None


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON (mode 0o600) so that readers see the old file or the new one, never half
    of one (`atomic.write_atomic`; a full disk raises its `OutputError`)."""
    text = json.dumps(codec.to_json(data), indent=1, ensure_ascii=False, allow_nan=False)
    write_atomic(path, text, private=True)


__all__ = ["SCHEMA", "Adjustment", "AssignmentInfo", "BaseReuse", "CheckResult", "DroppedLine",
           "LayerRow", "Metrics", "Provenance", "ReferenceThreshold", "Result", "Sample",
           "SplitCounts", "TaskRecord", "UPGRADES", "read_result", "upgrade",
           "write_json_atomic"]  # fmt: skip
