"""Feedback sentences about one task, from the submission's own numbers (pure).

A failed check gets its kind's sentence; a curve that turned gets the epoch it turned at.
Advice to augment the images takes what the student already did into account: augmentation
a notebook kept outside the model (left out by grading), or augmentation layers in the model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from grader.checks import KINDS
from grader.messages import Message, render
from grader.records import CheckResult, Result, TaskRecord
from grader.report.dropped import augmentation_cells

# Sentences that advise augmentation, and the same advice for a student who augments already.
ADVISE_AUGMENTATION = ("feedback.max_gap", "feedback.overfit_epoch")
NOTEBOOK_AUGMENTATION, MODEL_AUGMENTS = "notebook_augmentation", "model_augments"
AUGMENTATION_LAYER_PREFIX = "Random"  # RandomFlip, RandomRotation, RandomZoom, ...
AUGMENTATION_LAYERS = ("RandAugment", "AugMix", "MixUp", "CutMix")


def overfit_epoch(history: Mapping[str, Sequence[float]] | None) -> int | None:
    """The 1-based epoch after which validation loss rose for good while training loss fell.

    None when validation loss ends at (or within 2% of) its minimum, or training loss did
    not keep falling after that epoch.
    """
    if not history or len(history.get("val_loss", ())) < 3:
        return None
    val, train = history["val_loss"], history["loss"]
    best = min(range(len(val)), key=val.__getitem__)
    if best >= len(val) - 1 or val[-1] <= val[best] * 1.02:
        return None
    return best + 1 if train[-1] < train[best] else None


def compare_to(check: CheckResult) -> str | None:
    """The task a comparing check measures its own task against, else None (results of
    every schema store it: `grader.records` fills it in for the oldest)."""
    kind = KINDS.get(check.kind)
    if kind is None or not kind.compares:
        return None
    return check.compare_to


def feedback_messages(result: Result, task_id: str) -> list[Message]:
    """What to tell the student about one task, from this submission's own numbers."""
    task = result.tasks[task_id]
    if not task.ok:
        return []
    messages: list[Message] = []
    notes: list[Message] = []
    epoch = overfit_epoch(task.history)
    if epoch is not None:
        messages.append(Message("feedback.overfit_epoch", {"epoch": epoch}))
    for check in result.checks:
        if check.task != task_id or check.observed is None:
            continue
        # borderline results, paired counts, partial credit, the learning floor (said once,
        # though each check it stopped carries it)
        notes += [m for m in check.note_messages if m not in notes]
        if check.passed or not check.counted:  # not counted: its note says what to fix
            continue
        params = {"observed": check.observed, "threshold": check.threshold,
                  "short": check.threshold - check.observed,
                  "other": compare_to(check) or ""}  # fmt: skip
        kind = KINDS.get(check.kind)
        feedback_id = kind.feedback_id() if kind else f"feedback.{check.kind}"
        messages.append(Message(feedback_id, params))
    val_acc = (task.history or {}).get("val_accuracy", ())
    if len(val_acc) >= 3 and val_acc[-1] > max(val_acc[:-1]) and epoch is None:
        messages.append(Message("feedback.still_rising"))
    messages = augmentation_aware(messages, result, task)
    return (messages or [Message("feedback.all_passed")]) + notes


def task_feedback(result: Result, task_id: str, language: str) -> list[str]:
    """The feedback sentences of one task, in `language`."""
    return [render(m, language) for m in feedback_messages(result, task_id)]


def augmentation_aware(messages: list[Message], result: Result, task: TaskRecord) -> list[Message]:
    """Advice to augment, said to a student who did: move the notebook's augmentation into the
    model (it was left out), or, with augmentation layers in the model, other remedies."""
    cells = augmentation_cells(result.notebook_dropped)
    layers = sorted({row.type for row in task.layers if _augments(row.type)})
    if cells:
        variant, extra = NOTEBOOK_AUGMENTATION, {"cells": cells}
    elif layers:
        variant, extra = MODEL_AUGMENTS, {"layers": ", ".join(layers)}
    else:
        return messages
    return [
        Message(f"{m.id}.{variant}", {**m.params, **extra}) if m.id in ADVISE_AUGMENTATION else m
        for m in messages
    ]


def _augments(layer_type: str) -> bool:
    prefix = AUGMENTATION_LAYER_PREFIX
    random = layer_type.startswith(prefix) and layer_type[len(prefix) : len(prefix) + 1].isupper()
    return random or layer_type in AUGMENTATION_LAYERS
