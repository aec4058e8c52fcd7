"""Result files are written atomically; files left by children are read defensively."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from grader.pipeline.results import (
    ChildOutputError,
    is_reusable,
    read_child_file,
    read_child_json,
    write_json_atomic,
    write_summary_csv,
)


def test_atomic_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "results" / "ana.json"
    write_json_atomic(target, {"name": "Peña"})
    write_json_atomic(target, {"name": "Núñez"})
    assert json.loads(target.read_text(encoding="utf-8")) == {"name": "Núñez"}
    assert [p.name for p in target.parent.iterdir()] == ["ana.json"]


def test_atomic_write_refuses_nan_and_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    write_json_atomic(target, {"ok": 1})
    with pytest.raises(ValueError):
        write_json_atomic(target, {"bad": float("nan")})
    assert json.loads(target.read_text()) == {"ok": 1}
    assert len(list(tmp_path.iterdir())) == 1


def test_planted_symlink_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "labels.npy"
    secret.write_text("hidden")
    (tmp_path / "train.json").symlink_to(secret)
    with pytest.raises(ChildOutputError, match="could not be opened safely"):
        read_child_file(tmp_path / "train.json", 100)


def test_hard_link_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "labels.npy"
    secret.write_text("hidden")
    os.link(secret, tmp_path / "train.json")
    with pytest.raises(ChildOutputError, match="not a plain file"):
        read_child_file(tmp_path / "train.json", 100)


def test_oversized_and_malformed_outputs(tmp_path: Path) -> None:
    (tmp_path / "big.json").write_text("x" * 101)
    with pytest.raises(ChildOutputError, match="the limit is 100"):
        read_child_file(tmp_path / "big.json", 100)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ChildOutputError, match="not valid JSON"):
        read_child_json(tmp_path / "bad.json")
    (tmp_path / "list.json").write_text("[1]")
    with pytest.raises(ChildOutputError, match="does not hold a JSON object"):
        read_child_json(tmp_path / "list.json")
    with pytest.raises(ChildOutputError, match="was not written"):
        read_child_json(tmp_path / "missing.json")


def test_reuse_requires_the_same_provenance(tmp_path: Path) -> None:
    prov = {
        "grader_version": "1",
        "schema": 1,
        "spec_hash": "a",
        "split_key": "b",
        "submission_hash": "c",
        "date": "today",
    }
    write_json_atomic(tmp_path / "r.json", {"provenance": prov})
    assert is_reusable(tmp_path / "r.json", {**prov, "date": "tomorrow"})
    assert not is_reusable(tmp_path / "r.json", {**prov, "submission_hash": "changed"})
    assert not is_reusable(tmp_path / "missing.json", prov)


def test_summary_csv(tmp_path: Path) -> None:
    result = {
        "student": "ana",
        "name": "Ana Peña",
        "score": 3.0,
        "max_score": 4.0,
        "status": "partial",
        "tasks": {
            "scratch": {"status": "ok", "metrics": {"test_accuracy": 0.5, "gap": 0.1}},
            "transfer": {"status": "error", "metrics": None},
        },
    }
    write_summary_csv(tmp_path / "summary.csv", [result], ["scratch", "transfer"])
    lines = (tmp_path / "summary.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("student,name,score,max_score,status,scratch_status")
    assert lines[1] == "ana,Ana Peña,3.0,4.0,partial,ok,0.5000,0.1000,error,,"
