"""Reports rendered from stored result files alone: per-student PDF/HTML and a class summary.

The renderers are imported on first use: importing a light module of this package (the
class summary's `reference`, `similarity`) must not load WeasyPrint and matplotlib, about
a second of every grader start, `--no-reports` and self-checks included.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grader.report.batch import RenderSummary, render_all
    from grader.report.render import render_class_summary, render_student_report

__all__ = ["RenderSummary", "render_all", "render_class_summary", "render_student_report"]
_MODULES = {
    "RenderSummary": "grader.report.batch",
    "render_all": "grader.report.batch",
    "render_class_summary": "grader.report.render",
    "render_student_report": "grader.report.render",
}


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_MODULES[name]), name)
