"""Report charts as SVG data URIs, drawn with matplotlib's object API (no pyplot state).

Tick labels are numbers like any other in a report: written the language's way.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # no display; harmless when already set
from matplotlib import ticker  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from grader.messages import number  # noqa: E402
from grader.records import SplitCounts  # noqa: E402

TRAIN, VAL, MARK = "#1f77b4", "#d62728", "#2ca02c"
Measured = tuple[float, tuple[float, float] | None]  # a value and its 95 % interval, if known
COLORS = (TRAIN, VAL, MARK, "#9467bd", "#ff7f0e")


class LocaleTicks(ticker.Formatter):
    """Tick labels with as many decimals as the tick step needs, in the language's marks."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.digits = 2

    def set_locs(self, locs: Sequence[float]) -> None:
        ticks = sorted(locs)
        step = min((b - a for a, b in zip(ticks, ticks[1:], strict=False) if b > a), default=1.0)
        self.digits = next(
            (d for d in range(6) if abs(step * 10**d - round(step * 10**d)) < 1e-6), 6
        )

    def __call__(self, x: float, pos: int | None = None) -> str:
        return number(x, f",.{self.digits}f", self.language)


def _localize(ax: Axes, language: str, axes: str = "xy") -> None:
    if "x" in axes:
        ax.xaxis.set_major_formatter(LocaleTicks(language))
    if "y" in axes:
        ax.yaxis.set_major_formatter(LocaleTicks(language))


def _figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height))


def _svg(fig: Figure) -> str:
    buffer = io.BytesIO()
    # Text stays text in the SVG (crisp, searchable, far fewer nodes for WeasyPrint to draw);
    # no date and fixed ids: the same result gives the same chart, byte for byte.
    with matplotlib.rc_context({"svg.fonttype": "none", "font.family": "DejaVu Sans",
                                "font.size": 8, "svg.hashsalt": "grader"}):  # fmt: skip
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def curves(
    history: Mapping[str, Sequence[float]],
    best_epoch: int | None,
    words: Mapping[str, str],
    language: str,
) -> str:
    """Loss and accuracy per epoch, train vs validation, the best-validation epoch marked."""
    fig = _figure(7.2, 2.6)
    epochs = range(1, len(history["loss"]) + 1)
    for ax, key in zip(fig.subplots(1, 2), ("loss", "accuracy"), strict=True):
        ax.plot(epochs, history[key], color=TRAIN, label=words["train"])
        ax.plot(epochs, history[f"val_{key}"], color=VAL, label=words["validation"])
        if best_epoch is not None:
            ax.axvline(best_epoch, color=MARK, linestyle="--", linewidth=1,
                       label=words["best_epoch"])  # fmt: skip
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        _localize(ax, language)
        ax.set_xlabel(words["epoch"])
        ax.set_title(words[key])
        ax.grid(alpha=0.3)
    fig.axes[0].legend(fontsize=7)
    return _svg(fig)


def validation_comparison(
    histories: Mapping[str, Sequence[float]], words: Mapping[str, str], language: str
) -> str:
    """Several tasks' validation accuracy per epoch on one chart, labelled by task id."""
    fig = _figure(5.5, 2.6)
    ax = fig.subplots()
    for (task_id, values), color in zip(histories.items(), COLORS, strict=False):
        ax.plot(range(1, len(values) + 1), values, color=color, label=task_id)
    ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    _localize(ax, language)
    ax.set_xlabel(words["epoch"])
    ax.set_ylabel(f"{words['validation']} {words['accuracy']}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _svg(fig)


def split_counts(
    split: SplitCounts, classes: Sequence[str], words: Mapping[str, str], language: str
) -> str:
    """Images per class in each split, as grouped bars."""
    fig = _figure(6.5, 2.4)
    ax = fig.subplots()
    width = 0.27
    parts = ((split.train, "train"), (split.val, "validation"), (split.test, "test"))
    for i, (counts, label) in enumerate(parts):
        positions = [c + (i - 1) * width for c in range(len(counts))]
        ax.bar(positions, counts, width=width, label=words[label])
    ax.set_xticks(range(len(classes)), classes, rotation=30 if len(classes) > 4 else 0, fontsize=7)
    _localize(ax, language, "y")
    ax.set_ylabel(words["images"])
    ax.legend(fontsize=7)
    return _svg(fig)


def histogram(
    values: Sequence[float], maximum: float, xlabel: str, ylabel: str, language: str
) -> str:
    """Distribution of scores."""
    fig = _figure(5, 2.4)
    ax = fig.subplots()
    # One bar per point up to 40 points (scores are mostly whole), separated so that three
    # students in three neighbouring bins do not read as one block.
    bins = int(maximum) + 1 if maximum <= 40 else 20
    ax.hist(values, bins=bins, range=(0, maximum + 1e-9), color=TRAIN, edgecolor="white")
    ax.yaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    _localize(ax, language)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return _svg(fig)


def _errors(values: Sequence[Measured]) -> list[list[float]]:
    """Matplotlib's asymmetric error bars (below, above) of values with their intervals."""
    below = [v - i[0] if i else 0.0 for v, i in values]
    above = [i[1] - v if i else 0.0 for v, i in values]
    return [below, above]


def task_accuracies(
    per_task: Mapping[str, Sequence[Measured]], words: Mapping[str, str], language: str
) -> str:
    """Every student's hidden-test accuracy with its 95 % interval, one column per task."""
    fig = _figure(5.5, 2.6)
    ax = fig.subplots()
    for i, values in enumerate(per_task.values()):
        if not values:
            continue
        # a little spread, so that the intervals of students with similar accuracies show
        xs = [i + 0.3 * (k / max(1, len(values) - 1) - 0.5) for k in range(len(values))]
        ys = [v for v, _ in values]
        ax.errorbar(xs, ys, yerr=_errors(values), fmt="o", alpha=0.7, color=TRAIN,
                    elinewidth=1, capsize=2)  # fmt: skip
    ax.set_xticks(range(len(per_task)), list(per_task))
    ax.set_ylim(0, 1)
    _localize(ax, language, "y")
    ax.set_ylabel(words["accuracy"])
    ax.grid(alpha=0.3)
    return _svg(fig)


def scatter(
    points: Sequence[tuple[Measured, Measured]], first: str, second: str, language: str
) -> str:
    """Test accuracy of task `first` (x) vs task `second` (y) with 95 % intervals as error
    bars, and the diagonal."""
    fig = _figure(3.6, 3.4)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    if points:
        xs, ys = [x for x, _ in points], [y for _, y in points]
        ax.errorbar([v for v, _ in xs], [v for v, _ in ys], xerr=_errors(xs), yerr=_errors(ys),
                    fmt="o", color=VAL, elinewidth=1, capsize=2, alpha=0.8)  # fmt: skip
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    _localize(ax, language)
    ax.set_xlabel(first)
    ax.set_ylabel(second)
    ax.grid(alpha=0.3)
    return _svg(fig)
