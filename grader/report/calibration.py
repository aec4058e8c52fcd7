"""The handout's calibration table, written from stored results (never typed by hand).

`python -m grader.report.calibration --results build/<assignment>/results --handout README.md`
(`make handout-tables`) replaces the text between the two markers below with a table of
every result: hidden-test accuracy with its 95 % interval and the overfitting gap per task,
the first comparing check's difference (say transfer minus scratch) on the same test images
with its paired interval, the score, and the
borderline checks. `--check` only compares, and fails when the handout is out of date
(`make handout-check`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from grader.atomic import write_atomic
from grader.records import CheckResult, Result, TaskRecord, read_result

BEGIN = "<!-- calibration-table:begin (make handout-tables writes this) -->"
END = "<!-- calibration-table:end -->"


def accuracy_cell(task: TaskRecord | None) -> str:
    """`0.763 (0.738–0.786) / +0.031`: test accuracy, its interval, and the gap."""
    if task is None:
        return "—"
    if task.metrics is None:
        return f"error: `{task.error_kind.code if task.error_kind else 'unknown'}`"
    metrics = task.metrics
    cell = f"{metrics.test_accuracy:.3f}"
    if metrics.test_accuracy_interval is not None:
        low, high = metrics.test_accuracy_interval
        cell += f" ({low:.3f}–{high:.3f})"
    return f"{cell} / {_signed(metrics.gap)}"


def difference_cell(checks: Iterable[CheckResult]) -> str:
    """The observed value of the first comparing check (task − compared task), with its
    interval."""
    for check in checks:
        if check.compare_to is not None and check.observed is not None:
            cell = _signed(check.observed)
            if check.interval is not None:
                cell += f" ({_signed(check.interval[0])} to {_signed(check.interval[1])})"
            return cell
    return "—"


def borderline_cell(checks: Iterable[CheckResult]) -> str:
    names = [f"{check.task} {check.kind}" for check in checks if check.borderline]
    return ", ".join(names) if names else "none"


def _difference_header(results: list[Result]) -> str:
    """`transfer − scratch`: the first comparing check's two task ids, from the results."""
    for result in results:
        for check in result.checks:
            if check.compare_to is not None:
                return f"{check.task} − {check.compare_to}"
    return "difference"


def table(results: list[Result]) -> str:
    """The Markdown table, one row per result, tasks in the assignment's order."""
    tasks = list(results[0].tasks) if results else []
    header = ["submission", *tasks, _difference_header(results), "score", "borderline checks"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for result in results:
        row = [f"`{result.student}`"]
        row += [accuracy_cell(result.tasks.get(task)) for task in tasks]
        row += [difference_cell(result.checks), _score(result), borderline_cell(result.checks)]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def measured_on(results: list[Result]) -> str:
    """One line saying where and how the figures were measured (from provenance)."""
    if not results:
        return "No results."
    prov = results[0].provenance
    base = prov.base_model or {}
    parts = [f"seed {prov.seed}", f"CPU {prov.cpu or 'unknown'}", f"TensorFlow {prov.tensorflow}"]
    if "val_accuracy" in base:
        parts.append(f"base model validation accuracy {base['val_accuracy']:.3f}")
    return "Measured with `make grade` (" + "; ".join(parts) + ")."


def section(results: list[Result]) -> str:
    return "\n".join([BEGIN, measured_on(results), "", table(results), END])


def replace_section(handout: str, new_section: str) -> str:
    """The handout with its marked section replaced.

    Raises:
        ValueError: the markers are missing or out of order.
    """
    start, end = handout.find(BEGIN), handout.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the handout needs the two lines {BEGIN!r} and {END!r}, in order")
    return handout[:start] + new_section + handout[end + len(END) :]


def load_results(folder: Path) -> list[Result]:
    return [read_result(path) for path in sorted(folder.glob("*.json"))]


def _signed(value: float) -> str:
    return f"{value:+.3f}".replace("-", "−")


def _score(result: Result) -> str:
    return f"{result.score:g}/{result.max_score:g}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.report.calibration")
    parser.add_argument("--results", type=Path, required=True, help="a results folder")
    parser.add_argument("--handout", type=Path, required=True, help="the README to update")
    parser.add_argument("--check", action="store_true", help="only say whether it is current")
    args = parser.parse_args(argv)
    results = load_results(args.results)
    if not results:
        print(f"no result files in {args.results}: run `make grade` first", file=sys.stderr)
        return 2
    old = args.handout.read_text(encoding="utf-8")
    new = replace_section(old, section(results))
    if args.check:
        if new != old:
            print(f"{args.handout}: the calibration table differs from {args.results}; "
                  "run `make handout-tables`", file=sys.stderr)  # fmt: skip
            return 1
        return 0
    write_atomic(args.handout, new)  # a full disk must not leave half a handout
    print(f"{args.handout}: calibration table written from {len(results)} results")
    return 0


if __name__ == "__main__":
    sys.exit(main())
