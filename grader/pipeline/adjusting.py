"""Late penalties and instructor overrides applied to stored results, without retraining.

Adjustments are never part of grading or of a result's reuse: after every grading (and
before reports are rendered) each result's adjustments are computed afresh from its
`student.toml` (when it was handed in), the spec's `[late]` policy and `overrides.toml`,
and its file is rewritten only when they changed. Editing `overrides.toml` and grading
again therefore trains nothing, and a reused result never keeps a stale adjustment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.adjust import adjusted
from grader.errors import GradingError, RecordError
from grader.layout import Layout
from grader.lms.student import StudentInfo
from grader.overrides import read_overrides
from grader.pipeline.folders import student_key
from grader.pipeline.submissions import find_submissions, read_student_info
from grader.pipeline.summary import summary_reference, write_summary_csv
from grader.records import Result, read_result, write_json_atomic
from grader.safetext import clean
from grader.spec import Assignment


@dataclass(frozen=True)
class Adjusted:
    """The results with current adjustments, and the students whose result file changed
    (their reports are out of date; the others' reports still show the right grade)."""

    results: list[Result]
    changed: tuple[str, ...]


def apply_adjustments(
    layout: Layout,
    results: Sequence[Result],
    submissions_dir: Path,
    assignment: Assignment,
    overrides_path: Path | None,
) -> Adjusted:
    """Recompute every result's adjustments; rewrite `results/<student>.json` where they
    changed. A result of check mode (a student's self-check) is left as it is.

    Raises:
        GradingError: `overrides.toml` is wrong (names the file, student, key and fix), or
            sets a score above the maximum.
    """
    folders = {student_key(f.name): f for f in find_submissions(submissions_dir)}
    overrides = read_overrides(overrides_path, set(folders) | {r.student for r in results})
    out, changed = [], []
    for result in results:
        if result.mode != "grade":
            out.append(result)
            continue
        override = overrides.get(result.student)
        if override is not None and override.score is not None:
            _check_score(overrides_path, result, override.score)
        folder = folders.get(result.student)
        info = read_student_info(folder) if folder is not None else StudentInfo()
        new = adjusted(result, info, assignment.late, override)
        if (new.adjustments, new.final_score) != (result.adjustments, result.final_score):
            write_json_atomic(layout.result(result.student), new)
            changed.append(result.student)
        out.append(new)
    return Adjusted(out, tuple(changed))


def adjust_stored(
    layout: Layout, submissions_dir: Path, assignment: Assignment, overrides_path: Path | None
) -> Adjusted:
    """`apply_adjustments` on every stored result of `layout`, then `summary.csv` written
    again: for the `report` command, after `overrides.toml` was edited (nothing is graded).
    Unreadable result files are left to the report step, which names them. Without the
    submissions folder (its `student.toml` files say when work was handed in) the stored
    adjustments are kept, unless `overrides_path` was named: then it is an error.

    Raises:
        GradingError: as `apply_adjustments`; or `overrides_path` given without submissions.
    """
    if not Path(submissions_dir).is_dir():
        if overrides_path is None:
            return Adjusted([], ())
        raise GradingError(
            f"No submissions folder at {submissions_dir}: overrides are applied with the "
            "submissions' student.toml. Pass --submissions DIR."
        )
    stored = []
    for path in sorted(layout.results.glob("*.json")):
        try:
            stored.append(read_result(path))
        except RecordError:
            continue
    done = apply_adjustments(layout, stored, submissions_dir, assignment, overrides_path)
    if done.changed:
        write_summary_csv(
            layout.summary_csv, done.results, list(assignment.tasks), summary_reference(layout)
        )
    return done


def _check_score(path: Path | None, result: Result, score: float) -> None:
    if score > result.max_score:
        where = f"{path or 'overrides.toml'}: [{clean(result.student, 80)}]"
        raise GradingError(
            f"{where}: `score = {score:g}` is above the maximum of {result.max_score:g}. "
            f"Set a score in [0, {result.max_score:g}]."
        )
