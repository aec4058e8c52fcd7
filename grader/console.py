"""What the CLI shows a person: live progress (rich), the results table, the self-check table."""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from grader.records import Result
from grader.safetext import clean as clean  # re-exported: what the CLI cleans with
from grader.safetext import clean_name


def safe_markup(text: object, limit: int | None = 300) -> str:
    """`clean(text)` with rich markup escaped, for use inside a markup string."""
    return escape(clean(text, limit))


# One cell of the live table: the stage a task of a submission has reached.
WAITING, TRAINING, TRAINED, SCORING, SCORED, ERROR = (
    "waiting", "training", "trained", "scoring", "scored", "error"
)  # fmt: skip
FINISHED = {TRAINED, SCORING, SCORED, ERROR}  # the costly part (training) is over
STYLES = {WAITING: "dim", TRAINING: "yellow", TRAINED: "cyan", SCORING: "cyan",
          SCORED: "green", ERROR: "bold red"}  # fmt: skip
NOT_TASKS = {"-", "evaluation"}  # progress events about a whole submission
_EPOCH = re.compile(r"epoch (\d+)/(\d+)")
_FAILED = re.compile(r"(?:trained: (?:error|timeout)|error:?)\s*\(?([a-z_]*)\)?")


@dataclass
class Cell:
    """The state of one task of one submission, and what to show beside it."""

    state: str = WAITING
    detail: str = ""
    fresh: bool = False  # trained in this run (reused ones do not count toward the ETA)

    def label(self) -> str:
        if self.state == TRAINING and self.detail:
            return f"training {self.detail}"
        if self.state == ERROR:
            return self.detail or ERROR
        return f"{self.state} ({self.detail})" if self.detail else self.state


def next_cell(cell: Cell, message: str) -> Cell:
    """The cell after a progress message about its task (unknown messages change nothing)."""
    epoch = _EPOCH.match(message)
    failed = _FAILED.match(message)
    if epoch:
        return Cell(TRAINING, f"epoch {epoch[1]}/{epoch[2]}")
    if message in ("training", "checking"):
        return Cell(TRAINING)
    if failed:
        return Cell(ERROR, failed[1] or message.removeprefix("trained: "), True)
    if message.startswith("trained: ok"):  # "(time limit: epoch 3/10 scored)" may follow
        return Cell(TRAINED, message.removeprefix("trained: ok").strip(" ()"), fresh=True)
    if message.startswith("trained in an earlier run"):
        return Cell(TRAINED, "reused")
    if message == "scored":
        return Cell(SCORED, fresh=cell.fresh)
    return cell


