"""Each way a submission can fail becomes that task's error, with a message naming the fix.

One real grading run (real child processes, real CIFAR-10 images) covers every fixture.
Timeouts, crashes by signal and resource limits are the hostile suite's (tests/test_hostile.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.messages import Message, render
from grader.pipeline.grading import grade_assignment
from tests.conftest import FIXTURES, fixture_submissions

pytestmark = pytest.mark.slow

FAILURES = {
    "missing-function": (
        "missing_function",
        "does not define `build_scratch(input_shape, num_classes)`",
    ),
    "syntax-error": ("syntax_error", "submission.py has a syntax error at line 4"),
    "import-error": (
        "import_error",
        "(submission line 2: `import tensorflow_addons  # not installed anywhere the grader "
        "runs`): `tensorflow_addons` is not installed where grading runs. Installed besides "
        "Python's standard library: keras, tensorflow, numpy",
    ),
    "not-a-model": (
        "not_a_model",
        "returned NoneType, not a keras.Model. End the function with `return model`",
    ),
    "wrong-output": (
        "wrong_output_shape",
        "output has 10 units; this task has 3 classes "
        "(other, automobile, truck). End the model with Dense(3, "
        "activation='softmax')",
    ),
    "wrong-input": ("wrong_input_shape", "input shape is (28, 28, 1); images here are (32, 32, 3)"),
    "too-many-params": (
        "too_many_params",
        "has 1,574,915 parameters; this task allows at most 100,000",
    ),
    "nan-loss": ("nan_loss", "The training loss became NaN at epoch 1"),
    "bad-training": (
        "training_config",
        "TRAINING['scratch']['epochs'] must be an integer from 1 to 5",
    ),
    "exits-early": ("crash", "it exited with code 3 before saving the model"),
    "bad-signature": ("bad_signature", "`build_scratch` must accept (input_shape, num_classes)"),
    "build-raises": ("build_error", "raised ValueError"),
    "custom-layer": ("custom_objects", "no Lambda layers and no custom layer classes"),
    "missing-file": ("missing_file", "has no submission.py"),
}
LABEL_FORMATS = {"sparse-labels": "int", "onehot-labels": "one_hot", "uncompiled": "int"}


@pytest.fixture(scope="module")
def results(data_dir: Path, session_out: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = fixture_submissions(tmp_path_factory.mktemp("failures"), [*FAILURES, *LABEL_FORMATS])
    graded = grade_assignment(
        FIXTURES / "assignments" / "one-task",
        submissions=folder,
        out_dir=session_out,
        data_dir=data_dir,
        jobs_count=2,
    )
    return {r.student: r.to_json() for r in graded}  # as stored in the result files


@pytest.mark.parametrize("student", list(FAILURES))
def test_failure_is_reported_with_its_fix(results: dict, student: str) -> None:
    kind, message = FAILURES[student]
    task = results[student]["tasks"]["scratch"]
    assert task["status"] == "error"
    assert task["error_kind"] == kind, task["error"]
    assert message in task["error"]
    assert results[student]["score"] == 0
    assert results[student]["checks"][0]["observed"] is None


@pytest.mark.parametrize("student", list(LABEL_FORMATS))
def test_label_format_follows_the_students_loss(results: dict, student: str) -> None:
    task = results[student]["tasks"]["scratch"]
    assert task["status"] == "ok", task["error"]
    assert task["label_format"] == LABEL_FORMATS[student]
    assert 0.0 <= task["metrics"]["test_accuracy"] <= 1.0
    assert len(task["history"]["val_loss"]) == task["epochs"]


def test_training_settings_come_from_the_submission(results: dict) -> None:
    task = results["uncompiled"]["tasks"]["scratch"]
    assert (task["epochs"], task["batch_size"], task["optimizer"]) == (3, 8, "adam")
    assert results["onehot-labels"]["tasks"]["scratch"]["optimizer"] == "rmsprop"


def test_failure_is_stored_by_message_id_for_every_language(results: dict) -> None:
    stored = results["too-many-params"]["tasks"]["scratch"]["error_message"]
    message = Message(stored["id"], stored["params"])
    assert render(message, "en") == results["too-many-params"]["tasks"]["scratch"]["error"]
    assert "tiene 1.574.915 parámetros; esta tarea permite como máximo 100.000" in render(
        message, "es"
    )


def test_no_error_names_a_path_of_the_grading_machine(results: dict) -> None:
    for student in FAILURES:
        error = results[student]["tasks"]["scratch"]["error"]
        assert str(FIXTURES.parent.parent) not in error and "site-packages" not in error, error


def test_failed_task_keeps_its_log(results: dict) -> None:
    assert "tensorflow_addons" in results["import-error"]["tasks"]["scratch"]["error"]
    assert results["exits-early"]["tasks"]["scratch"]["log_tail"] is not None
