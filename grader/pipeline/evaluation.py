"""Scoring trained models in a child that runs no student code.

Models with custom layers or Lambda layers cannot be loaded that way. When the assignment
sets `allow_custom_objects = true`, they are loaded in the student's own sandbox instead,
which receives images but no labels and hands back predictions; the grader scores those,
and the task's `evaluated_in` says that student code ran during scoring.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from grader import data, scoring
from grader.pipeline.context import CHECK, Context
from grader.pipeline.results import (
    ChildOutputError,
    checked_base_reuse,
    checked_count,
    read_child_file,
    read_child_json,
)
from grader.pipeline.submissions import SUBMISSION_FILE, Staged, copy_tree
from grader.sandbox import jobs

TASK_SECONDS = 60
KEPT = (
    "metrics",
    "params",
    "trainable_params",
    "non_trainable_params",
    "layers",
    "confusion_matrix",
    "samples",
    "base_reuse",
)
SAFE_MODE, STUDENT_SANDBOX = "safe_mode", "student_sandbox"  # where a task was scored
PREDICTIONS_MAX_BYTES = 16 * 2**20


def evaluate_tasks(
    ctx: Context, tasks: dict[str, dict], staged: Staged, work: Path, slot: int
) -> None:
    """Score every trained model of one submission (updates `tasks`).

    One child without student code scores them all; with `allow_custom_objects`, models
    it refuses for their custom classes go to a second child, in the student's sandbox.
    In a self-check the validation split stands in for the hidden test split, which the
    student's side never receives.
    """
    trained = {t: r for t, r in tasks.items() if r["status"] == "ok"}
    if not trained:
        return
    what = "validation split (self-check)" if ctx.mode == CHECK else "hidden test split"
    ctx.progress(staged.student, "evaluation", f"scoring on the {what}")
    evaluated = _run_evaluation(ctx, list(trained), work, slot, staged=None)
    refused = [t for t in trained if evaluated.get(t, {}).get("error_kind") == "custom_objects"]
    sandboxed = refused if ctx.assignment.allow_custom_objects else []
    if sandboxed:
        ctx.progress(staged.student, "evaluation", "custom layers: scoring in your sandbox")
        evaluated.update(_run_evaluation(ctx, sandboxed, work, slot, staged=staged))
    for task_id, record in trained.items():
        where = STUDENT_SANDBOX if task_id in sandboxed else SAFE_MODE
        record.update(_merged(evaluated.get(task_id), record), evaluated_in=where)


def _run_evaluation(
    ctx: Context, task_ids: list[str], work: Path, slot: int, staged: Staged | None
) -> dict[str, Any]:
    """One evaluation child for `task_ids`: safe mode, or in the student's sandbox (`staged`)."""
    job = jobs.new_job(work, "eval", ctx.isolation, slot)
    request: dict[str, Any] = {"seed": ctx.assignment.seed, "out": job.inside(job.outputs)}
    if staged is not None:
        copy_tree(staged.folder, job.inputs / "submission")
        request["submission"] = job.inside(job.inputs / "submission" / SUBMISSION_FILE)
    labelled = staged is None
    request["tasks"] = {t: _stage_task(ctx, job, t, work / t, labelled) for t in task_ids}
    limits = [ctx.assignment.tasks[t].limits for t in task_ids]
    outcome = jobs.run_job(
        job,
        "grader.worker.evaluate",
        request,
        wall_seconds=max(lim.startup_seconds for lim in limits) + TASK_SECONDS * len(task_ids),
        memory_gb=8 if labelled else max(lim.memory_gb for lim in limits),
    )
    try:
        evaluated = read_child_json(job.outputs / "eval.json", max_bytes=16 * 2**20)
    except ChildOutputError as exc:
        failure = f"Evaluation failed ({exc}): {jobs.log_tail(outcome, 5)}"
        return {t: {"error_kind": "evaluation_failed", "error": failure} for t in task_ids}
    if labelled:
        return evaluated
    return {t: _scored_by_grader(ctx, job, t, evaluated.get(t)) for t in task_ids}