class ProgressDisplay:
    """Progress of a run: a live submissions x tasks table on a terminal, else plain lines.

    Use it as a context manager around the run; `finish(results)` sets every cell from
    the final results before the live table is taken down.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        students: Iterable[str] = (),
        tasks: Iterable[str] = (),
        console: Console | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream or (console.file if console else sys.stderr)
        self.console = console or Console(file=self.stream, highlight=False)
        self.live_mode = self.console.is_terminal
        self.lock = threading.Lock()
        self.clock, self.started = clock, clock()
        self.tasks = [clean_name(t) for t in tasks]
        self.cells: dict[str, dict[str, Cell]] = {}
        for student in students:
            self._row(clean_name(student))
        self.note = ""
        self.live: Live | None = None
        self.closed = False

    def __enter__(self) -> ProgressDisplay:
        if self.live_mode and self.live is None and not self.closed:
            self.live = Live(console=self.console, get_renderable=self.render, transient=True)
            self.live.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Take down the live table (its final state is summed up on one line)."""
        self.closed = True
        if self.live is not None:
            self.live.stop()
            self.live = None
            self.console.print(self.status_line(), markup=False, highlight=False)

    def __call__(self, student: str, task: str, message: str) -> None:
        student, task = clean_name(student), clean_name(task)
        message = clean(message)
        with self.lock:
            self._update(student, task, message)
        if not self.live_mode:
            self._plain(student, task, message)
        elif self.live is None:
            self.__enter__()  # used without `with`: start on the first event

    def _plain(self, student: str, task: str, message: str) -> None:
        if message.startswith("epoch"):
            return  # a log file needs no per-epoch lines
        text = f"[{student}] {task}: {message}" if student else f"{task}: {message}"
        with self.lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def _row(self, student: str) -> dict[str, Cell]:
        return self.cells.setdefault(student, {task: Cell() for task in self.tasks})

    def _update(self, student: str, task: str, message: str) -> None:
        if task in NOT_TASKS:
            self._update_submission(student, task, message)
        elif task in self.tasks or message in ("training", "checking"):
            if task not in self.tasks:  # a task nobody announced: add its column
                self.tasks.append(task)
                for row in self.cells.values():
                    row.setdefault(task, Cell())
            row = self._row(student)
            row[task] = next_cell(row[task], message)
        else:
            self.note = f"{task}: {message}" if not student else f"[{student}] {task}: {message}"

    def _update_submission(self, student: str, task: str, message: str) -> None:
        row = self._row(student)
        for name, cell in row.items():
            if task == "evaluation" and cell.state == TRAINED:
                row[name] = Cell(SCORING, fresh=cell.fresh)
            elif "reused" in message and cell.state == WAITING:
                row[name] = Cell(SCORED, "reused")
            elif message == "scored" and cell.state in (TRAINED, SCORING):
                row[name] = Cell(SCORED, fresh=cell.fresh)

    def finish(self, results: Sequence[Result | Mapping[str, Any]]) -> None:
        """Set every cell of these results to scored, or to its error kind."""
        with self.lock:
            for result in map(as_result, results):
                row = self._row(clean_name(result.student))
                for task_id, record in result.tasks.items():
                    old = row.get(clean_name(task_id), Cell())
                    kind = record.error_kind.code if record.error_kind else record.status
                    new = Cell(SCORED if record.ok else ERROR, "" if record.ok else kind, old.fresh)
                    row[clean_name(task_id)] = new

    def counts(self) -> tuple[int, int, int]:
        """Cells finished, cells in all, cells finished by training in this run."""
        cells = [cell for row in self.cells.values() for cell in row.values()]
        done = [cell for cell in cells if cell.state in FINISHED]
        return len(done), len(cells), sum(cell.fresh for cell in done)

    def status_line(self) -> str:
        """'N of M done, elapsed, ETA' (the ETA from the tasks trained in this run)."""
        done, total, fresh = self.counts()
        elapsed = self.clock() - self.started
        eta = "-"
        if fresh and done < total:
            eta = duration(elapsed / fresh * (total - done))
        elif total and done == total:
            eta = "0:00"
        return f"{done} of {total} done  elapsed {duration(elapsed)}  ETA {eta}"

    def render(self) -> RenderableType:
        """The live view: the table, the run's status line and the latest other event."""
        with self.lock:
            table = Table(box=None, pad_edge=False, header_style="bold")
            table.add_column("submission", no_wrap=True)
            for task in self.tasks:
                table.add_column(task, no_wrap=True)
            for student, row in self._visible_rows():
                cells = [row.get(task, Cell()) for task in self.tasks]
                table.add_row(Text(student), *(Text(c.label(), STYLES[c.state]) for c in cells))
            parts: list[RenderableType] = [table, Text(self.status_line(), "bold")]
            if self.note:
                parts.append(Text(self.note, "dim"))
            return Group(*parts)

    def _visible_rows(self) -> list[tuple[str, dict[str, Cell]]]:
        """Every row when they fit the terminal, else unfinished rows first."""
        rows = list(self.cells.items())
        room = max(3, self.console.size.height - 5)
        if len(rows) <= room:
            return rows
        busy = [r for r in rows if any(c.state not in (SCORED, ERROR) for c in r[1].values())]
        return (busy + [r for r in rows if r not in busy])[:room]


def duration(seconds: float) -> str:
    """'m:ss', or 'h:mm:ss' from an hour on."""
    minutes, secs = divmod(int(max(0.0, seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def as_result(result: Result | Mapping[str, Any]) -> Result:
    """A typed result (a result file's JSON is decoded and upgraded)."""
    return result if isinstance(result, Result) else Result.from_json(dict(result))


def results_table(results: Sequence[Result | Mapping[str, Any]], task_ids: list[str]) -> str:
    """Student, score, per-task test accuracy and gap, status: aligned plain text. A score
    with a late penalty or an override shows as `score -> final grade`."""
    header = ["student", "score"] + [f"{t} acc/gap" for t in task_ids] + ["status"]
    rows = [header]
    for result in sorted(map(as_result, results), key=lambda r: r.student):
        row = [clean_name(result.student), _score_cell(result)]
        row += [_task_cell(result, task) for task in task_ids]
        rows.append([*row, clean(result.status)])
    return _aligned(rows)


def _score_cell(result: Result) -> str:
    score = f"{result.score:g}/{result.max_score:g}"
    return score if result.final_score is None else f"{score} -> {result.final_score:g}"


def _task_cell(result: Result, task_id: str) -> str:
    task = result.tasks.get(task_id)
    if task is None:
        return "-"
    if task.ok and task.metrics is not None:
        return f"{task.metrics.test_accuracy:.3f}/{task.metrics.gap:+.3f}"
    return clean_name(task.error_kind.code if task.error_kind else task.status)


def _aligned(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


class CheckRow(Protocol):
    """One line of the self-check table (`grader.pipeline.selfcheck.Row`), read only."""

    @property
    def task(self) -> str: ...
    @property
    def check(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def detail(self) -> str: ...


MARKS = {"OK": "ok ", "problem": "XX ", "warning": "!  ", "not reached": ".  "}


def check_table(rows: Sequence[CheckRow]) -> str:
    """The self-check table: task, check, status, and the problem's fix."""
    lines = []
    width = max((len(clean(r.check)) for r in rows), default=10)
    for row in rows:
        mark = MARKS.get(row.status, "?  ")
        line = f"{mark}{clean_name(row.task):<9} {clean(row.check):<{width}}  {clean(row.status)}"
        detail = clean(row.detail, 1000) if row.detail and row.status != "OK" else ""
        lines.append(line + (f"\n{'':13}{detail}" if detail else ""))
    return "\n".join(lines)
