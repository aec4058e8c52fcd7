"""Gradescope: results.json per the autograder specification, the bundle, and
`run_autograder` run on a temporary folder laid out like Gradescope's container."""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from grader import checks
from grader.errors import GradingError
from grader.lms.gradescope import (
    HIDDEN_TEST_KINDS,
    OPEN_KINDS,
    OUTPUT_FORMATS,
    STATUSES,
    failure_json,
    results_json,
    text_summary,
)
from grader.pipeline import gradescopecommand
from grader.pipeline.gradescope import wheel_code_hash
from grader.pipeline.provenance import GRADER, grader_hash
from grader.records import Adjustment, Result
from grader.spec_policy import VISIBILITIES, Gradescope
from tests.conftest import FIXTURES

TINY = FIXTURES / "assignments" / "tiny"
NUMBER = (int, float)


def validate(results: Any) -> None:
    """results.json as Gradescope's specification describes it: the keys, their types and
    values; the top-level score equal to the tests' sum."""
    assert isinstance(results, dict)
    json.dumps(results, allow_nan=False)  # plain JSON: no NaN or infinity
    top: dict[str, Any] = {
        "score": NUMBER, "execution_time": int, "output": str, "output_format": str,
        "test_output_format": str, "test_name_format": str, "visibility": str,
        "stdout_visibility": str, "tests": list, "extra_data": dict, "leaderboard": list,
    }  # fmt: skip
    assert set(results) <= set(top), set(results) - set(top)
    for key, kind in top.items():
        assert key not in results or isinstance(results[key], kind), key
    assert "score" in results and "tests" in results
    assert results.get("execution_time", 0) >= 0  # optional
    for key in ("output_format", "test_output_format", "test_name_format"):
        assert results.get(key, "text") in OUTPUT_FORMATS
    for key in ("visibility", "stdout_visibility"):
        assert results.get(key, "visible") in VISIBILITIES
    fields: dict[str, Any] = {
        "score": NUMBER, "max_score": NUMBER, "status": str, "name": str, "name_format": str,
        "number": str, "output": str, "output_format": str, "tags": list, "visibility": str,
        "extra_data": dict,
    }  # fmt: skip
    for test in results["tests"]:
        assert set(test) <= set(fields), set(test) - set(fields)
        for key, kind in fields.items():
            assert key not in test or isinstance(test[key], kind), (key, test)
        assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(test)
        assert test["status"] in STATUSES
        assert test["visibility"] in VISIBILITIES
        assert test.get("output_format", "text") in OUTPUT_FORMATS
        assert all(isinstance(tag, str) for tag in test.get("tags", []))
        assert math.isfinite(test["score"]) and math.isfinite(test["max_score"])
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))


def golden(name: str) -> Result:
    path = FIXTURES / "golden" / "tiny" / f"{name}.json"
    return Result.from_json(json.loads(path.read_text(encoding="utf-8")))


def test_every_check_kind_has_a_visibility() -> None:
    assert set(checks.KINDS) == HIDDEN_TEST_KINDS | OPEN_KINDS
    assert not HIDDEN_TEST_KINDS & OPEN_KINDS


def test_one_test_per_check_and_per_failed_task() -> None:
    result = golden("e2e-broken")  # cifar10 failed: its check scores 0, its error is shown
    results = results_json(result, Gradescope(), seconds=12.6, output="<p>report</p>",
                           output_format="html")  # fmt: skip
    validate(results)
    tests = results["tests"]
    assert len(tests) == len(result.checks) + 1
    assert results["score"] == result.grade == 6.0 and results["execution_time"] == 13
    assert [t["tags"][1] for t in tests[:-1]] == [c.kind for c in result.checks]
    assert tests[0]["name"] == "Scratch: hidden-test accuracy >= 0.20"
    assert tests[0]["status"] == "passed" and tests[0]["max_score"] == 1.0
    not_measured = tests[len(result.checks) - 1]
    assert not_measured["status"] == "failed" and not_measured["score"] == 0.0
    error = tests[-1]
    assert error["name"] == "Ten classes: failed" and "Dense(10" in error["output"]
    assert error["score"] == error["max_score"] == 0.0
    assert sum(t["max_score"] for t in tests) == result.max_score


def test_check_output_shows_the_observed_value_and_its_interval() -> None:
    result = golden("e2e-good")
    check = replace(result.checks[0], interval=(0.41, 0.61), borderline=True)
    results = results_json(replace(result, checks=(check,)), Gradescope(), seconds=1, output="")
    text = results["tests"][0]["output"]
    assert check.required in text and check.message in text
    assert "95 % interval of the observed value: 0.410 to 0.610" in text
    assert "Borderline" in text


