"""95 % intervals for accuracies and their differences (pure stdlib: score-based methods).

Every accuracy the grader measures is a proportion of images classified right, so its
uncertainty comes from the number of images: the Wilson score interval for one proportion,
and Newcombe's hybrid score ("square-and-add") intervals, built from Wilson intervals, for a
difference of two proportions measured on different images (independent) or on the same
images (paired). These are the methods Newcombe (1998a, 1998b) recommends: they stay inside
[-1, 1], behave near 0 and 1, and need no iteration or scipy.
"""

from __future__ import annotations

import math

Z95 = 1.959963984540054  # the standard normal 0.975 quantile
Interval = tuple[float, float]


def wilson(successes: int, n: int, z: float = Z95) -> Interval | None:
    """The Wilson score interval of `successes` out of `n` (None when `n` is 0).

    Wilson (1927); Newcombe (1998c), method 3.
    """
    if n <= 0:
        return None
    p, z2 = successes / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def difference(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> Interval | None:
    """Interval of p1 - p2 for two independent proportions (`x1`/`n1` and `x2`/`n2`).

    Newcombe's hybrid score interval (Newcombe 1998a, method 10): the distances from each
    proportion to its own Wilson limits, added in squares.
    """
    w1, w2 = wilson(x1, n1, z), wilson(x2, n2, z)
    if w1 is None or w2 is None:
        return None
    p1, p2 = x1 / n1, x2 / n2
    d = p1 - p2
    low = d - math.hypot(p1 - w1[0], w2[1] - p2)
    high = d + math.hypot(w1[1] - p1, p2 - w2[0])
    return max(-1.0, low), min(1.0, high)


def paired_difference(both: int, only1: int, only2: int, neither: int, z: float = Z95) -> (
    Interval | None
):  # fmt: skip
    """Interval of p1 - p2 when both proportions are measured on the same items.

    `only1` items are right for the first (wrong for the second), `only2` the other way.
    Newcombe's square-and-add interval for paired proportions (Newcombe 1998b, method 10):
    the Wilson limits of each marginal proportion, combined with the correlation phi of
    the 2x2 table (its numerator ad - bc reduced by n/2 when above it, to 0 when between 0
    and n/2, as Newcombe specifies).
    """
    n = both + only1 + only2 + neither
    x1, x2 = both + only1, both + only2
    w1, w2 = wilson(x1, n, z), wilson(x2, n, z)
    if w1 is None or w2 is None:
        return None
    p1, p2 = x1 / n, x2 / n
    margins = x1 * (n - x1) * x2 * (n - x2)
    cross = both * neither - only1 * only2
    numerator = cross - n / 2 if cross > n / 2 else (min(cross, 0.0))
    phi = numerator / math.sqrt(margins) if margins > 0 else 0.0
    dl1, du1, dl2, du2 = p1 - w1[0], w1[1] - p1, p2 - w2[0], w2[1] - p2
    d = p1 - p2
    low = d - math.sqrt(max(0.0, dl1 * dl1 - 2 * phi * dl1 * du2 + du2 * du2))
    high = d + math.sqrt(max(0.0, dl2 * dl2 - 2 * phi * dl2 * du1 + du1 * du1))
    return max(-1.0, low), min(1.0, high)


def discordant(correct1: str, correct2: str) -> tuple[int, int, int, int] | None:
    """(both right, only the first right, only the second right, both wrong) per item.

    The arguments are per-item strings of '1' (right) and '0' (wrong), in the same item
    order; None when they are empty, of different lengths (not the same items) or not
    made of '0' and '1' only.
    """
    if not correct1 or len(correct1) != len(correct2) or (correct1 + correct2).strip("01"):
        return None
    pairs = list(zip(correct1, correct2, strict=True))
    count = pairs.count
    return count(("1", "1")), count(("1", "0")), count(("0", "1")), count(("0", "0"))


def contains(interval: Interval | None, value: float) -> bool:
    """Whether `value` lies inside the closed `interval` (never for a missing one)."""
    return interval is not None and interval[0] <= value <= interval[1]
