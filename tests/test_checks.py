"""Checks: thresholds, gaps, reuse of the base, beating scratch; failed tasks score zero."""

from __future__ import annotations

import pytest

from grader.checks import evaluate_checks, total_score
from grader.spec import load_assignment
from tests.conftest import ROOT

SHIPPED = load_assignment(ROOT / "assignments" / "transfer-learning")


def task(test: float, gap: float, params: int = 10_000, reused: int | None = None) -> dict:
    out = {
        "status": "ok",
        "params": params,
        "metrics": {"test_accuracy": test, "gap": gap, "train_accuracy": 0.0, "val_accuracy": 0.0},
    }
    if reused is not None:
        out["base_reuse"] = {"base_layers": 5, "reused_layers": reused, "frozen_layers": reused}
    return out


def by_id(rows: list[dict]) -> dict[str, dict]:
    return {r["id"]: r for r in rows}


def test_solid_work_passes_everything() -> None:
    tasks = {
        "scratch": task(0.75, 0.05),
        "transfer": task(0.85, 0.02, reused=4),
        "cifar10": task(0.6, 0.05),
    }
    rows = evaluate_checks(SHIPPED, tasks)
    assert all(r["passed"] for r in rows)
    assert total_score(rows) == (SHIPPED.max_score, SHIPPED.max_score)


def test_overfitting_fails_the_gap_check_only() -> None:
    tasks = {
        "scratch": task(0.75, threshold("scratch", "max_gap") + 0.06),
        "transfer": task(0.85, 0.02, reused=4),
        "cifar10": task(0.6, 0.05),
    }
    rows = by_id(evaluate_checks(SHIPPED, tasks))
    assert not rows["scratch.max_gap"]["passed"]
    assert rows["scratch.max_gap"]["points"] == 0
    assert "over by 0.060" in rows["scratch.max_gap"]["message"]
    assert sum(not r["passed"] for r in rows.values()) == 1


def threshold(task_id: str, kind: str) -> float:
    return next(c.threshold for c in SHIPPED.tasks[task_id].checks if c.kind == kind)


def test_missed_threshold_says_by_how_much() -> None:
    required = threshold("scratch", "min_test_accuracy")
    rows = by_id(evaluate_checks(SHIPPED, {"scratch": task(required - 0.05, 0.0)}))
    assert rows["scratch.min_test_accuracy"]["message"] == (
        f"observed {required - 0.05:.3f} against {required:.3f}, short by 0.050"
    )


def test_transfer_must_beat_scratch_by_the_margin() -> None:
    margin = threshold("transfer", "beats_scratch")
    short = {"scratch": task(0.80, 0.0), "transfer": task(0.80 + margin / 2, 0.0, reused=4)}
    rows = by_id(evaluate_checks(SHIPPED, short))
    assert rows["transfer.beats_scratch"]["observed"] == pytest.approx(margin / 2)
    assert not rows["transfer.beats_scratch"]["passed"]
    enough = {"scratch": task(0.80, 0.0), "transfer": task(0.80 + margin, 0.0, reused=4)}
    assert by_id(evaluate_checks(SHIPPED, enough))["transfer.beats_scratch"]["passed"]


def test_transfer_that_ignores_the_base() -> None:
    rows = by_id(evaluate_checks(SHIPPED, {"transfer": task(0.9, 0.0, reused=0)}))
    assert not rows["transfer.reuses_base"]["passed"]
    assert "0 of the base's 5" in rows["transfer.reuses_base"]["message"]


def test_failed_task_scores_zero_and_says_why() -> None:
    tasks = {"scratch": {"status": "error"}, "transfer": task(0.85, 0.0, reused=4)}
    rows = by_id(evaluate_checks(SHIPPED, tasks))
    assert rows["scratch.min_test_accuracy"]["observed"] is None
    assert "did not produce a trained model" in rows["scratch.max_gap"]["message"]
    assert "'scratch' did not produce a model" in rows["transfer.beats_scratch"]["message"]
    assert rows["transfer.min_test_accuracy"]["passed"]


def test_too_many_params() -> None:
    rows = by_id(evaluate_checks(SHIPPED, {"cifar10": task(0.6, 0.0, params=1_500_000)}))
    assert not rows["cifar10.max_params"]["passed"]
    assert rows["cifar10.max_params"]["message"] == "1,500,000 parameters (over the limit)"
