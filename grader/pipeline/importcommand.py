"""The `import` command: an LMS's bulk download into `submissions/<id>/`, and a table of who.

Each student gets `submission.ipynb` or `submission.py` (the file chosen in
`lmsimport`) and a `student.toml` (`grader.lms.student`) with what the download and the
roster say of them. Writing is idempotent: a student whose file and `student.toml` would
not change is not touched (the grader reuses results by content hash); a changed file is
replaced in one step. Nothing is lost: a submission missing from the roster is still
imported (under its LMS id) and listed; only an ambiguous or unreadable one is not.
Imported by `grader.cli` at start-up: the rest loads on use.
"""

from __future__ import annotations

import argparse
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.lms.student import LMS_NAMES

if TYPE_CHECKING:
    from grader.lms.roster import Roster, RosterEntry
    from grader.pipeline.lmsimport import Download, Handin

OK, FAILED = 0, 1
MAX_ID_CHARS = 64
ROSTER_FIELDS = ("email", "sis_id", "login_id", "section")  # copied to student.toml
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9._@+-]+")


@dataclass(frozen=True)
class Row:
    """One imported student, as the table shows them."""

    student: str
    name: str
    status: str  # imported | updated | unchanged
    late: bool
    source: str


@dataclass(frozen=True)
class Problem:
    """A submission or roster entry that needs the instructor: what, and why."""

    kind: str  # one of HEADINGS
    who: str
    reason: str


HEADINGS = {  # the kinds of problem, as the report lists them, and how to fix each
    "ambiguous": "ambiguous (not imported)",
    "no code": "no code (not imported)",
    "unreadable": "unreadable (not imported)",
    "unmatched": "unmatched (imported under the LMS's id)",
    "no submission": "unmatched (in the roster, no submission in the download)",
}
FIXES = {
    "ambiguous": "pass --file NAME (the assignment's file name), or copy the right file into "
    "the student's folder as submission.py or submission.ipynb",
    "no code": "ask the student for the assignment's .py or .ipynb file",
    "unreadable": "ask the student for the file again, or copy it in by hand",
    "unmatched": "check the roster is this course's latest export, then import again",
    "no submission": "nothing, if they handed nothing in; else check the download is the latest",
}


@dataclass
class ImportReport:
    """What an import did."""

    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    strays: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def add_parser(commands: Any) -> None:
    """`import`: DOWNLOAD, --from, --out, --roster, --file."""
    parser = commands.add_parser("import", help="import a class's submissions from an LMS")
    parser.add_argument("download", type=Path, help="the LMS's 'download all submissions' zip")
    parser.add_argument("--from", dest="lms", choices=LMS_NAMES, required=True)
    parser.add_argument("--out", type=Path, default=Path("submissions"), help="written here")
    parser.add_argument("--roster", type=Path, help="the class's roster CSV, from the LMS")
    parser.add_argument(
        "--file",
        default="",
        metavar="NAME",
        help="the assignment's file name, chosen when a student sent several",
    )


def run(args: argparse.Namespace) -> int:
    """Import, print the table; 0 when every submission was imported, 1 when not."""
    from grader.lms.roster import read_roster
    from grader.pipeline.lmsimport import Download, collect

    roster = read_roster(args.roster) if args.roster else None
    with Download(args.download) as download:
        collected = collect(download, args.lms, args.file)
        report = import_all(download, collected.handins, roster, args.out)
    report.strays = collected.strays
    print(render(report, args.lms, args.out))
    return FAILED if report.problems else OK


def import_all(
    download: Download, handins: list[Handin], roster: Roster | None, out: Path
) -> ImportReport:
    """Write every hand-in with a chosen file; list the others and the roster's missing."""
    report = ImportReport(notes=list(roster.notes) if roster else [])
    people = {h.user_key: _match(roster, h, report) for h in handins}
    ids = {h.user_key: student_id(h, people[h.user_key]) for h in handins}
    taken = Counter(ids.values())
    for handin in handins:
        if taken[ids[handin.user_key]] > 1:  # two students, one roster id: the LMS's ids
            ids[handin.user_key] = _lms_id(handin)
        report.notes += [f"{ids[handin.user_key]}: {note}" for note in handin.notes]
        _import_one(download, handin, people[handin.user_key], ids[handin.user_key], out, report)
    if roster is not None:
        found = set(people.values())
        missing = [e for e in roster.entries if e not in found]
        report.problems += [Problem("no submission", e.name or e.key, "") for e in missing]
    return report


def _match(roster: Roster | None, handin: Handin, report: ImportReport) -> RosterEntry | None:
    """The roster's entry for `handin`: Canvas by user id, Moodle by participant id or
    full name, a folder by id. A submission the roster lacks is listed (and imported)."""
    if roster is None:
        return None
    if handin.lms == "canvas":
        found = [e] if (e := roster.by_user_id(handin.user_key)) else []
    elif handin.lms == "moodle":
        by_id = roster.by_user_id(handin.user_key)
        found = [by_id] if by_id else roster.by_name(handin.name_hint)
    else:
        found = [e] if (e := roster.by_key(handin.user_key)) else []
    if len(found) == 1:
        return found[0]
    why = "matches several roster rows" if found else "is not in the roster"
    who = f"{handin.name_hint} ({_lms_id(handin)})"
    report.problems.append(Problem("unmatched", who, f"the submission {why}"))
    return None


def student_id(handin: Handin, person: RosterEntry | None) -> str:
    """The folder name under submissions/ (the rule is in `lmsimport`'s docstring)."""
    if handin.lms == "folder":
        return handin.user_key
    if person is not None:
        first = (person.login_id, person.sis_id)
        for candidate in first if handin.lms == "canvas" else first[::-1]:
            safe = safe_id(candidate)
            if safe:
                return safe
    return _lms_id(handin)


