"""A batch: every submission of a class graded in parallel slots, then `summary.csv`."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from queue import Queue

from grader.atomic import stop_if_disk_full
from grader.errors import RecordError
from grader.layout import Layout
from grader.overrides import read_overrides
from grader.pipeline.adjusting import apply_adjustments
from grader.pipeline.folders import student_key
from grader.pipeline.packing import choose_packing
from grader.pipeline.relay import Carry
from grader.pipeline.run import Progress, Run, RunConfig, open_run
from grader.pipeline.submission import failed_result, grade_submission
from grader.pipeline.submissions import find_submissions
from grader.pipeline.summary import summary_reference, write_summary_csv
from grader.records import Result, read_result
from grader.sandbox import Interrupted
from grader.spec import Assignment


def grade_assignment(
    assignment_dir: Path | Assignment,
    *,
    submissions: Path,
    out_dir: Path,
    data_dir: Path | None = None,
    jobs_count: int | None = None,
    only: Sequence[str] = (),
    force: bool = False,
    isolation: str | None = None,
    memory_cap: str | None = None,
    progress: Progress | None = None,
    overrides: Path | None = None,
    backend: str = "local",
    ray_address: str | None = None,
) -> list[Result]:
    """Grade every submission in `submissions` and write results and `summary.csv`.

    `jobs_count`: submissions graded at once; by default what the machine allows
    (`packing.choose_packing`: one per GPU, else by cores and memory).
    `overrides`: the instructor's `overrides.toml` (None: the one in the current folder, if
    any). Late penalties and overrides are applied after grading, to reused results too.
    `backend`: "local" (this machine's slots) or "ray" (a Ray task per submission on the
    cluster at `ray_address`, `raybackend`; `jobs_count` is then Ray's to decide).

    Returns:
        The results, one per submission, as written to `OUT/<id>/results/`.

    Raises:
        SpecError, DataError, GradingError: an instructor-side problem (a wrong
            `overrides.toml` too); nothing is graded.
    """
    folders = find_submissions(submissions, only)
    present = {student_key(f.name) for f in (find_submissions(submissions) if only else folders)}
    read_overrides(overrides, present)  # a mistake in it stops now, not after the training
    if backend == "ray":
        from grader.pipeline.raybackend import require_ray

        require_ray()  # missing: said now, not after the reference grading
    config = RunConfig(assignment_dir, out_dir, data_dir, isolation, memory_cap, progress=progress)
    with open_run(config) as run:
        results = _grade_batch(run, folders, jobs_count, force, backend, ray_address)
        current = current_results(run, present, results)
        adjusted = apply_adjustments(
            run.layout, current, submissions, run.assignment, overrides
        ).results
        write_summary_csv(
            run.layout.summary_csv,
            adjusted,
            list(run.assignment.tasks),
            summary_reference(run.layout),
        )
    by_student = {r.student: r for r in adjusted}
    return [by_student.get(r.student, r) for r in results]


def _grade_batch(
    run: Run,
    folders: list[Path],
    jobs_count: int | None,
    force: bool,
    backend: str,
    ray_address: str | None,
) -> list[Result]:
    """Every folder graded by the chosen backend, in the order of `folders`."""
    if backend == "ray":
        from grader.pipeline.raybackend import grade_all_ray

        def locally(run: Run, folders: list[Path]) -> list[Result]:  # nothing trains there
            return _grade_all(run, folders, 1, force)

        return grade_all_ray(run, folders, force, ray_address, locally)
    packing = choose_packing(run.assignment, run.isolation.gpus, jobs_count)
    run.progress("(instructor)", "packing", packing.describe())
    run = replace(run, packing=packing.provenance())
    return _grade_all(run, folders, packing.jobs, force)


def _grade_all(run: Run, folders: list[Path], jobs_count: int, force: bool) -> list[Result]:
    """Grade `folders` in `jobs_count` threads, each holding one sandbox slot at a time."""
    slots: Queue[int] = Queue()
    for slot in range(jobs_count):
        slots.put(slot)
    carries = {slot: Carry() for slot in range(jobs_count)}  # relay.py: the next one, warm
    waiting: Queue[int] = Queue()  # how many submissions are still to start, after this one
    for left in range(len(folders) - 1, -1, -1):
        waiting.put(left)

    def grade_one(folder: Path) -> Result:
        with _slot(slots) as slot:
            carries[slot].wanted = waiting.get() > 0
            try:
                return grade_submission(run, folder, slot=slot, force=force, carry=carries[slot])
            except Interrupted:  # Ctrl-C: nothing may be recorded for this submission
                raise
            except Exception as exc:  # noqa: BLE001 - the fault barrier: one submission only
                stop_if_disk_full(exc)  # the machine's problem, not this submission's
                return failed_result(run, folder, exc)

    with ThreadPoolExecutor(max_workers=jobs_count) as pool:
        futures = [pool.submit(grade_one, f) for f in folders]
        try:
            for done in wait(futures, return_when=FIRST_EXCEPTION).done:
                done.result()  # a full disk in any slot stops the batch now, not in turn
            return [f.result() for f in futures]
        except BaseException:  # Ctrl-C: kill running children, keep finished checkpoints
            run.sandbox.stop_all()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            for carry in carries.values():
                carry.discard()


@contextmanager
def _slot(slots: Queue[int]) -> Iterator[int]:
    slot = slots.get()
    try:
        yield slot
    finally:
        slots.put(slot)


def current_results(run: Run, present: set[str], graded: list[Result]) -> list[Result]:
    """What the class summary lists: this run's results, and the stored results of the other
    submission folders still `present` (those `--only` left out).

    A stored result whose folder is gone (a student removed from the submissions folder) is
    moved to `results/removed/`, its reports to `reports/removed/`: kept, never listed again
    (the `report` command reads `results/*.json` alone). Matched by the result's `student`.
    """
    by_student = {r.student: r for r in graded}
    removed = []
    for path in sorted(run.layout.results.glob("*.json")):
        try:
            stored = read_result(path)
        except RecordError:
            continue  # written by a newer grader or damaged: not part of this summary
        if stored.student in present:
            by_student.setdefault(stored.student, stored)
        elif stored.student not in by_student:
            _set_aside(run.layout, path, stored.student)
            removed.append(stored.student)
    if removed:
        run.progress("", "summary", f"{len(removed)} result(s) of submission folders no longer "
                     f"there moved to {run.layout.removed_results} and left out of the summary: "
                     f"{', '.join(removed)}")  # fmt: skip
    return sorted(by_student.values(), key=lambda r: r.student)


def _set_aside(layout: Layout, path: Path, student: str) -> None:
    """Move a result and its reports into the `removed/` folders (replacing older copies)."""
    layout.removed_results.mkdir(exist_ok=True)
    os.replace(path, layout.removed_results / path.name)
    if Path(student).name != student:
        return  # no report path of its own
    for fmt in ("pdf", "html"):
        report = layout.report(student, fmt)
        if report.is_file() and not report.is_symlink():
            layout.removed_reports.mkdir(exist_ok=True)
            os.replace(report, layout.removed_reports / report.name)
