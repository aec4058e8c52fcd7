"""Time limits: a CPU-time budget, not the clock; a stopped training scored from its last
completed epoch (or zero, as the assignment says), flagged in the result and the reports.

The budget itself runs in a real child here (`Budget` and its watchdog); whole gradings of a
model over its budget and of one that sleeps are in tests/test_cpu_budget.py.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from grader import verdicts
from grader.checkreport import StepTimes
from grader.console import TRAINED, Cell, next_cell
from grader.errors import ErrorKind
from grader.messages import render
from grader.pipeline import timelimit
from grader.records import SCHEMA, Result, upgrade
from grader.report.context import student_context, summary_context
from grader.sandbox import Outcome
from grader.spec import Limits, SpecError, load_assignment
from tests.conftest import FIXTURES, ROOT
from tests.report_data import load, with_messages

BUDGET_SPEC = FIXTURES / "assignments" / "cpu-budget"


@pytest.fixture(scope="module")
def limits() -> Limits:
    return load_assignment(BUDGET_SPEC).tasks["scratch"].limits


def test_max_seconds_is_read_as_seconds_of_both_training_threads(limits: Limits) -> None:
    assert timelimit.THREADS == 2  # sandbox.levels.NUMERICS pins TF_NUM_INTRAOP_THREADS
    assert (limits.max_seconds, limits.startup_seconds) == (5, 60)
    assert timelimit.cpu_budget(limits) == 10.0
    assert timelimit.wall_backstop(limits) == 60 + timelimit.WALL_FACTOR * 5
    # the child's RLIMIT_CPU: budget, start-up at two threads, the grader's saves
    assert timelimit.process_cpu(limits) == 10 + 2 * 60 + 120


def test_which_limit_stopped_a_child() -> None:
    def outcome(code: int, timed_out: bool = False) -> Outcome:
        return Outcome(code, timed_out, 1.0, "")

    assert timelimit.stopped_by(outcome(-signal.SIGXCPU)) == "cpu"
    assert timelimit.stopped_by(outcome(-signal.SIGKILL, timed_out=True)) == "wall"
    assert timelimit.stopped_by(outcome(0)) is None
    assert timelimit.stopped_by(outcome(-signal.SIGKILL)) is None  # a crash, not a time limit


BUDGET_CHILD = """
import sys, time
from grader.worker.budget import Budget
budget = Budget(1.5)
time.sleep(2)  # waiting is not charged
with budget.paused():  # nor is the grader's own work
    begin = time.process_time()
    while time.process_time() - begin < 1:
        pass
print(budget.charged(), flush=True)
while True:  # computing is, until the watchdog stops the process
    pass
