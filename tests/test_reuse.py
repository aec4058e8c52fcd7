"""Reuse is keyed on the grader's own code: a result stored by other code is regraded, and
the progress line says why."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from grader.assignment import Assignment
from grader.pipeline.provenance import (
    RESCORE_KEYS,
    REUSE_KEYS,
    check_reuse,
    rescore_reason,
    stale_reason,
)
from grader.records import read_result, write_json_atomic
from grader.spec import load_assignment
from tests.conftest import FIXTURES, ROOT

STORED = FIXTURES / "results" / "bea-overfit.json"
# Run with PYTHONPATH at a copy of the grader: its hash, and whether it reuses the result.
CHECK = """
import json, sys
from dataclasses import replace
from pathlib import Path
from grader.pipeline.provenance import check_reuse, grader_hash
from grader.records import read_result
path = Path(sys.argv[1])
expected = replace(read_result(path).provenance, grader_hash=grader_hash())
stored, why = check_reuse(path, expected)
print(json.dumps({"hash": grader_hash(), "reused": stored is not None, "why": why}))
"""


def in_copy(copy: Path, result: Path) -> dict:
    """What the grader in `copy` decides about the stored `result`."""
    done = subprocess.run(
        [sys.executable, "-c", CHECK, str(result)],
        env={"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"},
        cwd=copy,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_a_result_stored_by_other_grader_code_is_regraded(tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(ROOT / "grader", copy / "grader", ignore=shutil.ignore_patterns("__pycache__"))
    stored = read_result(STORED)
    path = tmp_path / "bea-overfit.json"

    def store(code_hash: str) -> None:
        write_json_atomic(
            path, replace(stored, provenance=replace(stored.provenance, grader_hash=code_hash))
        )

    store("")
    before = in_copy(copy, path)
    store(before["hash"])
    assert in_copy(copy, path) == {"hash": before["hash"], "reused": True, "why": None}
    checks = copy / "grader" / "checks.py"
    checks.write_text(checks.read_text(encoding="utf-8") + "\n# a fix\n", encoding="utf-8")
    after = in_copy(copy, path)
    assert after["hash"] != before["hash"] and not after["reused"]
    assert after["why"] == (
        f"graded by other grader code (hash {before['hash'][:4]} → {after['hash'][:4]}): regrading"
    )


def test_every_reuse_key_has_its_reason(tmp_path: Path) -> None:
    stored = read_result(STORED).provenance
    reasons = {key: stale_reason(stored, replace(stored, **{key: "changed"})) for key in REUSE_KEYS}
    assert all(reason and reason.endswith("regrading") for reason in reasons.values()), reasons
    assert len(set(reasons.values())) == len(REUSE_KEYS)
    assert reasons["submission_hash"] == "submission changed: regrading"
    assert stale_reason(stored, replace(stored, date="later", cpu="another")) is None
    assert check_reuse(tmp_path / "missing.json", stored) == (None, None)
    (tmp_path / "cut.json").write_text(STORED.read_text(encoding="utf-8")[:300])
    assert check_reuse(tmp_path / "cut.json", stored)[1].startswith("stored result unreadable")


def test_checks_and_titles_only_rescore(tmp_path: Path) -> None:
    """A result whose training inputs are unchanged is reused; a change of its checks (spec
    hash) or of the reference solution is re-scored, never retrained."""
    stored = read_result(STORED).provenance
    for key in RESCORE_KEYS:
        changed = replace(stored, **{key: "changed"})
        assert stale_reason(stored, changed) is None
        assert (rescore_reason(stored, changed) or "").endswith("re-scored without retraining")
    assert rescore_reason(stored, replace(stored, date="later")) is None
    assert not set(RESCORE_KEYS) & set(REUSE_KEYS)


def test_spec_hashes_separate_training_from_scoring(tmp_path: Path) -> None:
    """A threshold, points or title change leaves the training hash (and the base model's
    cache) alone; an epoch change moves the training hash; a base-model change moves both."""
    source = FIXTURES / "assignments" / "tiny"
    first = load_assignment(source)

    def changed(old: str, new: str) -> Assignment:
        copy = tmp_path / f"copy{len(list(tmp_path.iterdir()))}"
        shutil.copytree(source, copy)
        spec = copy / "assignment.toml"
        text = spec.read_text(encoding="utf-8")
        assert text.count(old) >= 1, old
        spec.write_text(text.replace(old, new, 1), encoding="utf-8")
        return load_assignment(copy)

    threshold = changed("threshold = 0.2", "threshold = 0.3")
    assert threshold.spec_hash != first.spec_hash
    assert (threshold.training_hash, threshold.base_hash) == (first.training_hash, first.base_hash)
    title = changed('title = "Scratch"', 'title = "From scratch"')
    assert title.training_hash == first.training_hash
    epochs = changed("defaults = { epochs = 2, batch_size = 32 }", "defaults = { epochs = 3 }")
    assert epochs.training_hash != first.training_hash and epochs.base_hash == first.base_hash
    base = changed("training = { epochs = 2, batch_size = 32 }", "training = { epochs = 3 }")
    assert base.training_hash != first.training_hash and base.base_hash != first.base_hash
