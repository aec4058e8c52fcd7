"""Real PDFs, opened and read: names with accents, every task, the checks, images, errors,
and a Spanish report with no English in it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pypdf
import pypdfium2
import pytest

from grader.layout import Layout
from grader.report import render_all, render_class_summary, render_student_report
from grader.report.render import DataOnlyFetcher
from tests.report_data import (
    RESULTS,
    failed_with_dropped_line,
    load,
    with_messages,
)

pytestmark = pytest.mark.slow  # real PDFs: WeasyPrint and matplotlib, about a minute

# English a Spanish report must not show: its words, sentences from every catalog, and
# numbers written the English way. (Class names, task ids, code and the log stay as they are.)
ENGLISH = ("Grading report", "Student", "Score", "Checks", "Required", "Observed", "Points",
           "passed", "failed", "graded", "Results", "Training curves", "Confusion matrix",
           "Feedback", "Model layers", "parameters", "trainable", "frozen", "How the data",
           "Provenance", "Page", "could not be graded", "Last lines of the log",
           "returned a model", "this task has", "End the model", "hidden-test", "hidden test",
           "accuracy", "observed", "against", "short by", "not measured", "Validation",
           "validation", "epochs", "batch size", "optimizer", " vs ", "difference",
           "IPython magic", "cell 1, line", "About the name", "has no name", "Is the base",
           "0.692", "+0.075", "-0.011", "26,307", "60,675", "Class summary", "Pass rate",
           "Failed tasks", "one point per student")  # fmt: skip


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


def flat(path: Path) -> str:
    """The PDF's text with every run of whitespace (line breaks too) as one space."""
    return " ".join(pdf_text(path).split())


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
    first = " ".join(pypdf.PdfReader(solid).pages[0].extract_text().split())  # one space
    assert "Alvaro Pequeño Mondragón" in first
    assert "alvaro-pequeno" in first
    assert f"{result.score:g} / {result.max_score:g}" in first
    marks = first.count("✓ passed") + first.count("✗ failed")
    assert marks == len(result.checks)
    assert first.count("✗ failed") == sum(not c.passed for c in result.checks)


def test_every_task_has_its_section(solid: Path) -> None:
    text = pdf_text(solid)
    for task in load("alvaro-pequeno").tasks.values():
        assert task.title in text.replace("\n", " ")
    for heading in ("Training curves", "Confusion matrix", "Model layers", "Scratch vs transfer",
                    "How the data was split", "Provenance"):  # fmt: skip
        assert heading in text
    assert len(pypdf.PdfReader(solid).pages) >= 4


def test_sample_images_are_embedded(solid: Path) -> None:
    counts = images_per_page(solid)
    result = load("alvaro-pequeno")
    expected = sum(len(t.samples) for t in result.tasks.values())
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
    result = replace(result, assignment=replace(result.assignment, language="es"))
    pdf, _ = render_student_report(result, tmp_path)
    text = pdf_text(pdf)
    for spanish in ("Informe de corrección", "Comprobaciones", "Curvas de entrenamiento",
                    "Matriz de confusión", "Comentarios", "Página", "Beatriz Núñez"):  # fmt: skip
        assert spanish in text
    for english in ("Training curves", "Checks", "Feedback", "Confusion matrix", "passed",
                    "Validation loss rose"):  # fmt: skip
        assert english not in text