def test_visibilities_come_from_the_spec() -> None:
    result = golden("e2e-broken")
    policy = Gradescope(visibility="after_due_date", hidden_visibility="hidden")
    results = results_json(result, policy, seconds=1, output="x", shows_hidden=True)
    validate(results)
    by_kind = {t["tags"][1]: t["visibility"] for t in results["tests"]}
    assert by_kind["min_test_accuracy"] == by_kind["beats_scratch"] == "hidden"
    assert by_kind["max_gap"] == by_kind["max_params"] == by_kind["reuses_base"]
    assert by_kind["max_gap"] == "after_due_date"
    assert by_kind["error"] == "after_due_date"
    assert results["visibility"] == "hidden"  # the report shows hidden-test figures
    assert results_json(result, policy, seconds=1, output="x")["visibility"] == "after_due_date"
    default = results_json(result, Gradescope(), seconds=1, output="x")
    assert {t["visibility"] for t in default["tests"]} == {"visible", "after_published"}


def test_adjustments_are_tests_that_sum_to_the_grade() -> None:
    result = golden("e2e-good")
    late = Adjustment("late", -1.5, "2 days late: -1.5 points")
    adjusted = replace(result, adjustments=(late,), final_score=result.score - 1.5)
    results = results_json(adjusted, Gradescope(), seconds=1, output="")
    validate(results)
    assert results["score"] == adjusted.grade == result.score - 1.5
    assert results["tests"][-1]["name"] == "Late penalty"
    assert results["tests"][-1]["output"] == late.reason
    assert "Late penalty: -1.5" in text_summary(adjusted)
    bonus = Adjustment("override", 5.0, "extra credit")  # beyond the maximum: kept at 7
    capped = replace(result, adjustments=(bonus,), final_score=result.max_score)
    results = results_json(capped, Gradescope(), seconds=1, output="")
    validate(results)
    assert result.score == 7.0 and results["score"] == 7.0
    assert results["tests"][-1]["name"] == "Score limits" and results["tests"][-1]["score"] == -5.0


def test_non_finite_numbers_never_reach_the_json() -> None:
    result = golden("e2e-good")
    check = replace(result.checks[0], observed=math.nan, interval=(math.nan, math.inf))
    results = results_json(replace(result, checks=(check,)), Gradescope(), seconds=1, output="")
    json.dumps(results, allow_nan=False)
    assert results["tests"][0]["extra_data"]["observed"] is None


def test_failure_results_are_valid_with_score_zero() -> None:
    results = failure_json("Not graded: no file.", Gradescope(), seconds=0.2, max_score=7)
    validate(results)
    assert results["score"] == 0.0 and results["output"] == "Not graded: no file."
    assert results["tests"][0]["status"] == "failed" and results["tests"][0]["max_score"] == 7


def test_wheel_code_hash_is_the_grader_hash_of_the_same_files(tmp_path: Path) -> None:
    wheel = tmp_path / "grader-0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path in GRADER.rglob("*.py"):
            archive.write(path, "grader/" + path.relative_to(GRADER).as_posix())
    assert wheel_code_hash(wheel) == grader_hash()


# The upload as Gradescope stores it in /autograder/submission.


def test_upload_named_otherwise_is_graded_with_a_note(tmp_path: Path) -> None:
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "hw3_solution.py").write_text("x = 1\n")
    (upload / "student.toml").write_text('name = "Someone Else"\n')
    meta = {"id": 77, "created_at": "2026-12-01T10:00:00+01:00",
            "users": [{"name": "Ana Núñez", "email": "ana@example.edu", "id": 5}]}  # fmt: skip
    note = gradescopecommand.stage_upload(upload, tmp_path / "s" / "submission", meta)
    assert note is not None and "hw3_solution.py" in note
    staged = tmp_path / "s" / "submission"
    assert (staged / "submission.py").read_text() == "x = 1\n"
    toml = (staged / "student.toml").read_text(encoding="utf-8")
    assert 'name = "Ana Núñez"' in toml and "ana@example.edu" in toml


def test_upload_without_one_code_file_is_refused(tmp_path: Path) -> None:
    upload = tmp_path / "upload"
    upload.mkdir()
    with pytest.raises(GradingError, match="submission.py or submission.ipynb"):
        gradescopecommand.stage_upload(upload, tmp_path / "a", {})
    (upload / "one.py").write_text("")
    (upload / "two.ipynb").write_text("{}")
    with pytest.raises(GradingError, match=r"one\.py, two\.ipynb"):
        gradescopecommand.stage_upload(upload, tmp_path / "b", {})


def gradescope_root(tmp_path: Path, submission: str | None) -> Path:
    """A folder laid out like Gradescope's /autograder, the assignment copied in."""
    root = tmp_path / "autograder"
    shutil.copytree(TINY, root / "source" / "assignment")
    (root / "submission").mkdir()
    if submission is not None:
        shutil.copytree(FIXTURES / "submissions" / submission, root / "submission",
                        dirs_exist_ok=True)  # fmt: skip
    return root


