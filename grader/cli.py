"""Command line: parses arguments, calls the API, prints, and picks the exit code."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from grader import __version__, sandbox
from grader.console import ProgressDisplay, results_table
from grader.data import DataError
from grader.grading import GradingError, default_data_dir, grade_assignment
from grader.spec import SpecError, load_assignment

DEFAULT_ASSIGNMENT = Path("assignments/transfer-learning")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grader", description=__doc__)
    parser.add_argument("--version", action="version", version=f"grader {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="train, evaluate and check every submission")
    grade.add_argument("--assignment", type=Path, default=DEFAULT_ASSIGNMENT)
    grade.add_argument("--submissions", type=Path, default=Path("submissions"))
    grade.add_argument("--out", type=Path, default=Path("build"))
    grade.add_argument(
        "--data",
        help="folder holding cifar10.zip or cifar10/ "
        "(default: $GRADER_DATA_DIR, else Keras' downloader)",
    )
    grade.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel")
    grade.add_argument("--only", nargs="+", default=(), metavar="ID", help="grade only these")
    grade.add_argument("--force", action="store_true", help="regrade unchanged submissions")
    grade.add_argument(
        "--isolation",
        choices=(sandbox.BUBBLEWRAP, sandbox.RLIMITS),
        help="force an isolation level (default: the strongest that works)",
    )
    grade.add_argument("--no-reports", action="store_true", help="skip PDF/HTML rendering")
    doctor = commands.add_parser("doctor", help="report which isolation level works here")
    doctor.add_argument("--assignment", type=Path, default=DEFAULT_ASSIGNMENT)
    return parser


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops as cleanly as Ctrl-C
    try:
        if args.command == "grade":
            return _grade(args)
        return _doctor(args)
    except (SpecError, DataError, GradingError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, sandbox.Interrupted):
        print(
            "\ninterrupted: running children were killed. Every finished task is saved; "
            "run the same command again to resume where it stopped.",
            file=sys.stderr,
        )
        return 130


def _grade(args: argparse.Namespace) -> int:
    sandbox.harden_grader_process()
    level = sandbox.detect_isolation(args.isolation)
    print(f"isolation: {level}", file=sys.stderr)
    results = grade_assignment(
        args.assignment,
        submissions=args.submissions,
        out_dir=args.out,
        data_dir=default_data_dir(args.data),
        jobs_count=args.jobs,
        only=args.only,
        force=args.force,
        isolation=level,
        progress=ProgressDisplay(),
    )
    assignment = load_assignment(args.assignment)
    out = args.out / assignment.id
    print(results_table(results, list(assignment.tasks)))
    print(f"\nresults: {out / 'results'}/  summary: {out / 'summary.csv'}")
    if not args.no_reports:
        _render(out)
    return 0


def _render(out: Path) -> None:
    try:
        from grader.report import render_all
    except ImportError:  # reports are optional until their stage exists
        return
    summary = render_all(out)
    print(f"reports: {out / 'reports'}/  class summary: {out / 'summary.pdf'}")
    for error in getattr(summary, "errors", []):
        print(f"report error: {error}", file=sys.stderr)


def _doctor(args: argparse.Namespace) -> int:
    level = sandbox.detect_isolation()
    print(f"grader {__version__}")
    print(f"isolation level: {level}")
    print(f"bubblewrap: {'works' if level == sandbox.BUBBLEWRAP else 'missing or not permitted'}")
    print(f"child uid: {sandbox.child_uid(0) or 'same as grader (not root)'}")
    load_assignment(args.assignment)
    print(f"assignment {args.assignment}: valid")
    return 0
