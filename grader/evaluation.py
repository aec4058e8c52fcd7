"""Scoring trained models in a child that runs no student code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from grader import data, jobs
from grader.context import CHECK, Context
from grader.results import ChildOutputError, read_child_json

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


def evaluate_tasks(ctx: Context, tasks: dict[str, dict], work: Path, slot: int) -> None:
    """Score every trained model of one submission in one child (updates `tasks`).

    In a self-check the validation split stands in for the hidden test split, which the
    student's side never receives.
    """
    trained = {t: r for t, r in tasks.items() if r["status"] == "ok"}
    if not trained:
        return
    job = jobs.new_job(work, "eval", ctx.level, slot)
    request: dict[str, Any] = {"seed": ctx.assignment.seed, "out": job.inside(job.outputs)}
    request["tasks"] = {t: _stage_task(ctx, job, t, work / t) for t in trained}
    what = "validation split (self-check)" if ctx.mode == CHECK else "hidden test split"
    ctx.progress("", "evaluation", f"scoring on the {what}")
    outcome = jobs.run_job(
        job,
        "grader.eval_worker",
        request,
        wall_seconds=jobs.STARTUP_SECONDS + TASK_SECONDS * len(trained),
        memory_gb=8,
    )
    try:
        evaluated = read_child_json(job.outputs / "eval.json", max_bytes=16 * 2**20)
    except ChildOutputError as exc:
        failure = f"Evaluation failed ({exc}): {jobs.log_tail(outcome, 5)}"
        evaluated = {t: {"error_kind": "evaluation_failed", "error": failure} for t in trained}
    for task_id, record in trained.items():
        record.update(_merged(evaluated.get(task_id), record))


def _stage_task(ctx: Context, job: jobs.Job, task_id: str, trained: Path) -> dict[str, Any]:
    task = ctx.assignment.tasks[task_id]
    split = ctx.splits_dir / task.split
    files = {f"{task_id}/{n}.npy": split / f"{n}.npy" for n in data.ARRAY_NAMES}
    if ctx.mode == CHECK:
        files[f"{task_id}/x_test.npy"], files[f"{task_id}/y_test.npy"] = (
            split / "x_val.npy",
            split / "y_val.npy",
        )
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


def _merged(evaluated: Any, record: dict) -> dict[str, Any]:
    if not isinstance(evaluated, dict) or evaluated.get("status") != "ok":
        evaluated = evaluated if isinstance(evaluated, dict) else {}
        return {
            "status": "error",
            "error_kind": str(evaluated.get("error_kind", "evaluation_failed"))[:40],
            "error": str(evaluated.get("error", "The model could not be evaluated."))[:2000],
        }
    return {k: evaluated.get(k, record.get(k)) for k in KEPT}
