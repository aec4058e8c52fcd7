"""Training one task of one submission in an isolated child, and reading what it left."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from grader import codec, data, protocol
from grader.errors import ChildOutputError, ErrorKind
from grader.messages import LANGUAGES, Message, render
from grader.messages import errors as error_texts
from grader.pipeline.submissions import SUBMISSION_FILE, Staged, copy_tree
from grader.records import BaseReuse, SplitCounts, TaskRecord
from grader.sandbox import Limits, Outcome, jobs
from grader.sandbox.childio import read_child_json
from grader.spec import Task

if TYPE_CHECKING:  # the run imports this module: a real import would be a cycle
    from grader.pipeline.run import Run

QUICK_SECONDS = 60  # a self-check trains a few steps only
REPORT_MAX_BYTES = 2**20
Failure = tuple[ErrorKind, Message]


@dataclass(frozen=True)
class QuickFacts:
    """What the self-check reads from a quick training child besides the record."""

    params: int
    custom_layers: tuple[str, ...]
    activation: str
    base_reuse: BaseReuse | None
    loss: str


def empty_record(run: Run, task: Task) -> TaskRecord:
    """A task not graded yet: what the spec says (title, classes, split counts)."""
    split = run.assignment.splits[task.split]
    n = len(split.classes)
    counts = SplitCounts(
        name=split.name,
        train=(split.train_per_class,) * n,
        val=(split.val_per_class,) * n,
        test=(split.test_per_class,) * n,
    )
    return TaskRecord(title=task.title, classes=tuple(split.classes), split=counts)


def train_task(
    run: Run, staged: Staged, task: Task, work: Path, slot: int, *, quick: bool = False
) -> TaskRecord:
    """Run the student's build + fit for one task in an isolated child; never raises.

    With `quick`, the child builds the model and trains a few steps only (self-check).
    """
    return _train(run, staged, task, work, slot, quick)[0]


def check_task(
    run: Run, staged: Staged, task: Task, work: Path, slot: int
) -> tuple[TaskRecord, QuickFacts | None]:
    """The self-check's quick training of one task, and what it tells about the model."""
    record, facts = _train(run, staged, task, work, slot, quick=True)
    if facts is None:
        return record, None
    quick = QuickFacts(
        facts.params, facts.custom_layers, facts.activation, facts.base_reuse, facts.loss
    )
    return record, quick


def _train(
    run: Run, staged: Staged, task: Task, work: Path, slot: int, quick: bool
) -> tuple[TaskRecord, protocol.TrainFacts | None]:
    record = empty_record(run, task)
    if staged.failure is not None:
        return record.failed(*staged.failure), None
    job = _staged_job(run, staged, task, work, slot)
    request = train_request(
        job,
        run,
        call="base" if task.uses_base else "shape",
        function=task.function,
        classes=record.classes,
        defaults=codec.from_json(protocol.Defaults, codec.to_json(task.defaults)),
        limits=codec.from_json(protocol.TrainLimits, codec.to_json(task.limits)),
        module_file=job.inputs / "submission" / SUBMISSION_FILE,
        task=task.id,
        quick=quick,
    )
    outcome = jobs.run_job(
        job,
        "grader.worker.train",
        codec.to_json(request),
        wall_seconds=_budget(task, quick) + task.limits.startup_seconds,
        memory_gb=task.limits.memory_gb,
        on_line=lambda line: run.progress(staged.student, task.id, line[16:]),
    )
    record = replace(record, log_tail=jobs.log_tail(outcome))
    return _read_training(job, task, outcome, record, work / task.id, quick)


def _staged_job(run: Run, staged: Staged, task: Task, work: Path, slot: int) -> jobs.Job:
    """A job folder holding the submission, the task's train and validation arrays, the base."""
    job = jobs.new_job(work, task.id, run.sandbox, slot)
    copy_tree(staged.folder, job.inputs / "submission")
    inputs = run.train_arrays(task.split)
    if task.uses_base and run.base is not None:
        inputs["base.keras"] = run.base.path
    jobs.link_inputs(job, inputs)
    return job


def train_request(
    job: jobs.Job,
    run: Run,
    *,
    call: protocol.Call,
    function: str,
    classes: tuple[str, ...],
    defaults: protocol.Defaults,
    limits: protocol.TrainLimits,
    module_file: Path,
    task: str = "base",
    quick: bool = False,
) -> protocol.TrainRequest:
    """The request of a train worker, with paths as the child sees them (no test split)."""
    return protocol.TrainRequest(
        task=task,
        call=call,
        function=function,
        classes=classes,
        input_shape=data.IMAGE_SHAPE,
        seed=run.assignment.seed,
        defaults=defaults,
        limits=limits,
        submission=job.inside(module_file),
        data=job.inside(job.inputs),
        out=job.inside(job.outputs),
        base_model=job.inside(job.inputs / "base.keras") if call == "base" else None,
        quick=quick,
    )