def read_results(root: Path) -> dict[str, Any]:
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    validate(results)
    return results


def test_run_without_a_file_writes_a_failure(tmp_path: Path) -> None:
    root = gradescope_root(tmp_path, None)
    code = gradescopecommand.run_in_container(argparse.Namespace(root=root))
    results = read_results(root)
    assert code == 1 and results["score"] == 0.0
    assert "upload your code as submission.py" in results["output"]
    assert results["tests"][0]["max_score"] == 7.0  # the tiny assignment's points


def test_refused_isolation_names_min_isolation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from grader import sandbox

    def refuse(forced: str | None, minimum: str | None) -> str:
        raise GradingError("bubblewrap: user namespaces are disabled here.")

    monkeypatch.setattr(sandbox, "harden_grader_process", lambda: None)
    monkeypatch.setattr(sandbox, "detect_isolation", refuse)
    root = gradescope_root(tmp_path, "e2e-good")
    assert gradescopecommand.run_in_container(argparse.Namespace(root=root)) == 1
    output = read_results(root)["output"]
    assert "user namespaces are disabled" in output and "min_isolation" in output


# The bundle, unzipped and run as Gradescope would (setup.sh is not run: this venv has all).


@pytest.fixture(scope="module")
def bundle(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from grader.pipeline.gradescope import build_bundle

    output = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    build_bundle(TINY, output, data_dir)
    return output


def run_autograder(bundle: Path, tmp_path: Path, submission: str | Path) -> Path:
    """Run the bundle's `run_autograder` on a folder laid out like Gradescope's, holding a
    fixture submission (by name) or the folder `submission`."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")  # as Gradescope
    source = submission if isinstance(submission, Path) else FIXTURES / "submissions" / submission
    shutil.copytree(source, root / "submission")
    env = {**os.environ, "GRADESCOPE_ROOT": str(root), "GRADER_PYTHON": sys.executable}
    done = subprocess.run(["bash", str(root / "run_autograder")], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return root


def cache_folders(root: Path) -> set[str]:
    cache = root / "source" / "out" / "cache"
    return {p.relative_to(cache).as_posix() for p in cache.glob("*/*")}


@pytest.mark.slow
def test_run_autograder_grades_a_submission(bundle: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        bundled = {n.removeprefix("out/cache/").rsplit("/", 1)[0] for n in names
                   if n.startswith("out/cache/") and n.count("/") >= 3}  # fmt: skip
    assert {"setup.sh", "run_autograder", "assignment/assignment.toml", "data/cifar10.zip",
            "bundle.json"} <= names  # fmt: skip
    root = run_autograder(bundle, tmp_path, "e2e-good")
    results = read_results(root)
    check_tests = [t for t in results["tests"] if "error" not in t["tags"]]
    assert len(check_tests) == 7  # one per check of the tiny assignment
    assert results["output_format"] == "html" and "<html" in results["output"]
    assert results["score"] > 0
    # the container used the bundle's split and base model: it trained no base model again
    # (the cache is keyed on the grader's code: it must not change while this test runs)
    made_with = json.loads((root / "source" / "bundle.json").read_text())["grader_hash"]
    assert grader_hash() == made_with, "grader/ was edited while the test ran: run it again"
    assert cache_folders(root) == {b for b in bundled if b.count("/") == 1}


@pytest.mark.slow
def test_run_autograder_on_a_broken_submission(bundle: Path, tmp_path: Path) -> None:
    """A notebook that is not JSON: every task fails with the reason, and the score is 0
    (it fails while staged, before any child starts: the test stays quick)."""
    broken = tmp_path / "upload"
    broken.mkdir()
    (broken / "submission.ipynb").write_text('{"cells": [', encoding="utf-8")
    root = run_autograder(bundle, tmp_path, broken)
    results = read_results(root)
    assert results["score"] == 0.0
    errors = [t for t in results["tests"] if "error" in t["tags"]]
    assert len(errors) == 3, "one test per task of the tiny assignment, each saying why"
    assert all("notebook" in t["output"].lower() for t in errors), errors


def test_run_autograder_writes_results_when_the_grader_cannot_start(tmp_path: Path) -> None:
    from grader.pipeline.gradescope import RUN_AUTOGRADER

    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    (root / "run_autograder").write_text(RUN_AUTOGRADER.format(venv=tmp_path / "no-venv"))
    env = {**os.environ, "GRADESCOPE_ROOT": str(root), "GRADER_PYTHON": "/bin/false"}
    done = subprocess.run(["bash", str(root / "run_autograder")], env=env, capture_output=True,
                          text=True, check=False)  # fmt: skip
    assert done.returncode == 0 and "grader exit status: 1" in done.stdout
    results = read_results(root)
    assert results["score"] == 0.0 and "could not start" in results["output"]
