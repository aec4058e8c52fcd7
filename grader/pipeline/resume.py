"""Per-task checkpoints, so a batch killed at any moment resumes without retraining."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from grader import codec
from grader.errors import Fault
from grader.pipeline.provenance import REUSE_KEYS
from grader.records import Provenance, TaskRecord, write_json_atomic

MODEL_FILES = ("model.keras", "built.keras")


def save_task(store: Path, task_id: str, prov: Provenance, record: TaskRecord, work: Path) -> None:
    """Persist one trained task: model files first, then the record (the commit point)."""
    folder = store / task_id
    folder.mkdir(parents=True, exist_ok=True)
    for name in MODEL_FILES:
        source = work / task_id / name
        if source.is_file():
            tmp = folder / f".{name}.tmp"
            shutil.copyfile(source, tmp)
            os.replace(tmp, folder / name)
    write_json_atomic(store / f"{task_id}.json", {"key": _key(prov), "record": record})


def load_task(store: Path, task_id: str, prov: Provenance, work: Path) -> TaskRecord | None:
    """The checkpointed record of a task (model files restored into `work`), if still valid.

    A checkpoint of another submission, spec or grader, one that does not decode (written
    by an older grader, or damaged), or one of a task that failed for the grader's or the
    machine's reasons, is ignored: the task is trained again.
    """
    try:
        saved = json.loads((store / f"{task_id}.json").read_text(encoding="utf-8"))
        if saved["key"] != _key(prov):
            return None
        record = codec.from_json(TaskRecord, saved["record"])
    except (OSError, ValueError, KeyError, TypeError):  # codec.DecodeError is a ValueError
        return None
    if record.error_kind is not None and record.error_kind.fault is not Fault.STUDENT:
        return None  # failed for the grader's or the machine's reasons: never kept
    if record.ok and not _restore_models(store, task_id, work):
        return None
    return record


def _restore_models(store: Path, task_id: str, work: Path) -> bool:
    """Copy a trained task's model files back into `work`; False when the model is missing."""
    (work / task_id).mkdir(parents=True, exist_ok=True)
    for name in MODEL_FILES:
        if (store / task_id / name).is_file():
            shutil.copyfile(store / task_id / name, work / task_id / name)
    return (work / task_id / "model.keras").is_file()


def _key(prov: Provenance) -> dict[str, object]:
    return {k: getattr(prov, k) for k in REUSE_KEYS}


def clear(store: Path) -> None:
    """Drop a submission's checkpoints once its result file is written."""
    shutil.rmtree(store, ignore_errors=True)
