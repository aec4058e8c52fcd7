"""Reports rendered from stored result files alone: per-student PDF/HTML and a class summary."""

from grader.report.batch import RenderSummary, render_all
from grader.report.render import render_class_summary, render_student_report

__all__ = ["RenderSummary", "render_all", "render_class_summary", "render_student_report"]
