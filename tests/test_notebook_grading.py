"""Student-style notebooks graded for real (issue 11): real sandboxed children, real CIFAR-10.

A notebook that plots with seaborn, sklearn and pandas and imports Colab's drive is graded;
ImageDataGenerator augmentation is named, not fatal; a function using a left-out line's name,
an import nothing installed provides, and a bad call are each reported at their cell and line.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.pipeline.grading import grade_assignment
from grader.worker.packages import available
from tests.conftest import FIXTURES

pytestmark = pytest.mark.slow
NOTEBOOKS = ["plots-seaborn", "augmentation", "dropped-name", "used-missing-module",
             "build-raises"]  # fmt: skip


@pytest.fixture(scope="module")
def results(data_dir: Path, session_out: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("notebooks") / "submissions"
    for name in NOTEBOOKS:
        (folder / name).mkdir(parents=True)
        shutil.copyfile(
            FIXTURES / "notebooks" / f"{name}.ipynb", folder / name / "submission.ipynb"
        )
    graded = grade_assignment(
        FIXTURES / "assignments" / "one-task",
        submissions=folder,
        out_dir=session_out,
        data_dir=data_dir,
        jobs_count=2,
    )
    return {r.student: r.to_json() for r in graded}  # as stored in the result files


def scratch(results: dict, student: str) -> dict:
    return results[student]["tasks"]["scratch"]


@pytest.mark.parametrize("student", ["plots-seaborn", "augmentation"])
def test_plots_and_generators_outside_the_functions_do_not_stop_grading(
    results: dict, student: str
) -> None:
    task = scratch(results, student)
    assert task["status"] == "ok", task["error"]
    assert results[student]["score"] == 1  # min_test_accuracy 0.1: any working model


def test_colab_import_is_left_out_by_name(results: dict) -> None:
    first = results["plots-seaborn"]["notebook_dropped"][0]
    assert (first["cell"], first["line"], first["code"]) == (1, 1, "from google.colab import drive")
    assert first["reason_message"] == {"id": "notebook.unused_import",
                                       "params": {"module": "google.colab"}}  # fmt: skip


def test_augmentation_cells_are_named_as_augmentation(results: dict) -> None:
    named = [(d["cell"], d["line"]) for d in results["augmentation"]["notebook_dropped"]
             if d["reason_message"]["id"] == "notebook.augmentation"]  # fmt: skip
    assert named == [(4, 1), (4, 7), (5, 2)]


def test_a_name_only_a_left_out_line_sets_points_at_that_line(results: dict) -> None:
    task = scratch(results, "dropped-name")
    assert task["error_kind"] == "build_error"
    message = task["error_message"]
    assert message["id"] == "notebook.dropped_name"
    assert {k: message["params"][k] for k in ("name", "cell", "line")} == {
        "name": "train_images", "cell": 2, "line": 1}  # fmt: skip
    assert task["error"].startswith(
        "NameError: name 'train_images' is not defined (cell 4, line 3: "
        "`model.add(keras.Input(shape=train_images.shape[1:]))`). `train_images` is set only in "
        "cell 2, line 1 (`(train_images, train_labels), (test_images, test_labels) = "
    )


def test_an_import_kept_code_needs_names_the_module_and_what_is_installed(results: dict) -> None:
    task = scratch(results, "used-missing-module")
    assert task["error_kind"] == "import_error"
    assert task["error_message"] == {
        "id": "import_error.missing_module",
        "params": {
            "file": "submission.ipynb",
            "where": " (cell 1, line 3: `import tensorflow_addons as tfa`)",
            "module": "tensorflow_addons",
            "available": available(),
        },
    }
    assert "Keep training, plotting" not in task["error"]


def test_an_error_in_a_function_is_reported_at_its_cell_and_line(results: dict) -> None:
    task = scratch(results, "build-raises")
    assert task["error_kind"] == "build_error"
    assert "(cell 3, line 4: `x = layers.Dense(num_classes, activation=\"softmax\")(x, " \
           "training=False, bogus=1)`)" in task["error"]  # fmt: skip
    assert "submission line" not in task["error"]
