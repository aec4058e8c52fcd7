"""Turns measured task results into graded checks (pure: no Keras, no files)."""

from __future__ import annotations

from typing import Any

from grader.spec import Assignment, Check

REQUIRED = {
    "min_test_accuracy": "hidden-test accuracy >= {t:.2f}",
    "max_gap": "train - validation accuracy <= {t:.2f}",
    "max_params": "at most {t:,.0f} parameters",
    "reuses_base": "holds >= {t:.0f} pre-trained base layers",
    "beats_scratch": "test accuracy >= {other} test accuracy + {t:.2f}",
}


def evaluate_checks(assignment: Assignment, tasks: dict[str, dict[str, Any]]) -> list[dict]:
    """One row per check of every task; a failed task's checks score zero, observed None."""
    rows = []
    for task in assignment.tasks.values():
        for check in task.checks:
            observed = _observe(check, tasks.get(task.id, {}), tasks)
            passed = observed is not None and _passes(check, observed)
            rows.append(
                {
                    "id": f"{task.id}.{check.kind}",
                    "task": task.id,
                    "kind": check.kind,
                    "passed": passed,
                    "observed": observed,
                    "threshold": check.threshold,
                    "points": check.points if passed else 0.0,
                    "max_points": check.points,
                    "required": REQUIRED[check.kind].format(
                        t=check.threshold, other=check.compare_to
                    ),
                    "message": _message(check, observed, passed, tasks.get(task.id, {})),
                }
            )
    return rows


def _observe(check: Check, result: dict[str, Any], tasks: dict[str, dict]) -> float | None:
    if result.get("status") != "ok":
        return None
    metrics = result["metrics"]
    if check.kind == "min_test_accuracy":
        return metrics["test_accuracy"]
    if check.kind == "max_gap":
        return metrics["gap"]
    if check.kind == "max_params":
        return float(result["params"])
    if check.kind == "reuses_base":
        reuse = result.get("base_reuse") or {}
        return float(reuse.get("reused_layers", 0))
    other = tasks.get(check.compare_to or "", {})
    if other.get("status") != "ok":
        return None
    return metrics["test_accuracy"] - other["metrics"]["test_accuracy"]


def _passes(check: Check, observed: float) -> bool:
    if check.kind in ("max_gap", "max_params"):
        return observed <= check.threshold
    return observed >= check.threshold


def _message(check: Check, observed: float | None, passed: bool, result: dict) -> str:
    if observed is None:
        if result.get("status") == "ok":
            return f"not measured: task {check.compare_to!r} did not produce a model to compare"
        return "not measured: this task did not produce a trained model (see its error)"
    if check.kind == "max_params":
        return f"{observed:,.0f} parameters ({'within' if passed else 'over'} the limit)"
    if check.kind == "reuses_base":
        total = (result.get("base_reuse") or {}).get("base_layers", 0)
        return f"{observed:.0f} of the base's {total} weighted layers held with pre-trained weights"
    word = "over" if check.kind == "max_gap" else "short"
    missed = "" if passed else f", {word} by {abs(observed - check.threshold):.3f}"
    return f"observed {observed:.3f} against {check.threshold:.3f}{missed}"


def total_score(checks: list[dict]) -> tuple[float, float]:
    """(points earned, points possible)."""
    return sum(c["points"] for c in checks), sum(c["max_points"] for c in checks)
