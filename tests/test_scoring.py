"""Scoring predictions (what a student-side child hands back is checked in test_protocol)."""

from __future__ import annotations

import numpy as np
import pytest

from grader import scoring


def test_score_counts_hits_per_split_and_the_gap() -> None:
    probs = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.8, 0.1, 0.1]])
    truth = {"train": np.array([0, 1, 2, 0]), "val": np.array([0, 1, 2, 2])}
    truth["test"] = np.array([1, 1, 2, 0])
    x = np.zeros((4, 32, 32, 3), np.uint8)
    scored = scoring.score(dict.fromkeys(scoring.SPLITS, probs), truth, x, 3)
    m = scored["metrics"]
    assert (m["train_accuracy"], m["val_accuracy"], m["test_accuracy"]) == (1.0, 0.75, 0.75)
    assert m["gap"] == 0.25
    assert m["train_loss"] == pytest.approx(-np.log(0.8))
    assert scored["confusion_matrix"] == [[1, 0, 0], [1, 1, 0], [0, 0, 1]]
    assert [s["pred"] for s in scored["samples"]] == [0, 1, 2, 0]


def test_logits_become_probabilities() -> None:
    probs = scoring.checked_outputs(np.array([[2.0, -1.0, 0.0]]), rows=1, num_classes=3)
    assert probs.sum() == pytest.approx(1.0)
    assert probs.argmax() == 0


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        (np.zeros((3, 3)), "shape (3, 3), expected (4, 3)"),
        (np.zeros((4, 2)), "shape (4, 2), expected (4, 3)"),
        (np.zeros((4, 3, 1)), "shape (4, 3, 1)"),
        (np.full((4, 3), np.nan), "not all finite"),
        (np.array([["a"] * 3] * 4), "not all finite numbers"),
    ],
)
def test_unusable_predictions_are_refused(outputs: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        scoring.checked_outputs(outputs, rows=4, num_classes=3)


def test_one_sigmoid_unit_is_accepted_for_two_classes() -> None:
    probs = scoring.checked_outputs(np.array([[0.9], [0.2]]), rows=2, num_classes=2)
    np.testing.assert_allclose(probs, [[0.1, 0.9], [0.8, 0.2]])
