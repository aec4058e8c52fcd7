"""Jinja2 templates -> HTML and, through WeasyPrint, PDF; nothing outside the page is fetched."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from grader.report import plots
from grader.report.context import student_context, summary_context

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"


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


@dataclass
class RenderSummary:
    """What `render_all` produced, and what it could not."""

    paths: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds_per_report: list[float] = field(default_factory=list)


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _write_pdf(html: str, target: Path) -> None:
    fetcher = DataOnlyFetcher()
    HTML(string=html, base_url=str(TEMPLATES), url_fetcher=fetcher).write_pdf(target)


def student_plots(result: dict[str, Any], words: dict[str, str]) -> dict[str, Any]:
    """Curves and split charts per task, and the scratch-vs-transfer chart."""
    charts: dict[str, Any] = {}
    for task_id, task in result["tasks"].items():
        if task["status"] == "ok" and task["history"]:
            charts[f"{task_id}.curves"] = plots.curves(task["history"], task["best_epoch"], words)
        charts[f"{task_id}.split"] = plots.split_counts(task["split"], task["classes"], words)
    scratch, transfer = result["tasks"].get("scratch"), result["tasks"].get("transfer")
    if scratch and transfer and scratch.get("history") and transfer.get("history"):
        charts["comparison"] = plots.validation_comparison(scratch, transfer, words)
    return charts


def render_student_report(
    result: dict[str, Any], reports_dir: Path, *, formats: tuple[str, ...] = ("pdf", "html")
) -> list[Path]:
    """Write `reports_dir/<student>.pdf` and `.html` for one result."""
    context = student_context(result)
    context["charts"] = student_plots(result, context["t"])
    reports_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        html = _environment().get_template("student.html.j2").render(**context, html=fmt == "html")
        target = reports_dir / f"{result['student']}.{fmt}"
        if fmt == "pdf":
            _write_pdf(html, target)
        else:
            target.write_text(html, encoding="utf-8")
        paths.append(target)
    return paths


def render_class_summary(results: list[dict[str, Any]], out_dir: Path) -> list[Path]:
    """Write `out_dir/summary.pdf` and `out_dir/index.html` for the instructor."""
    language = results[0]["assignment"]["language"] if results else "en"
    context = summary_context(results, language)
    words = context["t"]
    ok = context["results"]
    per_task = {
        tid: [r["tasks"][tid]["metrics"]["test_accuracy"] for r in ok
              if r["tasks"].get(tid, {}).get("metrics")]
        for tid in context["task_ids"]
    }  # fmt: skip
    points = [
        (r["tasks"]["scratch"]["metrics"]["test_accuracy"],
         r["tasks"]["transfer"]["metrics"]["test_accuracy"])
        for r in ok if (r["tasks"].get("scratch") or {}).get("metrics")
        and (r["tasks"].get("transfer") or {}).get("metrics")
    ]  # fmt: skip
    maximum = max((r["max_score"] for r in ok), default=1) or 1
    context["charts"] = {
        "scores": plots.histogram(
            [r["score"] for r in ok], maximum, words["score"], words["students"]
        ),
        "accuracies": plots.task_accuracies(per_task, words),
        "scatter": plots.scatter(points, words),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    template = _environment().get_template("summary.html.j2")
    (out_dir / "index.html").write_text(template.render(**context, html=True), encoding="utf-8")
    _write_pdf(template.render(**context, html=False), out_dir / "summary.pdf")
    return [out_dir / "summary.pdf", out_dir / "index.html"]


def render_all(out_dir: Path) -> RenderSummary:
    """Render every stored result of `out_dir/results/` and the class summary.

    A malformed result file is reported and skipped; the others are still rendered.
    """
    summary = RenderSummary()
    results = []
    for path in sorted((out_dir / "results").glob("*.json")):
        started = time.monotonic()
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
            summary.paths += render_student_report(result, out_dir / "reports")
            results.append(result)
        except (ValueError, KeyError, TypeError, jinja2.TemplateError) as exc:
            summary.errors.append(f"{path.name}: {type(exc).__name__}: {exc}")
            continue
        summary.seconds_per_report.append(time.monotonic() - started)
    if results:
        summary.paths += render_class_summary(results, out_dir)
    return summary
