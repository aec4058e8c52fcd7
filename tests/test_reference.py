"""Thresholds relative to the instructor's reference solution (issue 10, item 6), without
TensorFlow: the spec's form and its mistakes, resolution from the reference's measurements,
the check row and its notes (en, es), result schema 4, the summary's reference section and
the self-check's rows. A real grading is in tests/test_reference_grading.py."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from grader import stats, thresholds
from grader.checks import kind_of
from grader.errors import GradingError, SpecError
from grader.pipeline.selfcheck import reference_rows
from grader.records import (
    SCHEMA,
    UPGRADES,
    CheckResult,
    Metrics,
    ReferenceThreshold,
    Result,
    SplitCounts,
    TaskRecord,
    upgrade,
)
from grader.report.context import Texts, check_rows
from grader.report.reference import reference_section
from grader.spec import Check, Relative, load_assignment
from grader.verdicts import evaluate_checks, grade
from tests.conftest import FIXTURES
from tests.report_data import RESULTS, load

ONE_TASK = (FIXTURES / "assignments" / "one-task" / "assignment.toml").read_text()
RULE = 'kind = "min_test_accuracy", threshold = 0.1, points = 1'
REFERENCE = '\n[reference]\npath = "reference/submission.py"\n'


def assignment_dir(tmp_path: Path, rule: str, reference: str = REFERENCE) -> Path:
    """One-task with `rule` as its check, `reference` appended, and a reference solution."""
    assert RULE in ONE_TASK
    (tmp_path / "reference").mkdir(parents=True, exist_ok=True)
    (tmp_path / "reference" / "submission.py").write_text("def build_scratch(s, n): ...\n")
    (tmp_path / "assignment.toml").write_text(ONE_TASK.replace(RULE, rule) + reference)
    return tmp_path


def record(test: float = 0.70, gap: float = 0.10, ok: bool = True, n: int = 300) -> TaskRecord:
    right = round(test * n)
    metrics = Metrics(0.8, 0.5, 0.8 - gap, 0.6, right / n, 0.7, gap,
                      test_accuracy_interval=stats.wilson(right, n), test_n=n)  # fmt: skip
    split = SplitCounts("vehicles", (1,), (1,), (100, 100, 100))
    task = TaskRecord("t", ("a", "b", "c"), split, status="ok", metrics=metrics)
    return task if ok else replace(task, status="error", metrics=None, error="it crashed")


# The spec


def test_a_threshold_may_be_relative_to_the_reference_solution(tmp_path: Path) -> None:
    rule = ('kind = "min_test_accuracy", threshold = { reference = -0.05 }, points = 1, '
            "partial_from = { reference = -0.15 }")  # fmt: skip
    assignment = load_assignment(assignment_dir(tmp_path, rule))
    (check,) = assignment.tasks["scratch"].checks
    assert check.threshold == Relative(-0.05) and check.partial_from == Relative(-0.15)
    assert check.relative and check.reference is None
    assert assignment.reference is not None and assignment.reference.path.endswith(".py")
    assert assignment.reference.content_hash is not None
    with pytest.raises(ValueError, match="not resolved yet"):
        kind_of(check).threshold  # noqa: B018 - a kind is never bound to an unresolved check


def test_the_reference_content_is_hashed_so_a_change_is_seen(tmp_path: Path) -> None:
    folder = assignment_dir(tmp_path, RULE)
    first = load_assignment(folder).reference
    (folder / "reference" / "submission.py").write_text("def build_scratch(s, n): return 1\n")
    second = load_assignment(folder).reference
    assert first is not None and second is not None
    assert first.content_hash != second.content_hash
    assert load_assignment(folder).spec_hash == load_assignment(folder).spec_hash


def test_a_reference_may_be_a_notebook_or_a_folder(tmp_path: Path) -> None:
    folder = assignment_dir(tmp_path / "folder", RULE, '\n[reference]\npath = "reference"\n')
    assert load_assignment(folder).reference is not None
    notebook = assignment_dir(tmp_path / "nb", RULE, '\n[reference]\npath = "solution.ipynb"\n')
    (notebook / "solution.ipynb").write_text("{}")
    assert load_assignment(notebook).reference is not None


RELATIVE = 'kind = "min_test_accuracy", threshold = { reference = -0.05 }, points = 1'


@pytest.mark.parametrize(
    ("rule", "reference", "expected"),
    [
        (RELATIVE, "", "`tasks.scratch.checks[0]` has a threshold relative to the reference "
         "solution ({ reference = offset }), but the assignment has no [reference] table. Add "
         'one naming your solution (`[reference]` with `path = "reference/submission.py"`)'),
        (RELATIVE, '\n[reference]\npath = "missing.py"\n', "`reference.path` must be an "
         "existing file or folder inside the assignment folder"),
        (RELATIVE, '\n[reference]\npath = "../outside.py"\n', "`reference.path` must be a "
         "relative path inside the assignment folder"),
        (RELATIVE, '\n[reference]\npath = "."\n', "a folder holding one of ['submission.py', "
         "'submission.ipynb']"),
        (RELATIVE, '\n[reference]\npath = "assignment.toml"\n', "a .py file, a .ipynb notebook"),
        (RELATIVE, '\n[reference]\npth = "reference/submission.py"\n', "`reference.pth` must be "
         "one of the known keys ['path'] (typo?)"),
        ('kind = "min_test_accuracy", threshold = { refrence = -0.05 }, points = 1', REFERENCE,
         "`tasks.scratch.checks[0].threshold.refrence` must be one of the known keys "
         "['reference'] (typo?)"),
        ('kind = "min_test_accuracy", threshold = { reference = -1.5 }, points = 1', REFERENCE,
         "must be an offset in [-1, 1] from the reference solution's value"),
        ('kind = "max_params", threshold = { reference = 100 }, points = 1', REFERENCE,
         "must be a number (max_params counts exactly"),
        ('kind = "reuses_base", threshold = { reference = 0 }, points = 1', REFERENCE,
         "must be a number (reuses_base counts exactly"),
        (RELATIVE + ", partial_from = { reference = 0.0 }", REFERENCE, "`tasks.scratch.checks[0]"
         ".partial_from` must be an offset below the threshold's offset {'reference': -0.05}"),
        ('kind = "max_gap", threshold = { reference = 0.05 }, points = 1, partial_from = '
         "{ reference = 0.01 }", REFERENCE, "an offset above the threshold's offset"),
    ],
)  # fmt: skip
def test_spec_mistakes_name_the_key_and_the_fix(
    tmp_path: Path, rule: str, reference: str, expected: str
) -> None:
    with pytest.raises(SpecError) as info:
        load_assignment(assignment_dir(tmp_path, rule, reference))
    assert expected in str(info.value)
    assert str(tmp_path / "assignment.toml") in str(info.value)


def test_a_self_check_copy_may_lack_the_reference(tmp_path: Path) -> None:
    """A student's copy of the assignment has no reference solution: the self-check loads it
    (its relative checks are left out and listed), grading does not."""
    folder = assignment_dir(tmp_path, RELATIVE, '\n[reference]\npath = "missing.py"\n')
    assignment = load_assignment(folder, reference_required=False)
    assert assignment.reference is not None and assignment.reference.content_hash is None
    (row,) = reference_rows(SimpleNamespace(assignment=assignment))  # type: ignore[arg-type]
    assert (row.task, row.status) == ("scratch", "warning")
    assert row.check == "min_test_accuracy (relative to the reference solution)"
    assert "reference solution, which the self-check does not have" in row.detail
    assert thresholds.without_relative(assignment).tasks["scratch"].checks == ()


# Resolution (pure)


def spec(*rules: Check, task: str = "scratch") -> SimpleNamespace:
    return SimpleNamespace(tasks={task: SimpleNamespace(checks=rules)}, borderline="flag",
                           learning_floor=0.1)  # fmt: skip


def test_a_relative_threshold_is_the_reference_value_plus_the_offset(tmp_path: Path) -> None:
    rule = RELATIVE + ", partial_from = { reference = -0.15 }"
    assignment = load_assignment(assignment_dir(tmp_path, rule))
    resolved = thresholds.resolve(assignment, {"scratch": record(test=0.70)})
    (check,) = resolved.tasks["scratch"].checks
    assert (check.threshold, check.partial_from) == (0.65, 0.55)
    assert check.reference == ReferenceThreshold(0.70, -0.05, -0.15)
    assert not check.relative and kind_of(check).threshold == 0.65
    assert resolved.spec_hash == assignment.spec_hash and resolved.reference == assignment.reference
    plain = Check("max_params", 100.0, 1.0)
    assert thresholds.resolve_check("scratch", plain, {}) is plain  # nothing to resolve


def test_each_measured_kind_reads_its_own_value_of_the_reference() -> None:
    reference = {"scratch": record(test=0.60, gap=0.20), "transfer": record(test=0.75)}
    gap = thresholds.resolve_check("scratch", Check("max_gap", Relative(0.05), 1.0), reference)
    assert gap.threshold == 0.25 and gap.reference == ReferenceThreshold(0.20, 0.05)
    beats = Check("beats_scratch", Relative(-0.05), 1.0, "scratch")
    resolved = thresholds.resolve_check("transfer", beats, reference)
    assert resolved.threshold == 0.10  # the reference's transfer - scratch (0.15), - 0.05
    ramp = Check("min_val_accuracy", 0.6, 1.0, partial_from=Relative(-0.2))
    assert thresholds.resolve_check("scratch", ramp, reference).partial_from == 0.4  # 0.6 - 0.2


@pytest.mark.parametrize(
    ("task_id", "rule", "reference", "expected"),
    [
        ("scratch", Check("min_test_accuracy", Relative(-0.05), 1.0), {"scratch": record(ok=False)},
         "task 'scratch', check min_test_accuracy is relative to the reference solution, which "
         "failed it: it crashed"),
        ("scratch", Check("min_test_accuracy", Relative(-0.05), 1.0), {},
         "which has no such task"),
        ("transfer", Check("beats_scratch", Relative(0.0), 1.0, "scratch"),
         {"transfer": record(), "scratch": record(ok=False)},
         "task 'transfer', check beats_scratch is relative to the reference solution, which has "
         "no value for it (its task 'scratch' was not measured)"),
        ("scratch", Check("min_test_accuracy", Relative(0.5), 1.0), {"scratch": record(0.7)},
         "the reference solution's 0.700 +0.500 gives the threshold 1.200, and this check needs "
         "an accuracy in [-1, 1]. Change the offset"),
        ("scratch", Check("min_test_accuracy", Relative(-0.1), 1.0, partial_from=0.65),
         {"scratch": record(0.7)}, "partial_from resolves to 0.650, which must be below the "
         "threshold 0.600 (the reference solution's value is 0.700)"),
    ],
)  # fmt: skip
def test_a_value_the_reference_cannot_give_stops_with_the_check_named(
    task_id: str, rule: Check, reference: dict[str, TaskRecord], expected: str
) -> None:
    with pytest.raises(GradingError) as info:
        thresholds.resolve_check(task_id, rule, reference)
    assert expected in str(info.value)


# The check row, its note, the record and the reports


def resolved_row(observed: float = 0.62) -> tuple[Check, CheckResult]:
    check = thresholds.resolve_check(
        "scratch", Check("min_test_accuracy", Relative(-0.05), 2.0), {"scratch": record(0.70)}
    )
    return check, grade("scratch", check, {"scratch": record(observed)})


def test_a_student_check_is_graded_against_the_resolved_number_and_says_so() -> None:
    check, row = resolved_row(0.66)
    assert row.threshold == 0.65 and row.passed and row.points == 2.0
    assert row.reference == ReferenceThreshold(0.70, -0.05)
    assert row.required == "hidden-test accuracy >= 0.65"
    assert row.notes[0] == (
        "The threshold 0.650 is relative to your instructor's reference solution: its 0.700 "
        "on this check, -0.050."
    )
    (failed,) = evaluate_checks(spec(check), {"scratch": record(0.64)})  # type: ignore[arg-type]
    assert failed.threshold == 0.65 and not failed.passed and failed.points == 0.0


def test_only_a_relative_ramp_says_where_partial_credit_starts() -> None:
    rule = Check("min_test_accuracy", 0.7, 1.0, partial_from=Relative(-0.2))
    check = thresholds.resolve_check("scratch", rule, {"scratch": record(0.70)})
    row = grade("scratch", check, {"scratch": record(0.60)})
    assert row.reference == ReferenceThreshold(0.70, None, -0.2)
    assert row.notes[0].startswith("Partial credit starts at 0.500, relative to your instructor")


def result_with(row: CheckResult, language: str) -> Result:
    result = load("alvaro-pequeno")
    info = replace(result.assignment, language=language)
    return replace(result, assignment=info, checks=(row,))


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "The threshold 0.650 is relative to your instructor's reference solution: its "
               "0.700 on this check, -0.050."),
        ("es", "El umbral 0,650 es relativo a la solución de referencia de tu profesor: su "
               "0,700 en esta comprobación, -0,050."),
    ],
)  # fmt: skip
def test_the_student_report_shows_the_resolved_threshold_and_its_origin(
    language: str, expected: str
) -> None:
    _, row = resolved_row()
    (shown,) = check_rows(result_with(row, language), Texts(language))
    assert shown["notes"][0] == expected
    assert shown["required"].endswith("0.65" if language == "en" else "0,65")


def test_result_schema_4_stores_the_origin_and_reads_older_files() -> None:
    _, row = resolved_row()
    result = result_with(row, "en")
    data = json.loads(json.dumps(result.to_json()))
    assert data["checks"][0]["reference"] == {"value": 0.7, "offset": -0.05,
                                              "partial_from_offset": None}  # fmt: skip
    assert Result.from_json(data).checks[0].reference == ReferenceThreshold(0.7, -0.05)
    old = json.loads((RESULTS / "bea-overfit.json").read_text(encoding="utf-8"))
    old = {**old, "schema": 3, "provenance": {**old["provenance"], "schema": 3}}
    assert UPGRADES[3](old)["schema"] == 4 and upgrade(old)["schema"] == SCHEMA
    upgraded = Result.from_json(old)
    assert upgraded.provenance.reference_hash is None
    assert all(c.reference is None for c in upgraded.checks)


def test_the_summary_section_shows_the_reference_figures_and_its_thresholds() -> None:
    _, row = resolved_row()
    reference = replace(result_with(row, "es"), student="reference", score=9.0, max_score=10.0)
    section = reference_section(reference, "es")
    assert section is not None
    scratch = next(t for t in section["tasks"] if t["task"] == "scratch")
    metrics = reference.tasks["scratch"].metrics
    assert metrics is not None
    assert scratch["test"].startswith(f"{metrics.test_accuracy:.3f}".replace(".", ","))
    required = "exactitud en test oculto ≥ 0,65"
    expected = {"task": "scratch", "required": required, "value": "0,700", "offset": "-0,050"}
    assert section["thresholds"] == [expected]
    assert "Nota: 9 / 10" in section["intro"]
    assert reference_section(None, "en") is None
