"""Notebooks as students write them (issue 11): plots with seaborn, sklearn and pandas, Colab
imports, ImageDataGenerator augmentation, data loaded at top level and used by a function.

What the conversion keeps, guards and names, and what a worker then says, in cells and lines.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from grader.errors import ErrorKind, StudentError
from grader.messages import Message, render
from grader.notebook import ConvertedNotebook, notebook_json_to_module, notebook_to_module
from grader.protocol import Layer
from grader.report.dropped import group_dropped
from grader.report.feedback import task_feedback
from grader.worker import linemap, packages, runtime
from grader.worker.loading import import_submission
from tests.conftest import FIXTURES
from tests.report_data import load
from tests.test_notebook import run

NOTEBOOKS = FIXTURES / "notebooks"
STUDENT_STYLE = ["plots-seaborn", "augmentation", "dropped-name", "used-missing-module",
                 "build-raises", "good"]  # fmt: skip


def convert(*cells: str) -> ConvertedNotebook:
    return notebook_json_to_module(
        json.dumps({"cells": [{"cell_type": "code", "source": c} for c in cells]})
    )


def reasons(converted: ConvertedNotebook) -> list[tuple[int, int, str, dict]]:
    return [(d.cell, d.line, d.reason_message.id, d.reason_message.params)
            for d in converted.dropped if d.reason_message]  # fmt: skip


def cell_lines(name: str) -> list[list[str]]:
    notebook = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    return ["".join(c["source"]).split("\n") for c in code]


def test_plots_notebook_keeps_its_model_and_constants_and_guards_its_plot_imports() -> None:
    converted = notebook_to_module(NOTEBOOKS / "plots-seaborn.ipynb")
    # the Colab import is not installed here and nothing kept uses it: left out, by name
    assert reasons(converted)[0] == (1, 1, "notebook.unused_import", {"module": "google.colab"})
    assert {r[2] for r in reasons(converted)[1:]} == {"notebook.call"}
    sklearn = "from sklearn.metrics import confusion_matrix, classification_report"
    for line in ("import pandas as pd", "import seaborn as sns", sklearn):
        assert f"try:\n    {line}\nexcept Exception as _grader_import_error:" in converted.source
    namespace, _ = run(converted.source)
    assert (namespace["width"], namespace["height"]) == (32, 32)  # tuple constants are kept
    assert namespace["IMG"] == (32, 32) and namespace["INPUT_SHAPE"] == (32, 32, 3)
    assert "build_scratch" in namespace and "sns" in namespace and "x_train" not in namespace


def test_an_unused_import_that_fails_while_graded_is_skipped_with_a_note(
    capsys: pytest.CaptureFixture[str],
) -> None:
    converted = convert("from json import no_such_name\nimport no_such_module_xyz\nX = 1")
    assert reasons(converted) == [
        (1, 2, "notebook.unused_import", {"module": "no_such_module_xyz"})
    ]
    namespace: dict = {}
    exec(compile(converted.source, "submission.py", "exec"), namespace)  # noqa: S102 - our own
    assert namespace["X"] == 1
    assert capsys.readouterr().out.strip() == (
        "note: cell 1, line 1: this import failed here; no kept code uses it, so grading goes "
        "on: ImportError cannot import name 'no_such_name' from 'json'"
    )


def test_an_import_kept_code_uses_is_never_guarded() -> None:
    converted = convert("import no_such_module_xyz as m\ndef build_scratch(s, n):\n    return m.x")
    assert converted.dropped == ()
    assert "\nimport no_such_module_xyz as m\n" in converted.source  # fails loudly, by name


def test_augmentation_outside_the_model_is_named_as_such() -> None:
    converted = notebook_to_module(NOTEBOOKS / "augmentation.ipynb")
    assert [(c, ln, reason) for c, ln, reason, _ in reasons(converted)] == [
        (2, 1, "notebook.call"),
        (2, 2, "notebook.not_constant"),
        (2, 3, "notebook.call"),
        (4, 1, "notebook.augmentation"),  # datagen = ImageDataGenerator(...)
        (4, 7, "notebook.augmentation"),  # datagen.fit(x_train)
        (5, 1, "notebook.call"),
        (5, 2, "notebook.augmentation"),  # model.fit(datagen.flow(...))
        (6, 1, "notebook.call"),
        (6, 2, "notebook.call"),
        (6, 3, "notebook.call"),
        (6, 4, "notebook.call"),
    ]
    english = converted.dropped[3].reason
    assert "the grader trains the model your build_* function returns" in english
    assert "keras.layers.RandomFlip('horizontal'), RandomRotation(0.1)" in english
    # Keras 3 has no keras.preprocessing.image.ImageDataGenerator: guarded, not an error
    assert "try:\n    from keras.preprocessing.image import ImageDataGenerator" in converted.source


def test_a_line_kept_code_needs_is_named_with_the_functions_using_it() -> None:
    converted = notebook_to_module(NOTEBOOKS / "dropped-name.ipynb")
    assert reasons(converted)[0] == (
        2, 1, "notebook.needed", {"names": "`train_images`", "users": "build_scratch"}
    )  # fmt: skip
    assert converted.needed == ("train_images",)
    assert converted.source.endswith(
        "# --- names that only left-out lines set (read by the grader) ---\n"
        "# train_images: cell 2, line 1: (train_images, train_labels), (test_images, "
        "test_labels) = keras.datasets.cifar…\n"
    )


@pytest.mark.parametrize("name", STUDENT_STYLE)
def test_every_kept_line_maps_back_to_its_cell_and_line(name: str) -> None:
    converted = notebook_to_module(NOTEBOOKS / f"{name}.ipynb")
    cells, lines = cell_lines(name), converted.source.split("\n")
    mapped = [(n, where) for n, where in enumerate(converted.line_map) if where]
    assert mapped
    for n, (cell, line) in mapped:
        if lines[n].strip():
            assert lines[n] == cells[cell - 1][line - 1], (n, cell, line)
    kept_defs = [n for n, text in enumerate(lines) if text.startswith("def ")]
    assert all(converted.line_map[n] for n in kept_defs)
    guards = [n for n, text in enumerate(lines) if text == "try:"]
    assert all(converted.line_map[n] is None for n in guards)  # the grader's own lines


def _write(tmp_path: Path, *cells: str) -> Path:
    (tmp_path / "submission.py").write_text(convert(*cells).source, encoding="utf-8")
    return tmp_path / "submission.py"


def _import(path: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setitem(sys.modules, "submission", None)
    return import_submission(path)


def test_a_name_error_on_a_left_out_line_points_at_that_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = "def build_scratch(input_shape, num_classes):\n    return x_train.shape"
    path = _write(tmp_path, "(x_train, y_train) = load_cifar()\nmodel.fit(x_train)", build)
    module = _import(path, monkeypatch)
    try:
        try:
            module.build_scratch((32, 32, 3), 3)  # type: ignore[attr-defined]
        except BaseException as exc:  # as grader/worker/build.py reports it
            params = {"function": "build_scratch", "expected": "(input_shape, num_classes)"}
            error = runtime.describe(exc)
            raise StudentError(
                ErrorKind.BUILD_ERROR, "build_error", **params, error=error
            ) from None
    except StudentError as exc:
        report = runtime.error_report(exc)
    assert (report.kind, report.message_id) == ("build_error", "notebook.dropped_name")
    assert render(Message(report.message_id, report.params), "en") == (
        "NameError: name 'x_train' is not defined (cell 2, line 2: `return x_train.shape`). "
        "`x_train` is set only in cell 1, line 1 (`(x_train, y_train) = load_cifar()`), a line "
        "grading leaves out: it keeps a notebook's imports, functions, classes and constants and "
        "runs nothing else (the grader loads the images and trains the model itself). If "
        "`x_train` is a fixed value, write it as a constant; otherwise compute it inside the "
        "function that uses it, from its arguments."
    )
    assert "solo se define en la celda 1, línea 1" in render(
        Message(report.message_id, report.params), "es"
    )


def test_other_errors_in_a_notebook_name_the_cell_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, "import os", "\n\ndef build_scratch(s, n):\n    return {}['oops']")
    module = _import(path, monkeypatch)
    with pytest.raises(KeyError) as info:
        module.build_scratch(1, 2)  # type: ignore[attr-defined]
    assert runtime.describe(info.value) == "KeyError: 'oops' (cell 2, line 4: `return {}['oops']`)"
    plain = tmp_path / "plain.py"  # a submission.py keeps its own line numbers
    plain.write_text("def f():\n    return {}['oops']\n")
    assert linemap.where(str(plain), 2) == "submission line 2"


def test_an_import_kept_code_uses_names_the_module_and_what_is_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, "import os\nimport tensorflow_addons as tfa",
                  "def build_scratch(s, n):\n    return tfa.layers")  # fmt: skip
    with pytest.raises(StudentError) as info:
        _import(path, monkeypatch)
    error = info.value
    assert (error.kind, error.message_id) == (ErrorKind.IMPORT_ERROR, "import_error.missing_module")
    assert error.params == {
        "file": "submission.ipynb",
        "where": " (cell 1, line 2: `import tensorflow_addons as tfa`)",
        "module": "tensorflow_addons",
        "available": packages.available(),
    }
    english = render(Message(error.message_id, error.params), "en")
    assert english.startswith(
        "Importing submission.ipynb failed (cell 1, line 2: `import tensorflow_addons as tfa`): "
        "`tensorflow_addons` is not installed where grading runs. Installed besides Python's "
        "standard library: keras, tensorflow, numpy, pandas, sklearn (scikit-learn), scipy, "
        "matplotlib, seaborn, PIL (pillow), tqdm."
    )
    assert "Keep training, plotting" not in english


def test_report_groups_left_out_lines_important_ones_first() -> None:
    converted = notebook_to_module(NOTEBOOKS / "augmentation.ipynb")
    groups = [(g.reason.id if g.reason else "", render(g.where, "en"), g.code)
              for g in group_dropped(converted.dropped)]  # fmt: skip
    assert groups == [
        ("notebook.augmentation", "cells 4–5, 3 lines", "datagen = ImageDataGenerator( …"),
        ("notebook.call", "cells 2, 5–6, 7 lines",
         "(x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data() …"),
        ("notebook.not_constant", "cell 2, line 2",
         "x_train, x_test = x_train / 255.0, x_test / 255.0"),
    ]  # fmt: skip
    spanish = [render(g.where, "es") for g in group_dropped(converted.dropped)]
    assert spanish == ["celdas 4–5, 3 líneas", "celdas 2, 5–6, 7 líneas", "celda 2, línea 2"]


def test_feedback_does_not_advise_augmentation_to_a_student_who_augmented() -> None:
    result = load("bea-overfit")
    plain = " ".join(task_feedback(result, "scratch", "en"))
    assert "Try data augmentation" in plain and "(augmentation, Dropout)" in plain
    left_out = notebook_to_module(NOTEBOOKS / "augmentation.ipynb").dropped
    notebook = " ".join(task_feedback(replace(result, notebook_dropped=left_out), "scratch", "en"))
    assert "Try data augmentation" not in notebook and "(augmentation, Dropout)" not in notebook
    assert "Your notebook augments its images outside the model (cells 4–5)" in notebook
    assert "Your notebook's augmentation (cells 4–5) is outside the model" in notebook
    spanish = " ".join(task_feedback(replace(result, notebook_dropped=left_out), "scratch", "es"))
    assert "aumenta los datos fuera del modelo (celdas 4–5)" in spanish
    task = result.tasks["scratch"]
    flip = Layer("random_flip", "RandomFlip", "(None, 32, 32, 3)", 0, True)
    augments = replace(result, tasks={**result.tasks, "scratch": replace(
        task, layers=(flip, *task.layers))})  # fmt: skip
    model = " ".join(task_feedback(augments, "scratch", "en"))
    assert "even with the model's own augmentation (RandomFlip)" in model
    assert "Try data augmentation" not in model


def test_the_worker_reads_what_the_conversion_wrote(tmp_path: Path) -> None:
    path = tmp_path / "submission.py"
    path.write_text(notebook_to_module(NOTEBOOKS / "dropped-name.ipynb").source, encoding="utf-8")
    assert linemap.notebook_name(str(path)) == "dropped-name.ipynb"
    assert linemap.dropped_setter(str(path), "train_images") == (
        2, 1, "(train_images, train_labels), (test_images, test_labels) = keras.datasets.cifar…"
    )  # fmt: skip
    assert linemap.dropped_setter(str(path), "test_labels") is None  # no kept code needs it
