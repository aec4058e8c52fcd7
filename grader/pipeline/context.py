"""What every stage of one grading run shares: the assignment, caches, isolation, progress."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader import sandbox
from grader.errors import GradingError  # noqa: F401
from grader.layout import CHECK, GRADE, Layout  # noqa: F401
from grader.spec import Assignment

Progress = Callable[[str, str, str], None]  # (student, task, message)


@dataclass(frozen=True)
class TrainedBase:
    """The trained base model's file, and what it was trained to (`pipeline/basemodel.py`)."""

    path: Path
    val_accuracy: float
    epochs: int
    classes: tuple[str, ...]
    file: str

    def provenance(self) -> dict[str, Any]:
        """What a result records of the base model it was graded with."""
        return {
            "val_accuracy": self.val_accuracy,
            "epochs": self.epochs,
            "classes": list(self.classes),
            "file": self.file,
        }


@dataclass(frozen=True)
class Context:
    """Everything a submission's grading needs besides the submission itself."""

    assignment: Assignment
    layout: Layout  # every path under the output folder
    splits_dir: Path
    split_key: str
    data_fingerprint: str
    isolation: sandbox.Isolation  # level, memory cap, GPUs
    sandbox: sandbox.Sandbox  # runs the children; closed by whoever called `prepare`
    work: Path  # private temp folder holding the job folders
    progress: Progress
    base: TrainedBase | None = None  # the trained base model: its file and provenance
    mode: str = GRADE

    @property
    def level(self) -> str:
        return self.isolation.level

    @property
    def results_dir(self) -> Path:
        return self.layout.results


def train_arrays(ctx: Context, split: str) -> dict[str, Path]:
    """Training and validation arrays only: the hidden test split never reaches student code."""
    names = ("x_train", "y_train", "x_val", "y_val")
    return {f"{n}.npy": ctx.splits_dir / split / f"{n}.npy" for n in names}


def load_json(path: Path) -> dict[str, Any]:
    """A JSON object the grader itself wrote, or {} when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
