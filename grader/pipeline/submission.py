"""Grading one submission: train and score each task, check it, write its `Result`."""

from __future__ import annotations

import contextlib
import functools
import tempfile
import traceback
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from grader import verdicts
from grader.errors import ErrorKind
from grader.layout import CHECK
from grader.messages import Message, render
from grader.pipeline import resume
from grader.pipeline.evaluation import evaluate_tasks, start_scoring
from grader.pipeline.folders import student_key
from grader.pipeline.provenance import check_reuse, provenance, rescore_reason
from grader.pipeline.relay import NEXT, Carry, Relay, Starter
from grader.pipeline.submissions import Staged, StudentName, read_student_name, stage
from grader.pipeline.training import empty_record, start_training, train_task
from grader.records import (
    SCHEMA,
    AssignmentInfo,
    DroppedLine,
    Provenance,
    Result,
    TaskRecord,
    write_json_atomic,
)
from grader.sandbox.diskuse import remove_tree

if TYPE_CHECKING:  # the run grades the reference solution with this module: no cycle
    from grader.pipeline.run import Run

SCORING = "(scoring)"  # the relay's name for the scoring child: never a task id
LOG_TAIL_CHARS = 16_000  # of a grader error's traceback, kept in the task's log


def grade_submission(
    run: Run, folder: Path, *, slot: int, force: bool, carry: Carry | None = None
) -> Result:
    """Train and evaluate every task of one submission; write and return its result.

    The submission is staged first: its hash is that of the files copied, read once by the
    safe walk (grader/pipeline/staging.py). An unchanged submission's stored result is then
    returned as it is (unless `force`). Each task is checkpointed as soon as it is trained,
    so an interrupted run resumes. Results are stored under `student_key(folder.name)`.
    `carry`: the slot's warm child for its next submission (grader/pipeline/relay.py).
    """
    student = student_key(folder.name)
    work = Path(tempfile.mkdtemp(prefix="student-", dir=run.work))
    work.chmod(0o711)
    try:
        staged = stage(folder, work / "submission")
        prov = replace(provenance(run, None), submission_hash=staged.hash)
        path = run.layout.result(student)
        reusable = staged.hash and not force  # "": its files could not be read: regrade
        stored, why_not = check_reuse(path, prov) if reusable else (None, None)
        if stored is not None:
            return _reuse(run, folder, stored, prov)
        if why_not:
            run.progress(student, "-", why_not)
        store = run.layout.partial(student)
        if force:
            resume.clear(store)
        kept = _checkpointed(run, staged, store, prov, work)
        with contextlib.closing(_relay(run, staged, kept, work, slot, carry)) as relay:
            tasks = _train_tasks(run, staged, store, prov, kept, relay, work, slot)
            started = relay.take(SCORING) if any(t.ok for t in tasks.values()) else None
            tasks = evaluate_tasks(run, tasks, staged, work, slot, started)
        result = build_result(run, folder, tasks, prov, staged.notebook_dropped)
        write_json_atomic(path, result)
        run.progress(student, "-", "scored")
        resume.clear(store)
    finally:
        remove_tree(work)
    return result


def _reuse(run: Run, folder: Path, stored: Result, prov: Provenance) -> Result:
    """A stored result as it is, or its trained tasks scored again under changed checks."""
    why = rescore_reason(stored.provenance, prov)
    student = student_key(folder.name)
    if why is None:
        run.progress(student, "-", "unchanged since last run: result reused")
        return stored
    specs = run.assignment.tasks
    tasks = {t: replace(r, title=specs[t].title) for t, r in stored.tasks.items()}
    kept = replace(stored.provenance, spec_hash=prov.spec_hash, reference_hash=prov.reference_hash)
    result = build_result(run, folder, tasks, kept, stored.notebook_dropped)
    write_json_atomic(run.layout.result(student), result)
    run.progress(student, "-", why)
    return result


def _checkpointed(
    run: Run, staged: Staged, store: Path, prov: Provenance, work: Path
) -> dict[str, TaskRecord]:
    """The tasks an interrupted run trained already (their models restored into `work`)."""
    kept = {}
    for task_id in run.assignment.tasks:
        record = resume.load_task(store, task_id, prov, work)
        if record is not None:
            run.progress(staged.student, task_id, "trained in an earlier run: reused")
            kept[task_id] = record
    return kept


