"""Checks: thresholds, gaps, reuse of the base, beating scratch; failed tasks score zero."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from grader import checks
from grader.checks import KINDS
from grader.errors import ErrorKind, SpecError
from grader.messages import Message, render
from grader.records import BaseReuse, CheckResult, Metrics, SplitCounts, TaskRecord
from grader.spec import Check, load_assignment
from grader.verdicts import evaluate_checks, total_score
from tests.conftest import ROOT

SHIPPED = load_assignment(ROOT / "assignments" / "transfer-learning")
SPLIT = SplitCounts("vehicles", (1, 1, 1), (1, 1, 1), (1, 1, 1))


def task(test: float, gap: float, params: int = 10_000, reused: int | None = None) -> TaskRecord:
    metrics = Metrics(0.9, 0.1, 0.8, 0.2, test, 0.3, gap)
    reuse = None if reused is None else BaseReuse(5, reused, reused)
    return TaskRecord("t", ("a", "b", "c"), SPLIT, status="ok", metrics=metrics, params=params,
                      base_reuse=reuse)  # fmt: skip


def failed() -> TaskRecord:
    record = TaskRecord("t", ("a", "b", "c"), SPLIT)
    return record.failed(ErrorKind.NAN_LOSS, Message("nan_loss", {"epoch": 1}))


def by_id(rows: tuple[CheckResult, ...]) -> dict[str, CheckResult]:
    return {r.id: r for r in rows}


def threshold(task_id: str, kind: str) -> float:
    return next(c.threshold for c in SHIPPED.tasks[task_id].checks if c.kind == kind)


def test_solid_work_passes_everything() -> None:
    tasks = {
        "scratch": task(0.75, 0.05),
        "transfer": task(0.85, 0.02, reused=4),
        "cifar10": task(0.6, 0.05),
    }
    rows = evaluate_checks(SHIPPED, tasks)
    assert all(r.passed for r in rows)
    assert total_score(rows) == (SHIPPED.max_score, SHIPPED.max_score)


def test_overfitting_fails_the_gap_check_only() -> None:
    tasks = {
        "scratch": task(0.75, threshold("scratch", "max_gap") + 0.06),
        "transfer": task(0.85, 0.02, reused=4),
        "cifar10": task(0.6, 0.05),
    }
    rows = by_id(evaluate_checks(SHIPPED, tasks))
    assert not rows["scratch.max_gap"].passed
    assert rows["scratch.max_gap"].points == 0
    assert "over by 0.060" in rows["scratch.max_gap"].message
    assert sum(not r.passed for r in rows.values()) == 1


def test_missed_threshold_says_by_how_much() -> None:
    required = threshold("scratch", "min_test_accuracy")
    rows = by_id(evaluate_checks(SHIPPED, {"scratch": task(required - 0.05, 0.0)}))
    assert rows["scratch.min_test_accuracy"].message == (
        f"observed {required - 0.05:.3f} against {required:.3f}, short by 0.050"
    )


def test_transfer_must_beat_scratch_by_the_margin() -> None:
    margin = threshold("transfer", "beats_scratch")
    short = {"scratch": task(0.80, 0.0), "transfer": task(0.80 + margin / 2, 0.0, reused=4)}
    rows = by_id(evaluate_checks(SHIPPED, short))
    assert rows["transfer.beats_scratch"].observed == pytest.approx(margin / 2)
    assert not rows["transfer.beats_scratch"].passed
    assert rows["transfer.beats_scratch"].compare_to == "scratch"  # the pair comes from data
    enough = {"scratch": task(0.80, 0.0), "transfer": task(0.80 + margin, 0.0, reused=4)}
    assert by_id(evaluate_checks(SHIPPED, enough))["transfer.beats_scratch"].passed


def test_transfer_that_ignores_the_base() -> None:
    rows = by_id(evaluate_checks(SHIPPED, {"transfer": task(0.9, 0.0, reused=0)}))
    assert not rows["transfer.reuses_base"].passed
    assert "0 of the base's 5" in rows["transfer.reuses_base"].message


def test_failed_task_scores_zero_and_says_why() -> None:
    tasks = {"scratch": failed(), "transfer": task(0.85, 0.0, reused=4)}
    rows = by_id(evaluate_checks(SHIPPED, tasks))
    assert rows["scratch.min_test_accuracy"].observed is None
    assert "did not produce a trained model" in rows["scratch.max_gap"].message
    assert "'scratch' did not produce a model" in rows["transfer.beats_scratch"].message
    assert rows["transfer.min_test_accuracy"].passed


def test_too_many_params() -> None:
    rows = by_id(evaluate_checks(SHIPPED, {"cifar10": task(0.6, 0.0, params=1_500_000)}))
    assert not rows["cifar10.max_params"].passed
    assert rows["cifar10.max_params"].message == "1,500,000 parameters (over the limit)"


def test_texts_are_stored_by_id_and_in_english() -> None:
    rows = evaluate_checks(SHIPPED, {"scratch": task(0.6, 0.3), "transfer": failed()})
    for row in rows:
        assert row.required_message is not None and row.observed_message is not None
        assert render(row.required_message, "en") == row.required
        assert render(row.observed_message, "en") == row.message
        render(row.observed_message, "es")  # every id and parameter has a Spanish text
    spanish = by_id(rows)["scratch.max_params"].required_message
    assert spanish is not None and render(spanish, "es") == "como máximo 500.000 parámetros"


def test_english_numbers_round_like_python_format() -> None:
    """Stored texts must not change: 0.0125 is written 0.013, as Python writes it."""
    required = threshold("cifar10", "min_test_accuracy")
    rows = by_id(evaluate_checks(SHIPPED, {"cifar10": task(required - 0.0125, 0.0)}))
    missed = required - (required - 0.0125)
    assert rows["cifar10.min_test_accuracy"].message.endswith(f"short by {missed:.3f}")


def test_every_kind_declares_what_the_spec_and_reports_read() -> None:
    for name, kind in KINDS.items():
        assert kind.name == name and kind.bounds.expected
        assert set(kind.spec_keys()) >= {"kind", "threshold", "points"}
        assert ("compare_to" in kind.spec_keys()) == kind.compares
        assert kind.feedback_id() == f"feedback.{name}"


def test_self_check_hints_come_from_the_kinds() -> None:
    class Facts:
        params, base_reuse = 2_000_000, BaseReuse(4, 1, 1)

    reuse = checks.kind_of(Check("reuses_base", 2, 1)).hint(Facts())
    assert reuse is not None and reuse.status == "problem"
    assert "base_model.layers[:-1]" in render(reuse.detail, "en")
    params = checks.kind_of(Check("max_params", 1_000_000, 1)).hint(Facts())
    assert params is not None and params.status == "warning"
    assert render(params.detail, "en") == "2,000,000 > 1,000,000: this check will score 0"
    assert checks.kind_of(Check("max_params", 3_000_000, 1)).hint(Facts()) is None
    assert checks.kind_of(Check("max_gap", 0.1, 1)).hint(Facts()) is None


def test_a_comparison_with_a_failed_task_names_that_task() -> None:
    assignment = replace(SHIPPED, tasks={"transfer": SHIPPED.tasks["transfer"]})
    rows = by_id(evaluate_checks(assignment, {"transfer": task(0.9, 0.0, reused=4)}))
    assert rows["transfer.beats_scratch"].observed_message == Message(
        "check.not_measured_other", {"other": "scratch"}
    )


def test_min_val_accuracy_a_kind_added_through_the_registry_alone(tmp_path: Path) -> None:
    spec = (ROOT / "tests/fixtures/assignments/one-task/assignment.toml").read_text()
    spec = spec.replace('kind = "min_test_accuracy", threshold = 0.1',
                        'kind = "min_val_accuracy", threshold = 0.85')  # fmt: skip
    (tmp_path / "assignment.toml").write_text(spec)
    assignment = load_assignment(tmp_path)
    (row,) = evaluate_checks(assignment, {"scratch": task(0.9, 0.0)})  # validation: 0.8
    assert (row.id, row.passed, row.observed) == ("scratch.min_val_accuracy", False, 0.8)
    assert row.required == "validation accuracy >= 0.85"
    assert row.message == "observed 0.800 against 0.850, short by 0.050"
    assert row.required_message is not None
    assert render(row.required_message, "es") == "exactitud de validación ≥ 0,85"
    feedback = Message(KINDS[row.kind].feedback_id(), {"observed": 0.8, "threshold": 0.85,
                                                       "short": 0.05, "other": ""})  # fmt: skip
    assert render(feedback, "en") == "Validation accuracy is 0.800, 0.050 below the required 0.850."
    (tmp_path / "assignment.toml").write_text(spec.replace("0.85", "1.5"))
    with pytest.raises(SpecError, match=r"must be an accuracy in \[0, 1\]"):
        load_assignment(tmp_path)
