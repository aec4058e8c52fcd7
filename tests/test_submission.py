"""Staging a submission, student names and checkpoints: fast, no training."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from grader.errors import ErrorKind
from grader.messages import Message, render
from grader.pipeline import resume, submissions
from grader.pipeline.provenance import grader_hash
from grader.pipeline.submissions import read_student_name, stage
from grader.records import Metrics, SplitCounts, TaskRecord, read_result
from tests.conftest import FIXTURES

SUBMISSIONS = FIXTURES / "submissions"
SPLIT = SplitCounts("vehicles", (1, 1, 1), (1, 1, 1), (1, 1, 1))
BLANK = TaskRecord("Scratch", ("a", "b", "c"), SPLIT)


def test_a_notebook_is_staged_as_a_module_with_what_was_dropped(tmp_path: Path) -> None:
    staged = stage(SUBMISSIONS / "e2e-notebook", tmp_path / "staged")
    assert staged.failure is None and staged.student == "e2e-notebook"
    assert (tmp_path / "staged" / "submission.py").is_file()
    assert staged.notebook_dropped[0].reason_message == Message("notebook.magic", {})


@pytest.mark.parametrize(
    ("setup", "kind", "message_id"),
    [
        (lambda d: (d / "notes.txt").write_text("x"), ErrorKind.MISSING_FILE, "missing_file"),
        (lambda d: (d / "submission.ipynb").write_text("[1]"), ErrorKind.BAD_NOTEBOOK,
         "bad_notebook.not_a_notebook"),
        (lambda d: (d / "submission.ipynb").write_bytes(b"\xff"), ErrorKind.BAD_NOTEBOOK,
         "bad_notebook.not_utf8"),
    ],
)  # fmt: skip
def test_staging_failures_are_a_kind_and_a_message(
    tmp_path: Path, setup: object, kind: ErrorKind, message_id: str
) -> None:
    folder = tmp_path / "ana"
    folder.mkdir()
    setup(folder)  # type: ignore[operator]
    staged = stage(folder, tmp_path / "staged")
    assert staged.failure is not None and staged.failure[0] is kind
    assert staged.failure[1].id == message_id
    render(staged.failure[1], "es")


def test_an_oversized_submission_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(submissions, "MAX_BYTES", 10)
    folder = tmp_path / "ana"
    folder.mkdir()
    (folder / "submission.py").write_text("x = 1\n")  # each under ten bytes, not together
    (folder / "notes.txt").write_text("notes\n")  # (one file over: tests/test_staging.py)
    staged = stage(folder, tmp_path / "staged")
    assert staged.failure is not None and staged.failure[0] is ErrorKind.BAD_SUBMISSION
    assert render(staged.failure[1], "en") == (
        "Could not read the submission: it holds more than 0 MB; submit code only."
    )


@pytest.mark.parametrize(
    ("toml", "name", "warning"),
    [
        ('name = "  Núria Peña "', "Núria Peña", None),
        ('nombre = "Ana"', "ana", 'student.toml has no name = "..." line'),
        ("name = ", "ana", "student.toml is not valid TOML (Invalid value (at end of document))"),
    ],
)
def test_student_names(tmp_path: Path, toml: str, name: str, warning: str | None) -> None:
    (tmp_path / "ana").mkdir()
    (tmp_path / "ana" / "student.toml").write_text(toml)
    found = read_student_name(tmp_path / "ana")
    assert found.name == name
    assert (found.warning and render(found.warning, "en")) == warning


def test_a_checkpoint_round_trips_and_a_stale_or_damaged_one_is_ignored(tmp_path: Path) -> None:
    prov = replace(read_result(FIXTURES / "results" / "bea-overfit.json").provenance,
                   grader_hash=grader_hash())  # fmt: skip
    record = BLANK.failed(ErrorKind.NAN_LOSS, Message("nan_loss", {"epoch": 3}))
    record = replace(record, metrics=Metrics(1, 0, 0.5, 1, float("nan"), 1, 0.5))
    store, work = tmp_path / "partial", tmp_path / "work"
    resume.save_task(store, "scratch", prov, record, work)
    loaded = resume.load_task(store, "scratch", prov, work)
    assert loaded is not None and loaded.error_kind is ErrorKind.NAN_LOSS
    assert loaded.error_message == record.error_message and loaded.error == record.error
    assert resume.load_task(store, "scratch", replace(prov, submission_hash="x"), work) is None
    saved = json.loads((store / "scratch.json").read_text())
    (store / "scratch.json").write_text(json.dumps({**saved, "record": {"title": 3}}))
    assert resume.load_task(store, "scratch", prov, work) is None


def test_a_trained_checkpoint_needs_its_model_file(tmp_path: Path) -> None:
    prov = read_result(FIXTURES / "results" / "bea-overfit.json").provenance
    store, work = tmp_path / "partial", tmp_path / "work"
    (work / "scratch").mkdir(parents=True)
    (work / "scratch" / "model.keras").write_bytes(b"model")
    resume.save_task(store, "scratch", prov, replace(BLANK, status="ok"), work)
    shutil.rmtree(work)
    assert resume.load_task(store, "scratch", prov, work) is not None
    assert (work / "scratch" / "model.keras").read_bytes() == b"model"
    (store / "scratch" / "model.keras").unlink()
    assert resume.load_task(store, "scratch", prov, tmp_path / "other") is None
