"""`python -m grader report`, and the reports step of `grade`: stored results rendered (in a
pool of processes, one per core), and what could not be said on the terminal."""

from __future__ import annotations

import argparse
import sys

from grader.errors import GradingError
from grader.layout import Layout
from grader.safetext import clean
from grader.spec import load_assignment

OK, FAILED = 0, 1


def run(args: argparse.Namespace) -> int:
    """`python -m grader report`: adjustments re-applied (`overrides.toml`, the late policy),
    then every report rendered again."""
    assignment = load_assignment(args.assignment)
    layout = Layout.for_output(args.out, assignment.id)
    if not any(layout.results.glob("*.json")):
        raise GradingError(
            f"No results in {layout.results}: run `python -m grader grade` first "
            "(or pass the --out and --assignment the grading used)."
        )
    from grader.outlock import output_lock
    from grader.pipeline.adjusting import adjust_stored

    with output_lock(layout, "report"):  # released before render_all takes it
        adjust_stored(layout, args.submissions, assignment, args.overrides)
    return render(layout)


def render(layout: Layout, changed_only: bool = False) -> int:
    """Render stored results (`changed_only`: those whose reports are out of date) and the
    class summary, one process per core; FAILED when any could not be."""
    from grader.report.batch import auto_jobs, render_all

    jobs = auto_jobs(len(list(layout.results.glob("*.json"))))
    summary = render_all(layout, jobs=jobs, changed_only=changed_only)
    kept = f", {len(summary.unchanged)} unchanged kept" if summary.unchanged else ""
    print(f"reports: {layout.reports}/ ({len(summary.seconds_per_report)} rendered in "
          f"{summary.jobs} process(es){kept})  class summary: {layout.summary_pdf}")  # fmt: skip
    for error in summary.errors:
        print(f"report error: {clean(error, None)}", file=sys.stderr)
    if summary.errors:
        print(f"{len(summary.errors)} report(s) could not be rendered.", file=sys.stderr)
        return FAILED
    return OK