def _scored_by_grader(ctx: Context, job: jobs.Job, task_id: str, facts: Any) -> Any:
    """Score predictions made in the student's sandbox against labels it never saw."""
    if not isinstance(facts, dict) or facts.get("status") != "ok":
        return facts
    split_name = ctx.assignment.tasks[task_id].split
    parts = _parts(ctx)
    arrays = data.load_split(
        ctx.splits_dir / split_name, (f"x_{parts['test']}", *(f"y_{p}" for p in parts.values()))
    )
    truth = {s: arrays[f"y_{part}"] for s, part in parts.items()}
    num_classes = len(ctx.assignment.splits[split_name].classes)
    try:
        probabilities = {
            s: scoring.checked_outputs(
                _child_array(job.outputs / task_id / f"{s}.npy"), len(truth[s]), num_classes
            )
            for s in scoring.SPLITS
        }
        facts = _checked_facts(facts)
    except (ChildOutputError, ValueError, TypeError, KeyError) as exc:
        return {
            "error_kind": "bad_output",
            "error": f"Scoring in your sandbox left unusable output ({exc}). Do not change "
            "Keras' predict or write files from your submission.",
        }
    x_test = arrays[f"x_{parts['test']}"]
    return {**facts, **scoring.score(probabilities, truth, x_test, num_classes)}


def _child_array(path: Path) -> np.ndarray:
    """A `.npy` file a child wrote: no links, size capped, no pickled objects."""
    return np.load(io.BytesIO(read_child_file(path, PREDICTIONS_MAX_BYTES)), allow_pickle=False)


def _checked_facts(facts: dict[str, Any]) -> dict[str, Any]:
    """The model facts a student-side child reported, checked against their schema."""
    counts = {
        k: checked_count(facts[k]) for k in ("params", "trainable_params", "non_trainable_params")
    }
    layers = facts["layers"]
    if not isinstance(layers, list) or len(layers) > 2000:
        raise ValueError("the layer table is not a list of at most 2,000 layers")
    table = [
        {
            "name": str(row["name"])[:120],
            "type": str(row["type"])[:80],
            "output_shape": str(row["output_shape"])[:80],
            "params": checked_count(row["params"]),
            "trainable": bool(row["trainable"]),
        }
        for row in layers
    ]
    reuse = checked_base_reuse(facts.get("base_reuse"))
    return {"status": "ok", **counts, "layers": table, "base_reuse": reuse}


def _stage_task(
    ctx: Context, job: jobs.Job, task_id: str, trained: Path, labelled: bool
) -> dict[str, Any]:
    """Link one task's model and arrays into the job; without labels for the student side."""
    task = ctx.assignment.tasks[task_id]
    split = ctx.splits_dir / task.split
    parts = _parts(ctx)
    kinds = ("x", "y") if labelled else ("x",)
    files = {
        f"{task_id}/{kind}_{name}.npy": split / f"{kind}_{part}.npy"
        for name, part in parts.items()
        for kind in kinds
    }
    files[f"{task_id}/model.keras"] = trained / "model.keras"
    if task.uses_base and ctx.base is not None:
        files[f"{task_id}/built.keras"] = trained / "built.keras"
        files[f"{task_id}/base.keras"] = Path(ctx.base["path"])
    jobs.link_inputs(job, files)
    folder = job.inputs / task_id
    return {
        "function": task.function,
        "num_classes": len(ctx.assignment.splits[task.split].classes),
        "data": job.inside(folder),
        "model": job.inside(folder / "model.keras"),
        "built_model": job.inside(folder / "built.keras") if task.uses_base else None,
        "base_model": job.inside(folder / "base.keras") if task.uses_base else None,
    }


def _parts(ctx: Context) -> dict[str, str]:
    """Which stored split part plays each role; a self-check never touches the hidden test."""
    return {"train": "train", "val": "val", "test": "val" if ctx.mode == CHECK else "test"}


def _merged(evaluated: Any, record: dict) -> dict[str, Any]:
    if not isinstance(evaluated, dict) or evaluated.get("status") != "ok":
        evaluated = evaluated if isinstance(evaluated, dict) else {}
        return {
            "status": "error",
            "error_kind": str(evaluated.get("error_kind", "evaluation_failed"))[:40],
            "error": str(evaluated.get("error", "The model could not be evaluated."))[:2000],
        }
    return {k: evaluated.get(k, record.get(k)) for k in KEPT}
