"""Child process that scores trained models on train, validation and hidden-test splits.

It never imports a submission: models are loaded from their `.keras` files with Keras'
safe mode, so every accuracy and the overfitting gap come from code the student cannot
touch. Run as: python -m grader.eval_worker REQUEST.json
"""

from __future__ import annotations

import base64
import io
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from grader import labels
from grader.train_worker import confine

SAMPLE_COUNT = 16


def main(request_path: str) -> int:
    request = json.loads(Path(request_path).read_text())
    confine(request)
    import keras

    keras.utils.set_random_seed(request["seed"])
    results = {}
    for task, job in request["tasks"].items():
        try:
            results[task] = evaluate(job, request)
        except EvaluationError as exc:
            results[task] = {"status": "error", "error_kind": exc.kind, "error": str(exc)}
    Path(request["out"], "eval.json").write_text(json.dumps(results))
    return 0


class EvaluationError(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def evaluate(job: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """Metrics, confusion matrix, samples and layer table for one task's trained model."""
    model = _load(job["model"], job["function"])
    data = {
        n: np.load(Path(job["data"]) / f"{n}.npy", allow_pickle=False)
        for n in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
    }
    metrics: dict[str, float] = {}
    test_pred = np.zeros(0, np.int32)
    test_prob = np.zeros((0, job["num_classes"]))
    for split in ("train", "val", "test"):
        x, y = data[f"x_{split}"], data[f"y_{split}"]
        probs = _predict(model, x, job["num_classes"])
        pred = np.argmax(probs, axis=1).astype(np.int32)
        metrics[f"{split}_accuracy"] = float(np.mean(pred == y)) if len(y) else float("nan")
        metrics[f"{split}_loss"] = labels.cross_entropy(probs, y) if len(y) else float("nan")
        if split == "test":
            test_pred, test_prob = pred, probs
    metrics["gap"] = metrics["train_accuracy"] - metrics["val_accuracy"]
    result = {"status": "ok", "metrics": metrics, **_model_facts(model)}
    result["confusion_matrix"] = _confusion(data["y_test"], test_pred, job["num_classes"])
    result["samples"] = _samples(data["x_test"], data["y_test"], test_pred, test_prob)
    if job.get("base_model") and job.get("built_model"):
        result["base_reuse"] = _base_reuse(job["base_model"], job["built_model"])
    return result


def _load(path: str, function: str) -> Any:
    import keras

    custom = _custom_classes(path)
    if custom:
        raise EvaluationError(
            "custom_objects",
            f"The model from `{function}` uses "
            f"{', '.join(sorted(custom))}, which the grader cannot load "
            "safely (their code would have to run outside your sandbox). "
            "Build it from standard Keras layers only: no Lambda layers "
            "and no custom layer classes.",
        )
    try:
        return keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - a model file is untrusted input
        text = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        kind = (
            "custom_objects"
            if "custom" in text.lower() or "lambda" in text.lower()
            else ("bad_model_file")
        )
        raise EvaluationError(
            kind,
            f"The model trained from `{function}` could not be loaded "
            f"safely for evaluation ({text}). Build it from standard Keras "
            "layers only: no Lambda layers and no custom layer classes.",
        ) from None


def _custom_classes(path: str) -> set[str]:
    """Classes in a `.keras` file's config that are not Keras' own, found without loading."""
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return set()  # unreadable: load_model reports it
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
    outputs = np.asarray(outputs, dtype=np.float64)
    if outputs.ndim != 2 or outputs.shape[0] != len(x) or not np.all(np.isfinite(outputs)):
        raise EvaluationError(
            "bad_predictions",
            "The trained model produced predictions that "
            f"are not finite class scores (shape {outputs.shape}). Check the "
            "last layer and that training did not diverge.",
        )
    return labels.as_probabilities(outputs)


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


def _confusion(y: np.ndarray, pred: np.ndarray, n: int) -> list[list[int]]:
    matrix = np.zeros((n, n), dtype=np.int64)
    np.add.at(matrix, (y, pred), 1)
    return matrix.tolist()


def _samples(x: np.ndarray, y: np.ndarray, pred: np.ndarray, probs: np.ndarray) -> list[dict]:
    """The first test images (the test split is already shuffled), as small PNGs."""
    from PIL import Image

    samples = []
    for i in range(min(SAMPLE_COUNT, len(x))):
        buffer = io.BytesIO()
        Image.fromarray(x[i]).save(buffer, format="PNG")
        samples.append(
            {
                "true": int(y[i]),
                "pred": int(pred[i]),
                "confidence": float(probs[i, pred[i]]),
                "image_png": base64.b64encode(buffer.getvalue()).decode(),
            }
        )
    return samples


def _base_reuse(base_path: str, built_path: str) -> dict[str, int]:
    """How many of the base's weighted layers the model held, unchanged, when built."""
    return count_reused(_load(base_path, "the base model"), _load(built_path, "build_transfer"))


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
