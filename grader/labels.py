"""Which label format a loss expects, and the arrays in that format (pure numpy)."""

from __future__ import annotations

import numpy as np

SPARSE, ONE_HOT, BINARY = "int", "one_hot", "binary"


class LabelFormatError(ValueError):
    """A loss the grader cannot feed labels to; `message_id` and `params` name the message."""

    def __init__(self, message: str, message_id: str, **params: str) -> None:
        super().__init__(message)
        self.message_id, self.params = message_id, params


def loss_name(loss: object) -> str:
    """A readable name for a compiled loss: a string, a Loss object or a function."""
    if loss is None:
        return "none"
    if isinstance(loss, str):
        return loss
    if isinstance(loss, dict | list | tuple):
        raise LabelFormatError(
            f"The model was compiled with several losses ({loss!r}); each task has one output. "
            "Compile with a single loss, e.g. loss='sparse_categorical_crossentropy'.",
            "unsupported_loss.several",
            losses=repr(loss),
        )
    name = getattr(loss, "name", None) or getattr(loss, "__name__", None)
    return str(name or type(loss).__name__)


def label_format(loss: str, output_units: int) -> str:
    """The labels a loss expects: integers, one-hot rows, or 0/1 for a single sigmoid unit.

    Raises:
        LabelFormatError: the loss is not one the grader knows how to feed.
    """
    key = loss.lower().replace("_", "")
    if "sparse" in key:
        return SPARSE
    if "binary" in key or "hinge" in key:
        return BINARY if output_units == 1 else ONE_HOT
    if any(k in key for k in ("categorical", "meansquared", "mse", "kl", "poisson", "focal")):
        return BINARY if output_units == 1 else ONE_HOT
    raise LabelFormatError(
        f"The model was compiled with loss={loss!r}, which the grader cannot match to a label "
        "format. Use 'sparse_categorical_crossentropy' (integer labels), "
        "'categorical_crossentropy' (one-hot labels) or, for one sigmoid unit, "
        "'binary_crossentropy'.",
        "unsupported_loss.unknown",
        loss=repr(loss),
    )


def encode(labels: np.ndarray, fmt: str, num_classes: int) -> np.ndarray:
    """Integer class labels in the format `fmt`."""
    if fmt == SPARSE:
        return labels.astype(np.int32)
    if fmt == BINARY:
        return labels.astype(np.float32).reshape(-1, 1)
    return np.eye(num_classes, dtype=np.float32)[labels]


def predicted_classes(outputs: np.ndarray) -> np.ndarray:
    """Class indices from model outputs: argmax, or a 0.5 threshold for one sigmoid unit."""
    if outputs.shape[-1] == 1:
        return (outputs[:, 0] > 0.5).astype(np.int32)
    return np.argmax(outputs, axis=-1).astype(np.int32)


def as_probabilities(outputs: np.ndarray) -> np.ndarray:
    """Rows of class probabilities, applying softmax/sigmoid when the model outputs logits."""
    outputs = outputs.astype(np.float64)
    if outputs.shape[-1] == 1:
        p = outputs[:, 0]
        if p.min() < 0 or p.max() > 1:
            p = 1 / (1 + np.exp(-p))
        return np.stack([1 - p, p], axis=1)
    if outputs.min() < 0 or not np.allclose(outputs.sum(axis=1), 1, atol=1e-3):
        shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)
    return outputs


def cross_entropy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean cross-entropy of true labels under predicted probabilities."""
    picked = probabilities[np.arange(len(labels)), labels]
    return float(-np.mean(np.log(np.clip(picked, 1e-7, 1.0))))
