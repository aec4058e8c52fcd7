"""A class roster exported from an LMS: who the students are (name, email, ids, section).

Three kinds of CSV are read, told apart by their header:
- a Canvas gradebook export: `Student, ID, SIS User ID, SIS Login ID, Section, ...`, its
  second row often `Points Possible` (leading spaces and all), and Canvas' "Test Student";
  `Student` is "Last, First", kept as "First Last" (what reports show);
- a Moodle export: `First name, Last name, ID number, ..., Email address` (grades,
  participants), or the grading worksheet's `Identifier, Full name, Email address` (the
  identifier is "Participant 123", the number the download's names carry), with an optional
  `Username`;
- a plain roster: `id, name, email` and optionally `section, sis_id, login_id, lms_user_id`.

UTF-8 with or without a byte-order mark; a file that is not UTF-8 is read as Windows-1252
(what Excel writes on Windows), with a note saying so.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import GradingError

MAX_ROSTER_BYTES = 20 * 2**20  # a class of 100,000 is a few MB
CANVAS = ("student", "id", "sis user id", "sis login id", "section")
MOODLE_NAMES = ("first name", "last name")
GENERIC = ("id", "name")
SKIPPED_NAMES = {"points possible", "test student", "student, test"}
EXPECTED = (
    "a Canvas gradebook export (Student, ID, SIS User ID, SIS Login ID, Section), a Moodle "
    "export (First name, Last name, ID number, Email address; or Identifier, Full name, "
    "Email address; Username optional) or a plain roster (id, name, email)"
)


@dataclass(frozen=True)
class RosterEntry:
    """One student of the roster ("" where the export has no such column)."""

    name: str
    email: str = ""
    lms_user_id: str = ""  # Canvas' ID, Moodle's participant number
    sis_id: str = ""  # Canvas "SIS User ID", Moodle "ID number"
    login_id: str = ""  # Canvas "SIS Login ID", Moodle "Username"
    section: str = ""
    key: str = ""  # a plain roster's `id`
    lms_name: str = ""  # the name as the export wrote it (Canvas: "Núñez, José")


@dataclass
class Roster:
    """The students of a roster, and what reading it had to say (an encoding fallback)."""

    kind: str  # canvas | moodle | plain
    entries: list[RosterEntry]
    notes: list[str] = field(default_factory=list)

    def by_user_id(self, user_id: str) -> RosterEntry | None:
        """The student with this LMS user id (Canvas' ID, Moodle's participant number)."""
        return next((e for e in self.entries if user_id and e.lms_user_id == user_id), None)

    def by_key(self, key: str) -> RosterEntry | None:
        """The student whose plain-roster id, login or SIS id is `key`."""
        wanted = key.casefold()
        for entry in self.entries:
            if wanted in {entry.key.casefold(), entry.login_id.casefold(), entry.sis_id.casefold()}:
                return entry
        return None

    def by_name(self, name: str) -> list[RosterEntry]:
        """Students with this full name: as written (case, spaces and Unicode form aside),
        else with accents folded too (a tool that lost "ñ" on the way)."""
        for fold in (same_name, folded_name):
            found = [e for e in self.entries if fold(e.name) == fold(name)]
            if found:
                return found
        return []


def same_name(name: str) -> str:
    """A name compared without regard to case, spacing or Unicode normal form."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def folded_name(name: str) -> str:
    """`same_name` with accents removed: "José Núñez" and "Jose Nunez" are one."""
    decomposed = unicodedata.normalize("NFKD", same_name(name))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def read_roster(path: Path) -> Roster:
    """The roster in `path`, of whichever kind its header says.

    Raises:
        GradingError: the file cannot be read, is too large, or its header is none of the
            kinds above (the message names the columns found and those expected).
    """
    text, notes = _decoded(path)
    rows = list(csv.reader(io.StringIO(text), delimiter=_delimiter(text)))
    if not rows:
        raise GradingError(f"The roster {path} is empty. Export it again from the LMS.")
    header = [cell.strip().lstrip("\ufeff").casefold() for cell in rows[0]]
    records = [dict(zip(header, (c.strip() for c in row), strict=False)) for row in rows[1:]]
    records = [r for r in records if any(r.values())]
    if all(column in header for column in CANVAS[:2]):
        return Roster("canvas", _kept([_canvas(r) for r in records]), notes)
    if all(c in header for c in MOODLE_NAMES) or "full name" in header:
        return Roster("moodle", _kept([_moodle(r) for r in records]), notes)
    if all(column in header for column in GENERIC):
        return Roster("plain", _kept([_plain(r) for r in records]), notes)
    found = ", ".join(cell.strip() for cell in rows[0]) or "none"
    raise GradingError(
        f"The roster {path} has the columns [{found}], none of the kinds the grader reads: "
        f"{EXPECTED}. Export the roster again from the LMS, or rename its columns."
    )


def _decoded(path: Path) -> tuple[str, list[str]]:
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_ROSTER_BYTES + 1)
    except OSError as exc:
        raise GradingError(
            f"Cannot read the roster {path} ({exc.strerror}): check --roster."
        ) from None
    if len(raw) > MAX_ROSTER_BYTES:
        raise GradingError(
            f"The roster {path} is over {MAX_ROSTER_BYTES // 2**20} MB: it is not a class "
            "roster. Check --roster."
        )
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        note = (
            f"{path.name} is not UTF-8: read as Windows-1252 (Excel's encoding). Check the "
            "accented names below; to be sure, save the roster as 'CSV UTF-8'."
        )
        return raw.decode("cp1252", errors="replace"), [note]


def _delimiter(text: str) -> str:
    """Excel in many European locales saves CSV with semicolons."""
    first = text.partition("\n")[0]
    return ";" if first.count(";") > first.count(",") else ","


def _kept(entries: list[RosterEntry | None]) -> list[RosterEntry]:
    return [e for e in entries if e is not None]


def _canvas(row: dict[str, str]) -> RosterEntry | None:
    student = row.get("student", "")
    if same_name(student) in SKIPPED_NAMES or not row.get("id", "").isdigit():
        return None  # "Points Possible", Canvas' test student, a muted-assignment row
    return RosterEntry(
        name=_first_last(student),
        lms_name=student,
        lms_user_id=row.get("id", ""),
        sis_id=row.get("sis user id", ""),
        login_id=row.get("sis login id", ""),
        section=row.get("section", ""),
    )


def _first_last(sortable: str) -> str:
    """Canvas' "Núñez, José" as "José Núñez"; a name with no comma, or several, as is."""
    last, comma, first = sortable.partition(",")
    if not comma or "," in first or not first.strip():
        return sortable.strip()
    return f"{first.strip()} {last.strip()}"


def _moodle(row: dict[str, str]) -> RosterEntry | None:
    name = row.get("full name") or f"{row.get('first name', '')} {row.get('last name', '')}"
    if not name.strip():
        return None
    participant = re.search(r"(\d+)\s*$", row.get("identifier", ""))
    return RosterEntry(
        name=" ".join(name.split()),
        email=row.get("email address", ""),
        lms_user_id=participant[1] if participant else "",
        sis_id=row.get("id number", ""),
        login_id=row.get("username", ""),
        section=row.get("groups", ""),
    )


def _plain(row: dict[str, str]) -> RosterEntry | None:
    if not row.get("id"):
        return None
    return RosterEntry(
        name=row.get("name", ""),
        email=row.get("email", ""),
        lms_user_id=row.get("lms_user_id", ""),
        sis_id=row.get("sis_id", ""),
        login_id=row.get("login_id", ""),
        section=row.get("section", ""),
        key=row["id"],
    )
