"""Late penalties and instructor overrides (`grader.adjust`, `grader.overrides`,
`grader.pipeline.adjusting`): day counting, caps, clamping, the overrides file's mistakes,
and the adjusted grade in results, summary.csv, the console and the reports (en, es).
One slow test grades the tiny assignment, then edits overrides.toml and the late policy:
nothing is trained again."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from grader.adjust import Override, adjustments, final_score, late_days
from grader.console import results_table
from grader.errors import GradingError
from grader.layout import Layout
from grader.lms.student import StudentInfo
from grader.messages import render
from grader.overrides import read_overrides
from grader.pipeline.adjusting import adjust_stored, apply_adjustments
from grader.pipeline.summary import write_summary_csv
from grader.records import Result, read_result, write_json_atomic
from grader.report import render as report_render
from grader.report import render_student_report
from grader.spec import load_assignment
from grader.spec_policy import LatePolicy
from tests.conftest import FIXTURES, fixture_submissions
from tests.report_data import load

CET, CEST = dt.timezone(dt.timedelta(hours=1)), dt.timezone(dt.timedelta(hours=2))
DUE = dt.datetime(2026, 12, 1, 23, 59, tzinfo=CET)
POLICY = LatePolicy(due=DUE, per_day=0.1, max_penalty=0.5)
TINY = FIXTURES / "assignments" / "tiny"


def at(when: dt.datetime, late: bool = False) -> StudentInfo:
    return StudentInfo(name="Ana", submitted_at=when.isoformat(), late=late)


# Day counting --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "grace", "days"),
    [(dt.timedelta(minutes=-1), 0, None), (dt.timedelta(0), 0, None),
     (dt.timedelta(minutes=1), 0, 1), (dt.timedelta(hours=24), 0, 1),
     (dt.timedelta(hours=24, minutes=1), 0, 2), (dt.timedelta(minutes=15), 15, None),
     (dt.timedelta(minutes=16), 15, 1), (dt.timedelta(hours=24, minutes=15), 15, 1),
     (dt.timedelta(hours=24, minutes=16), 15, 2)],
)  # fmt: skip
def test_days_are_counted_up_from_due_plus_grace(
    after: dt.timedelta, grace: int, days: int | None
) -> None:
    policy = replace(POLICY, grace_minutes=grace)
    assert late_days(at(DUE + after), policy) == days


def test_days_are_24_hours_across_a_change_of_offset() -> None:
    due = dt.datetime(2026, 3, 28, 23, 59, tzinfo=CET)  # summer time starts on the 29th
    policy = replace(POLICY, due=due)
    # 23:59 the next evening in summer time is 23 hours later: still the first day
    assert late_days(at(dt.datetime(2026, 3, 29, 23, 59, tzinfo=CEST)), policy) == 1
    # 00:30 summer time the day after is 23 h 31 min late; 01:00 is 24 h 1 min late
    assert late_days(at(dt.datetime(2026, 3, 30, 0, 30, tzinfo=CEST)), policy) == 1
    assert late_days(at(dt.datetime(2026, 3, 30, 1, 0, tzinfo=CEST)), policy) == 2
    # the same instant written in UTC counts the same
    assert late_days(at(dt.datetime(2026, 3, 28, 22, 59, tzinfo=dt.timezone.utc)), policy) is None


def test_work_marked_late_without_its_time_counts_the_policy_s_days() -> None:
    unknown = StudentInfo(name="Ana", late=True)
    assert late_days(unknown, POLICY) == 1
    assert late_days(unknown, replace(POLICY, unknown_time_days=3)) == 3
    assert late_days(unknown, replace(POLICY, unknown_time_days=0)) is None
    assert late_days(StudentInfo(name="Ana"), POLICY) is None
    # a known time wins over the LMS's flag (an extension the LMS did not know of)
    assert late_days(at(DUE - dt.timedelta(hours=1), late=True), POLICY) is None


# Adjustments -----------------------------------------------------------------------------


def test_the_late_penalty_is_per_day_with_its_reason() -> None:
    found = adjustments(8.0, 10.0, at(DUE + dt.timedelta(days=1, minutes=1)), POLICY, None)
    assert [(a.kind, a.points) for a in found] == [("late", -2.0)]
    assert found[0].reason == (
        "late by 2 days (due 2026-12-01 23:59 +01:00): -2 points (10% a day, at most 50%)"
    )
    assert found[0].message is not None
    assert render(found[0].message, "es") == (
        "entregado con 2 días de retraso (fecha límite 2026-12-01 23:59 +01:00): -2 puntos "
        "(10\u00a0% por día, como máximo 50\u00a0%)"
    )
    assert final_score(8.0, 10.0, found) == 6.0


def test_the_penalty_stops_at_max_penalty_and_points_are_rounded() -> None:
    ten_days = at(DUE + dt.timedelta(days=9, hours=1))
    assert adjustments(9.0, 10.0, ten_days, POLICY, None)[0].points == -5.0
    policy = replace(POLICY, per_day=1 / 3, max_penalty=1.0)
    one_day = adjustments(9.0, 10.0, at(DUE + dt.timedelta(hours=1)), policy, None)
    assert one_day[0].points == -3.33 and "-3.33 points" in one_day[0].reason


def test_the_cap_raises_the_penalty_to_reach_it() -> None:
    policy = replace(POLICY, cap=0.6)
    late = at(DUE + dt.timedelta(hours=2))
    (capped,) = adjustments(9.0, 10.0, late, policy, None)  # per day: -1; to the cap: -3
    assert capped.points == -3.0
    assert "late work earns at most 60% of the points" in capped.reason
    (per_day,) = adjustments(5.0, 10.0, late, policy, None)  # under the cap already
    assert per_day.points == -1.0 and "10% a day" in per_day.reason


def test_the_final_score_is_clamped_to_zero_and_the_maximum() -> None:
    late = at(DUE + dt.timedelta(days=3, minutes=1))  # 4 days
    found = adjustments(1.0, 10.0, late, POLICY, None)
    assert found[0].points == -4.0 and final_score(1.0, 10.0, found) == 0.0
    bonus = adjustments(9.5, 10.0, StudentInfo(), None, Override("bonus", points=2))
    assert final_score(9.5, 10.0, bonus) == 10.0
    assert adjustments(5.0, 10.0, StudentInfo(), POLICY, None) == ()
    assert final_score(5.0, 10.0, ()) is None


def test_an_excused_student_loses_nothing_and_the_report_says_why() -> None:
    late = at(DUE + dt.timedelta(days=1, hours=1))
    found = adjustments(8.0, 10.0, late, POLICY, Override("medical extension", excuse_late=True))
    assert [(a.kind, a.points) for a in found] == [("late", 0.0)]
    assert found[0].reason == "late by 2 days (due 2026-12-01 23:59 +01:00), no penalty: " \
        "medical extension"  # fmt: skip
    assert final_score(8.0, 10.0, found) == 8.0


def test_a_score_override_comes_before_the_late_penalty() -> None:
    late = at(DUE + dt.timedelta(hours=3))
    found = adjustments(4.0, 10.0, late, replace(POLICY, cap=0.5), Override("regraded", score=7))
    assert [(a.kind, a.points) for a in found] == [("override", 3.0), ("late", -2.0)]
    assert found[0].reason == "score set to 7 by your instructor: regraded"
    assert final_score(4.0, 10.0, found) == 5.0
    added = adjustments(4.0, 10.0, StudentInfo(), POLICY, Override("regraded", points=1.5))
    assert added[0].reason == "adjusted by your instructor: +1.5 points: regraded"


def test_unknown_time_is_said_in_the_reason() -> None:
    (found,) = adjustments(8.0, 10.0, StudentInfo(late=True), POLICY, None)
    assert found.points == -1.0
    assert found.reason.startswith("marked late, at a time not known: counted as 1 day late")


# overrides.toml ----------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "overrides.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_overrides_file_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, '[ana]\npoints = 1\nreason = " regraded "\n'
                           '[bruno]\nexcuse_late = true\nreason = "extension"\n')  # fmt: skip
    assert read_overrides(path, {"ana", "bruno", "carla"}) == {
        "ana": Override("regraded", points=1.0),
        "bruno": Override("extension", excuse_late=True),
    }


@pytest.mark.parametrize(
    ("text", "says"),
    [('[ana]\npoints = 1\n', "[ana]: no `reason`"),
     ('[ana]\npoints = 1\nscore = 2\nreason = "x"\n', "`points` and `score` together"),
     ('[ana]\npionts = 1\nreason = "x"\n', "unknown key `pionts`"),
     ('[zoe]\npoints = 1\nreason = "x"\n', "[zoe] is not a student of this class"),
     ('[ana]\npoints = "1"\nreason = "x"\n', "`points` must be a number"),
     ('[ana]\npoints = true\nreason = "x"\n', "`points` must be a number"),
     ('[ana]\npoints = nan\nreason = "x"\n', "`points` must be a number"),
     ('[ana]\nscore = -1\nreason = "x"\n', "`score` must be a number ≥ 0"),
     ('[ana]\nexcuse_late = "yes"\nreason = "x"\n', "`excuse_late` must be true or false"),
     ('[ana]\nreason = "x"\n', "nothing to change"),
     ('[ana]\npoints = 1\nreason = "  "\n', "`reason` must be a text"),
     ('ana = 3\n', "[ana] must be a table"),
     ('[ana\n', "not valid TOML")],
)  # fmt: skip
def test_a_mistake_names_the_file_the_student_and_the_fix(
    tmp_path: Path, text: str, says: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(GradingError) as info:
        read_overrides(path, {"ana", "bruno"})
    assert str(path) in str(info.value) and says in str(info.value)


def test_the_file_is_optional_only_where_it_was_not_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert read_overrides(None, {"ana"}) == {}
    with pytest.raises(GradingError, match="no such file"):
        read_overrides(tmp_path / "missing.toml", {"ana"})
    write(tmp_path, '[ana]\nscore = 3\nreason = "x"\n')
    assert read_overrides(None, {"ana"}) == {"ana": Override("x", score=3.0)}
    with pytest.raises(GradingError, match="not a regular file"):
        read_overrides(tmp_path, {"ana"})
    write(tmp_path, "# " + "x" * 2**21)
    with pytest.raises(GradingError, match="larger than 1 MiB"):
        read_overrides(None, {"ana"})


# Results, summary.csv, console, reports ---------------------------------------------------


def stored_class(tmp_path: Path, late: bool) -> tuple[Layout, Path, Result]:
    """A layout holding bea's graded result, and a submissions folder with her student.toml."""
    layout = Layout.for_output(tmp_path / "out", "tiny")
    layout.results.mkdir(parents=True)
    result = replace(load("bea-overfit"), student="bea")
    write_json_atomic(layout.result("bea"), result)
    folder = tmp_path / "submissions" / "bea"
    folder.mkdir(parents=True)
    when = DUE + dt.timedelta(days=1, hours=1) if late else DUE
    (folder / "student.toml").write_text(f'name = "Bea"\nsubmitted_at = "{when.isoformat()}"\n')
    return layout, folder.parent, result


