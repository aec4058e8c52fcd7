"""Scoring what a model predicted in the student's own sandbox (custom layers): the child
hands back probabilities for images it got without labels; the grader scores them here."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from grader import codec, data, protocol, scoring
from grader.errors import ChildOutputError, ErrorKind
from grader.layout import CHECK
from grader.messages import Message
from grader.pipeline.training import Failure, child_failure
from grader.protocol import EvalResult
from grader.sandbox import jobs
from grader.sandbox.childio import read_child_file

if TYPE_CHECKING:  # the run imports this module: a real import would be a cycle
    from grader.pipeline.run import Run

PREDICTIONS_MAX_BYTES = 16 * 2**20
Evaluated = EvalResult | Failure  # per task: facts and scores, or why there are none


def scored_by_grader(run: Run, job: jobs.Job, task_id: str, result: EvalResult | None) -> Evaluated:
    """Score predictions made in the student's sandbox against labels it never saw."""
    if result is None or result.error is not None:
        return checked_safe(result)
    if result.facts is None:
        return unusable("no model facts")
    split_name = run.assignment.tasks[task_id].split
    parts = split_parts(run)
    arrays = data.load_split(
        run.splits_dir / split_name, (f"x_{parts['test']}", *(f"y_{p}" for p in parts.values()))
    )
    truth = {s: arrays[f"y_{part}"] for s, part in parts.items()}
    num_classes = len(run.assignment.splits[split_name].classes)
    try:
        probabilities = {
            s: scoring.checked_outputs(
                _child_array(job.outputs / task_id / f"{s}.npy"), len(truth[s]), num_classes
            )
            for s in scoring.SPLITS
        }
    except (ChildOutputError, ValueError) as exc:
        return unusable(str(exc))
    scored = scoring.score(probabilities, truth, arrays[f"x_{parts['test']}"], num_classes)
    return replace(result, scores=codec.from_json(protocol.Scores, scored))


def unusable(detail: str) -> Failure:
    message = Message("bad_output.sandbox_scoring", {"error": detail[:2000]})
    return ErrorKind.BAD_OUTPUT, message


def _child_array(path: Path) -> np.ndarray:
    """A `.npy` file a child wrote: no links, size capped, no pickled objects."""
    return np.load(io.BytesIO(read_child_file(path, PREDICTIONS_MAX_BYTES)), allow_pickle=False)


def checked_safe(result: EvalResult | None) -> Evaluated:
    if result is not None and result.error is not None:
        return child_failure(result.error)
    if result is None or result.facts is None or result.scores is None:
        return ErrorKind.EVALUATION_FAILED, Message("evaluation_failed.missing")
    return result


def split_parts(run: Run) -> dict[str, str]:
    """Which stored split part plays each role; a self-check never touches the hidden test."""
    return {"train": "train", "val": "val", "test": "val" if run.mode == CHECK else "test"}
