"""Grade files each LMS imports as it is: rows in, CSV text out (one writer per system).

Every text cell goes through `safe_cell` (a name such as "=cmd" or "-Ana" gets a leading
apostrophe so no spreadsheet runs it); grades are plain numbers with a '.' decimal point,
never apostrophe-prefixed. The caller writes the text as UTF-8 with a byte-order mark
(`utf-8-sig`): Excel then reads "Núñez" as written, and both importers skip the mark.

Formats, as the importers read them:
- Canvas (Grades > Import; `GradebookImporter` in canvas-lms): the header is `Student, ID,
  SIS User ID, SIS Login ID, Section`, then one column per assignment. A student is matched
  by Canvas user ID, else SIS User ID, else SIS Login ID (else by name). A column
  `Title (12345)` updates assignment 12345; a bare title updates the assignment with that
  exact title, or creates one. An optional `Points Possible` row gives a new assignment
  its points. A student left out of the file keeps their grade.
- Moodle (Grades > Import > CSV file): any identifier column is mapped on the import page
  ("Map from" Email address / Username / ID number to useremail / username /
  useridnumber); the grade and its feedback are mapped to the grade item. Rows whose
  chosen identifier is blank are skipped by Moodle, so every known identifier is written.
- Gradescope: Name, SID, Email and the score (what its roster and grade exports name them).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

from grader.lms.student import StudentInfo
from grader.records import Result
from grader.safetext import clean, safe_cell

CANVAS, MOODLE, GRADESCOPE = "canvas", "moodle", "gradescope-csv"
TARGETS = (CANVAS, MOODLE, GRADESCOPE)
CANVAS_STUDENT_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_ID_COLUMNS = ["Full name", "Email address", "Username", "ID number"]
GRADESCOPE_COLUMNS = ["Name", "SID", "Email", "Score"]
POINTS_POSSIBLE = "Points Possible"  # the row Canvas reads each new column's points from
CANVAS_ID_SUFFIX = re.compile(r"\s\((\d+)\)$")  # "Title (12345)": Canvas' assignment id
REASON_CHARS = 160  # of an error or an adjustment's reason, in a feedback cell
ADJUSTMENT_LABELS = {"late": "Late penalty", "override": "Instructor adjustment"}


@dataclass(frozen=True)
class GradeRow:
    """One student's line in a grade file."""

    student: str  # the submission folder's key (for messages, not written)
    info: StudentInfo
    grade: float  # after adjustments
    max_score: float
    feedback: str


def grade_row(student: str, info: StudentInfo, result: Result) -> GradeRow:
    """The row a stored result gives: its grade (after adjustments) and feedback text."""
    return GradeRow(student, info, result.grade, result.max_score, feedback_text(result))


def number(value: float) -> str:
    """`value` rounded to 2 decimals, as a spreadsheet and an importer read a number:
    '.' decimal point, no exponent, no trailing zeros ("15", "14.5", "-1.25")."""
    text = f"{round(value, 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def feedback_text(result: Result) -> str:
    """A short text for the gradebook's feedback: the grade, each adjustment with its
    reason, and the status ("error: <reason>" for a submission that could not be graded)."""
    parts = [f"Score {number(result.grade)}/{number(result.max_score)}."]
    if result.adjustments:
        parts.append(f"Graded {number(result.score)} before adjustments:")
        for adjustment in result.adjustments:
            label = ADJUSTMENT_LABELS.get(adjustment.kind, adjustment.kind)
            points = ("+" if adjustment.points >= 0 else "") + number(adjustment.points)
            parts.append(f"{label} {points} ({clean(adjustment.reason, REASON_CHARS)}).")
    parts.append(_status_text(result))
    return " ".join(parts)


def _status_text(result: Result) -> str:
    failed = [(task_id, task) for task_id, task in result.tasks.items() if not task.ok]
    if result.status == "ok" or not failed:
        return f"Status: {result.status}."
    task_id, task = failed[0]
    reason = clean(task.error or task.status, REASON_CHARS)
    if result.status == "error":
        return f"Status: error: {reason}"
    return f"Status: partial ({task_id}: {reason})"


def missing_identifier(target: str, info: StudentInfo) -> str | None:
    """Why `target`'s importer could not match this student to anyone (None: it can)."""
    if target == CANVAS and not any(_canvas_ids(info)):
        return "no Canvas user ID, SIS User ID or SIS Login ID"
    if target == MOODLE and not any((info.email, info.login_id, info.sis_id)):
        return "no email, username or ID number"
    if target == GRADESCOPE and not (info.email or info.sis_id):
        return "no email or SID"
    return None


def _canvas_ids(info: StudentInfo) -> tuple[str, str, str]:
    """ID, SIS User ID, SIS Login ID: the user id only when it is Canvas' (a Moodle
    participant id in Canvas' ID column would match whoever has that number)."""
    user_id = info.lms_user_id if info.lms == CANVAS else ""
    return user_id, info.sis_id, info.login_id


def canvas_column_id(column: str) -> str | None:
    """The assignment id a Canvas column title ends with, `Title (12345)`; None without."""
    found = CANVAS_ID_SUFFIX.search(column)
    return found.group(1) if found else None


def canvas_csv(rows: Sequence[GradeRow], column: str) -> str:
    """Canvas' gradebook import. A column without `(id)` makes or matches an assignment by
    title: a `Points Possible` row then gives it the grader's maximum; with an id the
    assignment's own points are left alone."""
    lines = [[*CANVAS_STUDENT_COLUMNS, safe_cell(column)]]
    if canvas_column_id(column) is None and rows:
        lines.append([POINTS_POSSIBLE, "", "", "", "", number(rows[0].max_score)])
    for row in rows:
        ids = [safe_cell(cell) for cell in _canvas_ids(row.info)]
        text = [safe_cell(row.info.name), *ids, safe_cell(row.info.section)]
        lines.append([*text, number(row.grade)])
    return _csv(lines)


def moodle_csv(rows: Sequence[GradeRow], column: str) -> str:
    """Moodle's CSV grade import: every identifier known, the grade and its feedback (both
    always together: Moodle warns that importing feedback alone clears the grades)."""
    lines = [[*MOODLE_ID_COLUMNS, safe_cell(column), safe_cell(f"Feedback: {column}")]]
    for row in rows:
        info = row.info
        cells = [safe_cell(cell) for cell in (info.name, info.email, info.login_id, info.sis_id)]
        lines.append([*cells, number(row.grade), safe_cell(row.feedback)])
    return _csv(lines)


def gradescope_csv(rows: Sequence[GradeRow]) -> str:
    """Name, SID, Email, Score: what Gradescope's roster and grade exports call them."""
    lines = [list(GRADESCOPE_COLUMNS)]
    for row in rows:
        cells = [safe_cell(cell) for cell in (row.info.name, row.info.sis_id, row.info.email)]
        lines.append([*cells, number(row.grade)])
    return _csv(lines)


def grade_file(target: str, rows: Sequence[GradeRow], column: str) -> str:
    """The file `target` imports (one of `TARGETS`)."""
    if target == CANVAS:
        return canvas_csv(rows, column)
    if target == MOODLE:
        return moodle_csv(rows, column)
    if target == GRADESCOPE:
        return gradescope_csv(rows)
    raise ValueError(f"unknown export target {target!r}; known: {', '.join(TARGETS)}")


def _csv(lines: list[list[str]]) -> str:
    """CSV text with CRLF line ends (RFC 4180), as the LMSs' own exports have."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(lines)
    return out.getvalue()
