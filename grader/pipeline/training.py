"""Training one task of one submission in an isolated child, and reading what it left."""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from grader import codec, protocol
from grader.errors import ChildOutputError, ErrorKind
from grader.messages import LANGUAGES, Message, diagnoses, integrity, render
from grader.messages import errors as error_texts
from grader.pipeline import liveprogress, timelimit
from grader.pipeline.submissions import SUBMISSION_FILE, Staged, copy_tree
from grader.pipeline.timelimit import Stop
from grader.records import TaskRecord
from grader.sandbox import Limits, Outcome, jobs
from grader.sandbox.childio import read_child_json
from grader.spec import Task

if TYPE_CHECKING:  # the run imports this module: a real import would be a cycle
    from grader.pipeline.run import Run

REPORT_MAX_BYTES = 2**20
Failure = tuple[ErrorKind, Message]
# ids a worker may report (a missing module, a name only a left-out notebook line set)
# (integrity: how a scoring child ended, which evaluation.py reports for it)
CHILD_MESSAGES = error_texts.TEXTS.keys() | diagnoses.TEXTS.keys() | integrity.TEXTS.keys() | {
    "import_error.missing_module", "notebook.dropped_name"}  # fmt: skip


def empty_record(run: Run, task: Task) -> TaskRecord:
    """A task not graded yet: what the spec says (title, classes, split counts)."""
    split = run.assignment.splits[task.split]
    return TaskRecord(title=task.title, classes=split.classes, split=run.counts[split.name])


def train_task(
    run: Run,
    staged: Staged,
    task: Task,
    work: Path,
    slot: int,
    started: jobs.StartedJob | None = None,
) -> TaskRecord:
    """Run the student's build + fit for one task in an isolated child; never raises.

    `started`: the task's child, started (warm) by `start_training`; else started here.
    """
    record = empty_record(run, task)
    if staged.failure is not None:
        return record.failed(*staged.failure)
    started = started or start_training(run, staged, task, work, slot)
    job = started.job
    if not (job.inputs / "submission").exists():  # warmed up before its submission was known
        copy_tree(staged.folder, job.inputs / "submission")
    request = codec.to_json(task_request(run, job, task))
    jobs.give_request(started, request, timelimit.wall_backstop(task.limits))
    show = functools.partial(run.progress, staged.student, task.id)
    with liveprogress.epochs_shown(job, task.limits.max_epochs, show):
        outcome = jobs.finish_job(started)
    record = replace(record, log_tail=jobs.log_tail(outcome))
    return _read_training(job, task, outcome, record, work / task.id)


def start_training(
    run: Run, staged: Staged | None, task: Task, work: Path, slot: int, lane: int = 0
) -> jobs.StartedJob:
    """The task's training child, started before its request (`train_task` gives it);
    without `staged`, before its submission is known (`train_task` copies it in)."""
    job = staged_job(run, staged, task, work, slot, lane)
    return jobs.start_job(
        job,
        "grader.worker.train",
        wall_seconds=timelimit.wall_backstop(task.limits),
        cpu_seconds=timelimit.process_cpu(task.limits),
        memory_gb=task.limits.memory_gb,
    )


def task_request(
    run: Run, job: jobs.Job, task: Task, *, quick: bool = False
) -> protocol.TrainRequest:
    """The request of one task's training child (`quick`: the self-check's)."""
    split = run.assignment.splits[task.split]
    return train_request(
        job,
        run,
        call="base" if task.uses_base else "shape",
        function=task.function,
        classes=tuple(split.classes),
        defaults=codec.from_json(protocol.Defaults, codec.to_json(task.defaults)),
        limits=replace(
            codec.from_json(protocol.TrainLimits, codec.to_json(task.limits)),
            cpu_seconds=0.0 if quick else timelimit.cpu_budget(task.limits),
        ),
        module_file=job.inputs / "submission" / SUBMISSION_FILE,
        task=task.id,
        quick=quick,
    )


def staged_job(
    run: Run, staged: Staged | None, task: Task, work: Path, slot: int, lane: int = 0
) -> jobs.Job:
    """A job folder holding the submission, the task's train and validation arrays, the base."""
    job = jobs.new_job(work, task.id, run.sandbox, slot, lane)
    if staged is not None:
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
        input_shape=run.assignment.data.input_shape,
        pixel_divisor=run.assignment.data.pixel_divisor,
        seed=run.assignment.seed,
        defaults=defaults,
        limits=limits,
        submission=job.inside(module_file),
        data=job.inside(job.inputs),
        out=job.inside(job.outputs),
        base_model=job.inside(job.inputs / "base.keras") if call == "base" else None,
        quick=quick,
        allow_custom_objects=run.assignment.allow_custom_objects,
    )


def _read_training(
    job: jobs.Job, task: Task, outcome: Outcome, record: TaskRecord, kept: Path
) -> TaskRecord:
    stop = timelimit.stopped_by(outcome)
    if stop is not None and not outcome.disk_exceeded:
        return _stopped(job, task, outcome, record, kept, stop)
    failure = ended_early(outcome, task.limits.max_seconds)
    if failure is not None:
        return record.failed(*failure)
    try:
        report = read_train_report(job)
    except ChildOutputError as exc:
        return record.failed(ErrorKind.CRASH, crash_message(outcome, str(exc)))
    except codec.DecodeError as exc:
        return record.failed(*unusable(str(exc)))
    if report.error is not None:
        return record.failed(*child_failure(report.error))
    if report.trained is None:
        return record.failed(*unusable("train.json reports neither a model nor an error"))
    facts = report.trained
    try:
        if facts.history.epochs > task.limits.max_epochs:
            raise ChildOutputError(f"history has {facts.history.epochs} epochs")
        jobs.take_output(job, "model.keras", kept / "model.keras")
        if task.uses_base:
            jobs.take_output(job, "built.keras", kept / "built.keras")
    except ChildOutputError as exc:
        return record.failed(*unusable(str(exc)))
    return replace(_trained(record, facts), seconds=outcome.seconds)


def _stopped(
    job: jobs.Job, task: Task, outcome: Outcome, record: TaskRecord, kept: Path, stop: Stop
) -> TaskRecord:
    """A child stopped at a time limit: the model of its last completed epoch, if it saved one,
    as the assignment's `on_timeout` says."""
    facts = timelimit.read_progress(job, task.limits.max_epochs)
    if facts is None or not timelimit.take_checkpoint(
        job, facts.history.epochs, kept / "model.keras"
    ):
        return record.failed(*timelimit.no_epoch(stop, task.limits))
    if task.uses_base:
        try:
            jobs.take_output(job, "built.keras", kept / "built.keras")
        except ChildOutputError as exc:
            return record.failed(*unusable(str(exc)))
    trained = replace(_trained(record, facts), seconds=outcome.seconds)
    return timelimit.stopped(trained, stop, task.limits)


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
        planned_epochs=facts.planned_epochs or None,
        cpu_seconds=facts.cpu_seconds or None,
    )


def unusable(detail: str) -> Failure:
    """A child's report the grader cannot use."""
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
    elif error.message_id not in CHILD_MESSAGES or not _renders(message):
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