def test_results_are_rewritten_only_when_their_adjustments_change(tmp_path: Path) -> None:
    layout, submissions, result = stored_class(tmp_path, late=True)
    assignment = replace(load_assignment(TINY), late=POLICY)
    done = apply_adjustments(layout, [result], submissions, assignment, None)
    assert done.changed == ("bea",)
    stored = read_result(layout.result("bea"))
    assert stored.final_score == 15.0 - 4.0 and stored.grade == 11.0  # 2 days of 20 points
    before = layout.result("bea").stat().st_mtime_ns
    again = apply_adjustments(layout, [stored], submissions, assignment, None)
    assert again.changed == () and layout.result("bea").stat().st_mtime_ns == before
    overrides = write(tmp_path, '[bea]\nexcuse_late = true\nreason = "extension"\n')
    excused = adjust_stored(layout, submissions, assignment, overrides)
    assert excused.changed == ("bea",) and excused.results[0].grade == 15.0
    with open(layout.summary_csv, encoding="utf-8-sig", newline="") as fh:
        row = next(csv.DictReader(fh))
    assert (row["final_score"], row["late_days"]) == ("15.0", "2")
    assert row["adjustments"].endswith("no penalty: extension")
    nowhere = tmp_path / "no-submissions"
    assert adjust_stored(layout, nowhere, assignment, None).changed == ()
    assert read_result(layout.result("bea")).grade == 15.0  # kept: no times to count from
    with pytest.raises(GradingError, match="Pass --submissions DIR"):
        adjust_stored(layout, nowhere, assignment, overrides)
    too_high = write(tmp_path, '[bea]\nscore = 21\nreason = "x"\n')
    with pytest.raises(GradingError, match=r"\[bea\]: `score = 21` is above the maximum of 20"):
        adjust_stored(layout, submissions, assignment, too_high)


