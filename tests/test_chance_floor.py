"""The learning floor (issue 12): a model at chance level earns no points for the checks that do
not measure learning; the accuracy checks are judged as usual; a decision within the
accuracy's noise is flagged and settled by the borderline policy; what the report, the
self-check table and summary.csv say, in en and es. Pure: records, no training."""

from __future__ import annotations

import csv
import html
import re
from dataclasses import replace
from pathlib import Path

import pypdf
import pytest

from grader import floor, stats
from grader.errors import SpecError
from grader.messages import Message, render
from grader.pipeline import selfcheck
from grader.pipeline.summary import write_summary_csv
from grader.records import BaseReuse, CheckResult, Metrics, Result, SplitCounts, TaskRecord
from grader.report import render_student_report
from grader.report.context import Texts, check_rows
from grader.report.feedback import feedback_messages
from grader.spec import Check, load_assignment
from grader.verdicts import evaluate_checks, grade, learning_rule, total_score
from tests.conftest import ROOT
from tests.report_data import RESULTS, load

HANDOUT = ROOT / "assignments" / "transfer-learning"
SHIPPED = load_assignment(HANDOUT)
TEN = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
THREE = ("other", "automobile", "truck")


def record(right: int, images: int, classes: tuple[str, ...] = TEN, **extra: object) -> TaskRecord:
    """A graded task: `right` of `images` balanced test images, a small gap, few parameters."""
    interval = stats.wilson(right, images)
    metrics = Metrics(0.1, 2.3, 0.1, 2.3, right / images, 2.3, 0.003,
                      test_accuracy_interval=interval, test_n=images)  # fmt: skip
    split = SplitCounts("s", (), (), (images // len(classes),) * len(classes))
    return TaskRecord("t", classes, split, status="ok", metrics=metrics, params=20_000,
                      **extra)  # type: ignore[arg-type]  # fmt: skip


def rows(tasks: dict[str, TaskRecord], **spec: object) -> dict[str, CheckResult]:
    assignment = replace(SHIPPED, **spec) if spec else SHIPPED  # type: ignore[arg-type]
    return {r.id: r for r in evaluate_checks(assignment, tasks)}


def ids(row: CheckResult) -> list[str]:
    return [m.id for m in row.note_messages]


def test_a_ten_class_model_at_chance_earns_no_gap_or_parameter_points() -> None:
    """The issue's case: lr 1e9 or nothing trainable, 0.10 on cifar10, used to earn 3/6."""
    got = rows({"cifar10": record(500, 5000)})
    gap, params = got["cifar10.max_gap"], got["cifar10.max_params"]
    assert gap.passed and params.passed  # what they measured is kept...
    assert (
        gap.points == params.points == 0 and not gap.counted and not params.counted
    )  # ...not paid
    assert ids(gap)[0] == "learning.not_counted" and not gap.borderline
    said = gap.note_messages[0].params
    assert said["classes"] == 10 and said["chance"] == pytest.approx(0.1)
    assert said["floor"] == pytest.approx(0.19) and said["accuracy"] == pytest.approx(0.1)
    accuracy = got["cifar10.min_test_accuracy"]
    assert accuracy.counted and accuracy.note_messages == ()  # judged as usual (and failed)
    cifar = [r for r in got.values() if r.task == "cifar10"]
    assert total_score(cifar) == (0, 6)


def test_a_ten_class_model_that_learned_a_little_keeps_them() -> None:
    got = rows({"cifar10": record(1250, 5000)})  # 0.25, interval 0.238-0.262: above 0.19
    assert got["cifar10.max_gap"].points == 2 and got["cifar10.max_params"].points == 1
    assert all(r.counted and not r.borderline for r in got.values() if r.task == "cifar10")


def test_the_floor_is_a_share_of_the_way_from_chance_not_a_multiple() -> None:
    """3 classes: 0.40, not 2 x chance = 0.67 (above the scratch pass mark of 0.50)."""
    assert floor.level(1 / 3, 0.1) == pytest.approx(0.4)
    assert floor.level(0.5, 0.1) == pytest.approx(0.55)
    got = rows({"scratch": record(660, 1200, THREE)})  # 0.55: passes scratch's 0.50
    assert got["scratch.max_gap"].counted and got["scratch.max_gap"].points == 2
    low = rows({"scratch": record(432, 1200, THREE)})  # 0.36, interval 0.333-0.388
    assert not low["scratch.max_gap"].counted and not low["scratch.max_params"].counted
    assert low["scratch.max_gap"].note_messages[0].params["floor"] == pytest.approx(0.4)


def test_chance_is_the_most_common_class_of_the_test() -> None:
    imbalanced = replace(record(800, 1200, THREE), split=SplitCounts("s", (), (), (800, 200, 200)))
    assert floor.chance_of(imbalanced) == pytest.approx(2 / 3)  # always answering "other"
    # 0.667 = chance: learned nothing, whatever the count (graded alone: no accuracy cap)
    assert not grade("scratch", Check("max_gap", 0.3, 2.0), {"scratch": imbalanced}).counted


def test_a_task_floor_is_never_above_its_own_accuracy_threshold() -> None:
    """A model that passes the instructor's accuracy check has learned enough by their
    measure: a low pass mark caps the floor (the tiny test assignment's 0.2 for 3 classes)."""
    tiny = load_assignment(ROOT / "tests" / "fixtures" / "assignments" / "tiny")
    assert learning_rule(tiny).caps == {"scratch": 0.2, "transfer": 0.2, "cifar10": 0.05}
    rule = floor.Rule(0.1, {"scratch": 0.3})
    measured = rule.measure("scratch", record(384, 1200, THREE))
    assert measured is not None and measured.floor == 0.3 and not measured.below


def test_borderline_near_the_floor_is_flagged_and_settled_by_the_policy() -> None:
    near = record(468, 1200, THREE)  # 0.39, interval 0.363-0.418: the floor 0.40 is inside
    flag = rows({"scratch": near})["scratch.max_gap"]
    assert flag.borderline and not flag.counted and flag.points == 0
    assert ids(flag) == ["learning.not_counted", "learning.borderline.flag"]
    passed = rows({"scratch": near}, borderline="pass")["scratch.max_gap"]
    assert passed.borderline and passed.counted and passed.points == 2
    assert ids(passed) == ["learning.borderline.pass"]
    half = rows({"scratch": near}, borderline="half")["scratch.max_gap"]
    assert half.counted and half.points == 1 and ids(half) == ["learning.borderline.half"]
    above = rows({"scratch": record(492, 1200, THREE)})["scratch.max_gap"]  # 0.41, 0.382-0.438
    assert above.counted and above.points == 2 and above.borderline
    assert ids(above) == ["learning.borderline.above"]
    far = rows({"scratch": record(384, 1200, THREE)}, borderline="pass")["scratch.max_gap"]
    assert not far.counted and far.points == 0  # 0.32: the policy only settles noise


def test_a_comparison_with_a_model_at_chance_is_not_counted() -> None:
    transfer = record(960, 1200, THREE, base_reuse=BaseReuse(5, 4, 4))  # 0.80
    got = rows({"scratch": record(400, 1200, THREE), "transfer": transfer})  # scratch 0.33
    beats = got["transfer.beats_scratch"]
    assert beats.passed and not beats.counted and beats.points == 0
    assert ids(beats)[0] == "learning.not_counted_other"
    assert beats.note_messages[0].params["task"] == "scratch"
    assert got["transfer.max_gap"].counted and got["transfer.reuses_base"].counted


def test_reuse_of_the_base_is_not_counted_for_a_model_at_chance() -> None:
    transfer = record(400, 1200, THREE, base_reuse=BaseReuse(5, 4, 4))
    reuse = rows({"transfer": transfer})["transfer.reuses_base"]
    assert reuse.passed and not reuse.counted and reuse.points == 0


def test_learning_floor_zero_turns_it_off() -> None:
    got = rows({"cifar10": record(500, 5000)}, learning_floor=0.0)
    assert got["cifar10.max_gap"].points == 2 and got["cifar10.max_gap"].counted


def test_a_failed_task_is_not_measured_rather_than_not_counted() -> None:
    row = grade("cifar10", Check("max_gap", 0.15, 2.0), {})
    assert row.counted and row.observed is None and row.points == 0


@pytest.mark.parametrize("student", sorted(p.stem for p in RESULTS.glob("*.json")))
def test_the_shipped_examples_score_exactly_as_stored(student: str) -> None:
    """Every example is far above its floor: re-scoring its stored tasks changes nothing, so
    the fixtures and the handout's table stand as they are."""
    stored = load(student)
    assert evaluate_checks(SHIPPED, stored.tasks) == stored.checks


# The spec


def spec_with(tmp_path: Path, line: str) -> Path:
    folder = tmp_path / "assignment"
    folder.mkdir()
    (folder / "base_model.py").write_bytes((HANDOUT / "base_model.py").read_bytes())
    toml = (HANDOUT / "assignment.toml").read_text(encoding="utf-8")
    (folder / "assignment.toml").write_text(f"{line}\n{toml}", encoding="utf-8")
    return folder


@pytest.mark.parametrize("value", ["2.0", "1", "-0.1", '"0.1"', "true"])
def test_a_learning_floor_outside_0_1_is_a_spec_error(tmp_path: Path, value: str) -> None:
    with pytest.raises(SpecError, match=r"`learning_floor` must be a share in \[0, 1\)") as info:
        load_assignment(spec_with(tmp_path, f"learning_floor = {value}"))
    assert "not a multiple of chance" in str(info.value) and "Received: learning_floor=" in str(
        info.value
    )


def test_learning_floor_only_rescores(tmp_path: Path) -> None:
    """It decides scoring only: a change re-scores stored results, never retrains them."""
    assert SHIPPED.learning_floor == floor.DEFAULT_SHARE
    changed = load_assignment(spec_with(tmp_path, "learning_floor = 0.2"))
    assert changed.learning_floor == 0.2
    assert changed.spec_hash != SHIPPED.spec_hash
    assert changed.training_hash == SHIPPED.training_hash


# What people see


def chance_result(language: str = "en") -> Result:
    """alvaro's result with a cifar10 model at chance, scored again."""
    stored = load("alvaro-pequeno")
    tasks = {**stored.tasks, "cifar10": replace(stored.tasks["cifar10"], metrics=replace(
        stored.tasks["cifar10"].metrics, test_accuracy=0.1,
        test_accuracy_interval=stats.wilson(500, 5000)))}  # type: ignore[type-var]  # fmt: skip
    checks = evaluate_checks(SHIPPED, tasks)
    assignment = replace(stored.assignment, language=language)
    score = total_score(checks)[0]
    return replace(stored, tasks=tasks, checks=checks, score=score, assignment=assignment)


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", ("Not counted: the model of 'cifar10' is at chance level", "0.100 for 10 classes",
             "floor 0.190", "fix its training first")),
     ("es", ("No cuenta: el modelo de 'cifar10' está al nivel del azar", "0,100 con 10 clases",
             "mínimo 0,190", "arregla primero su entrenamiento"))],
)  # fmt: skip
def test_the_note_renders_in_both_languages(language: str, words: tuple[str, ...]) -> None:
    result = chance_result(language)
    assert result.score == 14  # 20 before: the 6 cifar10 points, accuracy's 3 included
    gap = next(
        r for r in check_rows(result, Texts(language)) if r["notes"] and r["task"] == "cifar10"
    )
    assert gap["not_counted"] == render(Message("learning.mark"), language)
    assert all(w in gap["notes"][0] for w in words), gap["notes"][0]
    near = floor.Floor("scratch", 0.39, (0.363, 0.418), 3, 1 / 3, 0.4).params()
    point = "." if language == "en" else ","
    for message_id in ("learning.borderline.flag", "learning.borderline.pass",
                       "learning.borderline.half", "learning.borderline.above",
                       "learning.not_counted_other"):  # fmt: skip
        said = render(Message(message_id, near), language)
        assert f"0{point}390" in said and f"0{point}400" in said and "'scratch'" in said


