"""`grader export`: a graded class (stored results, student.toml files) written as the
files Canvas, Moodle and Gradescope import, parsed back; Moodle's feedback zip."""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from grader.errors import GradingError
from grader.layout import Layout
from grader.lms import feedback, gradebook
from grader.lms.student import StudentInfo, info_to_toml
from grader.pipeline import exportcommand, lmsexport
from grader.records import Adjustment, read_result, write_json_atomic

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ASSIGNMENT = "transfer-learning"  # the fixture results' (and the default assignment's) id
TITLE = "Transfer learning with CNNs on CIFAR-10"
FORMULA = '=HYPERLINK("http://evil.example","x")'
LATE = Adjustment("late", -1.5, "handed in 1 day late: -1.5 points a day")
# key: (fixture result, student.toml, adjustments) -> grades 13.5, 20, -1.5
CLASS = {
    "jose-nunez": (
        "bea-overfit",
        StudentInfo(
            name="José Núñez", email="jose@uni.example", lms="moodle", lms_user_id="101",
            sis_id="A001", login_id="jnunez", section="Grupo 1", late=True,
        ),
        (LATE,),
    ),
    "formula": (
        "alvaro-pequeno",
        StudentInfo(name=FORMULA, email="f@uni.example", lms="canvas", lms_user_id="2002",
                    sis_id="A002", login_id="formula1"),
        (),
    ),
    "ana-lia": (
        "carlos-broken",
        StudentInfo(name="-Ana_Lía", email="ana@uni.example", lms="moodle", lms_user_id="303",
                    sis_id="A003"),
        (Adjustment("override", -15.5, "copied answer to question 2"),),
    ),
    "sin-datos": ("dana-frozen-head", StudentInfo(name="Sin Datos"), ()),
}  # fmt: skip


@pytest.fixture
def graded_class(tmp_path: Path) -> tuple[Layout, Path]:
    """build/<id>/results/*.json from real stored results, a PDF report each, and
    submissions/<student>/student.toml; plus a submission with no result yet."""
    layout = Layout.for_output(tmp_path / "build", ASSIGNMENT)
    submissions = tmp_path / "submissions"
    for key, (fixture, info, adjustments) in CLASS.items():
        result = read_result(FIXTURES / "results" / f"{fixture}.json")
        final = result.score + sum(a.points for a in adjustments) if adjustments else None
        result = replace(result, student=key, name=info.name, adjustments=adjustments,
                         final_score=final)  # fmt: skip
        write_json_atomic(layout.result(key), result)
        layout.reports.mkdir(parents=True, exist_ok=True)
        layout.report(key, "pdf").write_bytes(pdf_bytes(key))
        (submissions / key).mkdir(parents=True)
        (submissions / key / "student.toml").write_text(info_to_toml(info), encoding="utf-8")
    (submissions / "not-graded").mkdir()
    return layout, submissions


def pdf_bytes(key: str) -> bytes:
    return b"%PDF-1.4\n% report of " + key.encode() + b"\n%%EOF\n"