def _budget(task: Task, quick: bool) -> int:
    return QUICK_SECONDS if quick else task.limits.max_seconds


def _read_training(
    job: jobs.Job, task: Task, outcome: Outcome, record: TaskRecord, kept: Path, quick: bool
) -> tuple[TaskRecord, protocol.TrainFacts | None]:
    failure = ended_early(outcome, _budget(task, quick))
    if failure is not None:
        return record.failed(*failure), None
    try:
        report = read_train_report(job)
    except ChildOutputError as exc:
        return record.failed(ErrorKind.CRASH, crash_message(outcome, str(exc))), None
    except codec.DecodeError as exc:
        return record.failed(*_unusable(str(exc))), None
    if report.error is not None:
        return record.failed(*child_failure(report.error)), None
    if report.trained is None:
        return record.failed(*_unusable("train.json reports neither a model nor an error")), None
    facts = report.trained
    try:
        if facts.history.epochs > (1 if quick else task.limits.max_epochs):
            raise ChildOutputError(f"history has {facts.history.epochs} epochs")
        if not quick:
            jobs.take_output(job, "model.keras", kept / "model.keras")
            if task.uses_base:
                jobs.take_output(job, "built.keras", kept / "built.keras")
    except ChildOutputError as exc:
        return record.failed(*_unusable(str(exc))), None
    trained = _trained(record, facts)
    return (trained if quick else replace(trained, seconds=outcome.seconds)), facts


def read_train_report(job: jobs.Job) -> protocol.TrainReport:
    """The train worker's report, read safely and decoded (bounds checked on decoding).

    Raises:
        ChildOutputError: missing, a link, oversized or not JSON (the child died first).
        codec.DecodeError: JSON that is not a training report.
    """
    raw = read_child_json(job.outputs / "train.json", max_bytes=REPORT_MAX_BYTES)
    return codec.from_json(protocol.TrainReport, raw)


def _trained(record: TaskRecord, facts: protocol.TrainFacts) -> TaskRecord:
    history = facts.history
    best = min(range(history.epochs), key=lambda i: history.val_loss[i]) + 1
    return replace(
        record,
        status="ok",
        history={k: getattr(history, k) for k in ("loss", "accuracy", "val_loss", "val_accuracy")},
        epochs=history.epochs,
        best_epoch=best,
        batch_size=facts.batch_size,
        optimizer=facts.optimizer,
        loss=facts.loss,
        label_format=facts.label_format,
    )


def _unusable(detail: str) -> Failure:
    return ErrorKind.BAD_OUTPUT, Message("bad_output.training", {"error": detail[:2000]})


def ended_early(outcome: Outcome, limit: int) -> Failure | None:
    """A child stopped for writing too much, or for running out of time."""
    if outcome.disk_exceeded:
        return ErrorKind.DISK_LIMIT, Message("disk_limit", {"mb": Limits.scratch_bytes // 2**20})
    if outcome.timed_out:
        params = {"limit": limit, "seconds": outcome.seconds}
        return ErrorKind.TIMEOUT, Message("timeout", params)
    return None


def crash_message(outcome: Outcome, detail: str) -> Message:
    """Why a child ended without its report, in words a student can act on."""
    log, code = outcome.log_tail, outcome.returncode
    if outcome.out_of_memory:
        return Message("crash.out_of_memory")
    signals = {
        11: Message("crash.segfault"),
        25: Message("crash.file_size", {"mb": Limits.max_file_bytes // 2**20}),
        24: Message("crash.cpu_time"),
        9: Message("crash.killed"),
    }
    if "MemoryError" in log or "bad_alloc" in log or "Resource exhausted" in log:
        return Message("crash.memory_error")
    if code < 0:
        return signals.get(-code, Message("crash.signal", {"signal": -code}))
    return Message("crash.exit", {"code": code, "detail": detail})


def child_failure(error: protocol.ErrorReport) -> Failure:
    """The kind and message a child reported, if they are ones the grader knows.

    A child that ran student code may report anything: a kind outside the closed set, or a
    message id or parameters that do not render, is the grader's error (never trusted text).
    """
    kind = ErrorKind.parse(error.kind)
    message = Message(error.message_id, dict(error.params))
    if kind.code != error.kind:
        unknown = f"a child reported the unknown error kind {error.kind!r:.40}"
    elif error.message_id not in error_texts.TEXTS or not _renders(message):
        unknown = f"a child reported the unknown message {error.message_id!r:.80}"
    else:
        return kind, message
    return ErrorKind.GRADER_ERROR, Message("grader_error", {"error": unknown})


def _renders(message: Message) -> bool:
    try:
        for language in LANGUAGES:
            render(message, language)
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        return False
    return True