def test_summary_csv_and_console_show_the_final_grade(tmp_path: Path) -> None:
    result = load("bea-overfit")
    late = at(DUE + dt.timedelta(hours=1))
    found = adjustments(15.0, 20.0, late, POLICY, Override("=cmd|' -C calc'!A0", points=-1))
    adjusted = replace(result, adjustments=found, final_score=final_score(15.0, 20.0, found))
    write_summary_csv(tmp_path / "summary.csv", [adjusted, load("carlos-broken")], ["scratch"])
    with open(tmp_path / "summary.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:8] == ["student", "name", "score", "max_score", "final_score",
                                 "late_days", "adjustments", "status"]  # fmt: skip
    assert (rows[0]["score"], rows[0]["final_score"], rows[0]["late_days"]) == ("15.0", "12.0", "1")
    assert rows[0]["adjustments"] == (
        "adjusted by your instructor: -1 points: =cmd|' -C calc'!A0; "
        "late by 1 day (due 2026-12-01 23:59 +01:00): -2 points (10% a day, at most 50%)"
    )
    assert (rows[1]["final_score"], rows[1]["late_days"], rows[1]["adjustments"]) == (
        "14.0", "", "")  # fmt: skip
    table = results_table([adjusted, load("carlos-broken")], ["scratch"])
    assert "15/20 -> 12" in table and "14/20 " in table and "14/20 ->" not in table


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_report_shows_score_adjustments_and_final_grade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, language: str
) -> None:
    for chart in ("curves", "split_counts", "validation_comparison"):
        monkeypatch.setattr(report_render.plots, chart, lambda *a, **k: "<svg></svg>")
    result = load("bea-overfit")
    result = replace(result, assignment=replace(result.assignment, language=language))
    late = at(DUE + dt.timedelta(days=1, minutes=5))
    found = adjustments(15.0, 20.0, late, POLICY, Override("regraded by hand", points=1.5))
    adjusted = replace(result, adjustments=found, final_score=final_score(15.0, 20.0, found))
    (page,) = render_student_report(adjusted, tmp_path, formats=("html",))
    html = page.read_text(encoding="utf-8")
    words = {
        "en": ["Final grade", "Score from the checks", "+1.5 points: regraded by hand",
               "late by 2 days (due 2026-12-01 23:59 +01:00): -4 points", "12.5 / 20"],
        "es": ["Nota final", "Nota de las comprobaciones", "+1,5 puntos: regraded by hand",
               "entregado con 2 días de retraso", "-4 puntos", "12,5 / 20"],
    }[language]  # fmt: skip
    for word in words:
        assert word in html, word
    (plain,) = render_student_report(result, tmp_path / "plain", formats=("html",))
    assert words[0] not in plain.read_text(encoding="utf-8")


