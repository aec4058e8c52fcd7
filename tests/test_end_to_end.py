"""A real grading of a small assignment on real CIFAR-10 images: results, reuse, determinism."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from grader.cli import main
from grader.pipeline.grading import grade_assignment
from tests.conftest import FIXTURES, GOLDEN_SUBMISSIONS, fixture_submissions

pytestmark = pytest.mark.slow
TINY = FIXTURES / "assignments" / "tiny"
TASK_KEYS = {
    "status",
    "error",
    "error_kind",
    "metrics",
    "history",
    "params",
    "trainable_params",
    "epochs",
    "seconds",
    "confusion_matrix",
    "samples",
    "best_epoch",
    "layers",
    "split",
}


@pytest.fixture(scope="module")
def graded(graded_tiny: dict) -> dict:
    """The shared grading of the tiny assignment, with results as their stored JSON."""
    results = {s: r.to_json() for s, r in graded_tiny["results"].items()}
    return {**graded_tiny, "results": results}


def test_result_file_holds_everything_a_report_needs(graded: dict) -> None:
    stored = json.loads((graded["out"] / "results" / "e2e-good.json").read_text(encoding="utf-8"))
    assert stored == graded["results"]["e2e-good"]
    assert stored["name"] == "Alvaro Pequeño Mondragón"
    assert stored["status"] == "ok"
    for task_id, task in stored["tasks"].items():
        assert task.keys() >= TASK_KEYS, task_id
        assert task["status"] == "ok", task["error"]
        metrics = task["metrics"]
        assert metrics["gap"] == pytest.approx(metrics["train_accuracy"] - metrics["val_accuracy"])
        assert len(task["history"]["val_accuracy"]) == task["epochs"]
        assert 1 <= task["best_epoch"] <= task["epochs"]
        matrix = task["confusion_matrix"]
        assert sum(map(sum, matrix)) == sum(task["split"]["test"])
        correct = sum(matrix[i][i] for i in range(len(matrix)))
        assert correct / sum(map(sum, matrix)) == pytest.approx(metrics["test_accuracy"])
        assert len(task["samples"]) == 16 and task["samples"][0]["image_png"]
    assert stored["tasks"]["scratch"]["epochs"] == 3  # TRAINING overrides the default of 2
    assert stored["tasks"]["cifar10"]["batch_size"] == 16
    assert stored["tasks"]["transfer"]["label_format"] == "one_hot"
    prov = stored["provenance"]
    for key in (
        "grader_version",
        "spec_hash",
        "data_fingerprint",
        "submission_hash",
        "seed",
        "tensorflow",
        "keras",
        "date",
        "isolation",
    ):
        assert prov[key], key
    assert {c["id"] for c in stored["checks"]} >= {
        "scratch.min_test_accuracy",
        "transfer.reuses_base",
        "transfer.beats_scratch",
        "cifar10.min_test_accuracy",
    }
    assert stored["score"] == sum(c["points"] for c in stored["checks"])


def test_transfer_reuses_the_frozen_base(graded: dict) -> None:
    transfer = graded["results"]["e2e-good"]["tasks"]["transfer"]
    reuse = transfer["base_reuse"]
    assert reuse["reused_layers"] == reuse["base_layers"] - 1  # all but the cut output layer
    assert reuse["frozen_layers"] >= 3
    assert transfer["trainable_params"] < transfer["params"]
    assert graded["results"]["e2e-broken"]["tasks"]["transfer"]["base_reuse"]["reused_layers"] >= 3


def test_one_broken_task_leaves_the_others_graded(graded: dict) -> None:
    result = graded["results"]["e2e-broken"]
    assert result["status"] == "partial"
    assert result["tasks"]["cifar10"]["error_kind"] == "wrong_output_shape"
    assert (
        "End the model with Dense(10, activation='softmax')" in result["tasks"]["cifar10"]["error"]
    )
    assert result["tasks"]["scratch"]["status"] == "ok"
    assert result["tasks"]["transfer"]["status"] == "ok"


def test_summary_csv_has_a_row_per_student(graded: dict) -> None:
    with open(graded["out"] / "summary.csv", encoding="utf-8-sig") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert rows.keys() == set(GOLDEN_SUBMISSIONS)
    assert rows["e2e-broken"]["cifar10_status"] == "error"
    assert float(rows["e2e-good"]["scratch_test_accuracy"]) == pytest.approx(
        graded["results"]["e2e-good"]["tasks"]["scratch"]["metrics"]["test_accuracy"], abs=1e-4
    )


def test_unchanged_submission_is_reused_and_force_reproduces_it(
    graded: dict, data_dir: Path, session_out: Path
) -> None:
    messages: list[tuple] = []
    again = grade_assignment(
        TINY,
        submissions=graded["folder"],
        out_dir=session_out,
        data_dir=data_dir,
        only=["e2e-good"],
        progress=lambda *m: messages.append(m),
    )
    assert any("result reused" in m[2] for m in messages)
    assert again[0].to_json() == graded["results"]["e2e-good"]
    forced = grade_assignment(
        TINY,
        submissions=graded["folder"],
        out_dir=session_out,
        data_dir=data_dir,
        only=["e2e-good"],
        force=True,
    )[0].to_json()
    first = graded["results"]["e2e-good"]
    for task_id in first["tasks"]:
        assert forced["tasks"][task_id]["metrics"] == first["tasks"][task_id]["metrics"]
        assert forced["tasks"][task_id]["history"] == first["tasks"][task_id]["history"]
    assert forced["score"] == first["score"]


def test_student_code_never_sees_the_hidden_test_split(
    data_dir: Path, session_out: Path, tmp_path: Path
) -> None:
    folder = fixture_submissions(tmp_path, ["lists-inputs"])
    result = grade_assignment(
        FIXTURES / "assignments" / "one-task",
        submissions=folder,
        out_dir=session_out,
        data_dir=data_dir,
    )[0]
    error = result.tasks["scratch"].error
    assert "inputs: request.json submission x_train.npy x_val.npy y_train.npy y_val.npy" in error


def test_cli_exit_codes(tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "assignment.toml").write_text("id = 'x'\nseed = 1\nbogus = 2\n")
    assert main(["grade", "--assignment", str(tmp_path), "--data", str(data_dir)]) == 2
    assert "`bogus` must be one of the known keys" in capsys.readouterr().err
    code = main(
        [
            "grade",
            "--assignment",
            str(TINY),
            "--data",
            str(tmp_path),
            "--out",
            str(tmp_path / "out"),
            "--no-reports",
        ]
    )
    assert code == 2
    assert "No CIFAR-10 data in" in capsys.readouterr().err


def test_notebook_with_top_level_training_grades_like_the_module(graded: dict) -> None:
    notebook, module = graded["results"]["e2e-notebook"], graded["results"]["e2e-good"]
    assert notebook["name"] == "Núria Notebook"
    for task_id, task in module["tasks"].items():
        assert notebook["tasks"][task_id]["status"] == "ok"
        assert notebook["tasks"][task_id]["metrics"] == task["metrics"]
    dropped = {d["code"] for d in notebook["notebook_dropped"]}
    assert "%matplotlib inline" in dropped
    assert "plt.show()" in dropped
    assert module["notebook_dropped"] == []


def test_a_threshold_change_rescores_without_retraining(
    graded: dict, data_dir: Path, session_out: Path, tmp_path: Path
) -> None:
    """Recalibrating a threshold (or a title) re-scores the stored tasks in seconds: nothing is
    trained again, the check uses the new number, and every measured figure stays as it was."""
    changed = tmp_path / "tiny"
    shutil.copytree(TINY, changed)
    spec = changed / "assignment.toml"
    text = spec.read_text(encoding="utf-8")
    old = '{ kind = "max_params", threshold = 100_000, points = 1 }'
    assert text.count(old) == 1
    spec.write_text(text.replace(old, old.replace("100_000", "10")).replace(
        'title = "Scratch"', 'title = "Scratch CNN"'), encoding="utf-8")  # fmt: skip
    out = tmp_path / "out"
    shutil.copytree(session_out / "cache", out / "cache")  # split and base model: not retrained
    stored = graded["out"] / "results" / "e2e-good.json"
    (out / "tiny" / "results").mkdir(parents=True)
    shutil.copy(stored, out / "tiny" / "results" / "e2e-good.json")
    messages: list[tuple] = []
    again = grade_assignment(
        changed,
        submissions=graded["folder"],
        out_dir=out,
        data_dir=data_dir,
        only=["e2e-good"],
        progress=lambda *m: messages.append(m),
    )[0]
    lines = [m[2] for m in messages if m[0] != "(instructor)"]
    assert lines == ["assignment checks or titles changed: re-scored without retraining"]
    first = graded["results"]["e2e-good"]
    rescored = again.to_json()
    for task_id, task in first["tasks"].items():
        assert rescored["tasks"][task_id]["metrics"] == task["metrics"]
    assert again.tasks["scratch"].title == "Scratch CNN"
    params = next(c for c in again.checks if c.id == "scratch.max_params")
    assert params.threshold == 10 and not params.passed
    assert again.score == first["score"] - 1
    assert again.provenance.spec_hash != first["provenance"]["spec_hash"]
    assert again.provenance.training_hash == first["provenance"]["training_hash"]
    assert json.loads((out / "tiny" / "results" / "e2e-good.json").read_text())["score"] == (
        again.score
    )
