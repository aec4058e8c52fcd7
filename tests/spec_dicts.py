"""Test specs written from Python dicts: the smallest valid one, what each table of the
catalogue needs to be read, and where each table sits (for tests of `grader.spec_keys`)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from grader.errors import SpecError
from grader.spec import load_assignment

# Where each table sits in the test spec (`<name>` = vehicles, `<id>` = scratch).
WHERE: dict[str, tuple[str | int, ...]] = {
    "": (),
    "data": ("data",),
    "splits.<name>": ("splits", "vehicles"),
    "base_model": ("base_model",),
    "base_model.training": ("base_model", "training"),
    "tasks.<id>": ("tasks", "scratch"),
    "tasks.<id>.defaults": ("tasks", "scratch", "defaults"),
    "tasks.<id>.limits": ("tasks", "scratch", "limits"),
    "tasks.<id>.checks": ("tasks", "scratch", "checks", 0),
    "tasks.<id>.checks.threshold": ("tasks", "scratch", "checks", 0, "threshold"),
    "reference": ("reference",),
    "late": ("late",),
    "gradescope": ("gradescope",),
}
CHECK = {"kind": "min_test_accuracy", "threshold": 0.5, "points": 1}
DUE = dt.datetime(2026, 12, 1, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def minimal() -> dict[str, Any]:
    """The smallest valid spec: CIFAR-10, one split, one task without checks."""
    amounts = {"train_per_class": 10, "val_per_class": 10, "test_per_class": 10}
    limits = {"max_epochs": 5, "max_params": 1000, "max_seconds": 10}
    task = {"function": "build_scratch", "split": "vehicles", "defaults": {"epochs": 1},
            "limits": limits}  # fmt: skip
    return {"seed": 7, "splits": {"vehicles": amounts}, "tasks": {"scratch": task}}


def variant(table: str) -> dict[str, Any]:
    """The minimal spec, with what `table` needs to be read."""
    spec = minimal()
    if table.startswith("base_model"):
        spec["base_model"] = {"split": "vehicles", "training": {"epochs": 1}}
    if table.startswith("tasks.<id>.checks") or table == "reference":
        spec["tasks"]["scratch"]["checks"] = [dict(CHECK)]
    if table == "tasks.<id>.checks.threshold" or table == "reference":
        spec["tasks"]["scratch"]["checks"][0]["threshold"] = {"reference": 0.0}
        spec["reference"] = {"path": "ref.py"}
    if table == "late":
        spec["late"] = {"due": DUE}
    return spec


def toml_value(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):  # a TOML offset date-time, unquoted
        return value.isoformat()
    return json.dumps(value) if isinstance(value, str) else repr(value)


def write(tmp_path: Path, spec: dict[str, Any]) -> Path:
    """`spec` as assignment.toml in a folder named like an assignment, with its files."""
    folder = tmp_path / "an-assignment"
    for name in ("cat", "dog"):
        (folder / "photos" / "train" / name).mkdir(parents=True, exist_ok=True)
        (folder / "photos" / "train" / name / "a.jpg").write_bytes(b"")
    for name in ("base_model.py", "ref.py"):
        (folder / name).write_text("")
    (folder / "m.keras").write_bytes(b"")
    text = "\n".join(f"{k} = {toml_value(v)}" for k, v in spec.items())
    (folder / "assignment.toml").write_text(text + "\n")
    return folder


def at(spec: dict[str, Any], where: tuple[str | int, ...]) -> Any:
    """The table at `where` in `spec` (an absent one created empty)."""
    node: Any = spec
    for step in where:
        node = node.setdefault(step, {}) if isinstance(step, str) else node[step]
    return node


def put(spec: dict[str, Any], where: tuple[str | int, ...], key: str, value: Any) -> None:
    at(spec, where)[key] = value


def dotted(where: tuple[str | int, ...], key: str) -> str:
    name = ""
    for step in (*where, key):
        name += f"[{step}]" if isinstance(step, int) else f"{'.' if name else ''}{step}"
    return name


def rejects(tmp_path: Path, spec: dict[str, Any]) -> str:
    with pytest.raises(SpecError) as info:
        load_assignment(write(tmp_path, spec))
    return str(info.value)
