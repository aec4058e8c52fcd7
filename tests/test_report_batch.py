"""A class's reports: rendered in a pool of processes, and only those whose result or
renderer changed rendered again (`grader.report.batch`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.layout import Layout
from grader.report import batch
from tests.test_housekeeping import fast_reports

RESULTS = Path(__file__).resolve().parent / "fixtures" / "results"
STUDENTS = ["alvaro-pequeno", "bea-overfit", "carlos-broken"]


def graded(tmp_path: Path, students: list[str] = STUDENTS) -> Layout:
    layout = Layout(tmp_path, "transfer-learning")
    layout.results.mkdir(parents=True)
    for student in students:
        (layout.results / f"{student}.json").write_bytes((RESULTS / f"{student}.json").read_bytes())
    return layout


@pytest.mark.slow
def test_a_pool_renders_what_one_process_renders(tmp_path: Path) -> None:
    alone, pooled = graded(tmp_path / "alone"), graded(tmp_path / "pooled")
    one = batch.render_all(alone, jobs=1)
    two = batch.render_all(pooled, jobs=2)
    assert (one.jobs, two.jobs) == (1, 2)
    assert not one.errors and not two.errors
    for student in STUDENTS:
        assert pooled.report(student, "pdf").read_bytes().startswith(b"%PDF")
        html = [layout.report(student, "html").read_bytes() for layout in (alone, pooled)]
        assert html[0] == html[1], "charts without dates or random ids: the same bytes"
    assert pooled.summary_pdf.is_file() and "bea-overfit" in pooled.index_html.read_text("utf-8")


def test_only_changed_results_are_rendered_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_reports(monkeypatch)
    layout = graded(tmp_path)
    first = batch.render_all(layout, changed_only=True)
    assert len(first.seconds_per_report) == 3 and not first.unchanged
    again = batch.render_all(layout, changed_only=True)
    assert again.unchanged == STUDENTS and not again.seconds_per_report
    assert layout.index_html.is_file(), "the class summary is always written"

    data = json.loads(layout.result("bea-overfit").read_text(encoding="utf-8"))
    data["name"] = "Beatriz N."  # what an adjusted or re-scored result looks like on disk
    layout.result("bea-overfit").write_text(json.dumps(data), encoding="utf-8")
    layout.report("carlos-broken", "pdf").unlink()  # a report someone deleted
    third = batch.render_all(layout, changed_only=True)
    assert third.unchanged == ["alvaro-pequeno"]
    assert "Beatriz N." in layout.report("bea-overfit", "html").read_text(encoding="utf-8")
    assert layout.report("carlos-broken", "pdf").is_file()

    everything = batch.render_all(layout)  # `python -m grader report`: all of them
    assert len(everything.seconds_per_report) == 3 and not everything.unchanged


def test_a_new_renderer_renders_every_report_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_reports(monkeypatch)
    layout = graded(tmp_path, STUDENTS[:2])
    batch.render_all(layout, changed_only=True)
    monkeypatch.setattr(batch, "renderer_hash", lambda: "a template was edited")
    again = batch.render_all(layout, changed_only=True)
    assert not again.unchanged and len(again.seconds_per_report) == 2


def test_auto_jobs_never_leaves_a_process_idle() -> None:
    assert batch.auto_jobs(1) == 1 and batch.auto_jobs(0) == 1
    assert 1 <= batch.auto_jobs(1000) <= 1000
