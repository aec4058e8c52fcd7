"""What the CLI shows a person: live progress and the final results table."""

from __future__ import annotations

import sys
import threading
from typing import Any, TextIO


class ProgressDisplay:
    """One status line per event; on a terminal, epoch updates overwrite each other."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.lock = threading.Lock()
        self.open_line = False

    def __call__(self, student: str, task: str, message: str) -> None:
        text = f"[{student}] {task}: {message}" if student else f"{task}: {message}"
        with self.lock:
            if message.startswith("epoch"):
                if not self.tty:
                    return  # a log file needs no per-epoch lines
                self.stream.write(f"\r\033[K{text}")
                self.open_line = True
            else:
                self.stream.write(("\r\033[K" if self.open_line else "") + text + "\n")
                self.open_line = False
            self.stream.flush()


def results_table(results: list[dict[str, Any]], task_ids: list[str]) -> str:
    """Student, score, per-task test accuracy and gap, status: aligned plain text."""
    header = ["student", "score"] + [f"{t} acc/gap" for t in task_ids] + ["status"]
    rows = [header]
    for r in sorted(results, key=lambda r: r["student"]):
        row = [r["student"], f"{r['score']:g}/{r['max_score']:g}"]
        for task in task_ids:
            t = r["tasks"].get(task, {})
            m = t.get("metrics")
            row.append(
                f"{m['test_accuracy']:.3f}/{m['gap']:+.3f}"
                if m and t["status"] == "ok"
                else t.get("error_kind") or t.get("status", "-")
            )
        row.append(r["status"])
        rows.append(row)
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def check_table(rows: list) -> str:
    """The self-check table: task, check, status, and the problem's fix."""
    lines = []
    width = max((len(r.check) for r in rows), default=10)
    for row in rows:
        mark = {"OK": "ok ", "problem": "XX ", "warning": "!  ", "not reached": ".  "}[row.status]
        line = f"{mark}{row.task:<9} {row.check:<{width}}  {row.status}"
        lines.append(line + (f"\n{'':13}{row.detail}" if row.detail and row.status != "OK" else ""))
    return "\n".join(lines)
