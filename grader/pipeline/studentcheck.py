"""`grader.check`: a student's self-check from a notebook, its table shown inline.

`check("submission.ipynb", kit="kit.zip")` builds each model and trains it a few steps;
`full=True` trains as the instructor will and shows the same validation numbers.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from grader.pipeline.selfcheck import OK, PROBLEM, WARNING, Row, check_submission
from grader.records import Result
from grader.safetext import clean, clean_name
from grader.sandbox.unconfined import NOTICE

COLOURS = {OK: "#1a7f37", PROBLEM: "#cf222e", WARNING: "#9a6700"}  # others: grey


@dataclass(frozen=True)
class CheckTable:
    """The self-check's rows; a notebook shows it as an HTML table, `print` as text."""

    rows: tuple[Row, ...]
    result: Result | None = None  # a full check's result (its "test" figures are validation's)
    notice: str = NOTICE

    @property
    def problems(self) -> int:
        return sum(row.status == PROBLEM for row in self.rows)

    @property
    def ok(self) -> bool:
        return self.problems == 0

    def summary(self) -> str:
        return f"{self.problems} problem(s) found." if self.problems else "No problems found."

    def __str__(self) -> str:
        from grader.console import check_table  # rich: only once there is a table to show

        return f"{self.notice}\n{check_table(self.rows)}\n\n{self.summary()}"

    def _repr_html_(self) -> str:
        names = ("task", "check", "status", "detail")
        head = "".join(f"<th style='text-align:left'>{name}</th>" for name in names)
        body = "".join(_html_row(row) for row in self.rows)
        return (
            f"<p><em>{html.escape(self.notice)}</em></p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            f"<p><strong>{html.escape(self.summary())}</strong></p>"
        )


def _html_row(row: Row) -> str:
    colour = COLOURS.get(row.status, "#57606a")
    cells = (clean_name(row.task), clean(row.check), clean(row.status), clean(row.detail, 1000))
    tds = [f"<td style='text-align:left'>{html.escape(cell)}</td>" for cell in cells]
    tds[2] = f"<td style='text-align:left;color:{colour}'>{html.escape(cells[2])}</td>"
    return f"<tr>{''.join(tds)}</tr>"


def check(
    submission: str | Path, kit: str | Path, *, full: bool = False, out: str | Path = "build"
) -> CheckTable:
    """Self-check `submission` (a .ipynb, a .py or the folder holding it) against the student
    kit `kit`, offline and unsandboxed (your own code, on your own machine). A full check's
    result and report go under `out`.

    Raises:
        GraderError: the kit or the submission cannot be read; the message says why.
    """
    rows, result = check_submission(Path(submission), out_dir=Path(out), full=full, kit=Path(kit))
    return CheckTable(tuple(rows), result)
