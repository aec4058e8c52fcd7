"""Result files: atomic writes, reuse keyed on provenance, summary.csv; child files read safely."""

from __future__ import annotations

import csv
import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from grader.errors import ChildOutputError
from grader.pipeline.provenance import REUSE_KEYS, grader_hash, reusable
from grader.pipeline.summary import write_summary_csv
from grader.records import Metrics, read_result, write_json_atomic
from grader.sandbox.childio import read_child_file, read_child_json
from tests.conftest import FIXTURES

RESULTS = FIXTURES / "results"


def test_atomic_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "results" / "ana.json"
    write_json_atomic(target, {"name": "Peña"})
    write_json_atomic(target, {"name": "Núñez"})
    assert json.loads(target.read_text(encoding="utf-8")) == {"name": "Núñez"}
    assert [p.name for p in target.parent.iterdir()] == ["ana.json"]


def test_atomic_write_stores_a_missing_measurement_as_null(tmp_path: Path) -> None:
    write_json_atomic(tmp_path / "r.json", {"gap": float("nan")})
    assert json.loads((tmp_path / "r.json").read_text()) == {"gap": None}


def test_atomic_write_that_fails_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    write_json_atomic(target, {"ok": 1})
    with pytest.raises(TypeError):
        write_json_atomic(target, {"bad": object()})
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
    stored = read_result(RESULTS / "bea-overfit.json")
    current = replace(stored.provenance, grader_hash=grader_hash(), date="tomorrow")
    path = tmp_path / "bea-overfit.json"
    write_json_atomic(path, replace(stored, provenance=current))
    assert reusable(path, replace(current, date="later", cpu="another")) is not None
    for key in REUSE_KEYS:
        assert reusable(path, replace(current, **{key: "changed"})) is None, key
    assert reusable(tmp_path / "missing.json", current) is None


def test_results_of_an_older_grader_or_too_new_or_damaged_are_not_reused(tmp_path: Path) -> None:
    stored = read_result(RESULTS / "bea-overfit.json")  # schema 1, upgraded: no grader hash
    current = replace(stored.provenance, grader_hash=grader_hash())
    assert reusable(RESULTS / "bea-overfit.json", current) is None
    data = json.loads((RESULTS / "bea-overfit.json").read_text(encoding="utf-8"))
    data["provenance"]["grader_hash"] = grader_hash()
    (tmp_path / "new.json").write_text(json.dumps({**data, "schema": 99}))
    (tmp_path / "cut.json").write_text(json.dumps(data)[:500])
    assert reusable(tmp_path / "new.json", current) is None
    assert reusable(tmp_path / "cut.json", current) is None


def test_grader_hash_ignores_report_code() -> None:
    assert grader_hash() == grader_hash() and len(grader_hash()) == 16


def test_summary_csv(tmp_path: Path) -> None:
    result = read_result(RESULTS / "carlos-broken.json")
    scratch = replace(result.tasks["scratch"], metrics=Metrics(1, 0, 0.4, 1, 0.5, 1, 0.1))
    result = replace(result, student="ana", name="Ana Peña", score=3.0, max_score=4.0,
                     tasks={"scratch": scratch, "transfer": result.tasks["cifar10"]})  # fmt: skip
    write_summary_csv(tmp_path / "summary.csv", [result], ["scratch", "transfer", "other"])
    raw = (tmp_path / "summary.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "a byte-order mark, so Excel reads UTF-8"
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].startswith(
        "student,name,score,max_score,final_score,late_days,adjustments,status,borderline_checks,"
    )
    assert "scratch_test_accuracy_low,scratch_test_accuracy_high,scratch_gap" in lines[0]
    assert lines[1] == (
        f"ana,Ana Peña,3.0,4.0,3.0,,,{result.status},,,,ok,0.5000,,,0.1000,error,,,,,missing,,,,"
    )


def test_summary_csv_names_the_students_whose_work_is_the_same(tmp_path: Path) -> None:
    """Listed for the instructor to look at (grader.report.similarity), the score untouched."""
    good = read_result(RESULTS / "alvaro-pequeno.json")
    twins = [replace(good, student=s, name=s.title()) for s in ("ana", "ben")]
    other = replace(good, student="cai", provenance=replace(good.provenance, submission_hash="f0"))
    broken = read_result(RESULTS / "carlos-broken.json")
    write_summary_csv(tmp_path / "summary.csv", [*twins, other, broken], ["scratch"])
    with open(tmp_path / "summary.csv", encoding="utf-8-sig", newline="") as fh:
        rows = {row["student"]: row for row in csv.DictReader(fh)}
    assert rows["ana"]["same_work"].startswith("identical: ben; same models (")
    assert "identical: ana" in rows["ben"]["same_work"]
    assert rows["cai"]["same_work"] == "same models (scratch, transfer, cifar10): ana, ben"
    assert rows["carlos-broken"]["same_work"] == ""
    assert rows["ana"]["score"] == str(good.score)


def test_summary_csv_neutralises_formulas_and_lists_borderline_checks(tmp_path: Path) -> None:
    result = read_result(RESULTS / "carlos-broken.json")
    flagged = replace(result.checks[0], borderline=True)
    result = replace(result, student="=cmd|' -C calc'!A0", name="+HYPERLINK(1)",
                     checks=(flagged, *result.checks[1:]))  # fmt: skip
    write_summary_csv(tmp_path / "summary.csv", [result], ["scratch"])
    with open(tmp_path / "summary.csv", encoding="utf-8-sig", newline="") as fh:
        row = next(csv.DictReader(fh))
    assert row["student"] == "'=cmd|' -C calc'!A0" and row["name"] == "'+HYPERLINK(1)"
    assert row["borderline_checks"] == flagged.id
    scratch = result.tasks["scratch"].metrics
    assert scratch is not None and scratch.test_accuracy_interval is not None
    assert float(row["scratch_test_accuracy_low"]) == pytest.approx(
        scratch.test_accuracy_interval[0], abs=1e-4
    )
