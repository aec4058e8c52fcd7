"""Real student code graded end to end: real children, the sandbox, real CIFAR-10 images.

The functional transfer idiom (`keras.Model(base_model.input, base_model.layers[-2]
.output)`) grades and holds the pre-trained layers; code that cannot run here gets its real
cause as the task's error (kind and message id, as stored in the result).
tests/test_transfer_idioms.py and tests/test_diagnoses.py cover every case in-process.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from grader import sandbox
from grader.pipeline.grading import grade_assignment
from tests.conftest import FIXTURES, fixture_submissions

pytestmark = pytest.mark.slow
STUDENTS = ["functional-transfer", "subclassed-model", "private-keras", "imagenet-weights",
            "keras2-augmentation"]  # fmt: skip
EXPECTED = {  # (student, task): (error kind, message id)
    ("private-keras", "scratch"): ("not_a_model", "not_a_model.private_keras"),
    ("private-keras", "transfer"): ("build_error", "build_error.private_keras"),
    ("imagenet-weights", "transfer"): ("build_error", "build_error.no_network.weights"),
    **{
        ("keras2-augmentation", task): ("import_error", "import_error.keras2_augmentation")
        for task in ("scratch", "transfer", "cifar10")
    },
}


@pytest.fixture(scope="module")
def graded(data_dir: Path, session_out: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = fixture_submissions(tmp_path_factory.mktemp("real"), STUDENTS)
    results = grade_assignment(
        FIXTURES / "assignments" / "tiny",
        submissions=folder,
        out_dir=session_out,
        data_dir=data_dir,
        jobs_count=2,
    )
    return {r.student: r for r in results}


def test_the_functional_idiom_on_base_input_and_output_grades(graded: dict) -> None:
    result = graded["functional-transfer"]
    for task_id, task in result.tasks.items():
        assert task.status == "ok", (task_id, task.error)
    reuse = next(c for c in result.checks if c.kind == "reuses_base")
    assert reuse.passed and reuse.observed == 3, reuse  # conv1, conv2, features: unchanged


def test_a_subclassed_model_grades_as_its_functional_model_in_safe_mode(graded: dict) -> None:
    for task_id, task in graded["subclassed-model"].tasks.items():
        assert task.status == "ok", (task_id, task.error)
        assert task.evaluated_in == "safe_mode", task_id


@pytest.mark.parametrize(("student", "task"), list(EXPECTED))
def test_the_real_cause_is_the_tasks_error(graded: dict, student: str, task: str) -> None:
    if student == "imagenet-weights" and sandbox.detect().level == sandbox.RLIMITS:
        pytest.skip("the rlimits fallback does not cut the network (see README, Isolation)")
    record = graded[student].tasks[task]
    kind, message_id = EXPECTED[student, task]
    assert record.status == "error"
    assert record.error_kind is not None and record.error_kind.code == kind, record.error
    assert record.error_message is not None and record.error_message.id == message_id
    assert not re.search(r"(?<![\w.])/(?:[\w.-]+/)+", record.error), record.error  # no path
