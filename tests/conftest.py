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
