"""Report context: feedback sentences come from this submission's own numbers (pure)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from grader.messages import Message, render
from grader.report.context import (
    Texts,
    check_rows,
    compared_pairs,
    student_context,
    summary_context,
)
from grader.report.feedback import overfit_epoch, task_feedback
from tests.report_data import load, load_legacy, with_messages


def test_overfit_epoch_is_where_validation_loss_turned() -> None:
    history = {"loss": [1.0, 0.8, 0.6, 0.4, 0.2], "val_loss": [1.0, 0.7, 0.75, 0.9, 1.2]}
    assert overfit_epoch(history) == 2
    assert overfit_epoch({"loss": [1, 0.8, 0.6], "val_loss": [1, 0.9, 0.8]}) is None
    assert overfit_epoch({"loss": [1, 0.8, 0.9], "val_loss": [1, 0.7, 0.9]}) is None
    assert overfit_epoch(None) is None


def test_overfitting_student_is_told_from_which_epoch() -> None:
    result = load("bea-overfit")
    best = result.tasks["scratch"].best_epoch
    sentences = task_feedback(result, "scratch", "en")
    assert any(f"Validation loss rose after epoch {best}" in s for s in sentences)
    metrics = result.tasks["scratch"].metrics
    assert metrics is not None
    assert any(f"by {metrics.gap:.3f}" in s for s in sentences)
    spanish = task_feedback(result, "scratch", "es")
    assert any(f"a partir de la época {best}" in s for s in spanish)
    assert any(f"en {metrics.gap:.3f}".replace(".", ",") in s for s in spanish)


def test_missed_threshold_says_by_how_much() -> None:
    result = load("dana-frozen-head")
    check = next(c for c in result.checks if c.kind == "min_test_accuracy" and not c.passed)
    assert check.observed is not None
    sentences = task_feedback(result, check.task, "en")
    short = check.threshold - check.observed
    assert any(f"{short:.3f} below the required {check.threshold:.3f}" in s for s in sentences)
    spanish = " ".join(task_feedback(result, check.task, "es"))
    expected = f"{short:.3f} por debajo del mínimo de {check.threshold:.3f}".replace(".", ",")
    assert expected in spanish


def test_transfer_not_beating_scratch_asks_the_right_questions() -> None:
    result = load_legacy("carlos-broken")  # transfer 0.681 against scratch 0.692
    sentences = task_feedback(result, "transfer", "en")
    assert any("Is the base really frozen" in s for s in sentences)
    assert any("does not beat the scratch model" in s for s in sentences)  # the compared task
    spanish = task_feedback(result, "transfer", "es")
    assert any("¿Está de verdad congelada la base" in s for s in spanish)


def test_failed_task_has_no_feedback_but_keeps_its_error() -> None:
    result = load("carlos-broken")
    assert task_feedback(result, "cifar10", "en") == []
    context = student_context(result)
    cifar = next(t for t in context["tasks"] if t["id"] == "cifar10")
    assert "Dense(10, activation='softmax')" in cifar["error"]
    assert cifar["kind"] == "wrong_output_shape"


def test_failed_task_error_is_rendered_in_the_reports_language() -> None:
    result = load("carlos-broken")
    params = {"function": "build_cifar10", "units": 3, "n": 10, "classes": "airplane, truck"}
    cifar = replace(result.tasks["cifar10"], error_message=Message("wrong_output_shape", params))
    spanish = replace(result, tasks={**result.tasks, "cifar10": cifar},
                      assignment=replace(result.assignment, language="es"))  # fmt: skip
    context = student_context(spanish)
    (error,) = [t["error"] for t in context["tasks"] if t["id"] == "cifar10"]
    assert "devolvió un modelo cuya salida tiene 3 unidades" in error
    assert context["missing_messages"] == set()
    summary = summary_context([spanish], "es")
    assert summary["failed"] == [("carlos-broken", "cifar10", "wrong_output_shape", error)]


def test_an_unknown_message_id_falls_back_to_the_stored_english() -> None:
    result = load("carlos-broken")
    cifar = replace(result.tasks["cifar10"], error_message=Message("no.such.id", {}))
    spanish = replace(result, tasks={**result.tasks, "cifar10": cifar},
                      assignment=replace(result.assignment, language="es"))  # fmt: skip
    context = student_context(spanish)
    (error,) = [t["error"] for t in context["tasks"] if t["id"] == "cifar10"]
    assert error == result.tasks["cifar10"].error
    assert context["missing_messages"] == {"no.such.id"}


def test_check_rows_mark_every_check() -> None:
    result = with_messages(load("alvaro-pequeno"))
    rows = check_rows(result, Texts("es"))
    assert len(rows) == len(result.checks)
    assert {r["passed"] for r in rows} == {c.passed for c in result.checks}
    assert rows[0]["required"].startswith("exactitud en test oculto")
    assert rows[0]["points"] == "3 / 3"


def test_check_rows_of_an_older_result_show_numbers_the_languages_way() -> None:
    result = load_legacy("alvaro-pequeno")  # schema 1: no message ids, English texts only
    rows = check_rows(result, Texts("es"))
    assert [r["observed"] for r in rows[:3]] == ["0,679", "0,025", "56.515"]
    assert rows[0]["required"] == result.checks[0].required  # the stored English, not a guess


def test_compared_tasks_come_from_the_check_rows() -> None:
    result = load("alvaro-pequeno")
    assert compared_pairs(result) == [("scratch", "transfer")]  # older file: the kind's default
    renamed = replace(result, checks=tuple(
        replace(c, compare_to="cifar10") if c.kind == "beats_scratch" else c
        for c in result.checks))  # fmt: skip
    assert compared_pairs(renamed) == [("cifar10", "transfer")]
    pages = student_context(renamed)["comparisons"]
    assert [p["heading"] for p in pages["transfer"]] == ["Cifar10 vs transfer"]
    summary = summary_context([renamed], "en")
    assert summary["pairs"] == [("cifar10", "transfer")]


def test_unknown_language_is_a_clear_error() -> None:
    result = load("alvaro-pequeno")
    result = replace(result, assignment=replace(result.assignment, language="fr"))
    with pytest.raises(ValueError, match="No report translation for language 'fr'"):
        student_context(result)


def test_dropped_notebook_lines_are_explained_in_the_reports_language() -> None:
    from grader.notebook import notebook_json_to_module

    cells = ["import keras\n%matplotlib inline\nfor i in range(3):\n    print(i)\nplt.show()"]
    notebook = {"cells": [{"cell_type": "code", "source": c} for c in cells], "nbformat": 4}
    dropped = notebook_json_to_module(json.dumps(notebook)).dropped
    assert len(dropped) == 3
    result = replace(load("alvaro-pequeno"), notebook_dropped=tuple(dropped))
    result = replace(result, assignment=replace(result.assignment, language="es"))
    context = student_context(result)
    lines = context["dropped"]
    assert [d["where"] for d in lines] == [
        "celda 1, línea 2",
        "celda 1, línea 3",
        "celda 1, línea 5",
    ]
    assert [d["reason"].split(" (")[0] for d in lines] == [
        "magia de IPython",
        "bloque `for` a nivel de módulo",
        "llamada a nivel de módulo",
    ]
    assert context["missing_messages"] == set()


def test_every_reason_to_drop_a_notebook_line_has_a_spanish_text() -> None:
    from grader import notebook

    params = {"keyword": "while", "names": "`x`", "users": "build_scratch", "module": "cv2"}
    texts = Texts("es")
    for reason in notebook.REASONS:
        english = render(Message(reason, params), "en")
        assert texts.render(Message(reason, params), english) != english
    assert texts.missing == set()


def test_a_graded_task_without_measurements_is_an_error() -> None:
    from grader.errors import RecordError

    result = load("alvaro-pequeno")
    broken = replace(result.tasks["scratch"], metrics=None)
    with pytest.raises(RecordError, match="'scratch' is graded but"):
        student_context(replace(result, tasks={**result.tasks, "scratch": broken}))
