"""Finding submissions, reading student names, and staging a clean copy of each one."""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from grader import fonts
from grader.errors import ErrorKind, GradingError
from grader.messages import Message
from grader.notebook import NotebookError, notebook_to_module
from grader.records import DroppedLine

SUBMISSION_FILE = "submission.py"
NOTEBOOK_FILE = "submission.ipynb"
MAX_BYTES = 20 * 2**20


class TooLarge(ValueError):
    """A submission holds more than `MAX_BYTES`."""


@dataclass(frozen=True)
class Staged:
    """A submission copied where its children can see it, or why that was impossible."""

    folder: Path
    failure: tuple[ErrorKind, Message] | None = None  # every task fails with it
    notebook_dropped: tuple[DroppedLine, ...] = ()
    student: str = ""  # the submission folder's name, for progress lines


@dataclass(frozen=True)
class StudentName:
    """A student's name, and why it is the folder's name if `student.toml` gave none."""

    name: str
    warning: Message | None = None


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


def read_student_name(folder: Path) -> StudentName:
    """The name from `student.toml`, else the folder name (with a warning saying why); a
    name with characters no installed font can draw carries a warning naming them."""
    name = _name_from_toml(folder)
    missing = fonts.missing_glyphs(name.name) if name.warning is None else ()
    if missing:
        return StudentName(
            name.name, Message("name.missing_glyphs", {"chars": fonts.describe(missing)})
        )
    return name


def _name_from_toml(folder: Path) -> StudentName:
    path = folder / "student.toml"
    if not path.is_file():
        return StudentName(folder.name)
    try:
        name = tomllib.loads(path.read_text(encoding="utf-8")).get("name")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return StudentName(folder.name, Message("name.bad_toml", {"error": str(exc)}))
    if not isinstance(name, str) or not name.strip():
        return StudentName(folder.name, Message("name.no_name_line"))
    return StudentName(name.strip()[:200])


def stage(folder: Path, target: Path) -> Staged:
    """Copy one student's files (links skipped, size capped); turn a notebook into a module."""
    return replace(_stage(folder, target), student=folder.name)


def _stage(folder: Path, target: Path) -> Staged:
    try:
        copy_tree(folder, target)
    except TooLarge:
        message = Message("bad_submission.too_large", {"megabytes": MAX_BYTES // 2**20})
        return Staged(target, (ErrorKind.BAD_SUBMISSION, message))
    except OSError as exc:
        message = Message("bad_submission.unreadable", {"error": str(exc)})
        return Staged(target, (ErrorKind.BAD_SUBMISSION, message))
    if (target / SUBMISSION_FILE).is_file():
        return Staged(target)
    if (target / NOTEBOOK_FILE).is_file():
        return _stage_notebook(target)
    params = {"folder": folder.name, "file": SUBMISSION_FILE, "notebook": NOTEBOOK_FILE}
    return Staged(target, (ErrorKind.MISSING_FILE, Message("missing_file", params)))


def _stage_notebook(target: Path) -> Staged:
    try:
        converted = notebook_to_module(target / NOTEBOOK_FILE)
    except NotebookError as exc:
        return Staged(target, (ErrorKind.BAD_NOTEBOOK, exc.message))
    (target / SUBMISSION_FILE).write_text(converted.source, encoding="utf-8")
    (target / SUBMISSION_FILE).chmod(0o644)
    return Staged(target, notebook_dropped=converted.dropped)


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
                raise TooLarge(f"it holds more than {MAX_BYTES // 2**20} MB; submit code only")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
            dest.chmod(0o644)
