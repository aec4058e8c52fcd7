"""The class summary's section on the instructor's reference solution (pure): its figures per
task, and each threshold set relative to it. Never part of a student's report."""

from __future__ import annotations

from typing import Any

from grader.errors import RecordError
from grader.layout import Layout
from grader.messages import number
from grader.records import Result, read_result
from grader.report.context import Texts, with_interval
from grader.report.i18n import say


def stored_reference(layout: Layout) -> Result | None:
    """The reference solution's result of the last grading, if it had one.

    Raises:
        RecordError: the file is there but cannot be read.
    """
    path = layout.reference_result
    if not path.is_file():
        return None
    try:
        return read_result(path)
    except RecordError as exc:
        raise RecordError(f"the reference solution's result: {exc}") from None


def reference_section(reference: Result | None, language: str) -> dict[str, Any] | None:
    """What the summary shows of the reference solution (None: the assignment has none)."""
    if reference is None:
        return None
    texts = Texts(language)
    tasks = []
    for task_id, task in reference.tasks.items():
        m = task.metrics
        tasks.append({
            "task": task_id,
            "test": with_interval(m.test_accuracy, m.test_accuracy_interval, ".3f", language)
            if m else "–",
            "val": with_interval(m.val_accuracy, m.val_accuracy_interval, ".3f", language)
            if m else "–",
            "gap": with_interval(m.gap, m.gap_interval, "+.3f", language) if m else "–",
        })  # fmt: skip
    thresholds = [
        {"task": c.task, "required": texts.render(c.required_message, c.required),
         "value": number(c.reference.value, ".3f", language),
         "offset": "" if c.reference.offset is None else number(c.reference.offset, "+.3f",
                                                                language)}
        for c in reference.checks if c.reference is not None
    ]  # fmt: skip
    score = f"{number(reference.score, '', language)} / {number(reference.max_score, '', language)}"
    return {"tasks": tasks, "thresholds": thresholds,
            "intro": say(language, "reference_intro", score=score)}  # fmt: skip
