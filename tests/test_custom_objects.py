"""`allow_custom_objects = true`: models with custom layers are scored in the student's sandbox.

Three submissions build the same network (a halving step, a small CNN): one from Keras'
layers (scored in safe mode), one with its own layer class and one with a Lambda layer
(both scored in the student's sandbox). Same seed, same network: the same numbers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.pipeline.grading import grade_assignment
from grader.report import render_student_report
from tests.conftest import FIXTURES
from tests.test_report import pdf_text

pytestmark = pytest.mark.slow
CUSTOM = FIXTURES / "custom"
TWINS = ("standard-twin", "custom-layer", "lambda-layer")


@pytest.fixture(scope="module")
def graded(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("custom")
    out, folder = tmp / "out", tmp / "submissions"
    for name in (*TWINS, "custom-snoop"):
        shutil.copytree(CUSTOM / name, folder / name)
    snoop = folder / "custom-snoop" / "submission.py"
    secrets = [f"{out}/cache/**/y_*.npy", f"{out}/**/results/*.json"]
    snoop.write_text(snoop.read_text().replace("__TARGETS__", '", "'.join(secrets)))
    results = grade_assignment(
        CUSTOM / "assignment", submissions=folder, out_dir=out, data_dir=data_dir, jobs_count=2
    )
    return {r.student: r.to_json() for r in results}  # as stored in the result files


def scratch(graded: dict, student: str) -> dict:
    return graded[student]["tasks"]["scratch"]


def test_standard_layers_are_still_scored_without_student_code(graded: dict) -> None:
    assert scratch(graded, "standard-twin")["status"] == "ok"
    assert scratch(graded, "standard-twin")["evaluated_in"] == "safe_mode"


@pytest.mark.parametrize("student", ["custom-layer", "lambda-layer"])
def test_custom_layers_are_scored_in_the_sandbox_with_the_same_numbers(
    graded: dict, student: str
) -> None:
    task, twin = scratch(graded, student), scratch(graded, "standard-twin")
    assert task["status"] == "ok", task["error"]
    assert task["evaluated_in"] == "student_sandbox"
    assert task["metrics"] == twin["metrics"]
    assert task["confusion_matrix"] == twin["confusion_matrix"]
    assert [s["pred"] for s in task["samples"]] == [s["pred"] for s in twin["samples"]]
    assert task["params"] == twin["params"]
    assert len(task["layers"]) == len(twin["layers"])


def test_the_sandboxed_scoring_child_sees_no_labels(graded: dict) -> None:
    task = scratch(graded, "custom-snoop")
    assert task["status"] == "error"
    assert task["evaluated_in"] == "student_sandbox"
    assert "found=[]" in task["error"], task["error"]


def test_the_report_says_where_the_model_was_scored(graded: dict, tmp_path: Path) -> None:
    notice = "Scored in your sandbox"
    custom = render_student_report(graded["custom-layer"], tmp_path)[0]
    standard = render_student_report(graded["standard-twin"], tmp_path)[0]
    assert notice in pdf_text(custom).replace("\n", " ")
    assert notice not in pdf_text(standard)
