"""Child process that scores trained models on train, validation and hidden-test splits.

By default it never imports a submission: models are loaded from their `.keras` files with
Keras' safe mode, so every accuracy and the overfitting gap come from code the student
cannot touch. In student mode (an assignment with `allow_custom_objects = true`, for models
with custom layers or Lambda layers) it runs in the student's sandbox instead: it imports the
submission, loads the model with its classes, and writes only predictions, which the grader
scores itself; that child never receives a label file.
Run as: python -m grader.worker.evaluate REQUEST.json
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from grader import codec, scoring
from grader.errors import ErrorKind, StudentError
from grader.protocol import ErrorReport, EvalReport, EvalRequest, EvalResult, EvalTask, Scores
from grader.worker import runtime
from grader.worker.inspect import count_reused, model_facts
from grader.worker.loading import load_model, student_objects


def main(argv: list[str]) -> int:
    return runtime.run(argv, EvalRequest, evaluate_all, _failed, "eval.json")


def _failed(raw: dict[str, Any], error: ErrorReport) -> EvalReport:
    tasks = raw.get("tasks")
    return EvalReport(
        dict.fromkeys(tasks if isinstance(tasks, dict) else {}, EvalResult(error=error))
    )


def evaluate_all(request: EvalRequest) -> EvalReport:
    """Score every task of the request; one task's problem does not stop the others."""
    runtime.limit_gpu_memory(request.gpu_memory_mb)
    import keras

    keras.utils.set_random_seed(request.seed)
    custom = student_objects(Path(request.submission)) if request.submission else None
    results = {}
    for task_id, task in request.tasks.items():
        try:
            results[task_id] = evaluate(task, custom, Path(request.out) / task_id)
        except StudentError as exc:
            results[task_id] = EvalResult(error=runtime.error_report(exc))
    return EvalReport(results)


def evaluate(task: EvalTask, custom: dict[str, Any] | None, out: Path) -> EvalResult:
    """Model facts and, in safe mode, scores for one task's trained model.

    With `custom` (student mode), the predictions go to `out/<split>.npy` for the grader to
    score, and only the model's facts are returned.
    """
    model = load_model(task.model, task.function, custom)
    images = _arrays(task, "x")
    outputs = {s: _predict(model, images[s], task) for s in scoring.SPLITS}
    facts = model_facts(model)
    if task.base_model and task.built_model:
        base = load_model(task.base_model, "the base model", None)
        built = load_model(task.built_model, task.function, custom)
        facts = replace(facts, base_reuse=count_reused(base, built))
    if custom is not None:
        out.mkdir()
        for split, array in outputs.items():
            np.save(out / f"{split}.npy", array.astype(np.float32), allow_pickle=False)
        return EvalResult(facts=facts)
    scored = scoring.score(outputs, _arrays(task, "y"), images["test"], task.num_classes)
    return EvalResult(facts=facts, scores=codec.from_json(Scores, scored))


def _arrays(task: EvalTask, kind: str) -> dict[str, np.ndarray]:
    """The task's images (`x`) or labels (`y`) per split."""
    folder = Path(task.data)
    return {s: np.load(folder / f"{kind}_{s}.npy", allow_pickle=False) for s in scoring.SPLITS}


def _predict(model: Any, x: np.ndarray, task: EvalTask) -> np.ndarray:
    """Class probabilities for images `x`, checked (shape, finite) before anything uses them.

    Raises:
        StudentError: predicting raised, or gave unusable outputs.
    """
    if len(x) == 0:
        return np.zeros((0, task.num_classes))
    try:
        outputs = model.predict(x.astype(np.float32) / 255.0, batch_size=256, verbose=0)
    except Exception as exc:  # noqa: BLE001 - a custom layer (student mode) can raise here
        raise StudentError(
            ErrorKind.BAD_PREDICTIONS,
            "bad_predictions.raised",
            function=task.function,
            error=runtime.describe(exc),
        ) from None
    try:
        return scoring.checked_outputs(outputs, len(x), task.num_classes)
    except ValueError as exc:
        raise StudentError(ErrorKind.BAD_PREDICTIONS, "bad_predictions", error=str(exc)) from None


if __name__ == "__main__":
    os.umask(0o077)  # whatever the child writes is its own
    sys.exit(main(sys.argv[1:]))
