"""Report charts as SVG data URIs, drawn with matplotlib's object API (no pyplot state)."""

from __future__ import annotations

import base64
import io
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display; harmless when already set
from matplotlib.figure import Figure  # noqa: E402

# Text stays text in the SVG (crisp, searchable, and far fewer nodes for WeasyPrint to draw).
STYLE = {"svg.fonttype": "none", "font.family": "DejaVu Sans", "font.size": 8}

TRAIN, VAL, MARK = "#1f77b4", "#d62728", "#2ca02c"


def _figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height))


def _svg(fig: Figure) -> str:
    buffer = io.BytesIO()
    with matplotlib.rc_context(STYLE):
        fig.savefig(buffer, format="svg", bbox_inches="tight")
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def curves(history: dict[str, list[float]], best_epoch: int, words: dict[str, str]) -> str:
    """Loss and accuracy per epoch, train vs validation, the best-validation epoch marked."""
    fig = _figure(7.2, 2.6)
    epochs = range(1, len(history["loss"]) + 1)
    for ax, key in zip(fig.subplots(1, 2), ("loss", "accuracy"), strict=True):
        ax.plot(epochs, history[key], color=TRAIN, label=words["train"])
        ax.plot(epochs, history[f"val_{key}"], color=VAL, label=words["validation"])
        ax.axvline(best_epoch, color=MARK, linestyle="--", linewidth=1, label=words["best_epoch"])
        ax.set_xlabel(words["epoch"])
        ax.set_title(words[key])
        ax.grid(alpha=0.3)
    fig.axes[0].legend(fontsize=7)
    return _svg(fig)


def validation_comparison(scratch: dict[str, Any], transfer: dict[str, Any], words: dict) -> str:
    """Both models' validation accuracy on one chart."""
    fig = _figure(5.5, 2.6)
    ax = fig.subplots()
    for task, label, color in ((scratch, "scratch", TRAIN), (transfer, "transfer", VAL)):
        values = task["history"]["val_accuracy"]
        ax.plot(range(1, len(values) + 1), values, color=color, label=label)
    ax.set_xlabel(words["epoch"])
    ax.set_ylabel(f"{words['validation']} {words['accuracy']}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _svg(fig)


def split_counts(split: dict[str, Any], classes: list[str], words: dict[str, str]) -> str:
    """Images per class in each split, as grouped bars."""
    fig = _figure(6.5, 2.4)
    ax = fig.subplots()
    width = 0.27
    for i, (part, label) in enumerate(
        (("train", "train"), ("val", "validation"), ("test", "test"))
    ):
        positions = [c + (i - 1) * width for c in range(len(classes))]
        ax.bar(positions, split[part], width=width, label=words[label])
    ax.set_xticks(range(len(classes)), classes, rotation=30 if len(classes) > 4 else 0, fontsize=7)
    ax.set_ylabel(words["images"])
    ax.legend(fontsize=7)
    return _svg(fig)


def histogram(values: list[float], maximum: float, xlabel: str, ylabel: str) -> str:
    """Distribution of scores."""
    fig = _figure(5, 2.4)
    ax = fig.subplots()
    ax.hist(values, bins=min(10, max(3, len(values))), range=(0, maximum), color=TRAIN)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return _svg(fig)


def task_accuracies(per_task: dict[str, list[float]], words: dict[str, str]) -> str:
    """Every student's hidden-test accuracy, one column of points per task."""
    fig = _figure(5.5, 2.6)
    ax = fig.subplots()
    for i, values in enumerate(per_task.values()):
        ax.scatter([i] * len(values), values, alpha=0.7, color=TRAIN)
    ax.set_xticks(range(len(per_task)), list(per_task))
    ax.set_ylim(0, 1)
    ax.set_ylabel(words["accuracy"])
    ax.grid(alpha=0.3)
    return _svg(fig)


def scatter(points: list[tuple[float, float]], words: dict[str, str]) -> str:
    """Scratch (x) vs transfer (y) test accuracy, with the diagonal."""
    fig = _figure(3.6, 3.4)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    if points:
        ax.scatter(*zip(*points, strict=True), color=VAL)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("scratch")
    ax.set_ylabel("transfer")
    ax.grid(alpha=0.3)
    return _svg(fig)
