"""Grades and feedback for the LMS: the stored results of a graded class, each student's
`student.toml` (optionally completed from a roster), written as the file Canvas, Moodle or
Gradescope imports (`grader.lms.gradebook`) and as Moodle's zip of feedback PDFs
(`grader.lms.feedback`).

A student is left out of a file, and named in its report, when they have no result yet
or nothing the LMS could match them by: a row without a grade would leave the LMS's grade
unchanged at best (Canvas) or be refused, and a row without an identifier could match
no one. Nothing here writes into the grader's results or reports.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path

from grader.atomic import write_atomic
from grader.errors import GradingError, RecordError
from grader.layout import Layout
from grader.lms import feedback, gradebook
from grader.lms.student import StudentInfo
from grader.pipeline.folders import student_key
from grader.pipeline.submissions import find_submissions, read_student_info
from grader.records import Result, read_result
from grader.safetext import clean, clean_name

Roster = Mapping[str, StudentInfo] | Iterable[StudentInfo]
MATCH_FIELDS = ("lms_user_id", "sis_id", "login_id", "email")  # a roster entry by these


@dataclass(frozen=True)
class Student:
    """One student of the class: their key (submission folder), what is known of them,
    and their stored result (None: not graded yet, or unreadable: `problem` says which)."""

    key: str
    info: StudentInfo
    result: Result | None
    problem: str = ""


@dataclass(frozen=True)
class Skipped:
    student: str
    reason: str


@dataclass(frozen=True)
class ExportReport:
    """What one written file holds: how many students, and who was left out and why."""

    what: str
    path: Path
    written: int
    skipped: tuple[Skipped, ...] = ()

    def line(self) -> str:
        """One line for the console."""
        text = f"{self.what}: {self.written} student(s) written to {clean(self.path, None)}"
        if self.skipped:
            names = "; ".join(f"{clean_name(s.student)} ({s.reason})" for s in self.skipped)
            text += f"; {len(self.skipped)} left out: {names}"
        return text


def collect_class(layout: Layout, submissions: Path, roster: Roster | None = None) -> list[Student]:
    """Every student with a submission folder or a stored result, sorted by key.

    Raises:
        GradingError: no result is stored (nothing was graded with these options).
    """
    paths = sorted(layout.results.glob("*.json")) if layout.results.is_dir() else []
    if not paths:
        raise GradingError(
            f"No results in {layout.results}: run `python -m grader grade` first "
            "(or pass the --out and --assignment the grading used)."
        )
    folders = {student_key(f.name): f for f in find_submissions(submissions)}
    results = {path.stem: path for path in paths}
    entries = list((roster.values() if isinstance(roster, Mapping) else roster) or ())
    class_ = []
    for key in sorted(folders.keys() | results.keys()):
        info = read_student_info(folders[key]) if key in folders else StudentInfo()
        result, problem = _read(results.get(key))
        if key not in folders and result is not None:
            info = replace(info, name=result.name)
        info = complete_from_roster(key, info, entries, roster)
        class_.append(Student(key, info, result, problem))
    return class_


def _read(path: Path | None) -> tuple[Result | None, str]:
    if path is None:
        return None, "not graded yet: run `python -m grader grade`"
    try:
        result = read_result(path)
    except RecordError as exc:
        return None, f"result unreadable: {exc}"
    if not math.isfinite(result.grade):
        return None, "result has no finite grade: grade it again"
    return result, ""


def complete_from_roster(
    key: str, info: StudentInfo, entries: Sequence[StudentInfo], roster: Roster | None
) -> StudentInfo:
    """`info` with its empty fields filled from the one roster entry that is this
    student: the entry under their key (a mapping by folder), else the only entry sharing
    an identifier, else the only one with the same name. `student.toml` always wins."""
    if not entries:
        return info
    found = roster.get(key) if isinstance(roster, Mapping) else None
    if found is None:
        found = _only(e for e in entries if _same_student(info, e))
    if found is None and info.name:
        found = _only(e for e in entries if _same_name(info.name, e.name))
    if found is None:
        return info
    kept = {"late"}
    if info.lms and found.lms != info.lms:
        kept |= {"lms", "lms_user_id"}  # another LMS's user id is no id in this one
    filled = {
        f.name: getattr(found, f.name)
        for f in fields(StudentInfo)
        if f.name not in kept and not getattr(info, f.name) and getattr(found, f.name)
    }
    return replace(info, **filled)


def _same_student(info: StudentInfo, entry: StudentInfo) -> bool:
    for name in MATCH_FIELDS:
        mine, theirs = getattr(info, name), getattr(entry, name)
        if name == "lms_user_id" and info.lms != entry.lms:
            continue  # a Canvas user id is not a Moodle participant id
        if mine and theirs and mine.casefold() == theirs.casefold():
            return True
    return False


def _same_name(one: str, other: str) -> bool:
    return " ".join(one.casefold().split()) == " ".join(other.casefold().split())


def _only(found: Iterable[StudentInfo]) -> StudentInfo | None:
    matches = list(found)
    return matches[0] if len(matches) == 1 else None


def export_grades(
    class_: Sequence[Student], target: str, output: Path, column: str | None = None
) -> ExportReport:
    """Write the grade file `target` imports to `output` (UTF-8 with a byte-order mark).
    `column`: the grade column's title (default: the assignment's title)."""
    rows, skipped = [], []
    for student in class_:
        reason = student.problem or gradebook.missing_identifier(target, student.info) or ""
        if student.result is None or reason:
            fix = "" if student.problem else ": add one to student.toml or pass --roster"
            skipped.append(Skipped(student.key, reason + fix))
            continue
        rows.append(gradebook.grade_row(student.key, student.info, student.result))
    title = column or _title(class_)
    write_atomic(output, gradebook.grade_file(target, rows, title), encoding="utf-8-sig")
    return ExportReport(target, output, len(rows), tuple(skipped))


def _title(class_: Sequence[Student]) -> str:
    titles = [s.result.assignment.title for s in class_ if s.result is not None]
    return titles[0] if titles else "Grade"


def export_feedback_zip(class_: Sequence[Student], layout: Layout, output: Path) -> ExportReport:
    """Write the zip of feedback PDFs Moodle's "Upload multiple feedback files in a zip"
    matches to participants (`grader.lms.feedback`): each graded student's report."""
    buffer, skipped, written = io.BytesIO(), [], 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for student in class_:
            reason = _zip_problem(student, layout)
            name = _report_name(student)
            member = feedback.member_name(student.info, name)
            if reason or member is None:
                skipped.append(Skipped(student.key, reason or "no Moodle participant id"))
                continue
            archive.write(layout.report(student.key, "pdf"), member)
            written += 1
    write_atomic(output, buffer.getvalue())
    return ExportReport("moodle feedback zip", output, written, tuple(skipped))


def _zip_problem(student: Student, layout: Layout) -> str:
    if student.result is None:
        return student.problem
    if not layout.report(student.key, "pdf").is_file():
        return "no PDF report: run `python -m grader report`"
    return ""


def _report_name(student: Student) -> str:
    """The file name the student sees in Moodle: the assignment's id and "report"."""
    assignment = student.result.assignment.id if student.result is not None else "grader"
    return re.sub(r"[^A-Za-z0-9.-]+", "-", f"{assignment}-report") + ".pdf"


def check_output(path: Path, layout: Layout) -> None:
    """Refuse an output inside the grader's results or reports (never overwritten) or
    that is a folder.

    Raises:
        GradingError: naming the path and what to pass instead.
    """
    target = path.resolve()
    for folder in (layout.results, layout.reports):
        if target == folder or folder in target.parents:
            raise GradingError(
                f"{path} is inside {folder}, which holds the grader's own files. "
                "Pass an --output (or --feedback-zip) outside it, e.g. grades.csv."
            )
    if target.is_dir():
        raise GradingError(f"{path} is a folder. Pass a file name, e.g. {path}/grades.csv.")
