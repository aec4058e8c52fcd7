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
    # the table lists what the notebook conversion dropped, so nothing is silently lost
    assert any("plt.show()" in r.detail for r in rows if r.status == selfcheck.WARNING)
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
