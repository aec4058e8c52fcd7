"""Finding submissions, reading student names, and staging a clean copy of each one.

Nothing in a submission folder is trusted: it is read by one safe walk (`staging`) for both
its hash and its copy, its folder's name is checked (`folders`), and `student.toml` is read
only as a small regular file, never through a link.
"""

from __future__ import annotations

import hashlib
import os
import stat
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from grader import fonts
from grader.errors import ErrorKind, GradingError
from grader.lms.student import StudentInfo, info_from_toml
from grader.messages import Message
from grader.notebook import NotebookError, NotebookTooLarge, notebook_to_module
from grader.pipeline import staging
from grader.pipeline.folders import display, name_problem, raw_name, student_key
from grader.pipeline.staging import Limits, Refused
from grader.records import DroppedLine
from grader.tomlcompat import tomllib

SUBMISSION_FILE = "submission.py"
NOTEBOOK_FILE = "submission.ipynb"
MAX_BYTES = staging.MAX_BYTES  # read at each call: tests lower it
TOML_MAX_BYTES = 64 * 2**10
TOML_MAX_NESTING = 50  # brackets and braces deep: a name needs none
BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@dataclass(frozen=True)
class Staged:
    """A submission copied where its children can see it, or why that was impossible."""

    folder: Path
    failure: tuple[ErrorKind, Message] | None = None  # every task fails with it
    notebook_dropped: tuple[DroppedLine, ...] = ()
    student: str = ""  # the submission's key (its folder's name if usable), for progress lines
    hash: str = ""  # of the files read (see `staging`); "" when they could not be read


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
            known = [display(p.name) for p in found]
            shown = [display(name) for name in missing]
            raise GradingError(f"--only names unknown students {shown}; known: {known}")
        found = [p for p in found if p.name in only]
    return found


def read_student_name(folder: Path) -> StudentName:
    """The name from `student.toml`, else the folder's (with a warning saying why); a
    name with characters no installed font can draw carries a warning naming them."""
    name = _name_from_toml(folder)
    missing = fonts.missing_glyphs(name.name) if name.warning is None else ()
    if missing:
        return StudentName(
            name.name, Message("name.missing_glyphs", {"chars": fonts.describe(missing)})
        )
    return name


def _name_from_toml(folder: Path) -> StudentName:
    """Read as the student's own small regular file only: a link (to `/etc/shadow`, say) is
    never opened, so no warning can show a byte of anything else."""
    fallback = student_key(folder.name)
    data = _student_toml(folder)
    if isinstance(data, Message):
        return StudentName(fallback, data)
    if data is None:
        return StudentName(fallback)
    name = data.get("name")
    name = _without_controls(name) if isinstance(name, str) else None
    if not name or not name.strip():
        return StudentName(fallback, Message("name.no_name_line"))
    return StudentName(name.strip()[:200])


def read_student_info(folder: Path) -> StudentInfo:
    """Everything `student.toml` says of its student (`grader.lms.student`), its name as
    `read_student_name` gives it; empty fields where the file is missing or unreadable."""
    data = _student_toml(folder)
    info = info_from_toml(data) if isinstance(data, dict) else StudentInfo()
    return replace(info, name=read_student_name(folder).name)


