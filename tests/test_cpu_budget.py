"""Training is limited by CPU time, in real children: a model over its budget is scored from
its last completed epoch and flagged; code that sleeps is not charged for the sleep; the
self-check estimates the training time from one short epoch.

The fixture task allows 10 CPU-seconds (max_seconds = 5 at two threads). `overruns-budget`
asks for 40 epochs of about 0.7 CPU-seconds each; `sleeps-then-trains` sleeps 30 s in its
build function, then trains 2 short epochs. The two are graded side by side (two children
competing for the cores): the budget does not care.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.pipeline import selfcheck
from grader.pipeline.grading import grade_assignment
from grader.records import Result
from grader.report.context import student_context
from tests.conftest import FIXTURES, fixture_submissions

pytestmark = pytest.mark.slow
ASSIGNMENT = FIXTURES / "assignments" / "cpu-budget"
BUDGET = 10.0


@pytest.fixture(scope="module")
def graded(data_dir: Path, session_out: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = fixture_submissions(
        tmp_path_factory.mktemp("budget"), ["overruns-budget", "sleeps-then-trains"]
    )
    results = grade_assignment(
        ASSIGNMENT, submissions=folder, out_dir=session_out, data_dir=data_dir, jobs_count=2
    )
    return {r.student: r for r in results}


def test_a_model_over_its_budget_is_scored_from_its_last_completed_epoch(graded: dict) -> None:
    result: Result = graded["overruns-budget"]
    task = result.tasks["scratch"]
    assert task.status == "ok", task.error
    assert task.stopped_by == "cpu"
    assert task.planned_epochs == 40 and 1 <= task.epochs < 40
    assert task.history is not None and len(task.history["loss"]) == task.epochs
    assert task.cpu_seconds is not None and task.cpu_seconds <= BUDGET  # at its last epoch
    assert task.metrics is not None  # the checkpoint was scored, on the hidden test split
    assert result.checks[0].observed == task.metrics.test_accuracy
    assert result.score == result.checks[0].points
    note = f"after {task.epochs} of 40 epochs; the model after epoch {task.epochs} was scored"
    assert task.limit_note is not None and note in task.limit_note
    page = student_context(result)
    assert page["tasks"][0]["stopped"] == task.limit_note  # flagged in the report


def test_sleeping_is_not_charged_to_the_budget(graded: dict) -> None:
    task = graded["sleeps-then-trains"].tasks["scratch"]
    assert task.status == "ok", task.error
    assert task.stopped_by is None and task.epochs == task.planned_epochs == 2
    assert task.seconds > 30  # wall clock: the sleep, then the training
    assert task.cpu_seconds is not None and task.cpu_seconds < BUDGET / 2


def test_the_self_check_estimates_the_training_against_the_budget(
    data_dir: Path, session_out: Path
) -> None:
    rows, _ = selfcheck.check_submission(
        FIXTURES / "submissions" / "overruns-budget",
        assignment_dir=ASSIGNMENT,
        out_dir=session_out,
        data_dir=data_dir,
    )
    row = next(r for r in rows if r.check == "training time (CPU budget)")
    assert row.status == selfcheck.WARNING
    assert "for 40 epochs of about" in row.detail
    assert "over this task's CPU-time budget (10 CPU-seconds" in row.detail
    fits = int(row.detail.split("stop after about ")[1].split()[0])
    assert 1 <= fits < 40
