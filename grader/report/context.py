"""Result record -> what a template shows: rows, words and feedback (pure: no plotting).

Every sentence about a submission is a `Message` rendered in the report's language; a
result written by an older grader (or an id no catalog knows yet) falls back to the English
text stored beside it, and the id is remembered in `Texts.missing`.
"""

from __future__ import annotations

from typing import Any

from grader.errors import RecordError
from grader.messages import Message, number, render
from grader.records import AssignmentInfo, CheckResult, Result, TaskRecord
from grader.report.dropped import group_dropped
from grader.report.feedback import compare_to, feedback_messages
from grader.report.i18n import heading, say, strings

PROVENANCE_KEYS = (
    "grader_version", "data_fingerprint", "spec_hash", "submission_hash", "seed", "isolation",
    "memory_cap", "tensorflow", "keras", "python", "cpu", "date",
)  # fmt: skip


class Texts:
    """Stored messages rendered in one language, with the stored English as the fallback."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.missing: set[str] = set()

    def render(self, message: Message | None, english: str) -> str:
        if message is None:
            return english
        try:
            return render(message, self.language)
        except (KeyError, IndexError, ValueError):  # unknown id, language or parameter
            self.missing.add(message.id)
            return english


def compared_pairs(result: Result) -> list[tuple[str, str]]:
    """(other, task) for every comparing check whose two tasks are in the result."""
    pairs = []
    for check in result.checks:
        other = compare_to(check)
        pair = (other or "", check.task)
        if other in result.tasks and check.task in result.tasks and pair not in pairs:
            pairs.append(pair)
    return pairs


def interval_text(interval: tuple[float, float] | None, language: str) -> str:
    """`0.665–0.718` in the language's number format ('' without an interval)."""
    if interval is None:
        return ""
    return f"{number(interval[0], '.3f', language)}–{number(interval[1], '.3f', language)}"


def with_interval(
    value: float, interval: tuple[float, float] | None, spec: str, language: str
) -> str:
    """`0.692 (0.665–0.718)`: a measured value with its 95 % interval, when it has one."""
    shown = number(value, spec, language)
    return f"{shown} ({interval_text(interval, language)})" if interval else shown


def check_rows(result: Result, texts: Texts) -> list[dict[str, Any]]:
    """One row per check: task, requirement and observation in words (with the observed
    value's 95 % interval), points, whether it is borderline or not counted, and its notes."""
    language = texts.language
    rows = []
    for check in result.checks:
        if check.observed is None:
            observed = strings(language)["not_measured"]
        else:
            spec = ",.0f" if float(check.observed).is_integer() else ".3f"
            observed = number(check.observed, spec, language)
        rows.append({
            "task": check.task,
            "required": texts.render(check.required_message, check.required),
            "observed": texts.render(check.observed_message, observed),
            "interval": interval_text(check.interval, language),
            "points": f"{number(check.points, '', language)} / "
                      f"{number(check.max_points, '', language)}",
            "passed": check.passed,
            # below the learning floor: earns nothing whatever it measured (notes say why)
            "not_counted": "" if check.counted else texts.render(
                Message("learning.mark"), "not counted"),
            "borderline": check.borderline,
            "notes": [texts.render(m, english)  # borderline, paired counts, partial credit
                      for m, english in zip(check.note_messages, check.notes, strict=False)],
        })  # fmt: skip
    return rows


def comparisons(result: Result, language: str) -> dict[str, list[dict[str, str]]]:
    """Comparison pages, keyed by the task whose section they follow."""
    pages: dict[str, list[dict[str, str]]] = {}
    for other, task_id in compared_pairs(result):
        mine, theirs = result.tasks[task_id].metrics, result.tasks[other].metrics
        if mine is None or theirs is None:
            continue
        params = {"task": task_id, "other": other, "accuracy": mine.test_accuracy,
                  "other_accuracy": theirs.test_accuracy,
                  "diff": mine.test_accuracy - theirs.test_accuracy}  # fmt: skip
        pages.setdefault(task_id, []).append({
            "heading": heading(language, "comparison", first=other, second=task_id),
            "text": render(Message("feedback.comparison", params), language),
            "chart": f"comparison.{other}.{task_id}",
        })  # fmt: skip
    return pages


def student_context(result: Result) -> dict[str, Any]:
    """Everything the student template needs except the plots.

    Raises:
        ValueError: the report's language has no translation.
        RecordError: a graded task lacks its measurements.
    """
    language = result.assignment.language
    texts = Texts(language)
    words = strings(language)
    _check_complete(result)
    checks = check_rows(result, texts)
    return {
        "t": words, "r": result, "lang": language, "checks": checks,
        "tasks": [_task(result, tid, task, texts) for tid, task in result.tasks.items()],
        "comparisons": comparisons(result, language),
        "provenance": _provenance(result, words),
        "name_warning": _name_warning(result, texts),
        "adjustments": adjustment_rows(result, texts),
        "dropped": [  # grouped by reason; the result file keeps every line
            {"where": texts.render(g.where, ""), "code": g.code,
             "reason": texts.render(g.reason, g.reason_english)}
            for g in group_dropped(result.notebook_dropped)
        ],
        "missing_messages": texts.missing,
    }  # fmt: skip


def adjustment_rows(result: Result, texts: Texts) -> dict[str, Any] | None:
    """The score from the checks, each adjustment (points and reason) and the final grade,
    in the report's language; None when nothing was adjusted."""
    if not result.adjustments or result.final_score is None:
        return None
    language = texts.language

    def out_of(value: float) -> str:
        return f"{number(value, '', language)} / {number(result.max_score, '', language)}"

    return {
        "heading": texts.render(Message("adjust.heading"), "Adjustments"),
        "score_label": texts.render(Message("adjust.checks_score"), "Score from the checks"),
        "final_label": texts.render(Message("adjust.final"), "Final grade"),
        "score": out_of(result.score),
        "final": out_of(result.final_score),
        "rows": [{"points": number(a.points, "+", language),
                  "reason": texts.render(a.message, a.reason)} for a in result.adjustments],
    }  # fmt: skip