def test_a_wrong_overrides_file_stops_grading_before_any_training(tmp_path: Path) -> None:
    from grader.pipeline.grading import grade_assignment

    submissions = fixture_submissions(tmp_path, ["e2e-good"])
    overrides = write(tmp_path, '[e2e-goood]\npoints = 1\nreason = "typo"\n')
    with pytest.raises(GradingError, match=r"\[e2e-goood\] is not a student of this class"):
        grade_assignment(TINY, submissions=submissions, out_dir=tmp_path / "out",
                         overrides=overrides)  # fmt: skip
    assert not (tmp_path / "out").exists()


# Grading again after overrides.toml or [late] changed: nothing is trained -------------------


def progress_of(calls: list[tuple[str, str, str]], student: str) -> list[str]:
    return [message for who, _, message in calls if who == student]


@pytest.mark.slow
def test_overrides_and_late_policy_apply_without_retraining(
    tmp_path: Path,
    data_dir: Path,
    graded_tiny: dict,
    session_out: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The session's grading of e2e-good (`graded_tiny`, no adjustments) is the first one;
    its copy is reused: an override, then a late policy, change the grade, never the model."""
    from grader.pipeline.grading import grade_assignment

    monkeypatch.chdir(tmp_path)  # no overrides.toml of the checkout's folder is read
    spec = tmp_path / "tiny"
    shutil.copytree(TINY, spec)
    out = tmp_path / "out"
    shutil.copytree(session_out / "cache", out / "cache")  # splits and base model
    (out / "tiny" / "results").mkdir(parents=True)
    shutil.copy2(graded_tiny["out"] / "results" / "e2e-good.json", out / "tiny" / "results")
    submissions = fixture_submissions(tmp_path, ["e2e-good"])
    (submissions / "e2e-good" / "student.toml").write_text(
        f'name = "Good"\nsubmitted_at = "{(DUE + dt.timedelta(hours=5)).isoformat()}"\n'
    )

    def grade(overrides: Path | None = None) -> tuple[Result, list[str]]:
        calls: list[tuple[str, str, str]] = []
        (result,) = grade_assignment(spec, submissions=submissions, out_dir=out,
                                     data_dir=data_dir, overrides=overrides,
                                     progress=lambda *m: calls.append(m))  # fmt: skip
        return result, progress_of(calls, "e2e-good")

    first, messages = grade()
    assert messages == ["unchanged since last run: result reused"]
    assert first.final_score is None and first.adjustments == ()
    overrides = write(tmp_path, '[e2e-good]\npoints = -1\nreason = "late slides"\n')
    second, messages = grade(overrides)
    assert messages == ["unchanged since last run: result reused"]
    assert second.provenance == first.provenance and second.tasks == first.tasks
    assert second.final_score == max(first.score - 1, 0)
    layout = Layout.for_output(out, "tiny")
    assert read_result(layout.result("e2e-good")) == second
    with open(layout.summary_csv, encoding="utf-8-sig", newline="") as fh:
        row = next(csv.DictReader(fh))
    assert row["adjustments"] == "adjusted by your instructor: -1 points: late slides"
    (page,) = render_student_report(second, layout, formats=("html",))
    assert "late slides" in page.read_text(encoding="utf-8")

    text = (spec / "assignment.toml").read_text()
    late = f"late = {{ due = {DUE.isoformat()}, per_day = 0.1 }}\n"
    (spec / "assignment.toml").write_text(text.replace("seed = 7\n", f"seed = 7\n{late}"))
    third, messages = grade(overrides)
    assert messages == ["assignment checks or titles changed: re-scored without retraining"]
    assert third.tasks == first.tasks and third.score == first.score
    assert [a.kind for a in third.adjustments] == ["override", "late"]
    assert third.final_score == max(first.score - 1 - 0.1 * first.max_score, 0)
