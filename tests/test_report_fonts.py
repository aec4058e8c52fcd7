"""Names in any script: real PDFs read back, their embedded fonts checked glyph by glyph, and a
name warning when no installed font can draw a character."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pypdf
import pytest

from grader import fonts
from grader.messages import render
from grader.pipeline.submissions import read_student_name
from grader.report import render_class_summary, render_student_report
from tests.report_data import load

NAMES = ["김민준", "محمد عبد الله", "अनन्या देव"]  # Korean, Arabic, Devanagari
NO_FONT = "\u0378"  # a code point no font draws (unassigned): prints as an empty box


def drawn_characters(pdf: Path) -> set[str]:
    """Characters the PDF draws with a real glyph: a font's ToUnicode map turns a code into
    them, and the font's encoding turns that code into a glyph other than CID 0 (.notdef, the
    empty box WeasyPrint draws for a character no font has)."""
    drawn: set[str] = set()
    for page in pypdf.PdfReader(pdf).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            cids = _cids(font["/Encoding"])
            to_unicode = font["/ToUnicode"].get_object().get_data().decode("ascii")
            assert "beginbfrange" not in to_unicode  # WeasyPrint writes one entry per code
            for code, text in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", to_unicode):
                cid = int(code, 16) if cids is None else cids.get(int(code, 16), 0)
                if cid:
                    drawn.update(bytes.fromhex(text).decode("utf-16-be"))
    return drawn


def _cids(encoding: object) -> dict[int, int] | None:
    """A custom encoding's code -> CID table (None: Identity-H, where the code is the CID)."""
    if isinstance(encoding, pypdf.generic.NameObject):
        assert encoding == "/Identity-H"
        return None
    cmap = encoding.get_object().get_data().decode("ascii")  # type: ignore[attr-defined]
    return {int(code, 16): int(cid) for code, cid in re.findall(r"<([0-9a-fA-F]+)>\s+(\d+)", cmap)}


def page_text(pdf: Path) -> str:
    return " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages).split())


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_a_name_in_any_script_prints_in_the_report(name: str, tmp_path: Path) -> None:
    assert fonts.missing_glyphs(name) == (), (
        "the Noto fonts are missing: run scripts/install-system-deps.sh"
    )
    pdf, _ = render_student_report(replace(load("carlos-broken"), name=name), tmp_path)
    assert name in page_text(pdf)
    assert set(name) - {" "} <= drawn_characters(pdf)


@pytest.mark.slow
def test_the_glyph_check_sees_an_empty_box(tmp_path: Path) -> None:
    """The check above can fail: a character no font has is drawn as CID 0."""
    pdf, _ = render_student_report(replace(load("carlos-broken"), name=f"Ana {NO_FONT}"), tmp_path)
    drawn = drawn_characters(pdf)
    assert {"A", "n", "a"} <= drawn
    assert NO_FONT not in drawn


@pytest.mark.slow
def test_class_summary_prints_every_name(tmp_path: Path) -> None:
    results = [replace(load(s), name=n) for s, n in zip(
        ("alvaro-pequeno", "bea-overfit", "carlos-broken"), NAMES, strict=True)]  # fmt: skip
    pdf, _ = render_class_summary(results, tmp_path)
    assert all(name in page_text(pdf) for name in NAMES)
    assert set("".join(NAMES)) - {" "} <= drawn_characters(pdf)


def test_a_glyph_no_font_has_sets_the_name_warning(tmp_path: Path) -> None:
    (tmp_path / "student.toml").write_text(f'name = "Ana {NO_FONT}ez"\n', encoding="utf-8")
    name = read_student_name(tmp_path)
    assert name.name == f"Ana {NO_FONT}ez"
    assert name.warning is not None and name.warning.id == "name.missing_glyphs"
    assert "(U+0378)" in render(name.warning, "en") and "(U+0378)" in render(name.warning, "es")


@pytest.mark.parametrize("name", ["Carlos Ibáñez", *NAMES])
def test_a_name_every_glyph_of_which_prints_has_no_warning(name: str, tmp_path: Path) -> None:
    (tmp_path / "student.toml").write_text(f'name = "{name}"\n', encoding="utf-8")
    assert read_student_name(tmp_path).warning is None


def test_an_earlier_name_problem_keeps_its_own_warning(tmp_path: Path) -> None:
    folder = tmp_path / f"ana{NO_FONT}"
    folder.mkdir()
    (folder / "student.toml").write_text("nombre = 'Ana'\n", encoding="utf-8")
    name = read_student_name(folder)
    assert name.name == folder.name
    assert name.warning is not None and name.warning.id == "name.no_name_line"


def test_without_fontconfig_nothing_is_called_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts.shutil, "which", lambda _: None)
    assert fonts.missing_glyphs(f"Ana {NO_FONT}") == ()