def test_spanish_report_of_a_failed_task_has_no_english(tmp_path: Path) -> None:
    result = failed_with_dropped_line("es")
    pdf, html = render_student_report(result, tmp_path / "reports")
    others = [replace(with_messages(r), assignment=result.assignment) for r in
              (load("alvaro-pequeno"), load("bea-overfit"))]  # fmt: skip
    summary, index = render_class_summary([result, *others], tmp_path)
    text = flat(pdf)
    for spanish in (
        "Esta tarea no se pudo corregir (wrong_output_shape)",
        "`build_cifar10` devolvió un modelo cuya salida tiene 3 unidades; esta tarea tiene 10 "
        "clases (airplane, automobile, bird",
        "celda 1, línea 2: %matplotlib inline (magia de IPython)",
        'Sobre el nombre: student.toml no tiene una línea name = "..."',
        "Scratch frente a transfer",
        "diferencia -0,011",
        "0,692",  # decimals with a comma
        "+0,075",
        "60.675 parámetros (195 entrenables, 60.480 congelados)",  # thousands with a point
        "26.307",
        "Página 1 de",
    ):
        assert spanish in text
    found = [english for english in ENGLISH if english in text]
    assert found == []
    assert '<html lang="es">' in html.read_text(encoding="utf-8")
    summary_text = flat(summary)
    for spanish in ("Resumen de la clase", "Scratch frente a transfer (un punto por estudiante)",
                    "devolvió un modelo cuya salida tiene 3 unidades", "0,692", "+0,075",
                    "Porcentaje de aprobados por comprobación", "67 %"):  # fmt: skip
        assert spanish in summary_text
    assert [english for english in ENGLISH if english in summary_text] == []
    assert 'href="reports/carlos-broken.html"' in index.read_text(encoding="utf-8")


def test_english_report_of_the_same_result(tmp_path: Path) -> None:
    pdf, _ = render_student_report(failed_with_dropped_line("en"), tmp_path)
    text = flat(pdf)
    for english in (
        "This task could not be graded (wrong_output_shape)",
        "`build_cifar10` returned a model whose output has 3 units; this task has 10 classes",
        "cell 1, line 2: %matplotlib inline (IPython magic)",
        'About the name: student.toml has no name = "..." line',
        "Scratch vs transfer",
        "difference -0.011",
        "0.692",
        "+0.075",
        "60,675 parameters (195 trainable, 60,480 frozen)",
        "Page 1 of",
    ):
        assert english in text
    for spanish in ("parámetros", "Comprobaciones", "devolvió", "0,692", "Página"):
        assert spanish not in text


def test_self_check_report_says_test_figures_are_validation(tmp_path: Path) -> None:
    result = replace(load("alvaro-pequeno"), mode="check")
    (pdf,) = render_student_report(result, tmp_path, formats=("pdf",))
    assert "validation figure" in pdf_text(pdf).replace("\n", " ")


def test_submission_text_is_shown_never_fetched(tmp_path: Path) -> None:
    result = load("carlos-broken")
    cifar = replace(result.tasks["cifar10"], error_message=None,  # the stored English is shown
                    error='<script>alert(1)</script><img src="http://example.com/y">')  # fmt: skip
    result = replace(result, name='<img src="file:///etc/passwd"> http://example.com/x.png',
                     tasks={**result.tasks, "cifar10": cifar})  # fmt: skip
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
    layout = Layout(tmp_path, "transfer-learning")
    layout.results.mkdir(parents=True)
    for path in RESULTS.glob("*.json"):
        (layout.results / path.name).write_bytes(path.read_bytes())
    broken = json.loads((RESULTS / "alvaro-pequeno.json").read_text(encoding="utf-8"))
    del broken["tasks"]["scratch"]["metrics"]  # a missing field is an error, not a blank
    (layout.results / "zz-broken.json").write_text(json.dumps(broken))
    (layout.results / "zz-not-json.json").write_text("{")
    summary = render_all(layout)
    assert len(summary.errors) == 2
    assert [e.split(":")[0] for e in summary.errors] == ["zz-broken.json", "zz-not-json.json"]
    for student in ("alvaro-pequeno", "bea-overfit", "carlos-broken"):
        assert layout.report(student, "pdf").is_file()
        assert layout.report(student, "html").is_file()
    text = " ".join(pdf_text(layout.summary_pdf).split())
    for name in ("Alvaro Pequeño Mondragón", "Beatriz Núñez", "Carlos Ibáñez", "Class summary",
                 "Pass rate per check", "wrong_output_shape",
                 "Scratch vs transfer (one point per student)"):  # fmt: skip
        assert name in text
    index = layout.index_html.read_text(encoding="utf-8")
    assert 'href="reports/alvaro-pequeno.html"' in index
