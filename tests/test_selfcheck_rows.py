"""Self-check rows from a child's report: every problem of a task, what a skipped step waits on,
and a child killed part-way. Fast: reports are written by hand, nothing is trained."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from grader import codec
from grader.checkreport import BuiltModel, CheckReport
from grader.errors import ErrorKind, Step
from grader.messages import Message
from grader.pipeline import selfcheck
from grader.pipeline.quick import Problem, QuickFacts, TaskCheck, from_report, read_check
from grader.protocol import ErrorReport, History
from grader.records import BaseReuse
from grader.sandbox import Outcome
from grader.spec import load_assignment
from tests.conftest import FIXTURES

TINY = load_assignment(FIXTURES / "assignments" / "tiny")
OUT_OF_RANGE = {"task": "scratch", "low": 1, "high": 5}
SCRATCH_PROBLEMS = (
    ErrorReport("training_config", "training_config.out_of_range",
                {**OUT_OF_RANGE, "key": "epochs", "value": "50"}),
    ErrorReport("training_config", "training_config.out_of_range",
                {**OUT_OF_RANGE, "key": "batch_size", "value": "0"}),
    ErrorReport("wrong_output_shape", "wrong_output_shape",
                {"function": "build_scratch", "units": 2, "n": 3, "classes": "a, b, c"}),
    ErrorReport("too_many_params", "too_many_params",
                {"function": "build_scratch", "params": 300_000, "max_params": 200_000}),
)  # fmt: skip
CHECKED = ("training_config", "imports", "returns_model", "input_shape", "output_shape", "params",
           "saves", "loss")  # fmt: skip


def rows_by_step(rows: list[selfcheck.Row]) -> dict[str, list[selfcheck.Row]]:
    found: dict[str, list[selfcheck.Row]] = {}
    for row in rows:
        found.setdefault(row.check, []).append(row)
    return found


def test_every_problem_of_a_task_has_its_row_and_a_skipped_step_says_why() -> None:
    report = CheckReport(
        problems=SCRATCH_PROBLEMS,
        checked=CHECKED,
        skipped={"trains": ("output_shape",)},
        built=BuiltModel(300_000, "softmax", "sparse_categorical_crossentropy"),
    )
    rows = rows_by_step(selfcheck.task_rows(TINY.tasks["scratch"], from_report(report)))
    training = rows["TRAINING settings within the limits"]
    assert [r.status for r in training] == [selfcheck.PROBLEM] * 2
    assert "['epochs']" in training[0].detail and "['batch_size']" in training[1].detail
    assert rows["one output unit per class"][0].status == selfcheck.PROBLEM
    assert "300,000 parameters" in rows["parameters within the hard limit"][0].detail
    for passed in ("imports and defines the function", "input shape (32, 32, 3)",
                   "the model can be saved", "loss matches the output activation"):  # fmt: skip
        assert rows[passed][0].status == selfcheck.OK
    trains = rows["trains a few steps (no NaN, no shape error)"][0]
    assert trains.status == selfcheck.NOT_REACHED
    assert trains.detail == "not checked: needs 'one output unit per class' to pass first"
    # the check kinds' hints still speak: the model was built
    assert rows["parameters within the graded maximum"][0].status == selfcheck.WARNING


def test_a_failed_import_leaves_every_later_step_waiting_on_it() -> None:
    error = ErrorReport(
        "import_error", "import_error", {"file": "submission.py", "error": "ModuleNotFoundError: x"}
    )
    later = [s.value for s in Step if s not in (Step.IMPORTS, Step.SCORES)]
    report = CheckReport(problems=(error,), skipped={s: ("imports",) for s in later})
    rows = selfcheck.task_rows(TINY.tasks["scratch"], from_report(report))
    assert [r.status for r in rows] == [selfcheck.PROBLEM] + [selfcheck.NOT_REACHED] * len(later)
    assert all("needs 'imports and defines the function'" in r.detail for r in rows[1:])


def test_a_child_killed_while_training_keeps_what_it_found(tmp_path: Path) -> None:
    partial = CheckReport(problems=SCRATCH_PROBLEMS[3:], checked=CHECKED)
    (tmp_path / "check.json").write_text(json.dumps(codec.to_json(partial)))
    outcome = Outcome(returncode=-9, timed_out=True, seconds=61.0, log_tail="")
    found = read_check(SimpleNamespace(outputs=tmp_path), outcome)  # type: ignore[arg-type]
    assert [(p.step, p.kind) for p in found.problems] == [
        (Step.PARAMS, ErrorKind.TOO_MANY_PARAMS),
        (Step.TRAINS, ErrorKind.TIMEOUT),
    ]
    rows = rows_by_step(selfcheck.task_rows(TINY.tasks["scratch"], found))
    assert rows["the model can be saved"][0].status == selfcheck.OK


def test_a_child_killed_while_importing_is_a_problem_of_the_import(tmp_path: Path) -> None:
    (tmp_path / "check.json").write_text(json.dumps(codec.to_json(CheckReport())))
    outcome = Outcome(returncode=-9, timed_out=True, seconds=61.0, log_tail="")
    found = read_check(SimpleNamespace(outputs=tmp_path), outcome)  # type: ignore[arg-type]
    assert [(p.step, p.kind) for p in found.problems] == [(Step.IMPORTS, ErrorKind.TIMEOUT)]
    rows = selfcheck.task_rows(TINY.tasks["scratch"], found)
    assert rows[1].detail == "not checked: the check stopped at the problem above"


def test_a_report_naming_what_the_grader_does_not_know_is_not_trusted(tmp_path: Path) -> None:
    invented = ErrorReport("too_many_params", "made.up", {"x": 1})
    found = from_report(CheckReport(problems=(invented,)))
    assert [p.kind for p in found.problems] == [ErrorKind.GRADER_ERROR]
    (tmp_path / "check.json").write_text(json.dumps({"checked": ["flying"]}))
    outcome = Outcome(returncode=0, timed_out=False, seconds=1.0, log_tail="")
    found = read_check(SimpleNamespace(outputs=tmp_path), outcome)  # type: ignore[arg-type]
    assert [p.kind for p in found.problems] == [ErrorKind.BAD_OUTPUT]
    history = History((1.0, 1.0), (0.5, 0.5), (1.0, 1.0), (0.5, 0.5))
    found = from_report(CheckReport(checked=CHECKED, trained=history))
    assert [(p.step, p.kind) for p in found.problems] == [(Step.TRAINS, ErrorKind.BAD_OUTPUT)]


def test_self_check_hints_and_loss_rows() -> None:
    facts = QuickFacts(params=150_000, custom_layers=("a Lambda layer",), activation="sigmoid",
                       base_reuse=BaseReuse(4, 1, 1), loss="categorical_crossentropy")  # fmt: skip
    found = TaskCheck(checked=frozenset(Step), facts=facts)
    rows = {r.check: r for r in selfcheck.task_rows(TINY.tasks["scratch"], found)}
    assert rows["loss matches the output activation"].status == selfcheck.PROBLEM
    assert rows["parameters within the graded maximum"].detail == (
        "150,000 > 100,000: this check will score 0"
    )
    assert "grading refuses custom" in rows["standard Keras layers only"].detail
    transfer = {r.check: r for r in selfcheck.task_rows(TINY.tasks["transfer"], found)}
    assert transfer["reuses the pre-trained base"].status == selfcheck.PROBLEM


def test_a_grader_error_has_a_row_of_its_own() -> None:
    message = Message("grader_error", {"error": "KeyError: 'x'"})
    found = TaskCheck(problems=(Problem(Step.SCORES, ErrorKind.GRADER_ERROR, message),))
    last = selfcheck.task_rows(TINY.tasks["scratch"], found)[-1]
    assert (last.check, last.status) == ("grades without error", selfcheck.PROBLEM)
