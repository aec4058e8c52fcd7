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
from grader.sandbox import jobs
from grader.spec import Assignment

Progress = Callable[[str, str, str], None]  # (student, task, message)


@dataclass(frozen=True)
class Context:
    """Everything a submission's grading needs besides the submission itself."""

    assignment: Assignment
    layout: Layout  # every path under the output folder
    splits_dir: Path
    split_key: str
    data_fingerprint: str
    isolation: sandbox.Isolation  # level, memory cap, GPUs
    work: Path  # private temp folder holding the job folders
    progress: Progress
    base: dict[str, Any] | None = None  # the trained base model: info + "path"
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


def train_request(
    job: jobs.Job,
    ctx: Context,
    *,
    call: str,
    function: str,
    classes: list[str],
    training: dict,
    limits: dict,
    module_file: Path,
    task: str = "base",
    quick: bool = False,
) -> dict[str, Any]:
    """The request file of a train worker, with paths as the child sees them."""
    return {
        "task": task,
        "call": call,
        "function": function,
        "classes": classes,
        "num_classes": len(classes),
        "input_shape": [32, 32, 3],
        "seed": ctx.assignment.seed,
        "defaults": training,
        "limits": limits,
        "quick": quick,
        "submission": job.inside(module_file),
        "data": job.inside(job.inputs),
        "out": job.inside(job.outputs),
        "base_model": job.inside(job.inputs / "base.keras") if call == "base" else None,
    }


def load_json(path: Path) -> dict[str, Any]:
    """A JSON object the grader itself wrote, or {} when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
