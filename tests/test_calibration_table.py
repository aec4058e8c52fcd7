"""The handout's calibration table is written from result files, and the shipped one is current."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from grader.report import calibration
from grader.report.calibration import BEGIN, END

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "tests" / "fixtures" / "results"
HANDOUT = ROOT / "assignments" / "transfer-learning" / "README.md"


def test_the_shipped_handout_table_is_the_shipped_results():
    """The table in the handout is what `make handout-tables` writes from the result fixtures,
    which are the results `make grade` gave for the examples in `submissions/`."""
    handout = HANDOUT.read_text(encoding="utf-8")
    expected = calibration.replace_section(handout, calibration.section(_results()))
    assert handout == expected, "run `make handout-tables` and copy the results to the fixtures"
    assert calibration.main(["--results", str(RESULTS), "--handout", str(HANDOUT), "--check"]) == 0


def test_every_example_submission_has_a_result_fixture():
    shipped = {path.name for path in (ROOT / "submissions").iterdir() if path.is_dir()}
    assert {path.stem for path in RESULTS.glob("*.json")} == shipped


def test_a_row_shows_interval_gap_difference_score_and_borderline():
    results = _results()
    first = results[0]
    check = next(c for c in first.checks if c.compare_to is not None)
    flagged = dataclasses.replace(check, borderline=True)
    checks = tuple(flagged if c is check else c for c in first.checks)
    row = calibration.table([dataclasses.replace(first, checks=checks)]).splitlines()[2]
    scratch = first.tasks["scratch"].metrics
    assert scratch is not None and scratch.test_accuracy_interval is not None
    low, high = scratch.test_accuracy_interval
    assert f"{scratch.test_accuracy:.3f} ({low:.3f}–{high:.3f})" in row
    assert f"{first.score:g}/{first.max_score:g}" in row
    assert f"{check.task} {check.kind}" in row
    assert f"{check.observed:+.3f}".replace("-", "−") in row


def test_a_failed_task_shows_its_error_kind():
    failed = [r for r in _results() for t in r.tasks.values() if t.metrics is None]
    assert failed, "the fixtures hold a submission with a failed task"
    task = next(t for t in failed[0].tasks.values() if t.metrics is None)
    assert task.error_kind is not None
    assert f"error: `{task.error_kind.code}`" in calibration.table(failed[:1])


def test_check_fails_when_the_handout_is_stale(tmp_path, capsys):
    stale = tmp_path / "README.md"
    stale.write_text(f"intro\n{BEGIN}\nold table\n{END}\nrest\n", encoding="utf-8")
    assert calibration.main(["--results", str(RESULTS), "--handout", str(stale), "--check"]) == 1
    assert "make handout-tables" in capsys.readouterr().err
    assert calibration.main(["--results", str(RESULTS), "--handout", str(stale)]) == 0
    written = stale.read_text(encoding="utf-8")
    assert written.startswith("intro\n") and written.endswith("\nrest\n")
    assert "old table" not in written
    assert calibration.main(["--results", str(RESULTS), "--handout", str(stale), "--check"]) == 0


def test_missing_markers_are_named():
    with pytest.raises(ValueError, match="calibration-table:begin"):
        calibration.replace_section("no markers here", "x")


def _results():
    return calibration.load_results(RESULTS)


TABLES = [("| task | check |", ".", ","), ("| tarea | comprobación |", ",", ".")]


@pytest.mark.parametrize(("header", "decimal", "thousands"), TABLES)
def test_the_handout_check_tables_say_what_the_spec_says(header, decimal, thousands):
    """Both languages' tables of checks list every check of the spec, in order, with its
    threshold and points (a recalibration that forgets the handout fails here)."""
    from grader.spec import load_assignment

    spec = load_assignment(HANDOUT.parent)
    text = HANDOUT.read_text(encoding="utf-8")
    rows = text[text.index(header) :].split("\n\n")[0].splitlines()[2:]
    assert len(rows) == sum(len(t.checks) for t in spec.tasks.values())
    checks = [(task_id, c) for task_id, t in spec.tasks.items() for c in t.checks]
    for row, (task_id, check) in zip(rows, checks, strict=True):
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[0] == task_id, row
        assert cells[-1] == f"{check.points:g}", row
        value = check.threshold if check.threshold is not None else 0
        number = f"{int(value):,}" if float(value).is_integer() else f"{value:.2f}"
        number = number.replace(",", "\0").replace(".", decimal).replace("\0", thousands)
        assert number in cells[2], (row, number)
