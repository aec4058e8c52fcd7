"""Crash safety: finished tasks survive an interruption; Ctrl-C stops children and says how
to resume."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.pipeline import submission
from grader.pipeline.grading import grade_assignment
from grader.sandbox import uids
from tests.conftest import FIXTURES, ROOT, fixture_submissions

pytestmark = pytest.mark.slow
ONE_TASK = FIXTURES / "assignments" / "one-task"


def test_a_run_killed_after_training_resumes_without_retraining(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = fixture_submissions(tmp_path, ["uncompiled"])
    out = tmp_path / "out"

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # as if the grader died between training and scoring

    with monkeypatch.context() as patched:
        patched.setattr(submission, "evaluate_tasks", crash)
        with pytest.raises(KeyboardInterrupt):
            grade_assignment(ONE_TASK, submissions=folder, out_dir=out, data_dir=data_dir)
    assert not (out / "one-task" / "results" / "uncompiled.json").exists()
    assert (out / "one-task" / "partial" / "grade" / "uncompiled" / "scratch.json").is_file()
    messages: list[tuple] = []
    result = grade_assignment(ONE_TASK, submissions=folder, out_dir=out, data_dir=data_dir,
                              progress=lambda *m: messages.append(m))[0]  # fmt: skip
    assert ("uncompiled", "scratch", "trained in an earlier run: reused") in messages
    assert ("uncompiled", "scratch", "training") not in messages
    assert result.tasks["scratch"].status == "ok", result.tasks["scratch"].log_tail
    assert not (out / "one-task" / "partial" / "grade" / "uncompiled").exists()


def test_ctrl_c_kills_children_and_says_how_to_resume(data_dir: Path, tmp_path: Path) -> None:
    folder = fixture_submissions(tmp_path, ["timeout"])
    command = [sys.executable, "-m", "grader", "grade", "--assignment", str(ONE_TASK),
               "--submissions", str(folder), "--out", str(tmp_path / "out"), "--data",
               str(data_dir), "--no-reports"]  # fmt: skip
    before = set(_throwaway_processes())
    grader = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    time.sleep(12)  # the child is importing TensorFlow or sleeping in build_scratch by now
    grader.send_signal(signal.SIGINT)
    _, stderr = grader.communicate(timeout=60)
    assert grader.returncode == 130
    assert "run the same command again to resume" in stderr
    assert set(_throwaway_processes()) - before == set()
    assert not list((tmp_path / "out" / "one-task" / "results").glob("*.json"))


def _throwaway_processes() -> list[int]:
    throwaway = range(uids.FIRST_UID, uids.FIRST_UID + 64)
    return [pid for uid in throwaway for pid in uids.pids_of_uid(uid)]
