"""Gradescope's `results.json` from a graded `Result`: one test per check, the assignment's
`[gradescope]` visibilities, and a results file for a run that could not grade at all.

The fields follow Gradescope's autograder specification: top level `score`,
`execution_time` (whole seconds), `output` with its `output_format`, `visibility`,
`stdout_visibility`, `tests`; each test `name`, `number`, `score`, `max_score`, `status`
("passed" or "failed"), `output`, `output_format`, `visibility`, `tags`, `extra_data`. The
top-level score overrides the sum of the tests on Gradescope; both are kept equal here.
"""

from __future__ import annotations

import math
from typing import Any

from grader.records import CheckResult, Result, TaskRecord
from grader.spec_policy import VISIBILITIES, Gradescope

OUTPUT_FORMATS = ("text", "html", "simple_format", "md", "ansi")
STATUSES = ("passed", "failed")
# Check kinds whose observed value is measured on the hidden test split: their figures are
# shown with `hidden_visibility`. Every other kind reads the validation split or the model.
# tests/test_gradescope.py fails when a kind of `grader.checks` is in neither set.
HIDDEN_TEST_KINDS = frozenset({"min_test_accuracy", "beats_scratch"})
OPEN_KINDS = frozenset({"min_val_accuracy", "max_gap", "max_params", "reuses_base"})
ADJUSTMENT_NAMES = {"late": "Late penalty", "override": "Instructor adjustment",
                    "limit": "Score limits"}  # fmt: skip


def results_json(
    result: Result,
    policy: Gradescope,
    *,
    seconds: float,
    output: str,
    output_format: str = "text",
    shows_hidden: bool = False,
) -> dict[str, Any]:
    """The results of a graded submission.

    `shows_hidden`: `output` holds hidden-test figures (the student's report), so the top
    level (its output) gets `hidden_visibility`; every test still carries its own.
    """
    assert output_format in OUTPUT_FORMATS
    tests = [_check_test(c, result, policy, n) for n, c in enumerate(result.checks, 1)]
    tests += [_error_test(task, record, policy) for task, record in result.tasks.items()
              if not record.ok]  # fmt: skip
    tests += [_adjustment_test(a.kind, a.points, a.reason, policy) for a in result.adjustments]
    clamped = result.grade - result.score - sum(a.points for a in result.adjustments)
    if abs(clamped) > 1e-9:  # the adjusted score is kept within [0, max_score]
        reason = f"The score is kept between 0 and {result.max_score:g} points."
        tests.append(_adjustment_test("limit", clamped, reason, policy))
    return {
        "score": _number(result.grade),
        "execution_time": int(round(seconds)),
        "output": output,
        "output_format": output_format,
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": policy.hidden_visibility if shows_hidden else policy.visibility,
        "stdout_visibility": "hidden",  # the grader's log is for the instructor
        "tests": tests,
        "extra_data": {
            "assignment": result.assignment.id,
            "status": result.status,
            "score_before_adjustments": _number(result.score),
            "max_score": _number(result.max_score),
        },  # fmt: skip
    }


def failure_json(
    reason: str, policy: Gradescope, *, seconds: float, max_score: float | None = None
) -> dict[str, Any]:
    """Results of a run that graded nothing (no submission file, a grader or setup fault):
    score 0 and the reason, visible as the assignment's `visibility` says."""
    test = {
        "name": "Grading",
        "number": "0",
        "score": 0.0,
        "max_score": _number(max_score or 0.0),
        "status": "failed",
        "output": reason,
        "output_format": "text",
        "visibility": policy.visibility,
        "tags": ["grading-error"],
    }
    return {
        "score": 0.0,
        "execution_time": int(round(seconds)),
        "output": reason,
        "output_format": "text",
        "visibility": policy.visibility,
        "stdout_visibility": "hidden",
        "tests": [test],
    }


