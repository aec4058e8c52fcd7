"""Command line: parses arguments, calls the API, prints, and picks the exit code."""

from __future__ import annotations

import argparse
import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from grader import __version__, resources, sandbox, scaffold
from grader.atomic import disk_full
from grader.console import ProgressDisplay, as_result, check_table, clean, results_table
from grader.errors import GraderError, GradingError
from grader.layout import CHECK, Layout
from grader.pipeline import (
    doctorcommand,
    exportcommand,
    gradescopecommand,
    importcommand,
    kitcommand,
    reportcommand,
)
from grader.sandbox import causes, memcap
from grader.spec import load_assignment

# Exit codes: grading ran | a report (or the self-check) found problems | the instructor's
# input is wrong (spec, data, options) | a bug in the grader | interrupted.
OK, FAILED, USAGE, BUG, INTERRUPTED = 0, 1, 2, 3, 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grader", description="Grade Keras assignments.")
    parser.add_argument("--version", action="version", version=f"grader {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="train, evaluate and check every submission")
    _common(grade)
    grade.add_argument("--submissions", type=Path, default=Path("submissions"))
    grade.add_argument(
        "--jobs",
        type=_jobs,
        help="submissions graded at once: auto (the "
        "default: one per GPU, else what the cores and memory allow) or N",
    )
    grade.add_argument("--only", nargs="+", default=(), metavar="ID", help="grade only these")
    grade.add_argument("--force", action="store_true", help="regrade unchanged submissions")
    grade.add_argument("--no-reports", action="store_true", help="skip PDF/HTML rendering")
    _overrides(grade)
    _backend(grade)
    check = commands.add_parser("check", help="student self-check of one submission")
    check.add_argument("submission", type=Path, help="a folder, submission.py or submission.ipynb")
    _common(check)
    check.add_argument("--full", action="store_true", help="grade fully on the validation split")
    check.add_argument("--kit", type=Path, help="check offline, unsandboxed, from a student kit")
    kitcommand.add_parser(commands, _common)
    importcommand.add_parser(commands)
    exportcommand.add_parser(commands)
    gradescopecommand.add_parser(commands, _common)
    report = commands.add_parser("report", help="re-render reports from stored results")
    report.add_argument("--assignment", type=Path, default=resources.default_assignment())
    report.add_argument("--out", type=Path, default=Path("build"))
    report.add_argument("--submissions", type=Path, default=Path("submissions"))
    _overrides(report)
    doctor = commands.add_parser("doctor", help="report which isolation level works here")
    scaffold.add_parser(commands)
    doctor.add_argument("--assignment", type=Path, default=resources.default_assignment())
    _backend(doctor)
    _documents(commands)
    return parser


def _documents(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Commands that write documents from the spec: the reference, the handout's table."""
    reference = commands.add_parser("spec-reference", help="write the assignment.toml reference")
    reference.add_argument("--output", type=Path, default=Path("docs/assignment-reference.md"))
    handout = commands.add_parser("handout", help="write the handout's requirements table")
    handout.add_argument("--assignment", type=Path, default=resources.default_assignment())
    for parser in (reference, handout):
        parser.add_argument("--check", action="store_true", help="fail if it is out of date")


def _jobs(text: str) -> int | None:
    if text == "auto":
        return None
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give auto or a whole number from 1")
    return int(text)


def _backend(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=("local", "ray"), default="local",
                        help="where submissions train: this machine (the default), or the "
                        "nodes of a Ray cluster (pip install 'grader[ray]')")  # fmt: skip
    parser.add_argument("--ray-address", metavar="ADDR", help="the Ray cluster (default: "
                        "$RAY_ADDRESS, else one started here, else a new local one)")  # fmt: skip


def _overrides(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--overrides",
        type=Path,
        metavar="FILE",
        help="the instructor's "
        "adjustments with reasons (default: ./overrides.toml, if there is one)",
    )


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--assignment", type=Path, default=resources.default_assignment())
    parser.add_argument("--out", type=Path, default=Path("build"))
    parser.add_argument(
        "--data",
        help="CIFAR-10 assignments: the folder holding cifar10.zip or cifar10/ (default: "
        "$GRADER_DATA_DIR, else Keras' downloader); an image-folder assignment names its "
        "own photos in assignment.toml",
    )
    parser.add_argument("--isolation", choices=sandbox.LEVELS, help="force an isolation level")
    parser.add_argument(
        "--min-isolation",
        choices=sandbox.LEVELS,
        help="the weakest isolation grading may fall back to (default: the assignment's "
        f"min_isolation, else {causes.DEFAULT_MINIMUM}; rlimits leaves the network reachable)",
    )
    parser.add_argument(
        "--memory-cap",
        choices=memcap.MEMORY_CAPS,
        help="force how children's memory is capped (default: address-space without a GPU, "
        "else cgroup when one can be created, else tensorflow)",
    )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit code (see OK, FAILED, USAGE, BUG, INTERRUPTED)."""
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops as cleanly as Ctrl-C
    # Ctrl-C too, even when started with SIGINT ignored (a shell's background job, nohup &):
    # Python then installs no KeyboardInterrupt handler, and a SIGINT was silently lost
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return COMMANDS[args.command](args)
    except GraderError as exc:
        print(f"error: {_lines(exc)}", file=sys.stderr)
        return USAGE
    except (KeyboardInterrupt, sandbox.Interrupted):
        print(
            "\ninterrupted: running children were killed. Every finished task is saved; "
            "run the same command again to resume where it stopped.",
            file=sys.stderr,
        )
        return INTERRUPTED
    except Exception as exc:
        if (full := disk_full(exc)) is not None:  # e.g. while caching the data or staging
            print(f"error: {_lines(full)}", file=sys.stderr)
            return USAGE
        print(
            f"internal error in grader {__version__}, please report it with the traceback below:",
            file=sys.stderr,
        )
        print(_lines(traceback.format_exc()), file=sys.stderr)  # it may quote a file name
        return BUG


def _lines(text: object) -> str:
    """`text` made safe for a terminal (it may quote a submission), its lines kept."""
    return "\n".join(clean(line, None) for line in str(text).splitlines())


def _start(args: argparse.Namespace) -> dict[str, str]:
    """Detect (or force) the isolation, never below the allowed minimum (--min-isolation,
    else the assignment's), say which, and return it as API arguments."""
    sandbox.harden_grader_process()
    minimum = args.min_isolation or _spec_minimum(args.assignment)
    try:
        if args.isolation is not None:
            causes.check_forced(args.isolation, minimum)
        level = args.isolation or sandbox.detect_isolation(None, minimum)
        isolation = sandbox.detect(level, args.memory_cap)
    except ValueError as exc:
        raise GradingError(str(exc)) from None
    print(f"isolation: {isolation.describe()}", file=sys.stderr)
    return {"isolation": isolation.level, "memory_cap": isolation.memory_cap}


def _spec_minimum(folder: Path) -> str:
    """The assignment's `min_isolation` (the default without a spec: the command says so)."""
    if not (folder / "assignment.toml").is_file():
        return causes.DEFAULT_MINIMUM
    return load_assignment(folder, reference_required=False).min_isolation


def _data_dir(args: argparse.Namespace) -> Path | None:
    from grader.pipeline.run import default_data_dir

    return default_data_dir(args.data)


def _grade(args: argparse.Namespace) -> int:
    from grader.outlock import output_lock
    from grader.pipeline.folders import student_key
    from grader.pipeline.grading import grade_assignment
    from grader.pipeline.submissions import find_submissions

    assignment = load_assignment(args.assignment)
    layout = Layout.for_output(args.out, assignment.id)
    isolation = _start(args)
    folders = find_submissions(args.submissions, args.only)
    students = [student_key(folder.name) for folder in folders]
    with output_lock(layout, "grade"):  # held from grading through the reports
        with ProgressDisplay(students=students, tasks=list(assignment.tasks)) as progress:
            results = grade_assignment(
                assignment,
                submissions=args.submissions,
                out_dir=args.out,
                data_dir=_data_dir(args),
                jobs_count=args.jobs,
                only=args.only,
                force=args.force,
                progress=progress,
                overrides=args.overrides,
                backend=args.backend,
                ray_address=args.ray_address,
                **isolation,
            )
            progress.finish(results)
        print(results_table(results, list(assignment.tasks)))
        print(f"\nresults: {layout.results}/  summary: {layout.summary_csv}")
        return OK if args.no_reports else reportcommand.render(layout, changed_only=True)


def _check(args: argparse.Namespace) -> int:
    from grader.pipeline.selfcheck import PROBLEM, check_submission
    from grader.report import render_student_report

    isolation = _start(args) if args.kit is None else kitcommand.unsandboxed(args)
    with ProgressDisplay() as progress:
        rows, result = check_submission(
            args.submission,
            assignment_dir=args.assignment,
            out_dir=args.out,
            data_dir=_data_dir(args),
            full=args.full,
            progress=progress,
            kit=args.kit,
            **isolation,
        )
    print(check_table(rows))
    if result is not None:
        graded = as_result(result)
        print(f"\nscore on the validation split: {graded.score:g}/{graded.max_score:g} "
              "(the instructor grades on a hidden test split)")  # fmt: skip
        layout = Layout.for_output(args.out, graded.assignment.id, CHECK)
        for path in render_student_report(graded, layout):
            print(f"report: {_lines(path)}")
    problems = sum(row.status == PROBLEM for row in rows)
    print(f"\n{problems} problem(s) found." if problems else "\nNo problems found.")
    return FAILED if problems else OK


def _spec_reference(args: argparse.Namespace) -> int:
    from grader.spec_reference import write_or_check

    return FAILED if write_or_check(args.output, args.check) else OK


def _handout(args: argparse.Namespace) -> int:
    from grader.pipeline.handout import write_or_check

    assignment = load_assignment(args.assignment, reference_required=False)
    return FAILED if write_or_check(assignment, args.check) else OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "grade": _grade,
    "check": _check,
    "kit": lambda args: kitcommand.run(args, _start(args), _data_dir(args)),
    "report": reportcommand.run,
    "import": importcommand.run,
    "export": exportcommand.run,
    "gradescope": lambda args: gradescopecommand.run(args, _start(args), _data_dir(args)),
    "gradescope-run": gradescopecommand.run_in_container,
    "doctor": lambda args: doctorcommand.run(args, _spec_minimum(args.assignment)),
    "spec-reference": _spec_reference,
    "handout": _handout,
    "new-assignment": scaffold.run,
}