def test_feedback_says_it_once_and_gives_no_advice_about_the_gap() -> None:
    said = feedback_messages(chance_result(), "cifar10")
    assert [m.id for m in said].count("learning.not_counted") == 1  # two checks, one sentence
    assert "feedback.max_gap" not in [m.id for m in said]
    assert "feedback.min_test_accuracy" in [m.id for m in said]


def test_the_self_check_table_says_why() -> None:
    table = selfcheck.rows_from_result(chance_result())
    gap = next(r for r in table if r.task == "cifar10" and "train - validation" in r.check)
    assert gap.status == selfcheck.PROBLEM and gap.detail.startswith("Not counted: the model")


def test_summary_csv_lists_the_checks_not_counted(tmp_path: Path) -> None:
    write_summary_csv(tmp_path / "summary.csv", [chance_result()], ["cifar10"])
    with open(tmp_path / "summary.csv", encoding="utf-8-sig", newline="") as fh:
        row = next(csv.DictReader(fh))
    assert row["not_counted_checks"] == "cifar10.max_gap cifar10.max_params"
    assert row["score"] == "14.0"


def test_the_html_report_marks_the_check(tmp_path: Path) -> None:
    (page,) = render_student_report(chance_result("es"), tmp_path, formats=("html",))
    text = html.unescape(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")))
    assert "✗ no cuenta" in text and "No cuenta: el modelo de 'cifar10'" in text


@pytest.mark.slow
def test_the_pdf_report_says_it(tmp_path: Path) -> None:
    (pdf,) = render_student_report(chance_result(), tmp_path, formats=("pdf",))
    text = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages).split())
    assert "not counted" in text and "Not counted: the model of 'cifar10'" in text, text[:3000]