def _lms_id(handin: Handin) -> str:
    return handin.user_key if handin.lms == "folder" else f"{handin.lms}-{handin.user_key}"


def safe_id(text: str) -> str:
    """`text` as a file name safe everywhere, "" when no such form is fit to be an id."""
    from grader.pipeline.folders import name_problem

    decomposed = unicodedata.normalize("NFKD", text.strip())
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    safe = _UNSAFE_ID.sub("-", ascii_only).strip("-")
    fit = safe[:1].isascii() and safe[:1].isalnum() and len(safe) <= MAX_ID_CHARS
    return safe if fit and name_problem(safe) is None else ""


def _import_one(
    download: Download,
    handin: Handin,
    person: RosterEntry | None,
    sid: str,
    out: Path,
    report: ImportReport,
) -> None:
    from grader.lms.student import StudentInfo, info_to_toml
    from grader.messages import render as render_message
    from grader.pipeline.folders import name_problem
    from grader.pipeline.lmsimport import Unreadable

    who = f"{sid} ({handin.name_hint})"
    chosen = handin.chosen
    if chosen is None:
        report.problems.append(_not_chosen(handin, who))
        return
    problem = name_problem(sid)
    if problem is not None or sid.startswith("_"):  # grading skips `_` folders
        why = render_message(problem, "en") if problem else "a name starting with '_'"
        report.problems.append(Problem("unreadable", who, why))
        return
    try:
        data = download.read(chosen.member)
    except Unreadable as exc:
        report.problems.append(Problem("unreadable", who, f"{chosen.original} {exc}"))
        return
    name = (person.name if person else "") or handin.name_hint
    known = {key: getattr(person, key) for key in ROSTER_FIELDS} if person else {}
    lms_user_id = handin.user_key if handin.lms != "folder" else ""
    info = StudentInfo(name=name, lms=handin.lms, lms_user_id=lms_user_id, late=chosen.late,
                       submission_id=chosen.submission_id, source_file=chosen.member.path,
                       **known)  # fmt: skip
    status = write_student(out / sid, _target_name(chosen.original), data, info_to_toml(info))
    report.rows.append(Row(sid, name, status, chosen.late, chosen.original))


def _not_chosen(handin: Handin, who: str) -> Problem:
    if handin.problem == "no code":
        return Problem("no code", who, "handed in no .py or .ipynb file")
    return Problem("ambiguous", who, f"several candidate files: {', '.join(handin.candidates)}")


def _target_name(original: str) -> str:
    from grader.pipeline.submissions import NOTEBOOK_FILE, SUBMISSION_FILE

    return NOTEBOOK_FILE if original.lower().endswith(".ipynb") else SUBMISSION_FILE


def write_student(folder: Path, file_name: str, data: bytes, toml_text: str) -> str:
    """Write what changed in `folder`: imported (new), updated, or unchanged (untouched)."""
    from grader.atomic import write_atomic
    from grader.pipeline.submissions import NOTEBOOK_FILE, SUBMISSION_FILE

    if folder.is_symlink():
        folder.unlink()  # a link planted in submissions/: replaced by a real folder
    other = folder / (SUBMISSION_FILE if file_name == NOTEBOOK_FILE else NOTEBOOK_FILE)
    target, info = folder / file_name, folder / "student.toml"
    same_file, same_toml = _content(target) == data, _content(info) == toml_text.encode()
    stale = other.exists() or other.is_symlink()  # the other kind would be graded first
    if same_file and same_toml and not stale:
        return "unchanged"
    existed = any(p.exists() or p.is_symlink() for p in (target, info, other))
    if not same_file:
        write_atomic(target, data)
    if not same_toml:
        write_atomic(info, toml_text)
    if stale:
        other.unlink()
    return "updated" if existed else "imported"


def _content(path: Path) -> bytes | None:
    """A regular file's bytes, None when it is missing or not one (a link is replaced)."""
    return path.read_bytes() if path.is_file() and not path.is_symlink() else None


def render(report: ImportReport, lms: str, out: Path) -> str:
    """The table of imported students, then the problems, notes and strays."""
    from grader.safetext import clean, clean_name

    rows = [["student", "name", "status", "late", "file"]]
    for row in sorted(report.rows, key=lambda r: r.student):
        cells = (row.student, row.name, row.status, "late" if row.late else "", row.source)
        rows.append([clean_name(cell) for cell in cells])
    lines = [f"imported from {lms} into {clean(out)}:", _aligned(rows)]
    for kind, heading in HEADINGS.items():
        listed = [p for p in report.problems if p.kind == kind]
        if listed:
            lines.append(f"{heading}: fix: {FIXES[kind]}.")
            lines += [f"  {clean_name(p.who, 80)}" + (f": {clean(p.reason)}" if p.reason else "")
                      for p in listed]  # fmt: skip
    lines += [f"note: {clean(note)}" for note in report.notes]
    if report.strays:
        shown = ", ".join(clean_name(s, 70) for s in report.strays[:5])
        more = f" and {len(report.strays) - 5} more" if len(report.strays) > 5 else ""
        lines.append(f"skipped {len(report.strays)} stray files (no student's code): {shown}{more}")
    count = Counter(r.status for r in report.rows)
    late = sum(r.late for r in report.rows)
    lines.append(
        f"{count['imported']} imported, {count['updated']} updated, "
        f"{count['unchanged']} unchanged ({late} late); {len(report.problems)} "
        "to look at" + (": exit code 1" if report.problems else "")
    )
    return "\n".join(lines)


def _aligned(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)
