"""`python -m grader export`: a graded class's grades as the file Canvas, Moodle or
Gradescope imports, and optionally Moodle's zip of feedback PDFs. Imported by `grader.cli`
at start-up: the rest loads on use."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from grader import resources
from grader.errors import GradingError
from grader.lms.gradebook import TARGETS
from grader.lms.student import StudentInfo
from grader.safetext import clean

OK, FAILED = 0, 1


def add_parser(commands: Any) -> None:
    """`export`, with where the graded class is and what to write."""
    export = commands.add_parser(
        "export", help="write grades (and feedback PDFs) in the format an LMS imports"
    )
    export.add_argument("--to", required=True, choices=TARGETS, help="the LMS's format")
    export.add_argument("--output", type=Path, required=True, help="the grade file to write")
    export.add_argument("--assignment", type=Path, default=resources.default_assignment())
    export.add_argument("--out", type=Path, default=Path("build"), help="the grading's --out")
    export.add_argument("--submissions", type=Path, default=Path("submissions"))
    export.add_argument(
        "--roster", type=Path, help="a roster CSV exported from the LMS: fills in missing ids"
    )
    export.add_argument(
        "--column",
        help="the grade column's title (default: the assignment's title); for Canvas, "
        "'Title (12345)' updates assignment 12345",
    )
    export.add_argument(
        "--feedback-zip",
        type=Path,
        help="also write each student's PDF report in a zip for Moodle's "
        "'Upload multiple feedback files in a zip'",
    )


def run(args: argparse.Namespace) -> int:
    """Write the files; FAILED when a student was left out of one (each is named)."""
    from grader.layout import Layout
    from grader.pipeline import lmsexport
    from grader.spec import load_assignment

    assignment = load_assignment(args.assignment, reference_required=False)
    layout = Layout.for_output(args.out, assignment.id)
    outputs = [args.output] + ([args.feedback_zip] if args.feedback_zip else [])
    for path in outputs:
        lmsexport.check_output(path, layout)
    if args.feedback_zip and args.feedback_zip.resolve() == args.output.resolve():
        raise GradingError("--output and --feedback-zip name the same file. Pass two names.")
    class_ = lmsexport.collect_class(layout, args.submissions, _roster(args.roster))
    reports = [lmsexport.export_grades(class_, args.to, args.output, args.column)]
    if args.feedback_zip:
        reports.append(lmsexport.export_feedback_zip(class_, layout, args.feedback_zip))
    for report in reports:
        print(report.line())
    return FAILED if any(report.skipped for report in reports) else OK


def _roster(path: Path | None) -> dict[str, StudentInfo] | None:
    """The roster's students by a plain roster's id (the submission folder's name), else
    by a key no folder has; None without --roster. Its reading notes go to stderr."""
    if path is None:
        return None
    from grader.lms.roster import read_roster

    roster = read_roster(path)
    for note in roster.notes:
        print(f"note: {clean(note, None)}", file=sys.stderr)
    lms = roster.kind if roster.kind in ("canvas", "moodle") else ""
    return {
        entry.key or f"\0{number}": StudentInfo(
            name=entry.name,
            email=entry.email,
            lms=lms,
            lms_user_id=entry.lms_user_id,
            sis_id=entry.sis_id,
            login_id=entry.login_id,
            section=entry.section,
        )
        for number, entry in enumerate(roster.entries)
    }
