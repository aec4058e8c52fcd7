"""Jinja2 templates -> HTML and, through WeasyPrint, PDF; nothing outside the page is fetched."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from grader.atomic import write_atomic
from grader.layout import Layout
from grader.messages import number
from grader.records import Result
from grader.report import plots
from grader.report.context import compared_pairs, student_context, summary_context
from grader.report.i18n import heading
from grader.report.reference import reference_section, stored_reference
from grader.report.similarity import same_work, same_work_section
from grader.resources import templates_dir
from grader.safetext import clean

log = logging.getLogger(__name__)


class DataOnlyFetcher(URLFetcher):
    """Lets WeasyPrint read inline `data:` URIs only: names and error messages come from
    submissions, so a `file:` or `http:` URL on the page must never be followed."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols={"data"})
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict | None = None) -> Any:
        if not url.startswith("data:"):
            self.refused.append(url)
            raise ValueError(f"refused to fetch {url[:80]}")
        return super().fetch(url, headers)


@jinja2.pass_context
def _num(context: jinja2.runtime.Context, value: float, spec: str = "") -> str:
    """`{{ value|num(".3f") }}`: a number written the report's language's way."""
    return number(value, spec, context["lang"])


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    return env


def _write_pdf(html: str, target: Path) -> None:
    fetcher = DataOnlyFetcher()
    pdf = HTML(string=html, base_url=str(templates_dir()), url_fetcher=fetcher).write_pdf()
    write_atomic(target, pdf)  # a full disk leaves the old report, never half a new one


def _as_result(result: Result | Mapping[str, Any]) -> Result:
    """A record; a result's JSON (as some callers still hold it) is decoded and upgraded."""
    return result if isinstance(result, Result) else Result.from_json(dict(result))


def student_plots(result: Result, words: dict[str, str]) -> dict[str, str]:
    """Curves and split chart per task, and one chart per compared pair of tasks."""
    language = result.assignment.language
    charts: dict[str, str] = {}
    for task_id, task in result.tasks.items():
        if task.ok and task.history:
            charts[f"{task_id}.curves"] = plots.curves(
                task.history, task.best_epoch, words, language
            )
        charts[f"{task_id}.split"] = plots.split_counts(task.split, task.classes, words, language)
    for other, task_id in compared_pairs(result):
        histories = {t: (result.tasks[t].history or {}).get("val_accuracy", ())
                     for t in (other, task_id)}  # fmt: skip
        if all(histories.values()):
            charts[f"comparison.{other}.{task_id}"] = plots.validation_comparison(
                histories, words, language
            )
    return charts


def render_student_report(
    result: Result | Mapping[str, Any],
    where: Layout | Path,
    *,
    formats: tuple[str, ...] = ("pdf", "html"),
) -> list[Path]:
    """Write one student's report, in each of `formats`.

    Args:
        result: the graded result (a record, or its JSON).
        where: a `Layout` (its `report(student, fmt)` paths), or the reports folder.
        formats: "pdf" and/or "html".

    Raises:
        RecordError: the result is malformed (a graded task without its measurements).
        ValueError: the result's language has no translation.
    """
    return _render_student(_as_result(result), where, formats)[0]


def _render_student(
    result: Result, where: Layout | Path, formats: tuple[str, ...]
) -> tuple[list[Path], set[str]]:
    context = student_context(result)
    context["charts"] = student_plots(result, context["t"])
    template = _environment().get_template("student.html.j2")
    paths = []
    for fmt in formats:
        target = where.report(result.student, fmt) if isinstance(where, Layout) else (
            where / f"{result.student}.{fmt}")  # fmt: skip
        target.parent.mkdir(parents=True, exist_ok=True)
        html = template.render(**context, html=fmt == "html")
        if fmt == "pdf":
            _write_pdf(html, target)
        else:
            write_atomic(target, html)
        paths.append(target)
    missing: set[str] = context["missing_messages"]
    if missing:
        log.warning("%s: no text for %s; shown in English", clean(result.student), sorted(missing))
    return paths, missing


def render_class_summary(results: list[Result], where: Layout | Path) -> list[Path]:
    """Write the class summary (PDF) and index (HTML) for the instructor.

    `where` is a `Layout` (its `summary_pdf` and `index_html`), or the folder holding
    `reports/`, where `summary.pdf` and `index.html` are written. The reference solution's
    figures come from the layout's `reference_result`, when the grading had one.
    """
    layout = where if isinstance(where, Layout) else Layout(where.parent, where.name)
    index, printed = class_summary_pages(results, layout)
    layout.index_html.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(layout.index_html, index)
    _write_pdf(printed, layout.summary_pdf)
    return [layout.summary_pdf, layout.index_html]


def class_summary_pages(results: list[Result], layout: Layout) -> tuple[str, str]:
    """The class summary's HTML: (the index, linking to the reports; the page printed to PDF)."""
    language = results[0].assignment.language if results else "en"
    reference = stored_reference(layout)
    context = summary_context(results, language)
    context["reference"] = reference_section(reference, language)
    # never penalised: listed for the instructor to look at
    context["same_work"] = same_work_section(same_work(results, reference), results, language,
                                             reference=reference is not None)  # fmt: skip
    context["charts"] = _summary_plots(context, language)
    context["reports_href"] = Path(
        os.path.relpath(layout.reports, layout.index_html.parent)
    ).as_posix()
    template = _environment().get_template("summary.html.j2")
    return template.render(**context, html=True), template.render(**context, html=False)


def _summary_plots(context: dict[str, Any], language: str) -> dict[str, Any]:
    words, results = context["t"], context["results"]

    def accuracy(result: Result, task_id: str) -> plots.Measured | None:
        task = result.tasks.get(task_id)
        if task is None or task.metrics is None:
            return None
        return task.metrics.test_accuracy, task.metrics.test_accuracy_interval

    per_task = {tid: [a for r in results if (a := accuracy(r, tid)) is not None]
                for tid in context["task_ids"]}  # fmt: skip
    maximum = max((r.max_score for r in results), default=1) or 1
    scatters = []
    for first, second in context["pairs"]:
        pairs = [(accuracy(r, first), accuracy(r, second)) for r in results]
        points = [(x, y) for x, y in pairs if x is not None and y is not None]
        title = heading(language, "scatter", first=first, second=second)
        scatters.append((title, plots.scatter(points, first, second, language)))
    return {
        "scores": plots.histogram([r.grade for r in results], maximum, words["score"],
                                  words["students"], language),
        "accuracies": plots.task_accuracies(per_task, words, language),
        "scatters": scatters,
    }  # fmt: skip