def parse(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def fingerprint(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def test_canvas_file(graded_class: tuple[Layout, Path], tmp_path: Path) -> None:
    layout, submissions = graded_class
    before = fingerprint(layout.results)
    class_ = lmsexport.collect_class(layout, submissions)
    report = lmsexport.export_grades(class_, "canvas", tmp_path / "canvas.csv")
    rows = parse(tmp_path / "canvas.csv")
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", TITLE]
    assert rows[1] == ["Points Possible", "", "", "", "", "20"]  # a column without an id
    assert rows[2:] == [
        ["'-Ana_Lía", "", "A003", "", "", "-1.5"],  # a Moodle id is not Canvas' ID
        ["'" + FORMULA, "2002", "A002", "formula1", "", "20"],
        ["José Núñez", "", "A001", "jnunez", "Grupo 1", "13.5"],
    ]
    assert report.written == 3
    assert {s.student: s.reason.split(":")[0] for s in report.skipped} == {
        "not-graded": "not graded yet",
        "sin-datos": "no Canvas user ID, SIS User ID or SIS Login ID",
    }
    assert fingerprint(layout.results) == before


def test_canvas_column_with_an_id_has_no_points_row(
    graded_class: tuple[Layout, Path], tmp_path: Path
) -> None:
    layout, submissions = graded_class
    class_ = lmsexport.collect_class(layout, submissions)
    lmsexport.export_grades(class_, "canvas", tmp_path / "c.csv", "Lab 3 (12345)")
    rows = parse(tmp_path / "c.csv")
    assert rows[0][-1] == "Lab 3 (12345)"
    assert [row[0] for row in rows[1:]] == ["'-Ana_Lía", "'" + FORMULA, "José Núñez"]


def test_moodle_file(graded_class: tuple[Layout, Path], tmp_path: Path) -> None:
    layout, submissions = graded_class
    class_ = lmsexport.collect_class(layout, submissions)
    report = lmsexport.export_grades(class_, "moodle", tmp_path / "moodle.csv", "Lab 3")
    rows = parse(tmp_path / "moodle.csv")
    header = ["Full name", "Email address", "Username", "ID number", "Lab 3", "Feedback: Lab 3"]
    assert rows[0] == header
    by_email = {row[1]: row for row in rows[1:]}
    assert set(by_email) == {"ana@uni.example", "f@uni.example", "jose@uni.example"}
    jose = by_email["jose@uni.example"]
    assert jose[:5] == ["José Núñez", "jose@uni.example", "jnunez", "A001", "13.5"]
    assert jose[5].startswith("Score 13.5/20. Graded 15 before adjustments: Late penalty -1.5")
    assert "1 day late" in jose[5] and jose[5].endswith("Status: ok.")
    ana = by_email["ana@uni.example"]
    assert ana[0] == "'-Ana_Lía" and ana[4] == "-1.5"  # the name neutralised, the grade not
    assert "copied answer to question 2" in ana[5]
    assert "Status: partial (cifar10: `build_cifar10` returned a model" in ana[5]
    assert by_email["f@uni.example"][0] == "'" + FORMULA
    assert [s.student for s in report.skipped] == ["not-graded", "sin-datos"]


def test_gradescope_file(graded_class: tuple[Layout, Path], tmp_path: Path) -> None:
    layout, submissions = graded_class
    class_ = lmsexport.collect_class(layout, submissions)
    lmsexport.export_grades(class_, "gradescope-csv", tmp_path / "gs.csv")
    rows = parse(tmp_path / "gs.csv")
    assert rows == [
        ["Name", "SID", "Email", "Score"],
        ["'-Ana_Lía", "A003", "ana@uni.example", "-1.5"],
        ["'" + FORMULA, "A002", "f@uni.example", "20"],
        ["José Núñez", "A001", "jose@uni.example", "13.5"],
    ]


def test_moodle_feedback_zip(graded_class: tuple[Layout, Path], tmp_path: Path) -> None:
    layout, submissions = graded_class
    before = fingerprint(layout.reports)
    class_ = lmsexport.collect_class(layout, submissions)
    report = lmsexport.export_feedback_zip(class_, layout, tmp_path / "feedback.zip")
    with zipfile.ZipFile(tmp_path / "feedback.zip") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    assert members == {
        "José Núñez_101_assignfeedback_file_transfer-learning-report.pdf": pdf_bytes("jose-nunez"),
        "-Ana Lía_303_assignfeedback_file_transfer-learning-report.pdf": pdf_bytes("ana-lia"),
    }
    assert {feedback.matched_participant(name) for name in members} == {"101", "303"}
    assert {s.student: s.reason for s in report.skipped}["formula"] == "no Moodle participant id"
    assert fingerprint(layout.reports) == before


def test_a_missing_report_is_named(graded_class: tuple[Layout, Path], tmp_path: Path) -> None:
    layout, submissions = graded_class
    layout.report("jose-nunez", "pdf").unlink()
    class_ = lmsexport.collect_class(layout, submissions)
    report = lmsexport.export_feedback_zip(class_, layout, tmp_path / "feedback.zip")
    assert report.written == 1
    assert "no PDF report" in {s.student: s.reason for s in report.skipped}["jose-nunez"]


def test_roster_fills_in_what_student_toml_lacks(
    graded_class: tuple[Layout, Path], tmp_path: Path
) -> None:
    layout, submissions = graded_class
    roster = [
        StudentInfo(name="sin  datos", email="sd@uni.example", sis_id="A004"),  # by name
        StudentInfo(name="José Núñez", email="other@uni.example", sis_id="a001",
                    section="Grupo 9", lms="canvas", lms_user_id="4004"),  # by SIS id
    ]  # fmt: skip
    class_ = {s.key: s.info for s in lmsexport.collect_class(layout, submissions, roster)}
    assert (class_["sin-datos"].email, class_["sin-datos"].name) == ("sd@uni.example", "Sin Datos")
    assert class_["jose-nunez"].email == "jose@uni.example"  # student.toml wins
    assert class_["jose-nunez"].lms_user_id == "101"
    by_key = {"formula": StudentInfo(section="Grupo 2")}
    class_ = {s.key: s.info for s in lmsexport.collect_class(layout, submissions, by_key)}
    assert class_["formula"].section == "Grupo 2"


def test_roster_never_gives_another_lms_user_id() -> None:
    """A Canvas user id is no Moodle participant id: the zip would name someone else."""
    mine = StudentInfo(name="Ana", lms="moodle", sis_id="A9")
    canvas = StudentInfo(name="Ana", lms="canvas", lms_user_id="4004", sis_id="A9", email="a@x")
    filled = lmsexport.complete_from_roster("ana", mine, [canvas], [canvas])
    assert (filled.lms, filled.lms_user_id, filled.email) == ("moodle", "", "a@x")
    unknown = lmsexport.complete_from_roster("ana", replace(mine, lms=""), [canvas], [canvas])
    assert (unknown.lms, unknown.lms_user_id) == ("canvas", "4004")


def test_no_results_is_an_instructor_error(tmp_path: Path) -> None:
    layout = Layout.for_output(tmp_path / "build", ASSIGNMENT)
    (tmp_path / "submissions").mkdir()
    with pytest.raises(GradingError, match="run `python -m grader grade` first"):
        lmsexport.collect_class(layout, tmp_path / "submissions")


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    exportcommand.add_parser(parser.add_subparsers(dest="command"))
    return exportcommand.run(parser.parse_args(["export", *argv]))


def test_cli(
    graded_class: tuple[Layout, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layout, submissions = graded_class
    common = ["--out", str(layout.root), "--submissions", str(submissions)]
    out = tmp_path / "grades.csv"
    zip_path = tmp_path / "fb.zip"
    argv = ["--to", "moodle", "--output", str(out), "--feedback-zip", str(zip_path), *common]
    assert run_cli(argv) == exportcommand.FAILED  # two students left out
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith(f"moodle: 3 student(s) written to {out}; 2 left out: ")
    assert "not-graded (not graded yet" in printed[0]
    assert "sin-datos (no email, username or ID number: add one" in printed[0]
    assert printed[1].startswith("moodle feedback zip: 2 student(s) written")
    assert len(parse(out)) == 4 and zipfile.ZipFile(zip_path).testzip() is None
    (submissions / "not-graded").rmdir()
    (submissions / "sin-datos" / "student.toml").write_text(
        info_to_toml(StudentInfo(name="Sin Datos", sis_id="A004")), encoding="utf-8"
    )
    assert run_cli(["--to", "gradescope-csv", "--output", str(out), *common]) == exportcommand.OK
    assert parse(out)[-1] == ["Sin Datos", "A004", "", "17"]


def test_cli_refuses_to_write_over_results(graded_class: tuple[Layout, Path]) -> None:
    layout, submissions = graded_class
    before = fingerprint(layout.results)
    target = layout.result("formula")
    argv = ["--to", "canvas", "--output", str(target), "--out", str(layout.root)]
    with pytest.raises(GradingError, match="holds the grader's own files"):
        run_cli([*argv, "--submissions", str(submissions)])
    assert fingerprint(layout.results) == before


def test_numbers_and_names() -> None:
    assert [gradebook.number(x) for x in (15.0, 14.5, -1.5, 13.333, -0.001, 0.0)] == [
        "15", "14.5", "-1.5", "13.33", "0", "0"
    ]  # fmt: skip
    assert gradebook.canvas_column_id("Lab 3 (12345)") == "12345"
    assert gradebook.canvas_column_id("Lab (3) draft") is None
    info = StudentInfo(name="._Ana/Lía*", lms="moodle", lms_user_id="42")
    name = feedback.member_name(info, "r.pdf")
    assert name == "AnaLía_42_assignfeedback_file_r.pdf"  # "/" dropped, as Moodle does
    assert feedback.matched_participant(name) == "42"
    assert feedback.member_name(replace(info, lms="canvas"), "r.pdf") is None
    assert feedback.member_name(replace(info, lms_user_id="12a"), "r.pdf") is None
    assert feedback.matched_participant(".hidden_42_assignfeedback_file_r.pdf") is None


def test_cli_roster(graded_class: tuple[Layout, Path], tmp_path: Path) -> None:
    """A plain roster (id, name, email) gives the student without ids their email."""
    layout, submissions = graded_class
    (submissions / "not-graded").rmdir()
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,email\nsin-datos,Sin Datos,sd@uni.example\n", encoding="utf-8-sig")
    out = tmp_path / "grades.csv"
    argv = ["--to", "moodle", "--output", str(out), "--roster", str(roster)]
    argv += ["--out", str(layout.root), "--submissions", str(submissions)]
    assert run_cli(argv) == exportcommand.OK
    assert ["Sin Datos", "sd@uni.example", "", "", "17"] in [row[:5] for row in parse(out)]
