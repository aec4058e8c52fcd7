"""A batch: every submission of a class graded in parallel slots, then `summary.csv`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from queue import Queue

from grader.errors import RecordError
from grader.pipeline.run import Progress, Run, RunConfig, open_run
from grader.pipeline.submission import failed_result, grade_submission
from grader.pipeline.submissions import find_submissions
from grader.pipeline.summary import write_summary_csv
from grader.records import Result, read_result
from grader.sandbox import Interrupted
from grader.spec import Assignment


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
    config = RunConfig(assignment_dir, out_dir, data_dir, isolation, memory_cap, progress=progress)
    with open_run(config) as run:
        results = _grade_all(run, folders, max(1, jobs_count), force)
        write_summary_csv(run.layout.summary_csv, stored_results(run), list(run.assignment.tasks))
    return results


def _grade_all(run: Run, folders: list[Path], jobs_count: int, force: bool) -> list[Result]:
    """Grade `folders` in `jobs_count` threads, each holding one sandbox slot at a time."""
    slots: Queue[int] = Queue()
    for slot in range(jobs_count):
        slots.put(slot)

    def grade_one(folder: Path) -> Result:
        with _slot(slots) as slot:
            try:
                return grade_submission(run, folder, slot=slot, force=force)
            except Interrupted:  # Ctrl-C: nothing may be recorded for this submission
                raise
            except Exception as exc:  # noqa: BLE001 - the fault barrier: one submission only
                return failed_result(run, folder, exc)

    with ThreadPoolExecutor(max_workers=jobs_count) as pool:
        futures = [pool.submit(grade_one, f) for f in folders]
        try:
            return [f.result() for f in futures]
        except BaseException:  # Ctrl-C: kill running children, keep finished checkpoints
            run.sandbox.stop_all()
            pool.shutdown(wait=True, cancel_futures=True)
            raise


@contextmanager
def _slot(slots: Queue[int]) -> Iterator[int]:
    slot = slots.get()
    try:
        yield slot
    finally:
        slots.put(slot)


def stored_results(run: Run) -> list[Result]:
    """Every readable result in the results folder (of this run or of earlier ones)."""
    results = []
    for path in sorted(run.layout.results.glob("*.json")):
        try:
            results.append(read_result(path))
        except RecordError:
            continue  # written by a newer grader or damaged: not part of this summary
    return results
