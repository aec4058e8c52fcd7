"""Housekeeping of the output folder (issue 12): files written whole or not at all, a full
disk named instead of a traceback, one grader at a time per folder, and a class summary of
the submissions that are still there."""

from __future__ import annotations

import csv
import errno
import fcntl
import json
import os
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from grader import cli
from grader.atomic import OutputError, write_atomic
from grader.layout import Layout
from grader.outlock import OutputLocked, output_lock
from grader.pipeline import grading
from grader.pipeline.summary import write_summary_csv
from grader.records import Result, read_result, write_json_atomic
from grader.report import batch, render
from grader.sandbox import Interrupted
from grader.spec import load_assignment
from tests.report_data import RESULTS

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = ROOT / "assignments" / "transfer-learning"
STUDENTS = sorted(p.stem for p in RESULTS.glob("*.json"))


def fail_fsync(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    """Every fsync fails with `code` (the point where a full disk shows at the latest)."""

    def fsync(fd: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", fsync)


# --- atomic writes ---------------------------------------------------------------------


def test_a_failed_write_leaves_the_old_file_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.html"
    write_atomic(target, "<p>old</p>")
    fail_fsync(monkeypatch, errno.EIO)
    with pytest.raises(OSError) as caught:
        write_atomic(target, "<p>new</p>" * 10_000)
    assert not isinstance(caught.value, OutputError)  # not a full disk: a plain OSError
    assert target.read_text(encoding="utf-8") == "<p>old</p>"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_modes_private_json_and_shareable_reports(tmp_path: Path) -> None:
    write_json_atomic(tmp_path / "r.json", {"a": 1})
    write_atomic(tmp_path / "r.html", "x")
    umask = os.umask(0o022)
    os.umask(umask)
    assert (tmp_path / "r.json").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "r.html").stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize(
    ("code", "problem", "fix"),
    [
        (errno.ENOSPC, "is full (No space left on device)", "free space there, or pass --out"),
        (errno.EDQUOT, "disk quota is used up", "free space there, or pass --out"),
        (errno.EROFS, "cannot be written to (Read-only file system)", "pass --out a writable"),
    ],
)
def test_a_full_disk_names_the_folder_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, problem: str, fix: str
) -> None:
    target = tmp_path / "out" / "summary.csv"
    write_atomic(target, "old")
    fail_fsync(monkeypatch, code)
    with pytest.raises(OutputError) as caught:
        write_atomic(target, "new")
    text = str(caught.value)
    assert caught.value.errno == code and isinstance(caught.value, OSError)
    assert str(target.parent) in text and problem in text and fix in text
    assert "summary.csv was not written, and no half-written file was left" in text
    assert target.read_text() == "old" and [p.name for p in target.parent.iterdir()] == [
        "summary.csv"
    ]


def test_summary_csv_on_a_full_disk_keeps_the_previous_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "summary.csv"
    results = [read_result(RESULTS / f"{s}.json") for s in STUDENTS]
    write_summary_csv(path, results, ["scratch", "transfer", "cifar10"])
    before = path.read_bytes()
    fail_fsync(monkeypatch, errno.ENOSPC)
    with pytest.raises(OutputError):
        write_summary_csv(path, results[:1], ["scratch"])
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.csv"]


@contextmanager
def tiny_tmpfs(tmp_path: Path, size: str) -> Iterator[Path]:
    """A real, tiny file system (root only); skips the test where it cannot be mounted."""
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
                          capture_output=True, check=False)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode()[:200]}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_a_really_full_disk(tmp_path: Path) -> None:
    with tiny_tmpfs(tmp_path, "64k") as disk:
        target = disk / "results" / "ana.json"
        write_json_atomic(target, {"old": True})
        with pytest.raises(OutputError) as caught:
            write_json_atomic(target, {"new": "x" * 200_000})
        assert f"the disk holding {target.parent} is full" in str(caught.value)
        assert json.loads(target.read_text(encoding="utf-8")) == {"old": True}
        assert [p.name for p in target.parent.iterdir()] == ["ana.json"]


def test_the_command_line_says_disk_full_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    def doctor(args: object) -> int:  # e.g. np.save while caching the split: a raw OSError
        raise OSError(errno.ENOSPC, "No space left on device", "/srv/out/cache/x.npy")

    monkeypatch.setitem(cli.COMMANDS, "doctor", doctor)
    assert cli.main(["doctor"]) == cli.USAGE
    err = capsys.readouterr().err
    assert err.startswith("error: the disk holding /srv/out/cache is full")
    assert "Traceback" not in err and "internal error" not in err


