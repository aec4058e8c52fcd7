"""Files written whole or not at all, and a full disk named as such (issue 12).

Every file the grader writes for people (results, reports, summaries) goes through
`write_atomic`: a temporary file in the same folder, fsync'd, then renamed over the target,
so a reader, a crash or a full disk sees the old file or the new one, never half of one.
A full disk, a used-up quota or a read-only file system becomes an `OutputError` naming the
folder and the fix, which the command line prints instead of a traceback.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from grader.errors import GraderError

# The errors that no retry or other submission can get past: the batch stops on them.
DISK_FULL = {
    errno.ENOSPC: "the disk holding {folder} is full",
    errno.EDQUOT: "the disk quota is used up for {folder}",
    errno.EROFS: "{folder} cannot be written to",
}
TEMP_PREFIX, TEMP_SUFFIX = ".tmp-", ".tmp"  # never matches `*.json`: a leftover is not read
WORK_PREFIX = "grader-work-"  # the scratch folder's (`sandbox.jobs.make_work_root`)


class OutputError(GraderError, OSError):
    """A file could not be written because of the disk (full, over quota, read-only).

    Both a `GraderError` (the command line prints it as an error, no traceback) and an
    `OSError` with the original `errno` (code that handles file errors still sees one).
    """


def write_atomic(
    path: Path, content: str | bytes, *, encoding: str = "utf-8", private: bool = False
) -> None:
    """Replace `path` with `content` in one step: readers see the old file or the new one.

    The temporary file's name does not grow with `path`'s (a long student folder name must
    not make it too long). `private` files are 0o600; the others get the mode a plain
    `open()` would give (0o666 less the umask), as reports and summaries always had.

    Raises:
        OutputError: the disk is full, over quota or read-only; nothing was left behind.
        OSError: any other failure to write; nothing was left behind either.
    """
    data = content.encode(encoding) if isinstance(content, str) else content
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
        with os.fdopen(fd, "wb") as fh:
            if not private:
                os.fchmod(fh.fileno(), 0o666 & ~_umask())
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        full = disk_full(exc, path)
        if full is not None and full is not exc:
            raise full from exc
        raise


def disk_full(exc: BaseException, path: Path | None = None) -> OutputError | None:
    """`exc` as an `OutputError` when it (or what caused it) is a full, over-quota or
    read-only disk; else None. `path` is the file being written, when the error has none."""
    seen: BaseException | None = exc
    for _ in range(10):  # the error, its cause, the cause's cause ... (never a cycle)
        if seen is None:
            return None
        if isinstance(seen, OutputError):
            return seen
        if isinstance(seen, OSError) and seen.errno in DISK_FULL:
            return _output_error(seen, seen.errno, path)
        seen = seen.__cause__ or seen.__context__
    return None


def stop_if_disk_full(exc: BaseException) -> None:
    """Raise `exc` as an `OutputError` if a full disk caused it (for fault barriers: a full
    disk is no one submission's problem, and every later one would fail the same way)."""
    full = disk_full(exc)
    if full is exc:
        raise exc
    if full is not None:
        raise full from exc


def _output_error(exc: OSError, code: int, path: Path | None) -> OutputError:
    """The error for a person: which folder, what happened, what to do."""
    name = exc.filename if path is None else path  # `path`: written by `write_atomic`
    where = Path(os.fsdecode(name)) if isinstance(name, str | bytes | Path) else None
    folder = where.parent if where is not None else None
    problem = DISK_FULL[code].format(folder=folder or "a folder the grader writes to")
    if path is not None:
        what = f"{path.name} was not written, and no half-written file was left"
    else:
        what = f"{where.name if where else 'a file'} could not be written"
    room = "a writable folder" if code == errno.EROFS else "a folder on a disk with room"
    if folder is not None and any(part.startswith(WORK_PREFIX) for part in folder.parts):
        fix = f"point TMPDIR at {room} (the grader's scratch space)"
    else:
        fix = f"pass --out {room}"
    if code != errno.EROFS:
        fix = f"free space there, or {fix}"
    error = OutputError(
        f"{problem} ({os.strerror(code)}): {what}. To go on, {fix}, then run the same "
        "command again: the results already written are kept and reused."
    )
    error.errno = code
    return error


def _umask() -> int:
    """The process's umask, read without changing it (`os.umask` would, for every thread)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022
