"""Where the shipped templates and assignments are, in a checkout or an installed wheel."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

# In a wheel, the top-level `templates/` and `assignments/` folders are package data here
# (see `[tool.setuptools.package-dir]` in pyproject.toml); in a checkout they sit beside
# the package.
TEMPLATES_PACKAGE = "_templates"
ASSIGNMENTS_PACKAGE = "_assignments"
DEFAULT_ASSIGNMENT_ID = "transfer-learning"


def _shipped(packaged: str, top_level: str) -> Path:
    package = Path(str(resources.files("grader")))
    installed = package / packaged
    return installed if installed.is_dir() else package.parent / top_level


def templates_dir() -> Path:
    """The folder holding the report templates (`student.html.j2`, `report.css`, ...)."""
    return _shipped(TEMPLATES_PACKAGE, "templates")


def assignments_dir() -> Path:
    """The folder holding the shipped assignments, one subfolder each."""
    return _shipped(ASSIGNMENTS_PACKAGE, "assignments")


def default_assignment() -> Path:
    """`assignments/transfer-learning` in the working folder, else the shipped copy."""
    local = Path("assignments") / DEFAULT_ASSIGNMENT_ID
    return local if local.is_dir() else assignments_dir() / DEFAULT_ASSIGNMENT_ID
