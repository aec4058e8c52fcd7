"""Real PDFs, opened and read: names with accents, every task, the checks, images, errors."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pypdf
import pypdfium2
import pytest

from grader.report import render_all, render_student_report
from grader.report.render import DataOnlyFetcher
from tests.conftest import FIXTURES

RESULTS = FIXTURES / "results"
pytestmark = pytest.mark.slow  # real PDFs: WeasyPrint and matplotlib, about a minute


def load(student: str) -> dict:
    return json.loads((RESULTS / f"{student}.json").read_text(encoding="utf-8"))


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


def images_per_page(path: Path) -> list[int]:
    document = pypdfium2.PdfDocument(path)
    counts = []
    for page in document:
        counts.append(
            sum(1 for obj in page.get_objects() if obj.type == pypdfium2.raw.FPDF_PAGEOBJ_IMAGE)
        )
    return counts


@pytest.fixture(scope="module")
def solid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pdf, html = render_student_report(load("alvaro-pequeno"), tmp_path_factory.mktemp("solid"))
    assert html.suffix == ".html"
    return pdf


def test_first_page_answers_how_did_i_do(solid: Path) -> None:
    result = load("alvaro-pequeno")
    first = pypdf.PdfReader(solid).pages[0].extract_text()
    assert "Alvaro Pequeño Mondragón" in first
    assert "alvaro-pequeno" in first
    assert f"{result['score']:g} / {result['max_score']:g}" in first
    marks = first.count("✓ passed") + first.count("✗ failed")
    assert marks == len(result["checks"])
    assert first.count("✗ failed") == sum(not c["passed"] for c in result["checks"])


def test_every_task_has_its_section(solid: Path) -> None:
    text = pdf_text(solid)
    for task in load("alvaro-pequeno")["tasks"].values():
        assert task["title"] in text.replace("\n", " ")
    for heading in ("Training curves", "Confusion matrix", "Model layers", "Scratch vs transfer",
                    "How the data was split", "Provenance"):  # fmt: skip
        assert heading in text
    assert len(pypdf.PdfReader(solid).pages) >= 4


def test_sample_images_are_embedded(solid: Path) -> None:
    counts = images_per_page(solid)
    result = load("alvaro-pequeno")
    expected = sum(len(t["samples"]) for t in result["tasks"].values())
    assert sum(counts) >= expected
    assert counts[0] == 0  # the first page is the grade, not pictures


def test_failed_task_shows_its_error_instead_of_charts(tmp_path: Path) -> None:
    pdf, _ = render_student_report(load("carlos-broken"), tmp_path)
    text = pdf_text(pdf).replace("\n", " ")
    assert "This task could not be graded (wrong_output_shape)" in text
    assert "Dense(10, activation='softmax')" in text
    assert "Carlos Ibáñez" in text


def test_spanish_report_is_fully_translated(tmp_path: Path) -> None:
    result = load("bea-overfit")
    result["assignment"]["language"] = "es"
    pdf, _ = render_student_report(result, tmp_path)
    text = pdf_text(pdf)
    for spanish in ("Informe de corrección", "Comprobaciones", "Curvas de entrenamiento",
                    "Matriz de confusión", "Comentarios", "Página", "Beatriz Núñez"):  # fmt: skip
        assert spanish in text
    for english in ("Training curves", "Checks", "Feedback", "Confusion matrix", "passed",
                    "Validation loss rose"):  # fmt: skip
        assert english not in text


def test_self_check_report_says_test_figures_are_validation(tmp_path: Path) -> None:
    result = load("alvaro-pequeno")
    result["mode"] = "check"
    (pdf,) = render_student_report(result, tmp_path, formats=("pdf",))
    assert "validation figure" in pdf_text(pdf).replace("\n", " ")


def test_submission_text_is_shown_never_fetched(tmp_path: Path) -> None:
    result = load("carlos-broken")
    result["name"] = '<img src="file:///etc/passwd"> http://example.com/x.png'
    result["tasks"]["cifar10"]["error"] = (
        '<script>alert(1)</script><img src="http://example.com/y">'
    )
    pdf, html = render_student_report(result, tmp_path)
    assert '<img src="file:///etc/passwd">' in pdf_text(pdf)
    assert "&lt;script&gt;" in html.read_text(encoding="utf-8")
    assert "<script>" not in html.read_text(encoding="utf-8")


def test_fetcher_refuses_everything_but_inline_data() -> None:
    from weasyprint import HTML

    fetcher = DataOnlyFetcher()
    page = '<img src="file:///etc/passwd"><img src="http://127.0.0.1:9/x.png">'
    HTML(string=page, url_fetcher=fetcher).write_pdf()
    assert fetcher.refused == ["file:///etc/passwd", "http://127.0.0.1:9/x.png"]


def test_first_page_renders_to_png(solid: Path, tmp_path: Path) -> None:
    page = pypdfium2.PdfDocument(solid)[0]
    image = page.render(scale=1.5).to_pil()
    image.save(tmp_path / "page1.png")
    assert image.width > 800 and image.height > 1100
    assert len(set(image.convert("L").getdata())) > 10  # not blank


def test_render_all_writes_every_report_and_survives_a_broken_file(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    for path in RESULTS.glob("*.json"):
        (results / path.name).write_bytes(path.read_bytes())
    broken = copy.deepcopy(load("alvaro-pequeno"))
    del broken["tasks"]["scratch"]["metrics"]  # a missing field is an error, not a blank
    (results / "zz-broken.json").write_text(json.dumps(broken))
    (results / "zz-not-json.json").write_text("{")
    summary = render_all(tmp_path)
    assert len(summary.errors) == 2
    for student in ("alvaro-pequeno", "bea-overfit", "carlos-broken"):
        assert (tmp_path / "reports" / f"{student}.pdf").is_file()
        assert (tmp_path / "reports" / f"{student}.html").is_file()
    text = " ".join(pdf_text(tmp_path / "summary.pdf").split())
    for name in ("Alvaro Pequeño Mondragón", "Beatriz Núñez", "Carlos Ibáñez", "Class summary",
                 "Pass rate per check", "wrong_output_shape"):  # fmt: skip
        assert name in text
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert 'href="reports/alvaro-pequeno.html"' in index