def _relay(
    run: Run,
    staged: Staged,
    kept: Mapping[str, TaskRecord],
    work: Path,
    slot: int,
    carry: Carry | None,
) -> Relay:
    """The children this submission needs, in turn: one per task left to train, then the
    scoring child, then (in a batch) the next submission's first; each warms up while the
    one before it runs (grader/pipeline/relay.py)."""
    order: list[tuple[str, Starter]] = []
    if staged.failure is None:
        for task in run.assignment.tasks.values():
            if task.id not in kept:
                start = functools.partial(start_training, run, staged, task, work, slot)
                order.append((task.id, start))
    order.append((SCORING, functools.partial(start_scoring, run, work, slot)))
    relay = Relay(order, carry)  # takes the carried child if it is for order's first task
    first = next(iter(run.assignment.tasks.values()))
    if carry is not None and carry.wanted:  # its job folder outlives this submission's `work`
        carry.task = first.id
        relay.then(NEXT, functools.partial(start_training, run, None, first, run.work, slot))
    return relay


def _train_tasks(
    run: Run,
    staged: Staged,
    store: Path,
    prov: Provenance,
    kept: Mapping[str, TaskRecord],
    relay: Relay,
    work: Path,
    slot: int,
) -> dict[str, TaskRecord]:
    """Every task trained, each checkpointed at once, or as an interrupted run `kept` it."""
    tasks = {}
    for task in run.assignment.tasks.values():
        record = kept.get(task.id)
        if record is None:
            run.progress(staged.student, task.id, "training")
            started = relay.take(task.id) if staged.failure is None else None
            record = train_task(run, staged, task, work, slot, started)
            resume.save_task(store, task.id, prov, record, work)
            kind = f" ({record.error_kind.code})" if record.error_kind else ""
            if record.ok and record.stopped_by:  # flagged: the last completed epoch is scored
                kind = f" (time limit: epoch {record.epochs}/{record.planned_epochs} scored)"
            run.progress(staged.student, task.id, f"trained: {record.status}{kind}")
        tasks[task.id] = record
    return tasks


def build_result(
    run: Run,
    folder: Path,
    tasks: Mapping[str, TaskRecord],
    prov: Provenance,
    dropped: tuple[DroppedLine, ...] = (),
    name: StudentName | None = None,
) -> Result:
    """One submission's result: its tasks, graded checks, score, name and provenance."""
    graded = verdicts.evaluate_checks(run.assignment, tasks)
    score, max_score = verdicts.total_score(graded)
    failed = sum(not t.ok for t in tasks.values())
    name = name or read_student_name(folder)
    a = run.assignment
    return Result(
        schema=SCHEMA,
        mode="check" if run.mode == CHECK else "grade",
        student=student_key(folder.name),
        name=name.name,
        name_warning=None if name.warning is None else render(name.warning, "en"),
        name_warning_message=name.warning,
        score=score,
        max_score=max_score,
        status="ok" if not failed else ("error" if failed == len(tasks) else "partial"),
        assignment=AssignmentInfo(id=a.id, title=a.title, language=a.language),
        tasks=dict(tasks),
        checks=graded,
        provenance=prov,
        notebook_dropped=dropped,
    )


def failed_result(run: Run, folder: Path, error: Exception) -> Result:
    """The result of a submission the grader itself failed on: every task a `grader_error`
    with the traceback in its log, so the batch goes on and the instructor sees why.

    Never reused: its provenance names no submission hash, so the next run grades it again.
    Nothing here reads the submission, and no text of it can make the result unwritable.
    """
    student = student_key(folder.name)
    trace = _json_safe("".join(traceback.format_exception(error))[-LOG_TAIL_CHARS:])
    detail = _json_safe(f"{type(error).__name__}: {error}"[:200])
    message = Message("grader_error", {"error": detail})
    tasks = {
        task.id: empty_record(run, task).failed(ErrorKind.GRADER_ERROR, message, log_tail=trace)
        for task in run.assignment.tasks.values()
    }
    run.progress(student, "-", f"grader error: {type(error).__name__}")
    prov = replace(provenance(run, None), submission_hash="")
    result = build_result(run, folder, tasks, prov, name=StudentName(student))
    with contextlib.suppress(OSError, ValueError):  # still returned, for the summary
        write_json_atomic(run.layout.result(student), result)
    return result


def _json_safe(text: str) -> str:
    """`text` with undecodable bytes of a file name (lone surrogates) as `\\udcff` escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
