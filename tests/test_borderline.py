"""Borderline checks are flagged and scored by the assignment's policy, never silently flipped;
partial credit on a ramp; what the student report and the class summary say, in en and es."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pypdf
import pytest

from grader import stats
from grader.checks import Check
from grader.errors import SpecError
from grader.records import SCHEMA, CheckResult, Metrics, Result, SplitCounts, TaskRecord, upgrade
from grader.report import render_student_report
from grader.report.context import Texts, check_rows, student_context, summary_context
from grader.spec import load_assignment
from grader.verdicts import evaluate_checks, grade
from tests.conftest import ROOT
from tests.report_data import load

LEGACY = ROOT / "tests" / "fixtures" / "legacy"

ONE_TASK = ROOT / "tests" / "fixtures" / "assignments" / "one-task"
RIGHT, IMAGES = 790, 1200  # 0.658 on 1,200 images: Wilson 95 % interval 0.631–0.685


def task(right: int = RIGHT, correct: str | None = None) -> TaskRecord:
    accuracy = right / IMAGES
    metrics = Metrics(0.7, 0.5, 0.66, 0.6, accuracy, 0.7, 0.04,
                      test_accuracy_interval=stats.wilson(right, IMAGES), test_n=IMAGES,
                      gap_interval=stats.difference(700, 1000, 660, 1000))  # fmt: skip
    split = SplitCounts("vehicles", (1,), (1,), (400, 400, 400))
    return TaskRecord("t", ("a", "b", "c"), split, status="ok", metrics=metrics,
                      test_correct=correct)  # fmt: skip


def check(policy: str = "flag", partial_from: float | None = None, right: int = RIGHT) -> (
    CheckResult
):  # fmt: skip
    rule = Check("min_test_accuracy", 0.66, 3.0, partial_from=partial_from)
    return grade("scratch", rule, {"scratch": task(right)}, policy)


def test_a_value_within_noise_of_its_threshold_is_borderline() -> None:
    row = check()
    assert row.observed == pytest.approx(0.6583, abs=1e-4)
    assert row.interval == pytest.approx((0.6310, 0.6846), abs=1e-4)
    assert row.borderline and not row.passed  # flagged; the measurement itself is kept
    far = check(right=700)  # 0.583: the whole interval is below 0.66
    assert not far.borderline and far.note_messages == ()
    gap = grade("scratch", Check("max_gap", 0.05, 1.0), {"scratch": task()})
    assert gap.borderline and gap.interval is not None and gap.passed  # 0.04, noise ±0.04
    params = grade(
        "scratch", Check("max_params", 100, 1.0), {"scratch": replace(task(), params=100)}
    )
    assert not params.borderline and params.interval is None  # counts are exact


@pytest.mark.parametrize(
    ("policy", "partial_from", "points"),
    [
        ("flag", None, 0.0),  # scored as measured, flagged for review
        ("pass", None, 3.0),  # too close to tell: full points
        ("half", None, 1.5),  # at least half
        ("flag", 0.60, 2.92),  # the ramp: 3 * (0.6583 - 0.60) / (0.66 - 0.60)
        ("half", 0.60, 2.92),  # the ramp is worth more than half
        ("half", 0.658, 1.5),  # ... or less: 3 * (0.6583 - 0.658) / 0.002 = 0.5 < 1.5
    ],
)
def test_points_under_each_policy_and_with_a_ramp(
    policy: str, partial_from: float | None, points: float
) -> None:
    row = check(policy, partial_from)
    assert (row.points, row.max_points, row.passed, row.borderline) == (points, 3.0, False, True)


def test_a_clear_pass_or_failure_ignores_the_policy_but_not_the_ramp() -> None:
    assert check("half", right=900).points == 3.0
    assert check("pass", right=600).points == 0.0  # 0.5: far below, not borderline
    ramped = check("flag", partial_from=0.40, right=600)  # 0.5 on a ramp from 0.40 to 0.66
    assert ramped.points == pytest.approx(3 * 0.1 / 0.26, abs=0.01) and not ramped.borderline
    assert ramped.notes[-1].startswith("Partial credit: 1.15 of 3.00 points")


def test_beats_scratch_interval_is_paired_and_counts_the_images_in_dispute() -> None:
    scratch = "1" * 700 + "0" * 500
    transfer = "1" * 650 + "0" * 50 + "1" * 60 + "0" * 440  # 50 lost, 60 won
    tasks = {"scratch": task(700, scratch), "transfer": task(710, transfer)}
    row = grade("transfer", Check("beats_scratch", 0.01, 2.0, "scratch"), tasks)
    assert row.observed == pytest.approx(10 / 1200)
    assert row.interval == stats.paired_difference(650, 60, 50, 440)
    assert row.borderline  # +0.008 against a 0.01 margin, on 110 images in dispute
    assert row.notes[0] == (
        "On the same 1,200 test images, 60 are right with this model and wrong with scratch, "
        "50 right with scratch and wrong with this model."
    )


def test_the_assignment_sets_the_policy_and_the_spec_checks_the_ramp(tmp_path: Path) -> None:
    spec = (ONE_TASK / "assignment.toml").read_text()
    (tmp_path / "assignment.toml").write_text(spec)
    assert load_assignment(tmp_path).borderline == "flag"  # the default
    rule = 'kind = "min_test_accuracy", threshold = 0.1, points = 1'
    ramped = spec.replace(rule, rule + ", partial_from = 0.05")
    (tmp_path / "assignment.toml").write_text('borderline = "half"\n' + ramped)
    assignment = load_assignment(tmp_path)
    assert assignment.borderline == "half"
    assert assignment.tasks["scratch"].checks[0].partial_from == 0.05
    for bad, expected in [('borderline = "maybe"', "one of ['flag', 'pass', 'half']"),
                          ("", "below the threshold 0.1")]:  # fmt: skip
        wrong = spec.replace(rule, rule + ", partial_from = 0.2") if not bad else spec
        (tmp_path / "assignment.toml").write_text(bad + "\n" + wrong)
        with pytest.raises(SpecError, match=expected.replace("[", r"\[").replace("]", r"\]")):
            load_assignment(tmp_path)
    assignment = replace(assignment, borderline="pass")
    (row,) = evaluate_checks(assignment, {"scratch": task(right=130)})  # 0.108, within noise
    assert (row.borderline, row.passed, row.points) == (True, True, 1.0)


def borderline_result(language: str, policy: str = "flag") -> Result:
    result = load("alvaro-pequeno")
    record = replace(result.tasks["scratch"], metrics=task().metrics)
    row = check(policy)
    info = replace(result.assignment, language=language)
    return replace(result, assignment=info, tasks={**result.tasks, "scratch": record},
                   checks=(row,))  # fmt: skip


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Your 0.658 is within measurement noise of 0.660 (95% interval 0.631–0.685): "
               "the check is scored as measured, and your instructor will review it."),
        ("es", "Tu 0,658 está dentro del ruido de medida de 0,660 (intervalo del 95 %: "
               "0,631–0,685): la comprobación se puntúa tal como se midió y tu profesor la "
               "revisará."),
    ],
)  # fmt: skip
def test_the_report_explains_a_borderline_result(language: str, expected: str) -> None:
    result = borderline_result(language)
    (row,) = check_rows(result, Texts(language))
    assert row["borderline"] and row["notes"] == [expected]
    assert row["interval"] == ("0.631–0.685" if language == "en" else "0,631–0,685")
    context = student_context(result)
    scratch = next(t for t in context["tasks"] if t["id"] == "scratch")
    assert expected in scratch["feedback"]
    assert scratch["figures"]["test"] == ("0.658 (0.631–0.685)" if language == "en"
                                          else "0,658 (0,631–0,685)")  # fmt: skip
    (listed,) = summary_context([result], language)["borderline"]
    assert (listed["student"], listed["task"]) == ("alvaro-pequeno", "scratch")


def test_each_policy_has_its_own_words() -> None:
    pass_en = check_rows(borderline_result("en", "pass"), Texts("en"))[0]["notes"][0]
    assert pass_en.endswith("too close to tell apart, so it earns its points.")
    half_es = check_rows(borderline_result("es", "half"), Texts("es"))[0]["notes"][0]
    assert half_es.endswith("así que obtiene al menos la mitad de sus puntos.")


def test_older_results_are_upgraded_without_intervals_or_flags() -> None:
    data = json.loads((LEGACY / "bea-overfit-schema1.json").read_text(encoding="utf-8"))
    data = {**data, "schema": 2, "provenance": {**data["provenance"], "schema": 2}}
    upgraded = upgrade(data)
    assert (upgraded["schema"], upgraded["provenance"]["schema"]) == (SCHEMA, SCHEMA) == (6, 6)
    result = Result.from_json(data)
    metrics = result.tasks["scratch"].metrics
    assert metrics is not None and metrics.test_accuracy_interval is None
    assert metrics.test_n is None and result.tasks["scratch"].test_correct is None
    assert all(not c.borderline and c.interval is None and c.notes == () for c in result.checks)
    rows = check_rows(result, Texts("en"))
    assert all(r["interval"] == "" and r["notes"] == [] for r in rows)
    figures = next(t for t in student_context(result)["tasks"] if t["id"] == "scratch")["figures"]
    assert figures["test"] == f"{metrics.test_accuracy:.3f}"  # no interval to show


@pytest.mark.slow
@pytest.mark.parametrize(
    ("language", "words"),
    [("en", ("within measurement noise", "will review it", "0.658 (0.631–0.685)")),
     ("es", ("dentro del ruido de medida", "la revisará", "0,658 (0,631–0,685)"))],
)  # fmt: skip
def test_the_pdf_report_says_it(tmp_path: Path, language: str, words: tuple[str, ...]) -> None:
    (pdf,) = render_student_report(borderline_result(language), tmp_path, formats=("pdf",))
    text = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages).split())
    assert all(w in text for w in words), text[:3000]
