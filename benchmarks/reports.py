"""`make bench` (reports): a class of 20 stored results rendered in one process, then in a
pool (one process per core), then again with nothing changed.

Target (issue 16, item 3): under 1 s of wall time per student at 2 cores for a class of 20.
The results are the repository's fixture results under 20 student ids (PDF and HTML each,
plus the class summary), so no training is needed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from grader.layout import Layout
from grader.report.batch import auto_jobs, render_all

RESULTS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "results"


def class_of(size: int, root: Path) -> Layout:
    """`size` results, the fixture results under new student ids."""
    import json

    layout = Layout(root, "transfer-learning")
    layout.results.mkdir(parents=True)
    fixtures = sorted(RESULTS.glob("*.json"))
    for i in range(size):
        data = json.loads(fixtures[i % len(fixtures)].read_text(encoding="utf-8"))
        data["student"] = f"student-{i:02d}"
        (layout.results / f"student-{i:02d}.json").write_text(json.dumps(data), "utf-8")
    return layout


def timed(layout: Layout, jobs: int, changed_only: bool) -> float:
    started = time.monotonic()
    summary = render_all(layout, jobs=jobs, changed_only=changed_only)
    if summary.errors:
        raise SystemExit(f"reports failed: {summary.errors}")
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=20)
    args = parser.parse_args()
    n, jobs = args.students, auto_jobs(args.students)
    with tempfile.TemporaryDirectory() as tmp:
        one = timed(class_of(n, Path(tmp) / "one"), 1, False)
        layout = class_of(n, Path(tmp) / "pool")
        pooled = timed(layout, jobs, True)
        again = timed(layout, jobs, True)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"reports for {n} students (PDF + HTML each, and the class summary):")
    print(f"  one process:           {one:6.1f} s  ({one / n:.2f} s a student)")
    print(f"  {jobs} processes:           {pooled:6.1f} s  ({pooled / n:.2f} s a student, "
          "target < 1 s)")  # fmt: skip
    print(f"  again, none changed:   {again:6.1f} s  (the class summary only)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
