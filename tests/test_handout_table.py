"""The handout's requirements table is written from the spec, in the assignment's language
(or the one a marker names), and every shipped handout that has one is current."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader import checks, cli
from grader.pipeline import handout
from grader.spec import load_assignment
from tests.spec_dicts import minimal, variant, write

ROOT = Path(__file__).resolve().parents[1]

MARKED = [
    p.parent
    for p in sorted((ROOT / "assignments").glob("*/README.md"))
    if "<!-- requirements-table:begin" in p.read_text(encoding="utf-8")
]


def test_the_shipped_assignment_has_a_requirements_table() -> None:
    assert ROOT / "assignments" / "transfer-learning" in MARKED


@pytest.mark.parametrize("folder", MARKED, ids=lambda p: p.name)
def test_every_marked_handout_is_current(folder: Path) -> None:
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assignment = load_assignment(folder, reference_required=False)
    assert handout.update(readme, assignment) == readme, "run `make handout`"
    assert cli.main(["handout", "--assignment", str(folder), "--check"]) == cli.OK


def test_a_stale_handout_fails_the_check_and_is_rewritten(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    folder = tmp_path / "transfer-learning"
    shutil.copytree(ROOT / "assignments" / "transfer-learning", folder)
    spec = folder / "assignment.toml"
    old = spec.read_text()
    assert old.count("threshold = 0.47\npoints = 3") == 1
    spec.write_text(old.replace("threshold = 0.47\npoints = 3", "threshold = 0.475\npoints = 4"))
    assert cli.main(["handout", "--assignment", str(folder), "--check"]) == cli.FAILED
    assert "run `make handout`" in capsys.readouterr().err
    assert cli.main(["handout", "--assignment", str(folder)]) == cli.OK
    text = (folder / "README.md").read_text(encoding="utf-8")
    assert "| cifar10 | hidden-test accuracy | ≥ 0.475 | 4 |" in text
    assert "| cifar10 | exactitud en test oculto | ≥ 0,475 | 4 |" in text
    assert "Total: 21 points." in text and "Total: 21 puntos." in text


def test_a_handout_without_markers_is_an_instructor_error(tmp_path: Path) -> None:
    folder = write(tmp_path, minimal())
    (folder / "README.md").write_text("# no table here\n")
    assert cli.main(["handout", "--assignment", str(folder)]) == cli.USAGE


def test_the_table_follows_the_data_table_and_relative_thresholds(tmp_path: Path) -> None:
    spec = variant("reference")
    spec["data"] = {"image_size": [64, 48], "pixel_range": [0, 255]}
    spec["tasks"]["scratch"]["checks"][0] |= {"threshold": {"reference": -0.05},
                                              "partial_from": {"reference": -0.15}}  # fmt: skip
    spec["tasks"]["scratch"]["defaults"]["early_stopping_patience"] = 3
    assignment = load_assignment(write(tmp_path, spec))
    english, spanish = (handout.section(assignment, lang) for lang in ("en", "es"))
    assert "`(64, 48, 3)` with pixel values in [0, 255]" in english
    assert "≥ reference solution − 0.05; partial points from reference solution − 0.15" in english
    assert "≥ solución de referencia − 0,05" in spanish
    assert "early stopping after 3 epochs" in english and "parada temprana tras 3" in spanish


def test_every_text_is_in_both_languages() -> None:
    assert set(handout.TEXTS) == {"en", "es"}
    assert set(handout.TEXTS["en"]) == set(handout.TEXTS["es"])
    assert set(checks.KINDS) <= set(handout.TEXTS["en"])