"""


def test_the_budget_charges_cpu_time_only_and_ends_the_process_with_sigxcpu() -> None:
    done = subprocess.run(
        [sys.executable, "-c", BUDGET_CHILD], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == -signal.SIGXCPU, done.stderr
    assert float(done.stdout.split()[0]) < 0.3  # 2 s asleep and 1 s paused: not charged


def scored(result: Result, task_id: str, epochs: int, planned: int) -> Result:
    task = replace(result.tasks[task_id], epochs=epochs, planned_epochs=planned, cpu_seconds=9.9)
    return replace(result, tasks={**result.tasks, task_id: task})


def test_a_stopped_training_is_scored_and_flagged(limits: Limits) -> None:
    result = scored(with_messages(load("alvaro-pequeno")), "scratch", 3, 10)
    task = timelimit.stopped(result.tasks["scratch"], "cpu", limits)
    assert task.ok and task.stopped_by == "cpu" and task.epochs == 3
    assert task.limit_note is not None and task.limit_message is not None
    assert (
        "Training stopped at this task's CPU-time budget (10 CPU-seconds: max_seconds = 5 s"
        " × 2 threads) after 3 of 10 epochs; the model after epoch 3 was scored" in task.limit_note
    )
    result = replace(result, tasks={**result.tasks, "scratch": task})
    page = student_context(result)
    notice = next(t["stopped"] for t in page["tasks"] if t["id"] == "scratch")
    assert notice == task.limit_note
    assert all(t["stopped"] == "" for t in page["tasks"] if t["id"] != "scratch")
    summary = summary_context([result], "es")
    assert summary["stopped"] == [("alvaro-pequeno", "scratch", render(task.limit_message, "es"))]
    assert "tras 3 de 10 épocas; se puntuó el modelo tras la época 3" in summary["stopped"][0][2]


def test_an_assignment_can_give_a_stopped_training_zero(limits: Limits) -> None:
    result = scored(with_messages(load("alvaro-pequeno")), "scratch", 3, 10)
    zero = replace(limits, on_timeout="zero")
    task = timelimit.stopped(result.tasks["scratch"], "wall", zero)
    assert (task.status, task.error_kind, task.stopped_by) == ("timeout", ErrorKind.TIMEOUT, "wall")
    assert task.epochs == 3  # still recorded
    assert (
        task.error is not None
        and "stopped by the wall-clock backstop (90 s) after 3 of 10" in task.error
        and "gives no points to a model that does not finish" in task.error
    )
    spec = load_assignment(BUDGET_SPEC)
    graded = verdicts.evaluate_checks(spec, {"scratch": task})
    assert [(c.points, c.observed) for c in graded] == [(0.0, None)]


def test_stopped_before_one_epoch_there_is_nothing_to_score(limits: Limits) -> None:
    kind, cpu = timelimit.no_epoch("cpu", limits)
    assert kind is ErrorKind.TIMEOUT
    assert "used up this task's CPU-time budget (10 CPU-seconds" in render(cpu, "en")
    assert "not the clock" in render(cpu, "en")
    wall = timelimit.no_epoch("wall", limits)[1]
    assert "within the wall-clock backstop of 90 s, although it had CPU time left" in render(
        wall, "en"
    )
    assert "presupuesto" not in render(wall, "es") and "90 s" in render(wall, "es")


def test_on_timeout_is_read_from_the_spec(tmp_path: Path) -> None:
    text = (BUDGET_SPEC / "assignment.toml").read_text()
    assert load_assignment(BUDGET_SPEC).tasks["scratch"].limits.on_timeout == "score"
    (tmp_path / "zero").mkdir()
    (tmp_path / "zero" / "assignment.toml").write_text(
        text.replace("startup_seconds = 60", 'startup_seconds = 60, on_timeout = "zero"')
    )
    assert load_assignment(tmp_path / "zero").tasks["scratch"].limits.on_timeout == "zero"
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "assignment.toml").write_text(
        text.replace("startup_seconds = 60", 'startup_seconds = 60, on_timeout = "half"')
    )
    with pytest.raises(SpecError, match=r"on_timeout.*one of \['score', 'zero'\]"):
        load_assignment(tmp_path / "bad")


def test_a_result_of_schema_4_reads_as_not_measured() -> None:
    data = json.loads(json.dumps(load("alvaro-pequeno").to_json()))
    data["schema"] = data["provenance"]["schema"] = 4
    for task in data["tasks"].values():
        for key in ("planned_epochs", "cpu_seconds", "stopped_by", "limit_note", "limit_message"):
            del task[key]
    upgraded = upgrade(data)
    assert (upgraded["schema"], upgraded["provenance"]["schema"]) == (SCHEMA, SCHEMA) == (6, 6)
    task = Result.from_json(data).tasks["scratch"]
    assert (task.planned_epochs, task.cpu_seconds, task.stopped_by) == (None, None, None)


def test_the_console_shows_a_stopped_training_as_trained() -> None:
    cell = next_cell(Cell(), "trained: ok (time limit: epoch 3/10 scored)")
    assert (cell.state, cell.detail, cell.fresh) == (TRAINED, "time limit: epoch 3/10 scored", True)
    assert next_cell(Cell(), "trained: ok") == Cell(TRAINED, "", True)


def times(train_step: float, epochs: int = 10) -> StepTimes:
    return StepTimes(first_train=2.0, train_step=train_step, first_val=0.5, val_step=0.1,
                     epochs=epochs, batch_size=32)  # fmt: skip


@pytest.mark.parametrize(
    ("train_step", "status", "expected"),
    [
        (0.01, "ok", "about 6 of 10 CPU-seconds (10 epochs of about 0.4)"),
        (0.025, "warning", "about 9 of 10 CPU-seconds (10 epochs of about 0.7): close to"),
        (0.05, "warning", "training would stop after about 6 epochs and the model after"),
    ],
)
def test_the_self_check_estimate_against_the_budget(
    limits: Limits, train_step: float, status: str, expected: str
) -> None:
    # 600 training images: 19 steps of 32; 60 validation images: 2 steps; tracing once
    epoch, total = timelimit.estimate(times(train_step), 600, 60)
    assert epoch == pytest.approx(19 * train_step + 2 * 0.1)
    assert total == pytest.approx(10 * epoch + (2.0 - train_step) + (0.5 - 0.1))
    verdict, message = timelimit.estimate_verdict(times(train_step), limits, 600, 60)
    assert verdict == status
    assert expected in render(message, "en")


def test_the_self_check_says_when_over_the_budget_earns_zero(limits: Limits) -> None:
    zero = replace(limits, on_timeout="zero")
    verdict, message = timelimit.estimate_verdict(times(0.05), zero, 600, 60)
    assert verdict == "problem"
    assert "gives no points to a model that does not finish" in render(message, "en")
    assert "no da puntos" in render(message, "es")


def test_step_costs_leave_out_the_first_step_which_traces() -> None:
    from grader.worker.budget import _steps

    assert _steps([10.0, 12.0, 12.1, 12.2]) == (2.0, pytest.approx(0.1))
    assert _steps([10.0, 11.5]) == (1.5, 1.5)  # one step: it stands for the others (more)
    assert _steps([10.0]) == (0.0, 0.0)


def test_an_epochs_own_cost_counts_once_an_epoch(limits: Limits) -> None:
    plain = timelimit.estimate(times(0.01), 600, 60)
    with_overhead = timelimit.estimate(replace(times(0.01), epoch_overhead=0.1), 600, 60)
    assert with_overhead[0] == pytest.approx(plain[0] + 0.1)
    assert with_overhead[1] == pytest.approx(plain[1] + 10 * 0.1)
