"""Shared fixtures: the real CIFAR-10 archive, fixture folders, and session-wide gradings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder holding cifar10.zip: $GRADER_DATA_DIR, else ../shared/data."""
    folder = Path(os.environ.get("GRADER_DATA_DIR") or ROOT.parent / "shared" / "data")
    if not (folder / "cifar10.zip").is_file():
        pytest.fail(
            f"The tests need the real CIFAR-10 archive at {folder / 'cifar10.zip'}; "
            "set GRADER_DATA_DIR to the folder holding it."
        )
    return folder


@pytest.fixture(scope="session")
def session_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One output folder per test session, so split and base-model caches are shared."""
    return tmp_path_factory.mktemp("out")


def fixture_submissions(tmp_path: Path, names: list[str]) -> Path:
    """A submissions folder holding copies of the named fixture submissions."""
    import shutil

    folder = tmp_path / "submissions"
    for name in names:
        shutil.copytree(FIXTURES / "submissions" / name, folder / name)
    return folder


GOLDEN_SUBMISSIONS = ["e2e-good", "e2e-broken", "e2e-notebook", "import-error", "nan-loss",
                      "wrong-input"]  # fmt: skip


@pytest.fixture(scope="session")
def graded_tiny(
    data_dir: Path, session_out: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict:
    """One real grading of the tiny assignment, shared by the end-to-end and golden tests."""
    from grader.pipeline.grading import grade_assignment

    folder = fixture_submissions(tmp_path_factory.mktemp("e2e"), GOLDEN_SUBMISSIONS)
    messages: list[tuple[str, str, str]] = []
    results = grade_assignment(
        FIXTURES / "assignments" / "tiny",
        submissions=folder,
        out_dir=session_out,
        data_dir=data_dir,
        jobs_count=2,
        progress=lambda *m: messages.append(m),
    )
    return {
        "folder": folder,
        "results": {r.student if hasattr(r, "student") else r["student"]: r for r in results},
        "messages": messages,
        "out": session_out / "tiny",
    }
