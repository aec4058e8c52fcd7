"""The class summary table: `summary.csv`, one row per student."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path

from grader.adjust import late_days_of
from grader.atomic import write_atomic
from grader.errors import RecordError
from grader.layout import Layout
from grader.records import Result
from grader.report.reference import stored_reference
from grader.report.similarity import same_work
from grader.safetext import safe_cell


def write_summary_csv(
    path: Path, results: Sequence[Result], task_ids: Sequence[str], reference: Result | None = None
) -> None:
    """One row per student: score, the final score after the late penalty and instructor
    overrides (with the days late and the adjustments' reasons), borderline checks to
    review, checks not counted (their model below the learning floor, `grader.floor`), the
    students whose work is the same (`grader.report.similarity`; models like the `reference`
    solution's left out), and per task status, test accuracy with its 95 % interval, and gap.

    UTF-8 with a byte-order mark, so that Excel reads "Núñez" as written; the names (a
    folder's, a student.toml's: the student's choice) without control characters or escape
    sequences, and prefixed with an apostrophe when a spreadsheet would run them as formulas.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header = ["student", "name", "score", "max_score", "final_score", "late_days", "adjustments"]
    header += ["status", "borderline_checks", "not_counted_checks", "same_work"]
    for task in task_ids:
        header += [f"{task}_status", f"{task}_test_accuracy", f"{task}_test_accuracy_low"]
        header += [f"{task}_test_accuracy_high", f"{task}_gap"]
    writer.writerow(header)
    same = _same_work_cells(results, reference)
    for r in sorted(results, key=lambda r: r.student):
        borderline = " ".join(check.id for check in r.checks if check.borderline)
        not_counted = " ".join(check.id for check in r.checks if not check.counted)
        text = [safe_cell(r.student), safe_cell(r.name)]
        checks = [borderline, not_counted, same.get(r.student, "")]
        writer.writerow([*text, r.score, r.max_score, *_adjustment_cells(r), r.status, *checks,
                         *_task_cells(r, task_ids)])  # fmt: skip
    write_atomic(path, buffer.getvalue(), encoding="utf-8-sig")


def summary_reference(layout: Layout) -> Result | None:
    """The reference solution's stored result, None when there is none or it is unreadable
    (the summary then compares students among themselves only)."""
    try:
        return stored_reference(layout)
    except RecordError:
        return None


def _same_work_cells(results: Sequence[Result], reference: Result | None) -> dict[str, str]:
    """Per student, the others in each group of same work: `identical: ben; same models
    (scratch, transfer): ben, dee` (for the instructor to look at, never a penalty)."""
    cells: dict[str, list[str]] = {}
    for group in same_work(results, reference):
        what = (
            "identical" if group.kind == "identical" else f"same models ({', '.join(group.tasks)})"
        )
        for student in group.students:
            others = ", ".join(s for s in group.students if s != student)
            cells.setdefault(student, []).append(f"{what}: {others}")
    return {student: safe_cell("; ".join(parts)) for student, parts in cells.items()}


def _adjustment_cells(result: Result) -> list[object]:
    """The final score (the score when nothing was adjusted), days late, and the reasons."""
    days = late_days_of(result)
    reasons = "; ".join(a.reason for a in result.adjustments)
    return [result.grade, "" if days is None else days, safe_cell(reasons) if reasons else ""]


def _task_cells(result: Result, task_ids: Sequence[str]) -> list[str]:
    cells = []
    for task_id in task_ids:
        task = result.tasks.get(task_id)
        if task is None:
            cells += ["missing", "", "", "", ""]
            continue
        m = task.metrics
        accuracy, gap = (None, None) if m is None else (m.test_accuracy, m.gap)
        low, high = (None, None)
        if m is not None and m.test_accuracy_interval is not None:
            low, high = m.test_accuracy_interval
        cells += [task.status, _fmt(accuracy), _fmt(low), _fmt(high), _fmt(gap)]
    return cells


def _fmt(value: float | None) -> str:
    return "" if value is None or not math.isfinite(value) else f"{value:.4f}"
