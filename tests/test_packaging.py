"""The wheel: it holds every subpackage, the templates and the assignments, and reports run
from an installed copy (not the checkout)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from grader import resources
from grader.tomlcompat import tomllib

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "fixtures" / "results"
SOURCES = ("grader", "templates", "assignments", "pyproject.toml", "README.md")


def setuptools_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]


def test_every_subpackage_ships() -> None:
    found = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "grader").rglob("__init__.py")
    }
    listed = set(setuptools_config()["packages"])
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    assert listed - found == {"grader._templates", "grader._assignments"}


def test_checkout_finds_top_level_resources() -> None:
    assert resources.templates_dir() == ROOT / "templates"
    assert (resources.templates_dir() / "student.html.j2").is_file()
    assert (resources.assignments_dir() / "transfer-learning" / "assignment.toml").is_file()
    package_dir = setuptools_config()["package-dir"]
    assert package_dir == {"grader._templates": "templates", "grader._assignments": "assignments"}


def build_wheel(tmp: Path) -> Path:
    """A wheel built from a copy of the sources (the build leaves nothing in the checkout)."""
    source = tmp / "src"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, "-q", "-w", str(tmp / "dist")], check=True, cwd=tmp)
    return next((tmp / "dist").glob("grader-*.whl"))


def install(wheel: Path, venv: Path) -> Path:
    """A fresh venv holding the wheel; its dependencies come from this venv's site-packages."""
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
    subprocess.run([*pip, "--no-deps", "--no-index", str(wheel)], check=True)
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(subprocess.check_output([python, "-c", purelib], text=True).strip())
    # Appended after the venv's own site-packages: the installed grader comes first, and
    # this venv's `.pth` files (the editable grader) are not processed.
    (site / "project_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def run_grader(python: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["MPLCONFIGDIR"] = str(cwd / "mpl")
    command = [str(python), "-m", "grader", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def results_folder(out: Path, names: list[str]) -> Path:
    results = out / "transfer-learning" / "results"
    results.mkdir(parents=True)
    for name in names:
        shutil.copy(RESULTS / f"{name}.json", results)
    return results


@pytest.mark.slow
def test_installed_wheel_renders_reports(tmp_path: Path) -> None:
    python = install(build_wheel(tmp_path), tmp_path / "venv")
    run = tmp_path / "run"  # outside the checkout: `grader` must come from the venv
    run.mkdir()
    where = subprocess.check_output(
        [python, "-c", "import grader, grader.resources as r; print(grader.__file__); "
         "print(r.templates_dir()); print(r.default_assignment())"],
        cwd=run, text=True,
    ).split()  # fmt: skip
    assert all(Path(p).is_relative_to(tmp_path / "venv") for p in where), where

    names = [p.stem for p in sorted(RESULTS.glob("*.json"))]
    results_folder(run / "out", names)
    done = run_grader(python, run, "report", "--out", "out")
    assert done.returncode == 0, done.stderr
    reports = run / "out" / "transfer-learning" / "reports"
    for name in names:
        assert (reports / f"{name}.pdf").stat().st_size > 1000
    assert (run / "out" / "transfer-learning" / "summary.pdf").is_file()

    corrupt = results_folder(run / "broken", names[:1])
    (corrupt / "zz-corrupt.json").write_text('{"schema": 2, "student": ', encoding="utf-8")
    failed = run_grader(python, run, "report", "--out", "broken")
    assert failed.returncode == 1, failed.stderr
    assert "zz-corrupt.json" in failed.stderr
    assert (run / "broken" / "transfer-learning" / "reports" / f"{names[0]}.pdf").is_file()

    empty = run_grader(python, run, "report", "--out", "nothing-here")
    assert empty.returncode == 2 and "No results in" in empty.stderr
