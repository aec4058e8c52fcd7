"""Who a submission belongs to, as `student.toml` records it: the student's name and what the
LMS knows of them (email, user id, SIS id, section), and whether it was handed in late.

`grader import` writes the file; grading, the reports and the exports read it. Every field
but the name may be missing (a folder made by hand has only `name = "..."`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import tomli_w

LMS_NAMES = ("canvas", "moodle", "folder")


@dataclass(frozen=True)
class StudentInfo:
    """A student, as `student.toml` describes them ("" where unknown)."""

    name: str = ""
    email: str = ""
    lms: str = ""  # where the submission came from: canvas | moodle | folder
    lms_user_id: str = ""  # Canvas' user id, Moodle's participant id
    sis_id: str = ""  # the institution's student number (Canvas "SIS User ID", Moodle "ID number")
    login_id: str = ""  # Canvas "SIS Login ID", Moodle username
    section: str = ""
    late: bool = False  # the LMS marked it late
    submitted_at: str = ""  # ISO 8601 with its offset, when known (the LMS's submission time)
    submission_id: str = ""  # the LMS's id of this submission (Canvas)
    source_file: str = ""  # the file's name in the LMS download, for the instructor

    def submitted(self) -> datetime | None:
        """`submitted_at` as an aware datetime, None when unknown or unreadable."""
        try:
            when = datetime.fromisoformat(self.submitted_at)
        except ValueError:
            return None
        return when if when.tzinfo is not None else None


def info_from_toml(data: dict[str, Any]) -> StudentInfo:
    """The fields of a parsed `student.toml` that have the right type; others are ignored
    (a hand-written file may hold anything)."""
    kept: dict[str, Any] = {}
    for field in fields(StudentInfo):
        value = data.get(field.name)
        wanted = bool if field.name == "late" else str
        if isinstance(value, wanted):
            kept[field.name] = value.strip() if isinstance(value, str) else value
    return StudentInfo(**kept)


def info_to_toml(info: StudentInfo) -> str:
    """`student.toml`'s text: every known field, in the dataclass's order."""
    data = {f.name: getattr(info, f.name) for f in fields(StudentInfo)}
    kept = {k: v for k, v in data.items() if v not in ("", None) and not (k == "late" and not v)}
    header = "# Written by `grader import`; `name` is what reports show. Edit freely.\n"
    return header + tomli_w.dumps(kept)
