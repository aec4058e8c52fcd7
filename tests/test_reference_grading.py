"""A real grading with a threshold relative to the instructor's reference solution (issue 10,
item 6): the reference is trained once in the sandbox and reused, a student's check is the
reference's value plus the offset, the class summary shows the reference's figures, and no
file of the run (the student's result and report included) holds the reference's code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.errors import GradingError, SpecError
from grader.layout import Layout
from grader.pipeline.grading import grade_assignment
from grader.records import read_result
from grader.report import render_student_report
from grader.report.render import render_class_summary
from grader.spec import load_assignment
from tests.conftest import FIXTURES, fixture_submissions

pytestmark = pytest.mark.slow
MARKER = "REFERENCE-SOLUTION-CODE-7f3a9c"  # in the reference's source only
REFERENCE = f'''"""The instructor's solution ({MARKER})."""

import keras
from keras import layers


def build_scratch(input_shape, num_classes):  # {MARKER}
    model = keras.Sequential([keras.Input(input_shape), layers.Conv2D(4, 3, activation="relu"),
                              layers.GlobalAveragePooling2D(),
                              layers.Dense(num_classes, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
'''
BROKEN = 'def build_scratch(input_shape, num_classes):\n    raise ValueError("reference bug")\n'
OFFSET = -0.05


def assignment(tmp_path: Path, code: str, assignment_id: str = "one-task-reference") -> Path:
    """The one-task fixture with a relative threshold and a reference solution `code`."""
    folder = tmp_path / "assignment"
    shutil.copytree(FIXTURES / "assignments" / "one-task", folder)
    spec = folder / "assignment.toml"
    text = spec.read_text().replace('id = "one-task"', f'id = "{assignment_id}"')
    text = text.replace("threshold = 0.1,", f"threshold = {{ reference = {OFFSET} }},")
    spec.write_text(text + '\n[reference]\npath = "solution/submission.py"\n')
    (folder / "solution").mkdir()
    (folder / "solution" / "submission.py").write_text(code)
    return folder


@pytest.fixture(scope="module")
def graded(data_dir: Path, session_out: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Two gradings of one student: the second takes the reference from the cache (and the
    student's result is reused: its provenance, reference hash included, is unchanged)."""
    tmp = tmp_path_factory.mktemp("reference")
    folder = assignment(tmp, REFERENCE)
    students = fixture_submissions(tmp, ["e2e-good"])
    runs = []
    for _ in range(2):
        messages: list[tuple[str, str, str]] = []
        (result,) = grade_assignment(folder, submissions=students, out_dir=session_out,
                                     data_dir=data_dir,
                                     progress=lambda *m, into=messages: into.append(m))  # fmt: skip
        runs.append((result, messages))
    layout = Layout.for_output(session_out, "one-task-reference")
    return {"runs": runs, "layout": layout, "assignment": load_assignment(folder), "tmp": tmp}


def test_the_reference_is_graded_once_then_reused(graded: dict) -> None:
    (_, first), (_, second) = graded["runs"]
    mine = [m for m in first if m[0] == "(reference)"]
    assert ("(reference)", "-", "grading the instructor's reference solution once") in mine
    assert ("(reference)", "scratch", "training") in mine
    again = [m for m in second if m[0] == "(reference)"]
    assert again == [("(reference)", "-", "graded in an earlier run: result reused")]
    assert ("e2e-good", "-", "unchanged since last run: result reused") in second
    cached = list((graded["layout"].cache / "reference").glob("*/result.json"))
    assert len(cached) == 1
    assert read_result(cached[0]).tasks["scratch"].ok


def test_a_student_check_is_the_reference_value_plus_the_offset(graded: dict) -> None:
    reference = read_result(graded["layout"].reference_result)
    value = reference.tasks["scratch"].metrics.test_accuracy
    for result, _ in graded["runs"]:
        (check,) = result.checks
        assert check.reference is not None
        assert (check.reference.value, check.reference.offset) == (value, OFFSET)
        assert check.threshold == pytest.approx(value + OFFSET, abs=1e-9)
        assert check.passed == (check.observed >= check.threshold)
        assert "relative to your instructor's reference solution" in check.notes[0]
    spec_reference = graded["assignment"].reference
    assert graded["runs"][1][0].provenance.reference_hash == spec_reference.content_hash
    assert reference.student == "reference" and reference.checks[0].reference is not None


def test_the_summary_shows_the_reference_figures(graded: dict) -> None:
    layout: Layout = graded["layout"]
    reference = read_result(layout.reference_result)
    assert [p.name for p in layout.results.glob("*.json")] == ["e2e-good.json"]
    results = [read_result(p) for p in layout.results.glob("*.json")]
    render_class_summary(results, layout)
    html = layout.index_html.read_text(encoding="utf-8")
    accuracy = reference.tasks["scratch"].metrics.test_accuracy
    assert "<h2>Reference solution</h2>" in html
    assert f"{accuracy:.3f}" in html and "Thresholds relative to it" in html


def test_no_file_a_student_sees_holds_the_reference_code(graded: dict) -> None:
    layout: Layout = graded["layout"]
    result = graded["runs"][1][0]
    (report,) = render_student_report(result, layout, formats=("html",))
    assert "relative to your instructor&#39;s reference solution" in report.read_text()
    seen = [*layout.assignment.rglob("*"), *(layout.cache / "reference").rglob("*")]
    assert layout.reference_result in seen and report in seen
    for path in [p for p in seen if p.is_file()]:
        assert MARKER.encode() not in path.read_bytes(), path


def test_a_reference_that_fails_stops_the_run_naming_the_task(
    data_dir: Path, session_out: Path, tmp_path: Path
) -> None:
    folder = assignment(tmp_path, BROKEN, "one-task-broken-reference")
    students = fixture_submissions(tmp_path, ["e2e-good"])
    with pytest.raises(GradingError) as info:
        grade_assignment(folder, submissions=students, out_dir=session_out, data_dir=data_dir)
    message = str(info.value)
    assert "The reference solution (solution/submission.py) failed task 'scratch'" in message
    assert "reference bug" in message and "python -m grader check solution/submission.py" in message
    assert not list((session_out / "one-task-broken-reference" / "results").glob("*.json"))


def test_a_self_check_without_the_reference_lists_its_relative_checks(
    data_dir: Path, session_out: Path, tmp_path: Path
) -> None:
    """A student's copy of the assignment has no reference solution: the self-check runs and
    says which checks only the instructor grades, instead of failing on the missing file."""
    from grader.pipeline.selfcheck import WARNING, check_submission

    folder = assignment(tmp_path, REFERENCE, "one-task-student-copy")
    shutil.rmtree(folder / "solution")
    fixture_submissions(tmp_path, ["e2e-good"])
    with pytest.raises(SpecError, match="`reference.path` must be an existing file"):
        load_assignment(folder)  # grading needs it
    rows, _ = check_submission(tmp_path / "submissions" / "e2e-good", assignment_dir=folder,
                               out_dir=session_out, data_dir=data_dir)  # fmt: skip
    (row,) = [r for r in rows if "reference solution" in r.check]
    assert (row.task, row.status) == ("scratch", WARNING)
    assert "is not checked or scored here" in row.detail
