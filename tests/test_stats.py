"""Interval methods against published values (Wilson 1927; Newcombe 1998a, 1998b)."""

from __future__ import annotations

import numpy as np
import pytest

from grader import scoring, stats


def test_wilson_interval_of_81_out_of_100() -> None:
    assert stats.wilson(81, 100) == pytest.approx((0.7222, 0.8749), abs=5e-5)
    assert stats.wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=5e-5)  # Newcombe 1998c
    assert stats.wilson(5, 0) is None


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ((56, 70, 48, 80), (0.0524, 0.3339)),  # Newcombe 1998a, example (a), method 10
        ((9, 10, 3, 10), (0.1705, 0.8090)),  # example (b)
        ((6, 7, 2, 7), (0.0582, 0.8062)),  # example (c)
    ],
)
def test_newcombe_difference_of_independent_proportions(
    counts: tuple[int, int, int, int], expected: tuple[float, float]
) -> None:
    assert stats.difference(*counts) == pytest.approx(expected, abs=5e-5)


def test_newcombe_paired_difference() -> None:
    # Bentur et al. (2009), Fagerland, Lydersen & Laake (2017) ch. 8: table [[1, 1], [7, 12]]:
    # estimate 2/21 - 8/21 = -0.2857, the square-and-add interval (-0.5069, -0.0256)
    assert stats.paired_difference(1, 1, 7, 12) == pytest.approx((-0.5069, -0.0256), abs=5e-5)
    low, high = stats.paired_difference(600, 100, 40, 460) or (0, 0)
    assert low < 60 / 1200 < high and low > 0  # clearly better on the same images
    # the same answers on every image: an interval symmetric around 0, not a point
    low, high = stats.paired_difference(5, 0, 0, 5) or (0, 0)
    assert low == pytest.approx(-high) and high > 0


def test_discordant_counts_pairs_of_the_same_images() -> None:
    assert stats.discordant("1100", "1010") == (1, 1, 1, 1)
    assert stats.discordant("11", "1") is None
    assert stats.discordant("1x", "10") is None
    assert stats.contains((0.6, 0.7), 0.7) and not stats.contains(None, 0.5)


def test_score_stores_intervals_counts_and_correctness() -> None:
    y = {s: np.array([0, 1, 1, 0]) for s in scoring.SPLITS}
    probs = {s: np.eye(2)[np.array([0, 1, 0, 0])] for s in scoring.SPLITS}
    scored = scoring.score(probs, y, np.zeros((4, 32, 32, 3), dtype=np.uint8), 2)
    metrics = scored["metrics"]
    assert metrics["test_accuracy"] == 0.75 and metrics["test_n"] == 4
    assert metrics["test_accuracy_interval"] == stats.wilson(3, 4)
    assert metrics["gap_interval"] == stats.difference(3, 4, 3, 4)
    assert scored["test_correct"] == "1101"
