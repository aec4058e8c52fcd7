"""Reuse is keyed on the grader's own code: a result stored by other code is regraded, and
the progress line says why."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from grader.pipeline.provenance import REUSE_KEYS, check_reuse, stale_reason
from grader.records import read_result, write_json_atomic
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
