"""The grading pipeline: prepare shared state, then train, evaluate and check each submission."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from queue import Queue

from grader import data, sandbox
from grader.errors import RecordError
from grader.layout import Layout
from grader.pipeline.basemodel import ensure_base_model
from grader.pipeline.context import GRADE, Context, GradingError, Progress
from grader.pipeline.submission import grade_submission
from grader.pipeline.submissions import find_submissions
from grader.pipeline.summary import write_summary_csv
from grader.records import Result, read_result
from grader.sandbox import jobs
from grader.spec import Assignment, load_assignment

__all__ = ["GradingError", "grade_assignment", "grade_submission", "prepare"]


def grade_assignment(
    assignment_dir: Path | Assignment,
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
) -> list[Result]:
    """Grade every submission in `submissions` and write results and `summary.csv`.

    Returns:
        The results, one per submission, as written to `OUT/<id>/results/`.

    Raises:
        SpecError, DataError, GradingError: an instructor-side problem; nothing is graded.
    """
    folders = find_submissions(submissions, only)
    ctx = prepare(assignment_dir, out_dir, data_dir, isolation, progress, memory_cap=memory_cap)
    slots: Queue[int] = Queue()
    for slot in range(max(1, jobs_count)):
        slots.put(slot)

    def grade_one(folder: Path) -> Result:
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
                ctx.sandbox.stop_all()
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    finally:
        shutil.rmtree(ctx.work, ignore_errors=True)
        ctx.sandbox.close()
    write_summary_csv(ctx.layout.summary_csv, stored_results(ctx), list(ctx.assignment.tasks))
    return results


def stored_results(ctx: Context) -> list[Result]:
    """Every readable result in the results folder (of this run or of earlier ones)."""
    results = []
    for path in sorted(ctx.results_dir.glob("*.json")):
        try:
            results.append(read_result(path))
        except RecordError:
            continue  # written by a newer grader or damaged: not part of this summary
    return results


def prepare(
    assignment_dir: Path | Assignment,
    out_dir: Path,
    data_dir: Path | None,
    isolation: str | None,
    progress: Progress | None,
    mode: str = GRADE,
    memory_cap: str | None = None,
) -> Context:
    """Load the spec, build (or reuse) the split and the base model.

    `isolation` and `memory_cap` force a level and a memory cap (default: the best found).

    The caller owns `ctx.work` (a temp folder) and `ctx.sandbox`: it removes the one and
    closes the other when done.
    """
    assignment = assignment_dir  # the CLI passes the spec it loaded: read once
    if not isinstance(assignment, Assignment):
        assignment = load_assignment(assignment)
    sandbox.harden_grader_process()
    layout = Layout.for_output(out_dir, assignment.id, mode)
    source = data.find_source(data_dir)
    layout.make_private()  # hidden labels and others' results: no child uid may read them
    splits_dir = data.prepare_splits(assignment, source, layout.splits)
    found = sandbox.detect(isolation, memory_cap)
    ctx = Context(
        assignment=assignment,
        layout=layout,
        splits_dir=splits_dir,
        split_key=splits_dir.name,
        data_fingerprint=source.fingerprint,
        isolation=found,
        sandbox=sandbox.Sandbox(found),
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
        ctx.sandbox.close()
        raise


def default_data_dir(cli_value: str | None) -> Path | None:
    """`--data`, else GRADER_DATA_DIR, else None (Keras downloader). Read once, at the edge."""
    value = cli_value or os.environ.get("GRADER_DATA_DIR")
    return Path(value) if value else None
