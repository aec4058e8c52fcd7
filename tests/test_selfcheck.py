"""Student self-check: same sandbox and steps as grading, one table, a non-zero exit on problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.cli import main
from grader.pipeline import selfcheck
from grader.pipeline.grading import grade_assignment
from grader.records import Result
from tests.conftest import FIXTURES, fixture_submissions

pytestmark = pytest.mark.slow
TINY = FIXTURES / "assignments" / "tiny"
SUBMISSIONS = FIXTURES / "submissions"


def run_check(
    path: Path, data_dir: Path, out: Path, full: bool = False
) -> tuple[list, Result | None]:
    return selfcheck.check_submission(
        path, assignment_dir=TINY, out_dir=out, data_dir=data_dir, full=full
    )


def statuses(rows: list, task: str) -> dict[str, selfcheck.Row]:
    return {r.check: r for r in rows if r.task == task}


def test_good_notebook_has_no_problem(data_dir: Path, session_out: Path) -> None:
    rows, _ = run_check(SUBMISSIONS / "e2e-notebook", data_dir, session_out)
    assert [r for r in rows if r.status == selfcheck.PROBLEM] == []
    # the table lists what the notebook conversion dropped, one row per reason, so nothing is
    # silently lost and the list stays short (cell 5's six training and plotting lines: one row)
    warnings = [r.detail for r in rows if r.status == selfcheck.WARNING]
    assert any(d.startswith("cell 5, 6 lines: (x_train, y_train)") for d in warnings), warnings
    assert statuses(rows, "transfer")["reuses the pre-trained base"].status == selfcheck.OK
    assert {r.task for r in rows} == {"-", "scratch", "transfer", "cifar10"}


def test_each_mistake_is_named_with_its_fix(data_dir: Path, session_out: Path) -> None:
    rows, _ = run_check(
        SUBMISSIONS / "check-broken-notebook/submission.ipynb", data_dir, session_out
    )
    scratch = statuses(rows, "scratch")["loss matches the output activation"]
    assert scratch.status == selfcheck.PROBLEM
    assert "activation='softmax'" in scratch.detail
    transfer = statuses(rows, "transfer")["reuses the pre-trained base"]
    assert transfer.status == selfcheck.PROBLEM
    assert "base_model.layers[:-1]" in transfer.detail
    cifar = statuses(rows, "cifar10")
    assert cifar["imports and defines the function"].status == selfcheck.PROBLEM
    assert "does not define `build_cifar10(input_shape, num_classes)`" in (
        cifar["imports and defines the function"].detail
    )
    assert cifar["returns a Keras model"].status == selfcheck.NOT_REACHED


def test_every_independent_problem_of_every_task_in_one_run(
    data_dir: Path, session_out: Path
) -> None:
    """Grading stops each task at its first problem; the self-check names them all at once
    and says which step waits on which (the old check needed a round per problem)."""
    rows, _ = run_check(SUBMISSIONS / "check-many-problems", data_dir, session_out)
    problems = {(r.task, r.check, r.detail) for r in rows if r.status == selfcheck.PROBLEM}
    expected = {
        ("scratch", "TRAINING settings within the limits", "['epochs'] must be an integer"),
        ("scratch", "TRAINING settings within the limits", "['batch_size'] must be an integer"),
        ("scratch", "parameters within the hard limit", "295,299 parameters"),
        ("scratch", "loss matches the output activation", "sigmoid output with a categorical"),
        ("transfer", "TRAINING settings within the limits", "unknown key 'learning_rate'"),
        ("transfer", "one output unit per class", "output has 2 units"),
        ("transfer", "reuses the pre-trained base", "holds 0 of the base's"),
        ("transfer", "standard Keras layers only", "uses a Lambda layer"),
        ("cifar10", "input shape (32, 32, 3)", "input shape is (28, 28, 1)"),
        ("cifar10", "one output unit per class", "output has 3 units"),
        ("cifar10", "a loss the grader can feed labels to", "loss='cosine_similarity'"),
    }
    for task, check, says in expected:
        assert any(t == task and c == check and says in d for t, c, d in problems), (task, says)
    assert len(problems) == len(expected)
    trains = "trains a few steps (no NaN, no shape error)"
    # too many parameters and a wrong TRAINING do not stop the model from being trained
    assert statuses(rows, "scratch")[trains].status == selfcheck.OK
    assert statuses(rows, "transfer")[trains].detail == (
        "not checked: needs 'one output unit per class' to pass first"
    )
    assert statuses(rows, "cifar10")[trains].detail == (
        "not checked: needs 'input shape (32, 32, 3)', 'one output unit per class', "
        "'a loss the grader can feed labels to' to pass first"
    )


def test_a_full_check_also_names_what_grading_never_reached(
    data_dir: Path, session_out: Path
) -> None:
    """Grading stops `scratch` at TRAINING; the full check still names its other problems."""
    rows, result = run_check(SUBMISSIONS / "check-many-problems", data_dir, session_out, True)
    assert result is not None and not result.tasks["scratch"].ok
    problems = [(r.task, r.check, r.detail) for r in rows if r.status == selfcheck.PROBLEM]
    assert [p for p in problems if p[0] == "scratch" and "must be an integer" in p[2]]
    assert [p for p in problems if p[0] == "scratch" and "295,299 parameters" in p[2]]
    assert [p for p in problems if p[0] == "cifar10" and "loss='cosine_similarity'" in p[2]]
    first = result.tasks["scratch"].error
    assert sum(p[2] == first for p in problems) == 1  # the first problem is not repeated


def test_wrong_outputs_and_exit_code(data_dir: Path, session_out: Path, capsys) -> None:
    args = ["check", str(SUBMISSIONS / "e2e-broken"), "--assignment", str(TINY), "--out",
            str(session_out), "--data", str(data_dir)]  # fmt: skip
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "one output unit per class" in out
    assert "End the model with Dense(10, activation='softmax')" in out
    assert "problem(s) found" in out


def test_full_check_grades_on_the_validation_split_like_the_instructor(
    data_dir: Path, session_out: Path, tmp_path: Path
) -> None:
    folder = fixture_submissions(tmp_path, ["e2e-good"])
    graded = grade_assignment(TINY, submissions=folder, out_dir=session_out, data_dir=data_dir)[0]
    rows, checked = run_check(folder / "e2e-good", data_dir, session_out, full=True)
    assert checked is not None and checked.mode == "check"
    assert (session_out / "tiny" / "check" / "results" / "e2e-good.json").is_file()
    assert {r.check for r in rows} >= {c.required for c in checked.checks}
    for task_id, task in graded.tasks.items():
        mine = checked.tasks[task_id]
        assert mine.metrics is not None and task.metrics is not None
        assert mine.confusion_matrix is not None
        # "test" figures of a self-check are validation figures: the test split stays hidden
        assert sum(map(sum, mine.confusion_matrix)) == sum(mine.split.val)
        assert mine.metrics.test_accuracy == mine.metrics.val_accuracy
        # and they equal what the instructor's run records for the validation split
        assert mine.metrics.val_accuracy == task.metrics.val_accuracy
        assert mine.metrics.train_accuracy == task.metrics.train_accuracy


@pytest.mark.parametrize(
    ("assignment", "status", "says"),
    [
        (FIXTURES / "hostile" / "assignment", selfcheck.PROBLEM, "grading refuses custom"),
        (FIXTURES / "custom" / "assignment", selfcheck.WARNING, "scored in your sandbox"),
    ],
)
def test_custom_layers_are_flagged_before_grading(
    data_dir: Path, session_out: Path, assignment: Path, status: str, says: str
) -> None:
    rows, _ = selfcheck.check_submission(
        FIXTURES / "custom" / "lambda-layer",
        assignment_dir=assignment,
        out_dir=session_out,
        data_dir=data_dir,
    )
    row = statuses(rows, "scratch")["standard Keras layers only"]
    assert row.status == status
    assert "a Lambda layer" in row.detail and says in row.detail
