"""Command line: parses arguments, calls the API, prints, and picks the exit code."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from grader import __version__, sandbox
from grader.console import ProgressDisplay, check_table, results_table
from grader.data import DataError
from grader.pipeline.context import GradingError
from grader.pipeline.grading import default_data_dir, grade_assignment
from grader.sandbox import memcap, uids
from grader.spec import SpecError, load_assignment

DEFAULT_ASSIGNMENT = Path("assignments/transfer-learning")
LEVELS = sandbox.LEVELS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grader", description="Grade Keras assignments.")
    parser.add_argument("--version", action="version", version=f"grader {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="train, evaluate and check every submission")
    _common(grade)
    grade.add_argument("--submissions", type=Path, default=Path("submissions"))
    grade.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel")
    grade.add_argument("--only", nargs="+", default=(), metavar="ID", help="grade only these")
    grade.add_argument("--force", action="store_true", help="regrade unchanged submissions")
    grade.add_argument("--no-reports", action="store_true", help="skip PDF/HTML rendering")
    check = commands.add_parser("check", help="student self-check of one submission")
    check.add_argument("submission", type=Path, help="a folder, submission.py or submission.ipynb")
    _common(check)
    check.add_argument("--full", action="store_true", help="grade fully on the validation split")
    report = commands.add_parser("report", help="re-render reports from stored results")
    report.add_argument("--assignment", type=Path, default=DEFAULT_ASSIGNMENT)
    report.add_argument("--out", type=Path, default=Path("build"))
    doctor = commands.add_parser("doctor", help="report which isolation level works here")
    doctor.add_argument("--assignment", type=Path, default=DEFAULT_ASSIGNMENT)
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--assignment", type=Path, default=DEFAULT_ASSIGNMENT)
    parser.add_argument("--out", type=Path, default=Path("build"))
    parser.add_argument(
        "--data",
        help="folder holding cifar10.zip or cifar10/ (default: $GRADER_DATA_DIR, "
        "else Keras' downloader)",
    )
    parser.add_argument("--isolation", choices=LEVELS, help="force an isolation level")
    parser.add_argument(
        "--memory-cap",
        choices=memcap.MEMORY_CAPS,
        help="force how children's memory is capped (default: address-space without a GPU, "
        "else cgroup when one can be created, else tensorflow)",
    )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops as cleanly as Ctrl-C
    commands = {"grade": _grade, "check": _check, "report": _report, "doctor": _doctor}
    try:
        return commands[args.command](args)
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


def _start(args: argparse.Namespace) -> dict[str, str]:
    """Detect (or force) the isolation, say which, and return it as API arguments."""
    sandbox.harden_grader_process()
    try:
        isolation = sandbox.detect(args.isolation, args.memory_cap)
    except ValueError as exc:
        raise GradingError(str(exc)) from None
    print(f"isolation: {isolation.describe()}", file=sys.stderr)
    return {"isolation": isolation.level, "memory_cap": isolation.memory_cap}


def _grade(args: argparse.Namespace) -> int:
    isolation = _start(args)
    results = grade_assignment(
        args.assignment,
        submissions=args.submissions,
        out_dir=args.out,
        data_dir=default_data_dir(args.data),
        jobs_count=args.jobs,
        only=args.only,
        force=args.force,
        progress=ProgressDisplay(),
        **isolation,
    )
    assignment = load_assignment(args.assignment)
    out = args.out / assignment.id
    print(results_table(results, list(assignment.tasks)))
    print(f"\nresults: {out / 'results'}/  summary: {out / 'summary.csv'}")
    if not args.no_reports:
        _render(out)
    return 0


def _check(args: argparse.Namespace) -> int:
    from grader.pipeline.selfcheck import PROBLEM, check_submission

    isolation = _start(args)
    rows, result = check_submission(
        args.submission,
        assignment_dir=args.assignment,
        out_dir=args.out,
        data_dir=default_data_dir(args.data),
        full=args.full,
        progress=ProgressDisplay(),
        **isolation,
    )
    print(check_table(rows))
    if result is not None:
        print(f"\nscore on the validation split: {result['score']:g}/{result['max_score']:g} "
              "(the instructor grades on a hidden test split)")  # fmt: skip
        _render(args.out / result["assignment"]["id"] / "check", only=[result])
    problems = sum(row.status == PROBLEM for row in rows)
    print(f"\n{problems} problem(s) found." if problems else "\nNo problems found.")
    return 1 if problems else 0


def _render(out: Path, only: list[dict] | None = None) -> None:
    from grader.report import render_all, render_student_report

    if only is not None:
        for result in only:
            paths = render_student_report(result, out / "reports")
            print(f"report: {paths[0]}")
        return
    summary = render_all(out)
    print(f"reports: {out / 'reports'}/  class summary: {out / 'summary.pdf'}")
    for error in getattr(summary, "errors", []):
        print(f"report error: {error}", file=sys.stderr)


def _report(args: argparse.Namespace) -> int:
    assignment = load_assignment(args.assignment)
    out = args.out / assignment.id
    if not any((out / "results").glob("*.json")):
        raise GradingError(f"No results in {out / 'results'}: run `python -m grader grade` first.")
    _render(out)
    return 0


def _doctor(args: argparse.Namespace) -> int:
    isolation = sandbox.detect()
    level = isolation.level
    print(f"grader {__version__}")
    print(f"isolation level: {level}")
    print(f"GPUs: {', '.join(isolation.gpus) or 'none (children train on the CPU)'}")
    cgroup = memcap.find_parent()
    where = f"v{cgroup.version} at {cgroup.path}" if cgroup else "cannot be created here"
    print(f"memory cap: {isolation.memory_cap} (memory cgroup: {where})")
    print(f"bubblewrap: {'works' if level == sandbox.BUBBLEWRAP else 'missing or not permitted'}")
    print(f"child uid: {uids.child_uid(0) or 'same as grader (grader is not root)'}")
    if level == sandbox.LANDLOCK:
        print("landlock: file access limited to the job, TCP denied; no PID/network namespace")
    elif level == sandbox.RLIMITS:
        print("fallback: resource limits + throw-away uid only; the network stays reachable")
    load_assignment(args.assignment)
    print(f"assignment {args.assignment}: valid")
    return 0
