"""Label formats follow the loss the student compiled with."""

from __future__ import annotations

import numpy as np
import pytest

from grader import labels


@pytest.mark.parametrize(
    ("loss", "units", "expected"),
    [
        ("sparse_categorical_crossentropy", 3, labels.SPARSE),
        ("SparseCategoricalCrossentropy", 10, labels.SPARSE),
        ("categorical_crossentropy", 3, labels.ONE_HOT),
        ("CategoricalCrossentropy", 3, labels.ONE_HOT),
        ("binary_crossentropy", 1, labels.BINARY),
        ("binary_crossentropy", 3, labels.ONE_HOT),
        ("mse", 3, labels.ONE_HOT),
    ],
)
def test_label_format_follows_the_loss(loss: str, units: int, expected: str) -> None:
    assert labels.label_format(loss, units) == expected


def test_unknown_loss_says_which_losses_work() -> None:
    with pytest.raises(labels.LabelFormatError, match="Use 'sparse_categorical_crossentropy'"):
        labels.label_format("cosine_similarity", 3)


def test_encode() -> None:
    y = np.array([0, 2, 1])
    assert labels.encode(y, labels.SPARSE, 3).tolist() == [0, 2, 1]
    assert labels.encode(y, labels.ONE_HOT, 3).tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert labels.encode(np.array([0, 1]), labels.BINARY, 2).tolist() == [[0.0], [1.0]]


def test_predictions_from_probabilities_and_logits() -> None:
    probs = np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]])
    assert labels.predicted_classes(probs).tolist() == [1, 0]
    logits = np.array([[-3.0, 2.0, 0.0]])
    assert np.allclose(labels.as_probabilities(logits).sum(axis=1), 1)
    assert labels.predicted_classes(np.array([[0.2], [0.9]])).tolist() == [0, 1]
    assert labels.as_probabilities(np.array([[0.25]])).tolist() == [[0.75, 0.25]]


def test_cross_entropy() -> None:
    probs = np.array([[0.5, 0.5], [0.9, 0.1]])
    assert labels.cross_entropy(probs, np.array([0, 0])) == pytest.approx(
        -(np.log(0.5) + np.log(0.9)) / 2
    )
