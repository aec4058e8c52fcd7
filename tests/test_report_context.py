"""Report context: feedback sentences come from this submission's own numbers (pure)."""

from __future__ import annotations

import json

import pytest

from grader.report.context import check_rows, overfit_epoch, student_context, task_feedback
from tests.conftest import FIXTURES

RESULTS = FIXTURES / "results"


def load(student: str) -> dict:
    return json.loads((RESULTS / f"{student}.json").read_text(encoding="utf-8"))


def test_overfit_epoch_is_where_validation_loss_turned() -> None:
    history = {"loss": [1.0, 0.8, 0.6, 0.4, 0.2], "val_loss": [1.0, 0.7, 0.75, 0.9, 1.2]}
    assert overfit_epoch(history) == 2
    assert overfit_epoch({"loss": [1, 0.8, 0.6], "val_loss": [1, 0.9, 0.8]}) is None
    assert overfit_epoch({"loss": [1, 0.8, 0.9], "val_loss": [1, 0.7, 0.9]}) is None
    assert overfit_epoch(None) is None


def test_overfitting_student_is_told_from_which_epoch() -> None:
    result = load("bea-overfit")
    best = result["tasks"]["scratch"]["best_epoch"]
    sentences = task_feedback(result, "scratch", "en")
    assert any(f"Validation loss rose after epoch {best}" in s for s in sentences)
    gap = result["tasks"]["scratch"]["metrics"]["gap"]
    assert any(f"by {gap:.3f}" in s for s in sentences)


def test_missed_threshold_says_by_how_much() -> None:
    result = load("bea-overfit")
    check = next(
        c for c in result["checks"] if c["kind"] == "min_test_accuracy" and not c["passed"]
    )
    sentences = task_feedback(result, check["task"], "en")
    short = check["threshold"] - check["observed"]
    assert any(f"{short:.3f} below the required {check['threshold']:.3f}" in s for s in sentences)


def test_transfer_not_beating_scratch_asks_the_right_questions() -> None:
    result = load("carlos-broken")
    sentences = task_feedback(result, "transfer", "en")
    assert any("Is the base really frozen" in s for s in sentences)
    spanish = task_feedback(result, "transfer", "es")
    assert any("¿Está de verdad congelada la base" in s for s in spanish)


def test_failed_task_has_no_feedback_but_keeps_its_error() -> None:
    result = load("carlos-broken")
    assert task_feedback(result, "cifar10", "en") == []
    context = student_context(result)
    cifar = next(t for t in context["tasks"] if t["id"] == "cifar10")
    assert "Dense(10, activation='softmax')" in cifar["data"]["error"]


def test_check_rows_mark_every_check() -> None:
    result = load("alvaro-pequeno")
    rows = check_rows(result, "es")
    assert len(rows) == len(result["checks"])
    assert {r["passed"] for r in rows} == {c["passed"] for c in result["checks"]}
    assert rows[0]["required"].startswith("exactitud en test oculto")


def test_unknown_language_is_a_clear_error() -> None:
    result = load("alvaro-pequeno")
    result["assignment"]["language"] = "fr"
    with pytest.raises(ValueError, match="No report translation for language 'fr'"):
        student_context(result)


def test_dropped_notebook_lines_are_explained_in_the_reports_language() -> None:
    from grader.notebook import notebook_json_to_module

    cells = ["import keras\n%matplotlib inline\nfor i in range(3):\n    print(i)\nplt.show()"]
    notebook = {"cells": [{"cell_type": "code", "source": c} for c in cells], "nbformat": 4}
    dropped = [vars(d) for d in notebook_json_to_module(json.dumps(notebook)).dropped]
    assert len(dropped) == 3
    result = {**load("alvaro-pequeno"), "notebook_dropped": dropped}
    result["assignment"] = {**result["assignment"], "language": "es"}
    lines = student_context(result)["dropped"]
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


def test_every_reason_to_drop_a_notebook_line_has_a_spanish_text() -> None:
    from grader import notebook
    from grader.report.i18n import dropped_reason

    reasons = [notebook.WHOLE_CELL_MAGIC, notebook.CELL_MAGIC, notebook.MAGIC, notebook.SHELL,
               notebook.HELP, notebook.MAIN_BLOCK, notebook.CALL, notebook.NOT_CONSTANT,
               notebook.STATEMENT, notebook.BLOCK.format(keyword="while")]  # fmt: skip
    untranslated = [r for r in reasons if dropped_reason(r, "es") == r]
    assert untranslated == []
