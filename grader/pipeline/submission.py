"""Grading one submission: train and score each task, check it, write its `Result`."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from grader import checks
from grader.messages import render
from grader.pipeline import resume
from grader.pipeline.context import CHECK, Context
from grader.pipeline.evaluation import evaluate_tasks
from grader.pipeline.provenance import provenance, reusable
from grader.pipeline.submissions import Staged, read_student_name, stage
from grader.pipeline.training import train_task
from grader.records import (
    SCHEMA,
    AssignmentInfo,
    DroppedLine,
    Provenance,
    Result,
    TaskRecord,
    write_json_atomic,
)


def grade_submission(ctx: Context, folder: Path, *, slot: int, force: bool) -> Result:
    """Train and evaluate every task of one submission; write and return its result.

    An unchanged submission's stored result is returned as it is (unless `force`). Each
    task is checkpointed as soon as it is trained, so an interrupted run resumes.
    """
    student, prov = folder.name, provenance(ctx, folder)
    path = ctx.layout.result(student)
    stored = None if force else reusable(path, prov)
    if stored is not None:
        ctx.progress(student, "-", "unchanged since last run: result reused")
        return stored
    store = ctx.layout.partial(student)
    if force:
        resume.clear(store)
    work = Path(tempfile.mkdtemp(prefix="student-", dir=ctx.work))
    work.chmod(0o711)
    try:
        staged = stage(folder, work / "submission")
        tasks = _train_tasks(ctx, staged, store, prov, work, slot)
        tasks = evaluate_tasks(ctx, tasks, staged, work, slot)
        result = build_result(ctx, folder, tasks, prov, staged.notebook_dropped)
        write_json_atomic(path, result)
        ctx.progress(student, "-", "scored")
        resume.clear(store)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return result


def _train_tasks(
    ctx: Context, staged: Staged, store: Path, prov: Provenance, work: Path, slot: int
) -> dict[str, TaskRecord]:
    """Every task trained, or taken from a checkpoint of an interrupted run."""
    tasks = {}
    for task in ctx.assignment.tasks.values():
        record = resume.load_task(store, task.id, prov, work)
        if record is not None:
            ctx.progress(staged.student, task.id, "trained in an earlier run: reused")
        else:
            ctx.progress(staged.student, task.id, "training")
            record = train_task(ctx, staged, task, work, slot)
            resume.save_task(store, task.id, prov, record, work)
            kind = f" ({record.error_kind.code})" if record.error_kind else ""
            ctx.progress(staged.student, task.id, f"trained: {record.status}{kind}")
        tasks[task.id] = record
    return tasks


def build_result(
    ctx: Context,
    folder: Path,
    tasks: Mapping[str, TaskRecord],
    prov: Provenance,
    dropped: tuple[DroppedLine, ...] = (),
) -> Result:
    """One submission's result: its tasks, graded checks, score, name and provenance."""
    graded = checks.evaluate_checks(ctx.assignment, tasks)
    score, max_score = checks.total_score(graded)
    failed = sum(not t.ok for t in tasks.values())
    name = read_student_name(folder)
    a = ctx.assignment
    return Result(
        schema=SCHEMA,
        mode="check" if ctx.mode == CHECK else "grade",
        student=folder.name,
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