def _student_toml(folder: Path) -> dict[str, Any] | Message | None:
    """`folder/student.toml` parsed, None if there is none, or why it cannot be read."""
    try:
        raw = read_small(folder, "student.toml", TOML_MAX_BYTES)
    except NotAFile:
        return Message("name.toml_not_file")
    except OSError as exc:
        return Message(
            "name.toml_unreadable", {"error": display(exc.strerror or type(exc).__name__)}
        )
    if raw is None:
        return None
    if len(raw) > TOML_MAX_BYTES:
        return Message("name.toml_too_large", {"kilobytes": TOML_MAX_BYTES // 2**10})
    try:
        text = raw.decode("utf-8")
        if _nesting(text) > TOML_MAX_NESTING:
            return Message("name.toml_too_deep")
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return Message("name.bad_toml", {"error": display(str(exc), 200)})
    except RecursionError:  # nesting the cheap scan missed
        return Message("name.toml_too_deep")


def _without_controls(name: str) -> str:
    """A name without control characters (escapes, `\\r`) and the bidirectional overrides
    that reorder what follows them: a name is shown on screens, in reports and in CSV."""
    return "".join(c for c in name if unicodedata.category(c) != "Cc" and c not in BIDI)


def _nesting(text: str) -> int:
    """How deep brackets and braces go (strings not told apart: an upper bound)."""
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest


class NotAFile(Exception):
    """A file the grader will not read: a link, a pipe, a device, a socket or a folder."""


def read_small(folder: Path, name: str, limit: int) -> bytes | None:
    """The bytes of the regular file `folder/name`, None if there is none; at most `limit`
    bytes are read (`limit + 1` come back when it is larger: the caller says so).

    Raises:
        NotAFile: it is a link or not a regular file: nothing was read.
        OSError: it could not be read.
    """
    if os.path.islink(folder):
        raise NotAFile(str(folder))
    if os.open not in os.supports_dir_fd:  # Windows, a student's self-check: by path
        return _read_small_by_path(folder, name, limit)
    folder_fd = os.open(folder, staging.DIR_FLAGS)
    try:
        try:
            fd = staging.open_inside(folder_fd, (os.fsencode(name),))
        except FileNotFoundError:
            return None
        except OSError as exc:
            if os.path.islink(os.path.join(folder, name)):
                raise NotAFile(name) from exc
            raise
    finally:
        os.close(folder_fd)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotAFile(name)
        return os.read(fd, limit + 1)
    finally:
        os.close(fd)


def _read_small_by_path(folder: Path, name: str, limit: int) -> bytes | None:
    """`read_small` where folders cannot be opened as descriptors (no link followed)."""
    from grader.pipeline import portable_staging

    try:
        opened = portable_staging.open_inside(os.fsencode(folder), (os.fsencode(name),), staging)
    except FileNotFoundError:
        return None
    except (Refused, OSError) as exc:
        if isinstance(exc, Refused) or os.path.islink(os.path.join(folder, name)):
            raise NotAFile(name) from exc
        raise
    with opened:
        return opened.read(limit + 1)


def stage(folder: Path, target: Path) -> Staged:
    """Copy one student's files (links, pipes and caches left out; every cap checked before
    reading); turn a notebook into a module. A folder whose name cannot be stored, or
    whose files break a cap, is staged as a failure saying how to fix it."""
    return replace(_stage(folder, target), student=student_key(folder.name))


def _stage(folder: Path, target: Path) -> Staged:
    limits = Limits(bytes=MAX_BYTES)
    bad_name = name_problem(folder.name)
    if bad_name is not None:  # not read at all: its hash is its raw name's
        digest = hashlib.sha256(b"bad-name\0" + raw_name(folder.name))
        return Staged(target, (ErrorKind.BAD_SUBMISSION, bad_name), hash=digest.hexdigest()[:16])
    try:
        copied = staging.copy_tree(folder, target, limits)
    except Refused as exc:
        return Staged(target, (ErrorKind.BAD_SUBMISSION, exc.message), hash=exc.digest)
    except OSError as exc:
        message = Message("bad_submission.unreadable", {"error": display(str(exc), 200)})
        return Staged(target, (ErrorKind.BAD_SUBMISSION, message))
    staged = Staged(target, hash=copied.hash)
    if (target / SUBMISSION_FILE).is_file():
        return staged
    if (target / NOTEBOOK_FILE).is_file():
        return _stage_notebook(staged, copied.tree, limits)
    return replace(staged, failure=_missing(folder, copied.tree))


def _missing(folder: Path, tree: staging.Tree) -> tuple[ErrorKind, Message]:
    """No `submission.py` copied: it is a link or a pipe, or there is none."""
    for file in (SUBMISSION_FILE, NOTEBOOK_FILE):
        if file.encode() in tree.links:
            return ErrorKind.BAD_SUBMISSION, Message("staging.link", {"file": file})
        if any(s.path == file.encode() for s in tree.skipped):
            return ErrorKind.BAD_SUBMISSION, Message("staging.not_regular", {"file": file})
    params = {"folder": student_key(folder.name), "file": SUBMISSION_FILE,
              "notebook": NOTEBOOK_FILE}  # fmt: skip
    return ErrorKind.MISSING_FILE, Message("missing_file", params)


def _stage_notebook(staged: Staged, tree: staging.Tree, limits: Limits) -> Staged:
    """The module made from the notebook, under the caps the submission is under."""
    target = staged.folder
    try:
        converted = notebook_to_module(target / NOTEBOOK_FILE)
    except NotebookTooLarge as exc:  # a cap, like the submission's own
        return replace(staged, failure=(ErrorKind.BAD_SUBMISSION, exc.message))
    except NotebookError as exc:
        return replace(staged, failure=(ErrorKind.BAD_NOTEBOOK, exc.message))
    source = converted.source.encode("utf-8")
    if tree.total + len(source) > limits.bytes:
        params = {"notebook": NOTEBOOK_FILE, "size": staging.megabytes(len(source)),
                  "megabytes": limits.bytes // 2**20}  # fmt: skip
        message = Message("staging.converted_too_large", params)
        return replace(staged, failure=(ErrorKind.BAD_SUBMISSION, message))
    if tree.seen + 1 > limits.files:  # the module is one more file for every later copy
        message = Message("staging.too_many_files", {"limit": limits.files})
        return replace(staged, failure=(ErrorKind.BAD_SUBMISSION, message))
    (target / SUBMISSION_FILE).write_bytes(source)
    (target / SUBMISSION_FILE).chmod(0o644)
    return replace(staged, notebook_dropped=converted.dropped)


def copy_tree(source: Path, target: Path) -> None:
    """Copy a staged submission (regular files and folders, world-readable) for a child.

    Raises:
        Refused: over a cap (a staged submission never is: `stage` checked them).
    """
    staging.copy_tree(source, target, Limits(bytes=MAX_BYTES))
