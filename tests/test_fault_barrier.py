"""A grader failure on one submission is that submission's result; the batch goes on."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from grader.errors import ErrorKind, Fault
from grader.pipeline import submission
from grader.pipeline.grading import grade_assignment
from tests.conftest import FIXTURES, fixture_submissions

pytestmark = pytest.mark.slow  # reads the real CIFAR-10 archive (no training)
ONE_TASK = FIXTURES / "assignments" / "one-task"


def test_a_grader_bug_fails_one_submission_and_is_never_reused(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = fixture_submissions(tmp_path, ["missing-file"])
    (folder / "missing-file").rename(folder / "boom")
    fixture_submissions(tmp_path, ["missing-file"])
    real_stage = submission.stage

    def stage(source: Path, target: Path) -> object:
        if source.name == "boom":
            raise RuntimeError("simulated grader bug")
        return real_stage(source, target)

    monkeypatch.setattr(submission, "stage", stage)
    out = tmp_path / "out"
    args = {"submissions": folder, "out_dir": out, "data_dir": data_dir}
    results = {r.student: r for r in grade_assignment(ONE_TASK, **args)}

    boom, other = results["boom"], results["missing-file"]
    task = boom.tasks["scratch"]
    assert task.error_kind is ErrorKind.GRADER_ERROR and task.error_kind.fault is Fault.GRADER
    assert "RuntimeError: simulated grader bug" in task.error
    assert "not a problem with your submission" in task.error
    assert "Traceback" in task.log_tail and "simulated grader bug" in task.log_tail
    assert other.tasks["scratch"].error_kind is ErrorKind.MISSING_FILE  # the next one graded
    with open(out / "one-task" / "summary.csv", encoding="utf-8-sig") as fh:
        assert {row["student"] for row in csv.DictReader(fh)} == {"boom", "missing-file"}

    messages: list[tuple[str, str, str]] = []
    grade_assignment(ONE_TASK, **args, progress=lambda *m: messages.append(m))
    reused = {student for student, _, text in messages if "result reused" in text}
    assert reused == {"missing-file"}  # the grader-error result is graded again