def _task(result: Result, task_id: str, task: TaskRecord, texts: Texts) -> dict[str, Any]:
    language = texts.language
    return {
        "id": task_id, "data": task, "matrix": _matrix(task), "figures": _figures(task, language),
        "feedback": [s for m in feedback_messages(result, task_id) if (s := texts.render(m, ""))],
        "error": texts.render(task.error_message, task.error or ""),
        "kind": task.error_kind.code if task.error_kind else "",
        "layers_total": say(language, "total_params", total=task.params or 0,
                            trainable=task.trainable_params or 0,
                            frozen=task.non_trainable_params or 0),
        "training": say(language, "training", epochs=task.epochs, batch=task.batch_size,
                        optimizer=task.optimizer, loss=task.loss, seconds=task.seconds)
        if task.ok else "",
        # training stopped at its time limit, the last completed epoch scored (flagged)
        "stopped": texts.render(task.limit_message, task.limit_note or "")
        if task.ok and task.stopped_by else "",
    }  # fmt: skip


def _figures(task: TaskRecord, language: str) -> dict[str, str]:
    """The results table's accuracies and gap, each with its 95 % interval when stored."""
    m = task.metrics
    if m is None:
        return {}
    return {
        "train": with_interval(m.train_accuracy, m.train_accuracy_interval, ".3f", language),
        "val": with_interval(m.val_accuracy, m.val_accuracy_interval, ".3f", language),
        "test": with_interval(m.test_accuracy, m.test_accuracy_interval, ".3f", language),
        "gap": with_interval(m.gap, m.gap_interval, "+.3f", language),
    }


def _check_complete(result: Result) -> None:
    for task_id, task in result.tasks.items():
        if task.ok and (task.metrics is None or task.history is None):
            raise RecordError(f"{result.student}: task {task_id!r} is graded but its "
                              "measurements (metrics, history) are missing")  # fmt: skip


def _name_warning(result: Result, texts: Texts) -> str | None:
    if result.name_warning is None and result.name_warning_message is None:
        return None
    return texts.render(result.name_warning_message, result.name_warning or "")


def _matrix(task: TaskRecord) -> list[list[dict[str, Any]]]:
    """Confusion-matrix cells with a shade (share of the row) for the table."""
    rows = []
    for i, row in enumerate(task.confusion_matrix or ()):
        total = sum(row) or 1
        rows.append([{"n": n, "shade": round(n / total, 2), "diag": i == j}
                     for j, n in enumerate(row)])  # fmt: skip
    return rows


def _provenance(result: Result, words: dict[str, str]) -> list[tuple[str, str]]:
    prov = result.provenance
    values = [(k, getattr(prov, k)) for k in PROVENANCE_KEYS]
    return [(words[f"prov_{k}"], str(v)) for k, v in values if v is not None]


def summary_context(results: list[Result], language: str) -> dict[str, Any]:
    """The class summary: a row per student, pass rates, failed tasks (pure)."""
    ordered = sorted(results, key=lambda r: r.student)
    texts = Texts(language)
    task_ids = list(dict.fromkeys(tid for r in ordered for tid in r.tasks))
    by_id: dict[str, list[CheckResult]] = {}
    for result in ordered:
        for check in result.checks:
            by_id.setdefault(check.id, []).append(check)
    failed = [(r.student, tid, t.error_kind.code if t.error_kind else "",
               texts.render(t.error_message, t.error or ""))
              for r in ordered for tid, t in r.tasks.items() if not t.ok]  # fmt: skip
    warnings = {r.student: _name_warning(r, texts) for r in ordered}
    stopped = [(r.student, tid, texts.render(t.limit_message, t.limit_note or ""))
               for r in ordered for tid, t in r.tasks.items() if t.ok and t.stopped_by]  # fmt: skip
    return {
        "t": strings(language), "lang": language, "results": ordered, "task_ids": task_ids,
        "pass_rates": [_pass_rate(checks, texts) for checks in by_id.values()],
        "failed": failed, "stopped": stopped, "name_warnings": warnings,
        "pairs": list(dict.fromkeys(p for r in ordered for p in compared_pairs(r))),
        "borderline": _borderline_rows(ordered, texts),
        "assignment": ordered[0].assignment if ordered else AssignmentInfo("", "", language),
        "missing_messages": texts.missing,
    }  # fmt: skip


def _borderline_rows(results: list[Result], texts: Texts) -> list[dict[str, str]]:
    """Every borderline check of the class, for the instructor to review."""
    language = texts.language
    return [
        {"student": r.student, "task": c.task,
         "required": texts.render(c.required_message, c.required),
         "observed": with_interval(c.observed or 0.0, c.interval, ".3f", language),
         "points": f"{number(c.points, '', language)} / {number(c.max_points, '', language)}"}
        for r in results for c in r.checks if c.borderline and c.observed is not None
    ]  # fmt: skip


def _pass_rate(checks: list[CheckResult], texts: Texts) -> tuple[str, str, float]:
    """(task, requirement in words, share passed) of one check across the class."""
    described = next((c for c in checks if c.required_message is not None), checks[0])
    requirement = texts.render(described.required_message, described.required)
    earned = sum(c.passed and c.counted for c in checks)  # at chance level: not a pass
    return described.task, requirement, earned / len(checks)
