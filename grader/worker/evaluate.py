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

import contextlib
import json
import math
import os
import sys
import traceback
from collections.abc import Callable
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

MAX_BATCH = 256  # images a predict batch holds at most
ACTIVATION_BUDGET = 2**30  # bytes of layer outputs a batch may need (the child has 8 GB)


def main(argv: list[str]) -> int:
    return runtime.run(argv, EvalRequest, evaluate_all, _failed, "eval.json")


def _failed(raw: dict[str, Any], error: ErrorReport) -> EvalReport:
    tasks = raw.get("tasks")
    return EvalReport(
        dict.fromkeys(tasks if isinstance(tasks, dict) else {}, EvalResult(error=error))
    )


def evaluate_all(request: EvalRequest) -> EvalReport:
    """Score every task of the request; one task's problem does not stop the others.

    Each task's result is also written on its own (`task_file`) as soon as it is known: if
    the child dies on a later task, the grader keeps the tasks already scored.
    """
    runtime.claim_gpu(request.gpu_slot, request.gpu_memory_mb)
    import keras

    keras.utils.set_random_seed(request.seed)
    custom = student_objects(Path(request.submission)) if request.submission else None
    results = {}
    for task_id, task in request.tasks.items():
        try:
            results[task_id] = evaluate(task, custom, Path(request.out) / task_id)
        except StudentError as exc:
            results[task_id] = EvalResult(error=runtime.error_report(exc))
        except Exception as exc:  # noqa: BLE001 - a grader bug fails this task alone
            traceback.print_exc(file=sys.stderr)
            results[task_id] = EvalResult(error=runtime.internal_error(exc))
        _write_task(Path(request.out) / task_file(task_id), results[task_id])
    return EvalReport(results)


def task_file(task_id: str) -> str:
    """The file one task's result is written to, beside the whole report (`eval.json`)."""
    return f"scored-{task_id}.json"


def _write_task(path: Path, result: EvalResult) -> None:
    """Write one task's result whole or not at all (a temporary file, then renamed). Only a
    fallback for a child that dies later: a full disk here fails nothing."""
    tmp = path.with_name(f".{path.name}.tmp")
    with contextlib.suppress(OSError):
        tmp.write_text(json.dumps(codec.to_json(result), allow_nan=False), encoding="utf-8")
        os.replace(tmp, path)


def evaluate(task: EvalTask, custom: dict[str, Any] | None, out: Path) -> EvalResult:
    """Model facts and, in safe mode, scores for one task's trained model.

    With `custom` (student mode), the predictions go to `out/<split>.npy` for the grader to
    score, and only the model's facts are returned.
    """
    model = load_model(task.model, task.function, custom)
    images = _arrays(task, "x")
    outputs, batch = {}, batch_size(model)
    forward = traced_forward(model, images["test"].shape[1:])
    for split in scoring.SPLITS:  # a batch size that ran out of memory is not tried again
        outputs[split], batch = predict(model, images[split], task, batch, forward)
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


def batch_size(model: Any) -> int:
    """The batch size to predict with: at most `MAX_BATCH`, fewer images when the model's
    layer outputs for one image are large, so that a batch's activations fit in
    `ACTIVATION_BUDGET` (a model whose activations at 256 images would need 13 GB is scored
    20 images at a time, not killed with every other task of the child)."""
    per_image = 4 * sum(_output_sizes(model))  # float32, every layer's output at once: a bound
    return max(1, min(MAX_BATCH, ACTIVATION_BUDGET // max(per_image, 1)))


def _output_sizes(model: Any) -> list[int]:
    """The number of values each layer outputs per image, nested models' layers included.

    An estimate only: a layer whose output cannot be read (never called, or a custom class
    in student mode that hides it) is left out rather than failing the scoring.
    """
    sizes = []
    for layer in getattr(model, "layers", ()):
        try:
            if getattr(layer, "layers", None):
                sizes += _output_sizes(layer)
                continue
            outputs = layer.output
            for tensor in outputs if isinstance(outputs, list | tuple) else [outputs]:
                sizes.append(math.prod(int(d or 1) for d in tuple(tensor.shape)[1:]))
        except Exception:  # noqa: BLE001, S112 - see above: an estimate never fails scoring
            continue
    return sizes


def _out_of_memory(exc: BaseException) -> bool:
    """Whether predicting failed for want of memory (TensorFlow's error, by name: no import)."""
    return isinstance(exc, MemoryError) or type(exc).__name__ == "ResourceExhaustedError"


def traced_forward(model: Any, shape: tuple[int, ...]) -> Callable[[np.ndarray], Any] | None:
    """The model's inference pass as one traced function whose batch size is left open, or
    None (not a Keras model with one output: `predict` then).

    It gives `predict`'s numbers batch by batch (the same batches, the same kernels) in
    about half its time: one trace serves the three splits and their last, partial batches,
    and no `tf.data` pipeline is built around arrays already in memory.
    """
    import keras
    import tensorflow as tf

    if not isinstance(model, keras.Model) or len(getattr(model, "outputs", None) or ()) != 1:
        return None
    spec = tf.TensorSpec([None, *shape], tf.float32)
    return tf.function(lambda x: model(x, training=False), input_signature=[spec])


def _outputs(
    model: Any, pixels: np.ndarray, batch: int, forward: Callable[[np.ndarray], Any] | None
) -> Any:
    """The model's outputs for `pixels`, `batch` images at a time."""
    if forward is not None:
        try:
            parts = [
                np.asarray(forward(pixels[i : i + batch])) for i in range(0, len(pixels), batch)
            ]
            return np.concatenate(parts)
        except Exception as exc:  # noqa: BLE001 - a model the trace refuses: `predict` says why
            if _out_of_memory(exc):
                raise
    return model.predict(pixels, batch_size=batch, verbose=0)


def predict(
    model: Any,
    x: np.ndarray,
    task: EvalTask,
    batch: int,
    forward: Callable[[np.ndarray], Any] | None = None,
) -> tuple[np.ndarray, int]:
    """Class probabilities for images `x`, checked (shape, finite) before anything uses them,
    and the batch size that worked: out of memory at one batch size, it tries half of it,
    down to one image. `forward`: the model's `traced_forward`, if it has one.

    Raises:
        StudentError: predicting raised (out of memory even one image at a time, say), or
            gave unusable outputs.
    """
    if len(x) == 0:
        return np.zeros((0, task.num_classes)), batch
    while True:
        try:
            pixels = x.astype(np.float32) / task.pixel_divisor
            outputs = _outputs(model, pixels, batch, forward)
            break
        except Exception as exc:  # noqa: BLE001 - a custom layer (student mode) can raise here
            if _out_of_memory(exc) and batch > 1:
                print(f"scoring: out of memory at batch size {batch}; trying {batch // 2}",
                      file=sys.stderr)  # fmt: skip
                batch //= 2
                continue
            error = runtime.describe(exc)
            if _out_of_memory(exc):
                error = f"out of memory even one image at a time ({error})"
            raise StudentError(
                ErrorKind.BAD_PREDICTIONS,
                "bad_predictions.raised",
                function=task.function,
                error=error,
            ) from None
    try:
        return scoring.checked_outputs(outputs, len(x), task.num_classes), batch
    except ValueError as exc:
        raise StudentError(ErrorKind.BAD_PREDICTIONS, "bad_predictions", error=str(exc)) from None


if __name__ == "__main__":
    os.umask(0o077)  # whatever the child writes is its own
    runtime.leave(main(sys.argv[1:]))
