"""The instructor's pre-trained base model: trained once per spec + data, then cached; or
the instructor's own saved model, copied into the cache with its hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader import basefile, codec, manifest, protocol
from grader.atomic import write_atomic
from grader.errors import ChildOutputError, GradingError
from grader.messages import render
from grader.pipeline.provenance import grader_hash
from grader.pipeline.training import child_failure, read_train_report, train_request
from grader.records import write_json_atomic
from grader.sandbox import jobs, levels
from grader.sandbox.diskuse import remove_tree

if TYPE_CHECKING:  # the run holds the base model: a real import would be a cycle
    from grader.pipeline.run import Run

LABEL = "(instructor)"  # its row in progress lines
MODEL_FILE = "base.keras"


@dataclass(frozen=True)
class TrainedBase:
    """The trained base model's file, its content hash, and what it was trained to."""

    path: Path
    val_accuracy: float | None  # None: a saved model the grader did not train
    epochs: int | None
    classes: tuple[str, ...]
    file: str
    sha256: str  # of `path`, checked before every run uses it (`grader.manifest`)

    def provenance(self) -> dict[str, Any]:
        """What a result records of the base model it was graded with (its hash included:
        a result trained against another base model is not reused)."""
        facts = {
            "val_accuracy": self.val_accuracy,
            "epochs": self.epochs,
            "classes": list(self.classes),
            "file": self.file,
            "sha256": self.sha256,
        }
        return {k: v for k, v in facts.items() if v is not None}


def numerics_key() -> str:
    """A short fingerprint of the children's numeric settings: a base model trained under
    other settings has other weights, so it is not reused."""
    text = json.dumps(levels.NUMERICS, sort_keys=True).encode()
    return hashlib.sha256(text).hexdigest()[:8]


def ensure_base_model(run: Run) -> TrainedBase:
    """Train the base model (instructor code, in a child like any other) unless cached.

    A cached base model is used only when its file matches the content hash recorded when
    it was trained; otherwise it is trained again, and the progress line says why.

    Raises:
        GradingError: the instructor's base model failed to train.
    """
    assert run.assignment.base_model is not None
    # Keyed on what its training depends on, the grader's code included (not on thresholds).
    key = f"{run.assignment.base_hash}-{grader_hash()[:8]}"
    folder = run.layout.base_model(key, run.split_key, numerics_key())
    cached, why = _cached(folder)
    if cached is not None:
        return cached
    if run.assignment.base_model.from_file:
        return _copy_saved(run, folder)
    if why is None:
        run.progress(LABEL, "base model", "training the pre-trained base model once")
    else:
        run.progress(LABEL, "base model", f"cached base model: {why}; training it again")
    (folder / manifest.MANIFEST).unlink(missing_ok=True)  # no stale record beside a new file
    try:
        facts = _train_base(run, folder)
    except GradingError as exc:
        if why is None:
            raise
        raise GradingError(f"The cached base model in {folder}: {why}. {exc}") from None
    spec = run.assignment.base_model
    assert spec.split is not None  # a builder's table names its split (`spec_data`)
    hashes = manifest.record(folder, [MODEL_FILE])
    base = TrainedBase(
        path=folder / MODEL_FILE,
        val_accuracy=facts.history.val_accuracy[-1],
        epochs=facts.history.epochs,
        classes=tuple(run.assignment.splits[spec.split].classes),
        file=spec.file,
        sha256=hashes[MODEL_FILE],
    )
    write_json_atomic(folder / "base.json", base.provenance())
    return base


def _copy_saved(run: Run, folder: Path) -> TrainedBase:
    """The instructor's saved model, checked against the spec (at load) and copied into the
    cache, so that every run verifies the same bytes the way it does a trained one."""
    spec = run.assignment.base_model
    assert spec is not None and spec.input_shape is not None and spec.pixel_range is not None
    source = run.assignment.directory / spec.file
    facts = basefile.inspect_base_file(source, spec.input_shape, spec.pixel_range)
    for line in facts.notes:
        run.progress(LABEL, "base model", f"{spec.file}: {line}")
    write_atomic(folder / MODEL_FILE, source.read_bytes())
    hashes = manifest.record(folder, [MODEL_FILE])
    base = TrainedBase(folder / MODEL_FILE, None, None, (), spec.file, hashes[MODEL_FILE])
    write_json_atomic(folder / "base.json", base.provenance())
    return base


def _cached(folder: Path) -> tuple[TrainedBase | None, str | None]:
    """(the base model trained by an earlier run, None) if its file is whole and matches its
    recorded hash; else (None, why not), the reason None when there is no cached model."""
    if not folder.exists():
        return None, None
    why = manifest.problem(folder, [MODEL_FILE])
    if why is not None:
        return None, why
    try:
        info = json.loads((folder / "base.json").read_text(encoding="utf-8"))
        base = TrainedBase(
            path=folder / MODEL_FILE,
            val_accuracy=float(info["val_accuracy"]) if "val_accuracy" in info else None,
            epochs=int(info["epochs"]) if "epochs" in info else None,
            classes=tuple(str(c) for c in info["classes"]),
            file=str(info["file"]),
            sha256=(manifest.recorded(folder) or {})[MODEL_FILE],
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None, "its base.json is missing or unreadable"
    return base, None


def _train_base(run: Run, folder: Path) -> protocol.TrainFacts:
    spec = run.assignment.base_model
    assert spec is not None and spec.split and spec.function and spec.training is not None
    job = jobs.new_job(run.work, "base", run.sandbox, slot=0)
    source = run.assignment.directory / spec.file
    jobs.link_inputs(job, {**run.train_arrays(spec.split), "submission/base_model.py": source})
    request = train_request(
        job,
        run,
        call="base_model",
        function=spec.function,
        classes=tuple(run.assignment.splits[spec.split].classes),
        defaults=codec.from_json(protocol.Defaults, codec.to_json(spec.training)),
        limits=protocol.TrainLimits(spec.training.epochs, max_params=10**8, max_batch_size=4096),
        module_file=job.inputs / "submission" / "base_model.py",
    )
    request_json = codec.to_json(request)
    outcome = jobs.run_job(job, "grader.worker.train", request_json, wall_seconds=3600, memory_gb=8)
    try:
        report = read_train_report(job)
        if report.trained is not None:
            folder.mkdir(parents=True, exist_ok=True)
            jobs.take_output(job, "model.keras", folder / MODEL_FILE)
    except (ChildOutputError, codec.DecodeError) as exc:
        log = jobs.log_tail(outcome)
        raise GradingError(f"Training the base model failed ({exc}):\n{log}") from None
    if report.trained is None:
        why = render(child_failure(report.error)[1], "en") if report.error else "no model"
        raise GradingError(f"{source}: {why}\n{jobs.log_tail(outcome)}")
    remove_tree(job.root)
    return report.trained
