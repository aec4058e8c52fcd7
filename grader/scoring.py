"""Scores from class probabilities and true labels: accuracies, losses, confusion, samples.

Pure numpy (plus Pillow for the sample thumbnails). The safe-mode evaluation child calls it
with its own predictions; the grader calls it with predictions made in a student's sandbox
(models with custom layers), so that the labels never reach student code.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np

from grader import labels, stats

SPLITS = ("train", "val", "test")
SAMPLE_COUNT = 16
SAMPLE_SIDE = 96  # pixels: larger test images are shrunk for the report (shown at 40 pt)


def checked_outputs(outputs: Any, rows: int, num_classes: int) -> np.ndarray:
    """Model outputs as probability rows, after checking their shape and values.

    Raises:
        ValueError: not a finite (rows, num_classes) array of numbers (or (rows, 1) for a
            single sigmoid unit on a two-class task).
    """
    array = np.asarray(outputs)
    widths = (num_classes, 1) if num_classes == 2 else (num_classes,)
    if array.ndim != 2 or array.shape[0] != rows or array.shape[1] not in widths:
        raise ValueError(f"predictions have shape {array.shape}, expected ({rows}, {num_classes})")
    if array.dtype.kind not in "fiu" or not np.all(np.isfinite(array)):
        raise ValueError("predictions are not all finite numbers")
    return labels.as_probabilities(array.astype(np.float64))


def score(
    probabilities: dict[str, np.ndarray],
    truth: dict[str, np.ndarray],
    x_test: np.ndarray,
    num_classes: int,
) -> dict[str, Any]:
    """Metrics per split with 95 % intervals, the overfitting gap, confusion and samples.

    Beside each accuracy: its Wilson interval and the number of images (`<split>_n`); the
    gap's interval is Newcombe's for two independent proportions (`grader.stats`). The test
    split's per-image correctness (`test_correct`, '1' right / '0' wrong, in image order)
    lets two models scored on the same images be compared pair by pair.
    """
    metrics: dict[str, Any] = {}
    predicted: dict[str, np.ndarray] = {}
    right: dict[str, int] = {}
    for split in SPLITS:
        probs, y = probabilities[split], truth[split]
        predicted[split] = np.argmax(probs, axis=1).astype(np.int32)
        right[split] = int(np.sum(predicted[split] == y))
        metrics[f"{split}_accuracy"] = (
            float(np.mean(predicted[split] == y)) if len(y) else float("nan")
        )
        metrics[f"{split}_loss"] = labels.cross_entropy(probs, y) if len(y) else float("nan")
        metrics[f"{split}_accuracy_interval"] = stats.wilson(right[split], len(y))
        metrics[f"{split}_n"] = len(y)
    metrics["gap"] = metrics["train_accuracy"] - metrics["val_accuracy"]
    metrics["gap_interval"] = stats.difference(
        right["train"], len(truth["train"]), right["val"], len(truth["val"])
    )
    return {
        "metrics": metrics,
        "confusion_matrix": confusion(truth["test"], predicted["test"], num_classes),
        "samples": samples(x_test, truth["test"], predicted["test"], probabilities["test"]),
        "test_correct": correct_string(predicted["test"] == truth["test"]),
    }


def correct_string(correct: np.ndarray) -> str:
    """Per-image correctness as '1' (right) and '0' (wrong): one character an image."""
    return "".join("1" if c else "0" for c in correct.tolist())


def confusion(y: np.ndarray, pred: np.ndarray, n: int) -> list[list[int]]:
    matrix = np.zeros((n, n), dtype=np.int64)
    np.add.at(matrix, (y, pred), 1)
    return matrix.tolist()


def samples(x: np.ndarray, y: np.ndarray, pred: np.ndarray, probs: np.ndarray) -> list[dict]:
    """The first test images (the test split is already shuffled), as small PNGs: images of
    any size, shrunk to at most `SAMPLE_SIDE` pixels a side, so a result stays small."""
    from PIL import Image

    found = []
    for i in range(min(SAMPLE_COUNT, len(x))):
        buffer = io.BytesIO()
        image = Image.fromarray(x[i])
        image.thumbnail((SAMPLE_SIDE, SAMPLE_SIDE), Image.Resampling.BILINEAR)
        image.save(buffer, format="PNG")
        found.append(
            {
                "true": int(y[i]),
                "pred": int(pred[i]),
                "confidence": float(probs[i, pred[i]]),
                "image_png": base64.b64encode(buffer.getvalue()).decode(),
            }
        )
    return found
