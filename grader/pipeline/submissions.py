"""Finding submissions, reading student names, and staging a clean copy of each one."""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from grader.pipeline.context import GradingError

SUBMISSION_FILE = "submission.py"
NOTEBOOK_FILE = "submission.ipynb"
MAX_BYTES = 20 * 2**20


@dataclass(frozen=True)
class Staged:
    """A submission copied where its children can see it, or why that was impossible."""

    folder: Path
    error_kind: str | None = None
    error: str | None = None
    notebook_dropped: list[dict] = field(default_factory=list)
    student: str = ""  # the submission folder's name, for progress lines


def find_submissions(folder: Path, only: Sequence[str] = ()) -> list[Path]:
    """Student folders (every subfolder not starting with '.' or '_'), sorted."""
    if not Path(folder).is_dir():
        raise GradingError(f"No submissions folder at {folder}. Pass --submissions DIR.")
    found = sorted(
        p for p in Path(folder).iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
    )
    if only:
        missing = sorted(set(only) - {p.name for p in found})
        if missing:
            known = [p.name for p in found]
            raise GradingError(f"--only names unknown students {missing}; known: {known}")
        found = [p for p in found if p.name in only]
    return found


def read_student_name(folder: Path) -> dict[str, str | None]:
    """The name from `student.toml`, else the folder name (with a warning saying why)."""
    path = folder / "student.toml"
    if not path.is_file():
        return {"name": folder.name, "warning": None}
    try:
        name = tomllib.loads(path.read_text(encoding="utf-8")).get("name")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return {"name": folder.name, "warning": f"student.toml is not valid TOML ({exc})"}
    if not isinstance(name, str) or not name.strip():
        return {"name": folder.name, "warning": 'student.toml has no name = "..." line'}
    return {"name": name.strip()[:200], "warning": None}


def stage(folder: Path, target: Path) -> Staged:
    """Copy one student's files (links skipped, size capped); turn a notebook into a module."""
    return replace(_stage(folder, target), student=folder.name)


def _stage(folder: Path, target: Path) -> Staged:
    try:
        copy_tree(folder, target)
    except (OSError, ValueError) as exc:
        return Staged(target, "bad_submission", f"Could not read the submission: {exc}.")
    if (target / SUBMISSION_FILE).is_file():
        return Staged(target)
    if (target / NOTEBOOK_FILE).is_file():
        return _stage_notebook(target)
    return Staged(
        target,
        "missing_file",
        f"{folder.name}/ has no {SUBMISSION_FILE} (or {NOTEBOOK_FILE}). Put your functions "
        f"in {SUBMISSION_FILE} (see the handout).",
    )


def _stage_notebook(target: Path) -> Staged:
    from grader.notebook import NotebookError, notebook_json_to_module

    try:
        text = (target / NOTEBOOK_FILE).read_text(encoding="utf-8")
        converted = notebook_json_to_module(text, filename=NOTEBOOK_FILE)
    except (NotebookError, UnicodeDecodeError) as exc:
        return Staged(target, "bad_notebook", str(exc))
    (target / SUBMISSION_FILE).write_text(converted.source, encoding="utf-8")
    (target / SUBMISSION_FILE).chmod(0o644)
    dropped = [vars(d) for d in converted.dropped]
    return Staged(target, notebook_dropped=dropped)


def copy_tree(source: Path, target: Path) -> None:
    """Copy regular files and folders, world-readable, skipping links and caches."""
    total = 0
    target.mkdir(parents=True, exist_ok=True)
    target.chmod(0o755)
    for path in sorted(source.rglob("*")):
        if path.is_symlink() or "__pycache__" in path.parts:
            continue
        dest = target / path.relative_to(source)
        if path.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
            dest.chmod(0o755)
        elif path.is_file():
            total += path.stat().st_size
            if total > MAX_BYTES:
                raise ValueError(f"it holds more than {MAX_BYTES // 2**20} MB; submit code only")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
            dest.chmod(0o644)
