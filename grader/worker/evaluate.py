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

import inspect
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from grader import scoring
from grader.worker.train import TaskError, confine, import_submission, limit_gpu_memory


def main(request_path: str) -> int:
    request = json.loads(Path(request_path).read_text())
    confine(request)
    limit_gpu_memory(request)
    import keras

    keras.utils.set_random_seed(request["seed"])
    out = Path(request["out"])
    custom: dict[str, Any] | None = None
    if request.get("submission"):
        try:
            custom = _student_objects(Path(request["submission"]))
        except TaskError as exc:
            failed = {"status": "error", "error_kind": exc.kind, "error": str(exc)}
            (out / "eval.json").write_text(json.dumps(dict.fromkeys(request["tasks"], failed)))
            return 0
    results = {}
    for task, job in request["tasks"].items():
        try:
            results[task] = evaluate(job, custom, out / task)
        except EvaluationError as exc:
            results[task] = {"status": "error", "error_kind": exc.kind, "error": str(exc)}
    (out / "eval.json").write_text(json.dumps(results))
    return 0


class EvaluationError(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def evaluate(job: dict[str, Any], custom: dict[str, Any] | None, out: Path) -> dict[str, Any]:
    """Metrics, confusion matrix, samples and layer table for one task's trained model.

    With `custom` (student mode), the predictions go to `out/<split>.npy` for the grader to
    score, and only the model's facts are returned.
    """
    model = _load(job["model"], job["function"], custom)
    images = _arrays(job, "x")
    outputs = {s: _predict(model, images[s], job["num_classes"]) for s in scoring.SPLITS}
    result = {"status": "ok", **_model_facts(model)}
    if job.get("base_model") and job.get("built_model"):
        base = _load(job["base_model"], "the base model", None)
        result["base_reuse"] = count_reused(
            base, _load(job["built_model"], "build_transfer", custom)
        )
    if custom is not None:
        out.mkdir()
        for split, array in outputs.items():
            np.save(out / f"{split}.npy", array.astype(np.float32), allow_pickle=False)
        return result
    truth = _arrays(job, "y")
    return {**result, **scoring.score(outputs, truth, images["test"], job["num_classes"])}


def _arrays(job: dict[str, Any], kind: str) -> dict[str, np.ndarray]:
    """The task's images (`x`) or labels (`y`) per split."""
    folder = Path(job["data"])
    return {s: np.load(folder / f"{kind}_{s}.npy", allow_pickle=False) for s in scoring.SPLITS}


def _student_objects(submission: Path) -> dict[str, Any]:
    """The submission's classes and functions, by name, for loading its custom layers."""
    module = import_submission(submission)
    return {
        name: value
        for name, value in vars(module).items()
        if inspect.isclass(value) or inspect.isfunction(value)
    }


def _load(path: str, function: str, custom: dict[str, Any] | None) -> Any:
    """Load a `.keras` file: in safe mode with Keras' own classes, or with the student's."""
    import keras

    if custom is not None:
        try:
            return keras.models.load_model(
                path, custom_objects=custom, compile=False, safe_mode=False
            )
        except Exception as exc:  # noqa: BLE001 - the student's classes failed to rebuild
            raise EvaluationError(
                "bad_model_file",
                f"The model trained from `{function}` could not be loaded with your custom "
                f"classes ({_first_line(exc)}). Give each custom layer a `get_config()` that "
                "returns every argument of its `__init__`.",
            ) from None
    found = _custom_classes(path)
    if found:
        raise EvaluationError(
            "custom_objects",
            f"The model from `{function}` uses "
            f"{', '.join(sorted(found))}, which the grader cannot load "
            "safely (their code would have to run outside your sandbox). "
            "Build it from standard Keras layers only: no Lambda layers "
            "and no custom layer classes.",
        )
    try:
        return keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - a model file is untrusted input
        text = _first_line(exc)
        kind = (
            "custom_objects"
            if "custom" in text.lower() or "lambda" in text.lower()
            else "bad_model_file"
        )
        raise EvaluationError(
            kind,
            f"The model trained from `{function}` could not be loaded "
            f"safely for evaluation ({text}). Build it from standard Keras "
            "layers only: no Lambda layers and no custom layer classes.",
        ) from None


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__


def _custom_classes(path: str) -> set[str]:
    """Classes in a `.keras` file's config that are not Keras' own, found without loading."""
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return set()  # unreadable: load_model reports it
    return custom_classes_in(config)


def custom_classes_in(config: Any) -> set[str]:
    """Lambda layers and classes from outside Keras in a serialized model config."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            module, name = node.get("module"), node.get("class_name")
            if isinstance(name, str) and (
                name == "Lambda" or (isinstance(module, str) and not module.startswith("keras"))
            ):
                found.add(f"{name} (from {module})" if name != "Lambda" else "a Lambda layer")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
    return found


def _predict(model: Any, x: np.ndarray, num_classes: int) -> np.ndarray:
    if len(x) == 0:
        return np.zeros((0, num_classes))
    outputs = model.predict(x.astype(np.float32) / 255.0, batch_size=256, verbose=0)
    try:
        return scoring.checked_outputs(outputs, len(x), num_classes)
    except ValueError as exc:
        raise EvaluationError(
            "bad_predictions",
            f"The trained model's {exc}. Check the last layer and that training did not diverge.",
        ) from None


def _model_facts(model: Any) -> dict[str, Any]:
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    total = int(model.count_params())
    return {
        "params": total,
        "trainable_params": trainable,
        "non_trainable_params": total - trainable,
        "layers": _layer_table(model),
    }


def _layer_table(model: Any, prefix: str = "") -> list[dict[str, Any]]:
    rows = []
    for layer in model.layers:
        if hasattr(layer, "layers") and layer.layers:  # a nested model, e.g. the base
            rows += _layer_table(layer, prefix=f"{prefix}{layer.name}/")
            continue
        try:
            shape = str(tuple(layer.output.shape))
        except Exception:  # noqa: BLE001 - some layers have no single output
            shape = "?"
        rows.append(
            {
                "name": prefix + layer.name,
                "type": type(layer).__name__,
                "output_shape": shape,
                "params": int(layer.count_params()),
                "trainable": bool(layer.trainable and layer.count_params() > 0),
            }
        )
    return rows


def count_reused(base: Any, built: Any) -> dict[str, int]:
    """Weighted base layers whose every weight `built` holds with identical values."""
    held = [w.numpy() for w in built.weights]
    weighted = [layer for layer in base.layers if layer.weights]
    reused = sum(
        all(
            any(h.shape == w.shape and np.array_equal(h, w.numpy()) for h in held)
            for w in layer.weights
        )
        for layer in weighted
    )
    frozen = sum(not layer.trainable for layer in _flatten(built) if layer.weights)
    return {"base_layers": len(weighted), "reused_layers": int(reused), "frozen_layers": frozen}


def _flatten(model: Any) -> list[Any]:
    out = []
    for layer in model.layers:
        out += _flatten(layer) if hasattr(layer, "layers") and layer.layers else [layer]
    return out


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
