"""The grading pipeline: prepare shared state, then train, evaluate and check each submission."""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from queue import Queue
from typing import Any

from grader import checks, data, sandbox
from grader.layout import Layout
from grader.pipeline import resume
from grader.pipeline.basemodel import ensure_base_model
from grader.pipeline.context import GRADE, Context, GradingError, Progress, load_json
from grader.pipeline.evaluation import evaluate_tasks
from grader.pipeline.results import (
    is_reusable,
    provenance,
    submission_hash,
    write_json_atomic,
    write_summary_csv,
)
from grader.pipeline.submissions import find_submissions, read_student_name, stage
from grader.pipeline.training import train_task
from grader.sandbox import jobs
from grader.spec import load_assignment

__all__ = ["GradingError", "grade_assignment", "grade_submission", "prepare"]


def grade_assignment(
    assignment_dir: Path,
    *,
    submissions: Path,
    out_dir: Path,
    data_dir: Path | None = None,
    jobs_count: int = 1,
    only: Sequence[str] = (),
    force: bool = False,
    isolation: str | None = None,
    memory_cap: str | None = None,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Grade every submission in `submissions` and write results and `summary.csv`.

    Returns:
        The result dicts, one per submission, as written to `OUT/<id>/results/`.

    Raises:
        SpecError, DataError, GradingError: an instructor-side problem; nothing is graded.
    """
    folders = find_submissions(submissions, only)
    ctx = prepare(assignment_dir, out_dir, data_dir, isolation, progress, memory_cap=memory_cap)
    slots: Queue[int] = Queue()
    for slot in range(max(1, jobs_count)):
        slots.put(slot)

    def grade_one(folder: Path) -> dict[str, Any]:
        slot = slots.get()
        try:
            return grade_submission(ctx, folder, slot=slot, force=force)
        finally:
            slots.put(slot)

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs_count)) as pool:
            futures = [pool.submit(grade_one, f) for f in folders]
            try:
                results = [f.result() for f in futures]
            except BaseException:  # Ctrl-C: kill running children, keep finished checkpoints
                sandbox.stop_all()
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    finally:
        shutil.rmtree(ctx.work, ignore_errors=True)
    stored = [r for r in map(load_json, sorted(ctx.results_dir.glob("*.json"))) if r]
    write_summary_csv(ctx.layout.summary_csv, stored, list(ctx.assignment.tasks))
    return results


def prepare(
    assignment_dir: Path,
    out_dir: Path,
    data_dir: Path | None,
    isolation: str | None,
    progress: Progress | None,
    mode: str = GRADE,
    memory_cap: str | None = None,
) -> Context:
    """Load the spec, build (or reuse) the split and the base model.

    `isolation` and `memory_cap` force a level and a memory cap (default: the best found).

    The caller owns `ctx.work` (a temp folder) and removes it when done.
    """
    assignment = load_assignment(assignment_dir)
    sandbox.harden_grader_process()
    sandbox.allow_children()
    layout = Layout.for_output(out_dir, assignment.id, mode)
    source = data.find_source(data_dir)
    layout.make_private()  # hidden labels and others' results: no child uid may read them
    splits_dir = data.prepare_splits(assignment, source, layout.splits)
    ctx = Context(
        assignment=assignment,
        layout=layout,
        splits_dir=splits_dir,
        split_key=splits_dir.name,
        data_fingerprint=source.fingerprint,
        isolation=sandbox.detect(isolation, memory_cap),
        work=jobs.make_work_root(),
        progress=progress or (lambda *_: None),
        mode=mode,
    )
    if assignment.base_model is None:
        return ctx
    try:
        return Context(**{**vars(ctx), "base": ensure_base_model(ctx)})
    except BaseException:
        shutil.rmtree(ctx.work, ignore_errors=True)
        raise


def grade_submission(ctx: Context, folder: Path, *, slot: int, force: bool) -> dict[str, Any]:
    """Train and evaluate every task of one submission; write and return its result.

    Each task is checkpointed as soon as it is trained, so an interrupted run resumes.
    """
    student = folder.name
    result_path = ctx.layout.result(student)
    prov = _provenance(ctx, folder)
    if not force and is_reusable(result_path, prov):
        ctx.progress(student, "-", "unchanged since last run: result reused")
        return load_json(result_path)
    store = ctx.layout.partial(student)
    if force:
        resume.clear(store)
    work = Path(tempfile.mkdtemp(prefix="student-", dir=ctx.work))
    work.chmod(0o711)
    staged = stage(folder, work / "submission")
    tasks = {}
    for task in ctx.assignment.tasks.values():
        tasks[task.id] = resume.load_task(store, task.id, prov, work)
        if tasks[task.id] is not None:
            ctx.progress(student, task.id, "trained in an earlier run: reused")
            continue
        ctx.progress(student, task.id, "training")
        tasks[task.id] = train_task(ctx, staged, task, work, slot)
        resume.save_task(store, task.id, prov, tasks[task.id], work)
        ctx.progress(student, task.id, f"trained: {tasks[task.id]['status']}")
    evaluate_tasks(ctx, tasks, staged, work, slot)
    result = _result(ctx, folder, tasks, prov, staged.notebook_dropped)
    write_json_atomic(result_path, _finite(result))
    resume.clear(store)
    shutil.rmtree(work, ignore_errors=True)
    return result


def _provenance(ctx: Context, folder: Path) -> dict[str, Any]:
    base = None if ctx.base is None else {k: v for k, v in ctx.base.items() if k != "path"}
    return provenance(
        spec_hash=ctx.assignment.spec_hash,
        data_fingerprint=ctx.data_fingerprint,
        split_key=ctx.split_key,
        submission=submission_hash(folder),
        seed=ctx.assignment.seed,
        isolation=ctx.level,
        memory_cap=ctx.isolation.memory_cap,
        base_model=base,
    )


def _result(
    ctx: Context, folder: Path, tasks: dict, prov: dict, dropped: list[dict]
) -> dict[str, Any]:
    rows = checks.evaluate_checks(ctx.assignment, tasks)
    score, max_score = checks.total_score(rows)
    failed = sum(t["status"] != "ok" for t in tasks.values())
    name = read_student_name(folder)
    return {
        "schema": 1,
        "mode": ctx.mode,
        "student": folder.name,
        "name": name["name"],
        "name_warning": name["warning"],
        "score": score,
        "max_score": max_score,
        "status": "ok" if not failed else ("error" if failed == len(tasks) else "partial"),
        "assignment": {
            "id": ctx.assignment.id,
            "title": ctx.assignment.title,
            "language": ctx.assignment.language,
        },
        "notebook_dropped": dropped,
        "tasks": tasks,
        "checks": rows,
        "provenance": prov,
    }


def _finite(value: Any) -> Any:
    """JSON has no NaN: store a missing measurement as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def default_data_dir(cli_value: str | None) -> Path | None:
    """`--data`, else GRADER_DATA_DIR, else None (Keras downloader). Read once, at the edge."""
    value = cli_value or os.environ.get("GRADER_DATA_DIR")
    return Path(value) if value else None
