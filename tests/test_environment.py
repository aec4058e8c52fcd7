"""The packages students may import (issue 11): pinned, installed, listed in the handout and
by `doctor`, and importable by a sandboxed child at every isolation level this machine has."""

from __future__ import annotations

import importlib.metadata
import re

import pytest

from grader import cli, sandbox
from grader.pipeline import environment
from grader.tomlcompat import tomllib
from grader.worker.packages import PACKAGES, ProbeReport, available
from tests.conftest import ROOT

HANDOUT = ROOT / "assignments" / "transfer-learning" / "README.md"
UNPINNED = {"keras"}  # the grader's own range (keras>=3.10,<4); the handout says "Keras 3"


def pins() -> dict[str, str]:
    """distribution -> version of every exact (`==`) dependency of the grading stack in
    pyproject.toml (the extras `grade` and `cpu`; a requirement's marker is left out)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    stack = [d.split(";")[0].strip() for d in extras["grade"] + extras["cpu"]]
    found = (re.fullmatch(r"([\w-]+)==([\w.]+)", d) for d in stack)
    return {m[1].lower(): m[2] for m in found if m}


def handout_sections() -> dict[str, str]:
    text = HANDOUT.read_text(encoding="utf-8")
    english = text[text.index("## English") : text.index("## Español")]
    spanish = text[text.index("## Español") : text.index("## For instructors")]
    return {"en": english, "es": spanish}


@pytest.mark.parametrize("dist", sorted(set(PACKAGES.values()) - UNPINNED))
def test_each_package_is_pinned_installed_at_its_pin_and_in_the_handout(dist: str) -> None:
    version = pins()[dist]
    assert importlib.metadata.version(dist) == version, "run: .venv/bin/pip install -e ."
    shown = version if dist != "tensorflow-cpu" else ".".join(version.split(".")[:2])
    for language, section in handout_sections().items():
        assert re.search(rf"\b{re.escape(shown)}\b", section), f"{dist} {shown} ({language})"


def test_the_message_for_a_missing_module_lists_every_package() -> None:
    listed = available()
    assert all(name in listed for name in PACKAGES)
    assert "sklearn (scikit-learn)" in listed and "PIL (pillow)" in listed


def test_doctor_fails_when_a_sandboxed_child_cannot_import_a_package(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = ProbeReport({"numpy": "2.4.6"}, {"seaborn": "ModuleNotFoundError: No module"})
    monkeypatch.setattr(environment, "probe_packages", lambda isolation: broken)
    assert cli.main(["doctor"]) == cli.FAILED
    out = capsys.readouterr().out
    assert "  numpy 2.4.6: importable in the sandbox" in out
    assert "  seaborn 0.13.2: NOT importable: ModuleNotFoundError: No module" in out
    every = ProbeReport({name: "1" for name in PACKAGES}, {})
    monkeypatch.setattr(environment, "probe_packages", lambda isolation: every)
    assert cli.main(["doctor"]) == cli.OK


@pytest.mark.slow
@pytest.mark.parametrize("level", sandbox.LEVELS)
def test_a_sandboxed_child_imports_every_package(level: str) -> None:
    strongest = sandbox.detect_isolation(minimum=sandbox.RLIMITS)  # weaker levels too
    available_levels = sandbox.LEVELS[sandbox.LEVELS.index(strongest) :]
    if level not in available_levels:
        pytest.skip(f"isolation level {level} does not work on this machine")
    report = environment.probe_packages(sandbox.detect(level))
    assert report.error is None and report.failed == {}
    assert set(report.imported) == set(PACKAGES)
    assert report.imported["pandas"] == importlib.metadata.version("pandas")
