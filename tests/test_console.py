"""The console: plain progress lines, the live table, and text from submissions made safe."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from io import StringIO
from pathlib import Path

from rich.console import Console

from grader.console import (
    ProgressDisplay,
    check_table,
    clean,
    duration,
    results_table,
    safe_markup,
)
from grader.records import Result, read_result

RESULTS = Path(__file__).resolve().parent / "fixtures" / "results"
HOSTILE = (
    "eve\x1b[2J\x1b]0;pwned\x07\x1b]8;;file:///etc/passwd\x1b\\link\x9b31m\u202e[red]x[/red]\x00"
)
# HOSTILE as a name is shown: each removed sequence marked, so it is never taken for "evelink"
HOSTILE_SHOWN = "eve\ufffd\ufffd\ufffdlink\ufffd\ufffd[red]x[/red]\ufffd"


def fixture_results() -> list[Result]:
    return [read_result(p) for p in sorted(RESULTS.glob("*.json"))]


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_clean_strips_escapes_and_controls_but_keeps_names() -> None:
    assert clean(HOSTILE) == "evelink[red]x[/red]"
    assert clean("Carlos Ibáñez\u200c 李") == "Carlos Ibáñez\u200c 李"  # ZWNJ belongs to names
    assert clean("two\nlines\there") == "two lines here"
    assert clean("x" * 50, limit=10) == "x" * 9 + "…"


def test_safe_markup_escapes_rich_markup() -> None:
    console = Console(file=StringIO(), force_terminal=False, width=80)
    console.print(safe_markup("[bold red]boom[/bold red]\x1b[31m"))
    assert console.file.getvalue().strip() == "[bold red]boom[/bold red]"  # type: ignore[attr-defined]


def test_plain_mode_writes_lines_and_skips_epochs() -> None:
    stream = StringIO()
    progress = ProgressDisplay(stream)
    with progress:
        progress("ana", "scratch", "training")
        progress("ana", "scratch", "epoch 3/10")
        progress(HOSTILE, "scratch", "trained: ok\x1b[2J")
        progress("", "base model", "training the pre-trained base model once")
    assert stream.getvalue().splitlines() == [
        "[ana] scratch: training",
        f"[{HOSTILE_SHOWN}] scratch: trained: ok",
        "base model: training the pre-trained base model once",
    ]


def live_display(clock: Clock, out: StringIO) -> ProgressDisplay:
    console = Console(file=out, force_terminal=True, width=120, height=40)
    return ProgressDisplay(
        console=console, students=["ana", HOSTILE], tasks=["scratch", "transfer"], clock=clock
    )


def rendered(display: ProgressDisplay) -> str:
    console = Console(file=StringIO(), force_terminal=True, width=120, color_system=None)
    console.print(display.render())
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_live_table_shows_cells_counts_and_eta() -> None:
    clock = Clock()
    display = live_display(clock, StringIO())
    display("ana", "scratch", "training")
    display("ana", "scratch", "epoch 3/10")
    assert "training epoch 3/10" in rendered(display)
    display("ana", "scratch", "trained: ok")
    display("ana", "transfer", "trained: error (nan_loss)")
    clock.now = 60.0
    display(HOSTILE, "scratch", "trained in an earlier run: reused")
    text = rendered(display)
    assert "3 of 4 done  elapsed 1:00  ETA 0:30" in text  # 2 trained in 60 s, 1 to go
    assert "nan_loss" in text and "trained (reused)" in text and "waiting" in text
    assert "[red]x[/red]" in text  # the student's markup is shown, never interpreted
    for bad in ("\x1b[2J", "\x1b]", "\x07", "pwned\x07", "\u202e", "\x9b"):
        assert bad not in text


def test_live_table_scoring_and_submission_events() -> None:
    display = live_display(Clock(), StringIO())
    display("ana", "scratch", "trained: ok")
    display("ana", "evaluation", "scoring on the hidden test split")
    assert "scoring" in rendered(display)
    display("ana", "-", "scored")
    display(HOSTILE, "-", "unchanged since last run: result reused")
    text = rendered(display)
    assert "scored (reused)" in text and "3 of 4 done" in text


def test_live_mode_renders_to_a_terminal_console() -> None:
    out = StringIO()
    clock = Clock()
    with live_display(clock, out) as display:
        display("ana", "scratch", "training")
        display("", "base model", "training the pre-trained base model once\x1b[31m")
        assert display.live is not None
    assert display.live is None
    assert "0 of 4 done" in out.getvalue()
    assert "\x1b[31mtraining the pre" not in out.getvalue()


def test_finish_sets_cells_from_results() -> None:
    display = ProgressDisplay(StringIO(), tasks=["scratch", "transfer", "cifar10"])
    display.finish(fixture_results())
    tasks = 3 * len(fixture_results())
    assert display.counts() == (tasks, tasks, 0)  # none trained while this display watched
    assert display.cells["carlos-broken"]["cifar10"].label() == "wrong_output_shape"
    assert display.cells["alvaro-pequeno"]["scratch"].label() == "scored"


def test_results_table_typed_and_json() -> None:
    results = fixture_results()
    evil = replace(results[0], student=HOSTILE)
    table = results_table([*results, evil], ["scratch", "transfer", "cifar10"])
    lines = table.splitlines()
    assert lines[0].split() == ["student", "score", "scratch", "acc/gap", "transfer", "acc/gap",
                                "cifar10", "acc/gap", "status"]  # fmt: skip
    alvaro = next(r for r in results if r.student == "alvaro-pequeno").tasks["scratch"].metrics
    assert alvaro is not None
    assert "wrong_output_shape" in table and f"{alvaro.test_accuracy:.3f}/" in table
    assert "\x1b" not in table and HOSTILE_SHOWN in table
    as_json = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(RESULTS.glob("*.json"))]
    assert results_table(as_json, ["scratch"]) == results_table(results, ["scratch"])


@dataclass(frozen=True)
class Row:
    task: str
    check: str
    status: str
    detail: str = ""


def test_check_table_cleans_details() -> None:
    rows = [
        Row("scratch", "returns a Keras model", "OK"),
        Row("cifar10", "one output unit per class", "problem", "has 3 units\x1b]0;x\x07 fix"),
    ]
    assert check_table(rows).splitlines() == [
        "ok scratch   returns a Keras model      OK",
        "XX cifar10   one output unit per class  problem",
        "             has 3 units fix",
    ]


def test_duration() -> None:
    assert (duration(5), duration(65), duration(3725)) == ("0:05", "1:05", "1:02:05")
