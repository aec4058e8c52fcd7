"""Training one task of one submission in an isolated child, and reading what it left."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from grader import sandbox
from grader.pipeline.context import Context, train_arrays, train_request
from grader.pipeline.results import (
    ChildOutputError,
    checked_base_reuse,
    checked_count,
    read_child_json,
)
from grader.pipeline.submissions import SUBMISSION_FILE, Staged, copy_tree
from grader.sandbox import jobs
from grader.spec import Task

QUICK_SECONDS = 60  # a self-check trains a few steps only


def empty_task(ctx: Context, task: Task) -> dict[str, Any]:
    """Every field a report reads, so a failed task renders without gaps."""
    split = ctx.assignment.splits[task.split]
    counts = {
        part: [getattr(split, f"{part}_per_class")] * len(split.classes)
        for part in ("train", "val", "test")
    }
    return {
        "title": task.title,
        "status": "error",
        "error_kind": None,
        "error": None,
        "log_tail": "",
        "classes": list(split.classes),
        "split": {"name": split.name, **counts},
        "metrics": None,
        "history": None,
        "best_epoch": None,
        "epochs": 0,
        "batch_size": None,
        "seconds": 0.0,
        "params": None,
        "trainable_params": None,
        "non_trainable_params": None,
        "optimizer": None,
        "loss": None,
        "label_format": None,
        "layers": [],
        "confusion_matrix": None,
        "samples": [],
        "base_reuse": None,
        "evaluated_in": None,
    }


def train_task(
    ctx: Context, staged: Staged, task: Task, work: Path, slot: int, *, quick: bool = False
) -> dict[str, Any]:
    """Run the student's build + fit for one task in an isolated child; never raises.

    With `quick`, the child builds the model and trains a few steps only (self-check).
    """
    result = empty_task(ctx, task)
    if staged.error_kind:
        return {**result, "error_kind": staged.error_kind, "error": staged.error}
    job = jobs.new_job(work, task.id, ctx.isolation, slot)
    copy_tree(staged.folder, job.inputs / "submission")
    inputs = train_arrays(ctx, task.split)
    if task.uses_base and ctx.base is not None:
        inputs["base.keras"] = Path(ctx.base["path"])
    jobs.link_inputs(job, inputs)
    request = train_request(
        job,
        ctx,
        call="base" if task.uses_base else "shape",
        function=task.function,
        classes=result["classes"],
        training=vars(task.defaults),
        limits=vars(task.limits),
        module_file=job.inputs / "submission" / SUBMISSION_FILE,
        task=task.id,
        quick=quick,
    )
    budget = QUICK_SECONDS if quick else task.limits.max_seconds
    outcome = jobs.run_job(
        job,
        "grader.worker.train",
        request,
        wall_seconds=budget + task.limits.startup_seconds,
        memory_gb=task.limits.memory_gb,
        on_line=lambda line: ctx.progress(staged.student, task.id, line[16:]),
    )
    result["log_tail"] = jobs.log_tail(outcome)
    return {**result, **_read_training(job, task, outcome, work / task.id, quick)}


def _read_training(
    job: jobs.Job, task: Task, outcome: sandbox.Outcome, kept: Path, quick: bool
) -> dict[str, Any]:
    if outcome.disk_exceeded:
        return {
            "error_kind": "disk_limit",
            "error": "The training process wrote more than "
            f"{sandbox.Limits.scratch_bytes // 2**20} MB to disk and was stopped. Do not "
            "write files from your submission; the grader saves your model itself.",
        }
    if outcome.timed_out:
        limit = QUICK_SECONDS if quick else task.limits.max_seconds
        return {
            "status": "timeout",
            "error_kind": "timeout",
            "error": f"Training did not finish within this task's limit of {limit} s "
            f"(stopped after {outcome.seconds:.0f} s). Train fewer epochs (TRAINING), or use "
            "a smaller model.",
        }
    try:
        report = read_child_json(job.outputs / "train.json", max_bytes=2**20)
    except ChildOutputError as exc:
        return {"error_kind": "crash", "error": crash_message(outcome, str(exc))}
    if report.get("status") != "ok":
        return {
            "error_kind": str(report.get("error_kind"))[:40],
            "error": str(report.get("error"))[:2000],
        }
    try:
        fields = _validated_training(report, task)
        if quick:
            return {"status": "ok", **fields, **_quick_facts(report)}
        jobs.take_output(job, "model.keras", kept / "model.keras")
        if task.uses_base:
            jobs.take_output(job, "built.keras", kept / "built.keras")
    except (ChildOutputError, ValueError, TypeError, KeyError) as exc:
        return {
            "error_kind": "bad_output",
            "error": f"The training process left unusable output ({exc}). Do not write "
            "files from your submission.",
        }
    return {"status": "ok", **fields, "seconds": outcome.seconds}


def crash_message(outcome: sandbox.Outcome, detail: str) -> str:
    """Why a child ended without its report, in words a student can act on."""
    log = outcome.log_tail
    if outcome.out_of_memory:
        return (
            "The training process stopped early: it used more memory than its limit and the "
            "kernel stopped it. Use a smaller model or batch size; see the log below."
        )
    signals = {
        11: "it crashed with a segmentation fault",
        25: f"it wrote a file larger than {sandbox.Limits.max_file_bytes // 2**20} MB",
        24: "it used more CPU time than allowed",
        9: "it was killed (out of memory?)",
    }
    if "MemoryError" in log or "bad_alloc" in log or "Resource exhausted" in log:
        why = "it ran out of memory (use a smaller model or batch size)"
    elif outcome.returncode < 0:
        why = signals.get(-outcome.returncode, f"it was killed by signal {-outcome.returncode}")
    else:
        why = f"it exited with code {outcome.returncode} before saving the model ({detail})"
    return (
        f"The training process stopped early: {why}. Do not call sys.exit/os._exit in "
        "your submission; see the log below."
    )


def _validated_training(report: dict, task: Task) -> dict[str, Any]:
    """Check the child's training report against a schema; only plots depend on it."""
    history = report["history"]
    epochs = len(history["loss"])
    if not 1 <= epochs <= task.limits.max_epochs:
        raise ValueError(f"history has {epochs} epochs")
    curves = {}
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        values = [float(v) for v in history[key]]
        if len(values) != epochs or not all(math.isfinite(v) for v in values):
            raise ValueError(f"history[{key!r}] is not {epochs} finite numbers")
        curves[key] = values
    best = min(range(epochs), key=lambda i: curves["val_loss"][i]) + 1
    return {
        "history": curves,
        "epochs": epochs,
        "best_epoch": best,
        "batch_size": int(report["batch_size"]),
        "optimizer": str(report["optimizer"])[:40],
        "loss": str(report["loss"])[:80],
        "label_format": str(report["label_format"])[:10],
    }


def _quick_facts(report: dict) -> dict[str, Any]:
    """What only the self-check reads from the child (it checks the student's own work)."""
    custom = report.get("custom_layers")
    return {
        "params": checked_count(report["params"]),
        "custom_layers": [str(c)[:80] for c in custom[:20]] if isinstance(custom, list) else [],
        "activation": str(report.get("activation", "linear"))[:40],
        "base_reuse": checked_base_reuse(report.get("base_reuse")),
    }