def text_summary(result: Result) -> str:
    """The result in a few lines of text: the grade, each task's checks, the adjustments."""
    lines = [f"{result.assignment.title}: {_number(result.grade):g} of "
             f"{_number(result.max_score):g} points"]  # fmt: skip
    for task, record in result.tasks.items():
        checks = [c for c in result.checks if c.task == task]
        if record.ok:
            passed = sum(c.passed for c in checks)
            lines.append(f"- {record.title}: {passed} of {len(checks)} checks passed")
        else:
            lines.append(f"- {record.title}: {record.error or 'no trained model'}")
    lines += [f"- {ADJUSTMENT_NAMES.get(a.kind, a.kind)}: {a.points:+g} ({a.reason})"
              for a in result.adjustments]  # fmt: skip
    return "\n".join(lines)


def check_visibility(check: CheckResult, policy: Gradescope) -> str:
    """`hidden_visibility` for a check measured on the hidden test split, else `visibility`
    (a kind this module does not know is treated as hidden: the safe side)."""
    return policy.visibility if check.kind in OPEN_KINDS else policy.hidden_visibility


def check_output(check: CheckResult) -> str:
    """What a student reads under a check: the requirement, the observed value with its
    95 % interval, and the notes (borderline, partial credit, learning floor)."""
    lines = [f"Required: {check.required}", f"Result: {check.message}"]
    interval = check.interval
    if check.observed is not None and interval is not None and all(map(_finite, interval)):
        lines.append(f"95 % interval of the observed value: {interval[0]:.3f} to "
                     f"{interval[1]:.3f}")  # fmt: skip
    if check.borderline:
        lines.append("Borderline: the threshold lies inside the 95 % interval; flagged for "
                     "the instructor's review.")  # fmt: skip
    lines += list(check.notes)
    lines.append(f"Points: {check.points:g} of {check.max_points:g}")
    return "\n".join(lines)


def _check_test(check: CheckResult, result: Result, policy: Gradescope, n: int) -> dict[str, Any]:
    record = result.tasks.get(check.task)
    title = record.title if record is not None else check.task
    observed = check.observed if check.observed is not None and _finite(check.observed) else None
    return {
        "name": f"{title}: {check.required}",
        "name_format": "text",
        "number": str(n),
        "score": _number(check.points),
        "max_score": _number(check.max_points),
        "status": "passed" if check.passed else "failed",
        "output": check_output(check),
        "output_format": "text",
        "visibility": check_visibility(check, policy),
        "tags": [check.task, check.kind],
        "extra_data": {
            "check": check.id,
            "observed": observed,
            "borderline": check.borderline,
            "counted": check.counted,
        },  # fmt: skip
    }


def _error_test(task: str, record: TaskRecord, policy: Gradescope) -> dict[str, Any]:
    """A task that produced no model: its error, worth nothing itself (its checks already
    count their points as lost)."""
    why = "ran out of time" if record.status == "timeout" else "failed"
    return {
        "name": f"{record.title}: {why}",
        "name_format": "text",
        "number": f"{task}.error",
        "score": 0.0,
        "max_score": 0.0,
        "status": "failed",
        "output": record.error or "This task produced no trained model.",
        "output_format": "text",
        "visibility": policy.visibility,
        "tags": [task, "error"],
    }


def _adjustment_test(kind: str, points: float, reason: str, policy: Gradescope) -> dict[str, Any]:
    """A late penalty, an instructor's override or the score's limits, as a test of its own
    points, so the tests add up to the top-level score."""
    return {
        "name": ADJUSTMENT_NAMES.get(kind, kind),
        "score": _number(points),
        "max_score": 0.0,
        "status": "passed" if points >= 0 else "failed",
        "output": reason,
        "output_format": "text",
        "visibility": policy.visibility,
        "tags": ["adjustment", kind],
    }


def _finite(value: float) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _number(value: float) -> float:
    """A JSON number Gradescope reads (never NaN or infinity, which JSON has not)."""
    return float(value) if _finite(value) else 0.0


__all__ = ["HIDDEN_TEST_KINDS", "OPEN_KINDS", "OUTPUT_FORMATS", "STATUSES", "VISIBILITIES",
           "check_output", "check_visibility", "failure_json", "results_json",
           "text_summary"]  # fmt: skip
