"""The class summary table: `summary.csv`, one row per student."""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Sequence
from pathlib import Path

from grader.records import Result


def write_summary_csv(path: Path, results: Sequence[Result], task_ids: Sequence[str]) -> None:
    """One row per student: score, and per task status, test accuracy and gap."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header = ["student", "name", "score", "max_score", "status"]
    for task in task_ids:
        header += [f"{task}_status", f"{task}_test_accuracy", f"{task}_gap"]
    writer.writerow(header)
    for r in sorted(results, key=lambda r: r.student):
        writer.writerow(
            [r.student, r.name, r.score, r.max_score, r.status, *_task_cells(r, task_ids)]
        )
    tmp = path.with_suffix(".csv.tmp")
    tmp.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(tmp, path)


def _task_cells(result: Result, task_ids: Sequence[str]) -> list[str]:
    cells = []
    for task_id in task_ids:
        task = result.tasks.get(task_id)
        if task is None:
            cells += ["missing", "", ""]
            continue
        m = task.metrics
        accuracy, gap = (None, None) if m is None else (m.test_accuracy, m.gap)
        cells += [task.status, _fmt(accuracy), _fmt(gap)]
    return cells


def _fmt(value: float | None) -> str:
    return "" if value is None or not math.isfinite(value) else f"{value:.4f}"
