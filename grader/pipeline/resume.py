"""Per-task checkpoints, so a batch killed at any moment resumes without retraining."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from grader.pipeline.results import REUSE_KEYS, write_json_atomic

MODEL_FILES = ("model.keras", "built.keras")


def save_task(
    store: Path, task_id: str, prov: dict[str, Any], record: dict[str, Any], work: Path
) -> None:
    """Persist one trained task: model files first, then the record (the commit point)."""
    folder = store / task_id
    folder.mkdir(parents=True, exist_ok=True)
    for name in MODEL_FILES:
        source = work / task_id / name
        if source.is_file():
            tmp = folder / f".{name}.tmp"
            shutil.copyfile(source, tmp)
            os.replace(tmp, folder / name)
    key = {k: prov.get(k) for k in REUSE_KEYS}
    write_json_atomic(store / f"{task_id}.json", {"key": key, "record": record})


def load_task(store: Path, task_id: str, prov: dict[str, Any], work: Path) -> dict | None:
    """The checkpointed record of a task (model files restored into `work`), if still valid."""
    try:
        saved = json.loads((store / f"{task_id}.json").read_text(encoding="utf-8"))
        record = saved["record"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if saved.get("key") != {k: prov.get(k) for k in REUSE_KEYS}:
        return None
    if record.get("status") == "ok":
        (work / task_id).mkdir(parents=True, exist_ok=True)
        for name in MODEL_FILES:
            if (store / task_id / name).is_file():
                shutil.copyfile(store / task_id / name, work / task_id / name)
        if not (work / task_id / "model.keras").is_file():
            return None
    return record


def clear(store: Path) -> None:
    """Drop a submission's checkpoints once its result file is written."""
    shutil.rmtree(store, ignore_errors=True)