def test_reports_stop_at_a_full_disk_instead_of_failing_each_student(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = copied_results(tmp_path, STUDENTS)
    calls = []

    def render_student(result: Result, *args: object) -> object:
        calls.append(result.student)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(render, "_render_student", render_student)
    with pytest.raises(OutputError):
        batch.render_all(layout)
    assert len(calls) == 1


def test_a_full_disk_stops_the_batch_instead_of_failing_every_submission(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = copied_results(tmp_path, [])
    folder = submissions(tmp_path, STUDENTS[:3])
    fake_run(monkeypatch, layout)

    def grade_submission(run: object, folder: Path, **kwargs: object) -> Result:
        raise OSError(errno.ENOSPC, "No space left on device", str(layout.results / "x"))

    monkeypatch.setattr(grading, "grade_submission", grade_submission)
    with pytest.raises(OutputError, match="is full"):
        grading.grade_assignment(ASSIGNMENT, submissions=folder, out_dir=tmp_path)
    assert not list(layout.results.glob("*.json"))  # no grader_error results were written


def test_a_full_disk_in_one_slot_stops_the_others_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = copied_results(tmp_path, [])
    stopped = threading.Event()
    fake_run(monkeypatch, layout, stop_all=stopped.set)
    woken = []

    def grade_submission(run: object, folder: Path, **kwargs: object) -> Result:
        if folder.name == "a-training":  # still training when the other slot finds the disk full
            woken.append(stopped.wait(timeout=60))
            raise Interrupted
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(grading, "grade_submission", grade_submission)
    folder = submissions(tmp_path, ["a-training", "b-full"])
    with pytest.raises(OutputError):
        grading.grade_assignment(ASSIGNMENT, submissions=folder, out_dir=tmp_path, jobs_count=2)
    assert woken == [True]  # its children were killed, it was not waited for


# --- one grader per output folder ---------------------------------------------------------

HOLDER = """
import sys
from pathlib import Path
from grader.layout import Layout
from grader.outlock import output_lock
with output_lock(Layout(Path(sys.argv[1]), "transfer-learning"), "grade"):
    print("held", flush=True)
    sys.stdin.readline()
"""


@contextmanager
def lock_held_elsewhere(out: Path) -> Iterator[int]:
    """Another process holds the output folder's lock until the block ends; its pid."""
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], cwd=ROOT, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
    try:
        assert child.stdout is not None and child.stdout.readline() == "held\n"
        yield child.pid
    finally:
        child.communicate("\n", timeout=30)


def test_a_second_grader_is_refused_while_the_first_holds_the_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    layout = copied_results(tmp_path, STUDENTS[:1])
    with lock_held_elsewhere(tmp_path) as pid:
        with pytest.raises(OutputLocked) as caught, output_lock(layout, "report"):
            pass
        text = str(caught.value)
        assert f"another grader (pid {pid}, `grade`, started at " in text
        assert f"is writing into {layout.out}: wait for it to finish, or use another --out" in text
        code = cli.main(["report", "--assignment", str(ASSIGNMENT), "--out", str(tmp_path)])
        assert code == cli.USAGE and f"another grader (pid {pid}" in capsys.readouterr().err
        assert not layout.reports.exists()  # refused before rendering anything
        with pytest.raises(OutputLocked):  # `grade` too, before any data is prepared
            grading.grade_assignment(ASSIGNMENT, submissions=submissions(tmp_path, []),
                                     out_dir=tmp_path, data_dir=tmp_path / "no-data")  # fmt: skip
        assert not (tmp_path / "cache").exists()
        other = Layout(tmp_path, "transfer-learning", "check")  # a self-check's own folder
        with output_lock(other, "check"):
            pass
    # The first has ended: the folder is free, and its holder may take it again (nested).
    with output_lock(layout, "report"), output_lock(layout, "report"):
        pass


def test_the_lock_is_per_open_file_not_per_process(tmp_path: Path) -> None:
    layout = Layout(tmp_path, "a")
    layout.out.mkdir(parents=True)
    fd = os.open(layout.lock_file, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(OutputLocked, match="pid unknown"), output_lock(layout, "grade"):
            pass  # (the other holder wrote nothing into the file)
    finally:
        os.close(fd)
    with output_lock(layout, "grade"):
        pass


# --- the class summary lists the submissions that are there ---------------------------


def copied_results(tmp_path: Path, students: list[str]) -> Layout:
    layout = Layout.for_output(tmp_path, "transfer-learning")
    layout.results.mkdir(parents=True, exist_ok=True)
    for student in students:
        shutil.copyfile(RESULTS / f"{student}.json", layout.result(student))
    return layout


def submissions(tmp_path: Path, students: list[str]) -> Path:
    folder = tmp_path / f"submissions-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    for student in students:
        (folder / student).mkdir()
    return folder


@dataclass(frozen=True)
class FakeRun:
    """What batch grading reads of a `Run` (a dataclass too: grading `replace`s fields)."""

    layout: Layout
    assignment: Any
    progress: Callable[..., None]
    sandbox: Any
    isolation: Any
    packing: dict[str, str] | None = None


def fake_run(
    monkeypatch: pytest.MonkeyPatch, layout: Layout, stop_all: Callable[[], None] = lambda: None
) -> None:
    """`open_run` without data, sandbox or training (the lock is still taken)."""

    @contextmanager
    def open_run(config: Any) -> Iterator[object]:
        with output_lock(layout, "grade"):
            yield FakeRun(layout=layout, assignment=load_assignment(ASSIGNMENT),
                          progress=config.progress or (lambda *m: None),
                          sandbox=SimpleNamespace(stop_all=stop_all),
                          isolation=SimpleNamespace(gpus=()))  # fmt: skip

    monkeypatch.setattr(grading, "open_run", open_run)


def regrade_from_fixtures(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """`grade_submission` returns (and stores) the fixture result: a run with no training."""
    graded: list[str] = []

    def grade_submission(run: Any, folder: Path, **kwargs: object) -> Result:
        graded.append(folder.name)
        result = read_result(RESULTS / f"{folder.name}.json")
        write_json_atomic(run.layout.result(folder.name), result)
        return result

    monkeypatch.setattr(grading, "grade_submission", grade_submission)
    return graded


def summary_students(layout: Layout) -> list[str]:
    with open(layout.summary_csv, encoding="utf-8-sig") as fh:
        return [row["student"] for row in csv.DictReader(fh)]


def fast_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real HTML from the real templates, without charts and PDFs (seconds each)."""
    for chart in ("curves", "split_counts", "validation_comparison", "histogram",
                  "task_accuracies", "scatter"):  # fmt: skip
        monkeypatch.setattr(render.plots, chart, lambda *args, **kwargs: "<svg></svg>")
    monkeypatch.setattr(render, "_write_pdf", lambda html, target: write_atomic(target, b"%PDF"))


def test_a_removed_folder_leaves_the_summary_and_its_files_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = copied_results(tmp_path, STUDENTS)
    fast_reports(monkeypatch)
    batch.render_all(layout)
    assert "carlos-broken" in layout.index_html.read_text(encoding="utf-8")
    fake_run(monkeypatch, layout)
    regrade_from_fixtures(monkeypatch)
    kept = [s for s in STUDENTS if s != "carlos-broken"]
    messages: list[tuple[str, str, str]] = []
    grading.grade_assignment(ASSIGNMENT, submissions=submissions(tmp_path, kept),
                             out_dir=tmp_path, progress=lambda *m: messages.append(m))  # fmt: skip

    assert summary_students(layout) == kept
    assert (layout.removed_results / "carlos-broken.json").is_file()  # moved, not deleted
    assert not layout.result("carlos-broken").exists()
    assert sorted(p.name for p in layout.removed_reports.iterdir()) == [
        "carlos-broken.html", "carlos-broken.pdf"]  # fmt: skip
    (note,) = [m for _, task, m in messages if task == "summary"]
    assert "1 result(s)" in note and "carlos-broken" in note and "removed" in note

    summary = batch.render_all(layout)  # `grader report`: the class summary agrees
    assert not summary.errors
    index = layout.index_html.read_text(encoding="utf-8")
    assert "carlos-broken" not in index and "Carlos" not in index
    assert all(f"reports/{s}.html" in index for s in kept)


def test_with_only_the_other_present_folders_stay_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = copied_results(tmp_path, STUDENTS)
    fake_run(monkeypatch, layout)
    graded = regrade_from_fixtures(monkeypatch)
    present = ["alvaro-pequeno", "bea-overfit", "dana-frozen-head"]
    grading.grade_assignment(ASSIGNMENT, submissions=submissions(tmp_path, present),
                             out_dir=tmp_path, only=["bea-overfit"])  # fmt: skip
    assert graded == ["bea-overfit"]
    assert summary_students(layout) == present
    assert sorted(p.stem for p in layout.removed_results.glob("*.json")) == sorted(
        set(STUDENTS) - set(present)
    )


def test_a_result_of_this_run_is_listed_even_when_its_file_could_not_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = copied_results(tmp_path, [])
    fake_run(monkeypatch, layout)
    result = read_result(RESULTS / "elif-tiny.json")
    grade: Callable[..., Result] = lambda run, folder, **kwargs: result  # noqa: E731
    monkeypatch.setattr(grading, "grade_submission", grade)
    grading.grade_assignment(ASSIGNMENT, submissions=submissions(tmp_path, ["elif-tiny"]),
                             out_dir=tmp_path)  # fmt: skip
    assert summary_students(layout) == ["elif-tiny"]
