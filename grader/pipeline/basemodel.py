"""The instructor's pre-trained base model: trained once per spec + data, then cached."""

from __future__ import annotations

import shutil
from typing import Any

from grader.pipeline.context import Context, GradingError, load_json, train_arrays, train_request
from grader.pipeline.results import ChildOutputError, read_child_json, write_json_atomic
from grader.sandbox import jobs


def ensure_base_model(ctx: Context) -> dict[str, Any]:
    """Train the base model (instructor code, in a child like any other) unless cached.

    Returns:
        Its info (validation accuracy, epochs, classes, file) plus "path" to `base.keras`.

    Raises:
        GradingError: the instructor's base model failed to train.
    """
    spec = ctx.assignment.base_model
    assert spec is not None
    folder = ctx.layout.base_model(ctx.assignment.spec_hash, ctx.split_key)
    info_path = folder / "base.json"
    if info_path.is_file() and (folder / "base.keras").is_file():
        return {**load_json(info_path), "path": str(folder / "base.keras")}
    ctx.progress("(instructor)", "base model", "training the pre-trained base model once")
    split = ctx.assignment.splits[spec.split]
    job = jobs.new_job(ctx.work, "base", ctx.isolation, slot=0)
    source = ctx.assignment.directory / spec.file
    jobs.link_inputs(job, {**train_arrays(ctx, spec.split), "submission/base_model.py": source})
    request = train_request(
        job,
        ctx,
        call="base_model",
        function=spec.function,
        classes=list(split.classes),
        training=vars(spec.training),
        limits={"max_epochs": spec.training.epochs, "max_params": 10**8, "max_batch_size": 4096},
        module_file=job.inputs / "submission" / "base_model.py",
    )
    outcome = jobs.run_job(job, "grader.worker.train", request, wall_seconds=3600, memory_gb=8)
    try:
        report = read_child_json(job.outputs / "train.json")
        if report.get("status") != "ok":
            raise GradingError(f"{source}: {report.get('error')}")
        folder.mkdir(parents=True, exist_ok=True)
        jobs.take_output(job, "model.keras", folder / "base.keras")
    except ChildOutputError as exc:
        log = jobs.log_tail(outcome)
        raise GradingError(f"Training the base model failed ({exc}):\n{log}") from None
    info = {
        "val_accuracy": report["history"]["val_accuracy"][-1],
        "epochs": report["epochs"],
        "classes": list(split.classes),
        "file": spec.file,
    }
    write_json_atomic(info_path, info)
    shutil.rmtree(job.root, ignore_errors=True)
    return {**info, "path": str(folder / "base.keras")}
