"""The instructor's reference solution: graded once per machine like a submission, cached, and
the source of every threshold relative to it. Its code only ever reaches its own children.

It goes through the same sandboxed training and scoring children as a student's submission.
Its result is cached under `OUT/cache/reference/<key>/` (`reference_key`) and copied to
`OUT/<assignment>/reference/result.json` for the class summary: never to `results/`, and
never into a student's result, which records only the numbers its own checks used.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from grader import thresholds
from grader.errors import GradingError, RecordError
from grader.pipeline.basemodel import numerics_key
from grader.pipeline.evaluation import evaluate_tasks
from grader.pipeline.provenance import grader_hash, provenance
from grader.pipeline.submission import build_result
from grader.pipeline.submissions import (
    NOTEBOOK_FILE,
    SUBMISSION_FILE,
    Staged,
    StudentName,
    stage,
)
from grader.pipeline.training import train_task
from grader.records import DroppedLine, Result, TaskRecord, read_result, write_json_atomic
from grader.sandbox.diskuse import remove_tree

if TYPE_CHECKING:  # the run grades the reference when it opens: a real import is a cycle
    from grader.pipeline.run import Run

LABEL = "(reference)"  # its row in progress lines
REFERENCE_ID, REFERENCE_NAME = "reference", "Reference solution"
LOG_LINES = 20  # of a failed reference task's log, in the error


def grade_reference(run: Run) -> Run:
    """`run` with every threshold relative to the reference solution made a number, the
    reference graded now or read from the cache; its result kept for the class summary.

    Raises:
        GradingError: the reference solution is missing, failed a task, or has no value for
            a relative check; the message names the task or check and why.
    """
    spec = run.assignment.reference
    assert spec is not None
    if spec.content_hash is None:
        raise GradingError(
            f"The reference solution {spec.path} is not in {run.assignment.directory}: "
            "put it back, or remove [reference] and the relative thresholds from the spec."
        )
    cached = run.layout.reference(reference_key(run)) / "result.json"
    result = _read_cached(cached)
    if result is None:
        run.progress(LABEL, "-", "grading the instructor's reference solution once")
        tasks, dropped = _train_and_score(run)
        resolved = replace(run, assignment=thresholds.resolve(run.assignment, tasks))
        result = _result(resolved, tasks, dropped)
        write_json_atomic(cached, result)
        run.progress(LABEL, "-", "scored")
    else:
        resolved = replace(run, assignment=thresholds.resolve(run.assignment, result.tasks))
        run.progress(LABEL, "-", "graded in an earlier run: result reused")
    _keep_for_summary(run, result)
    return resolved


def reference_key(run: Run) -> str:
    """What the reference's grading depends on: its content, the spec as training sees it
    (a threshold change does not regrade it), the split, the base model's content (a
    retrained base regrades it), the children's numeric settings, the grader's code, and the
    mode (a self-check scores on the validation split)."""
    spec = run.assignment.reference
    assert spec is not None and spec.content_hash is not None
    base = run.base.sha256[:8] if run.base is not None else "no-base"
    parts = (spec.content_hash, run.assignment.training_hash, run.split_key, base,
             numerics_key(), grader_hash()[:8], run.mode)  # fmt: skip
    return "-".join(parts)


def _read_cached(path: Path) -> Result | None:
    try:
        result = read_result(path)
    except RecordError:  # none yet, or damaged: grade it again
        return None
    return result if all(t.ok for t in result.tasks.values()) else None


def _train_and_score(run: Run) -> tuple[dict[str, TaskRecord], tuple[DroppedLine, ...]]:
    """Every task of the reference trained and scored, as a student's would be.

    Raises:
        GradingError: a task failed (the instructor's error: the message says why).
    """
    work = Path(tempfile.mkdtemp(prefix="reference-", dir=run.work))
    work.chmod(0o711)
    try:
        staged = _stage(run, work)
        tasks = {}
        for task in run.assignment.tasks.values():
            run.progress(LABEL, task.id, "training")
            tasks[task.id] = train_task(run, staged, task, work, slot=0)
            run.progress(LABEL, task.id, f"trained: {tasks[task.id].status}")
        tasks = evaluate_tasks(run, tasks, staged, work, slot=0)
    finally:
        remove_tree(work)  # its copies of the reference's code
    for task_id, record in tasks.items():
        if not record.ok:
            raise GradingError(_failed(run, task_id, record))
    return tasks, staged.notebook_dropped


def _stage(run: Run, work: Path) -> Staged:
    """The reference copied for its children, as a submission folder (a lone .py or .ipynb
    becomes its `submission.py` or `submission.ipynb`)."""
    assert run.assignment.reference is not None
    source = run.assignment.directory / run.assignment.reference.path
    if source.is_file():
        folder = work / "source"
        folder.mkdir()
        shutil.copyfile(source, folder / (NOTEBOOK_FILE if source.suffix == ".ipynb" else
                                          SUBMISSION_FILE))  # fmt: skip
        source = folder
    return replace(stage(source, work / "submission"), student=LABEL)


def _failed(run: Run, task_id: str, record: TaskRecord) -> str:
    assert run.assignment.reference is not None
    path = run.assignment.reference.path
    log = "\n".join(record.log_tail.splitlines()[-LOG_LINES:])
    return (
        f"The reference solution ({path}) failed task {task_id!r}, so the thresholds relative "
        f"to it cannot be set: {record.error}\n{log}\nIt is graded like a student's "
        f"submission: `python -m grader check {path} --assignment {run.assignment.directory}` "
        "shows what to fix."
    )


def _result(run: Run, tasks: dict[str, TaskRecord], dropped: tuple[DroppedLine, ...]) -> Result:
    """The reference's result, checked against the resolved thresholds like a student's."""
    assert run.assignment.reference is not None and run.assignment.reference.content_hash
    prov = replace(provenance(run, None), submission_hash=run.assignment.reference.content_hash)
    name = StudentName(REFERENCE_NAME)
    return build_result(run, Path(REFERENCE_ID), tasks, prov, dropped, name=name)


def _keep_for_summary(run: Run, result: Result) -> None:
    """The class summary's copy, in a folder only the instructor may read."""
    folder = run.layout.reference_result.parent
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    write_json_atomic(run.layout.reference_result, result)
