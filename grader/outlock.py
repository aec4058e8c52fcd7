"""One grader at a time per output folder: a lock held for the run, gone with its process.

Two graders writing into one `OUT/<assignment>` folder both train every submission and
overwrite each other's results and reports. Every command that writes there (`grade`,
`report`, a self-check into its own `check/` folder) holds a lock (`flock`; on Windows
a byte range: `shims`) on the folder's lock file for as long as it writes; a second one
stops at once, naming the first. The system drops the lock when its process ends, however
it ends (`kill -9` too): no stale lock is left to clean up. The lock file itself stays;
it holds the owner's pid and start time.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from grader import shims
from grader.errors import GradingError
from grader.layout import Layout


class OutputLocked(GradingError):
    """Another grader process is writing into the same output folder."""


_held: dict[Path, int] = {}  # lock files this process holds -> how many nested holders
_guard = threading.Lock()


@contextlib.contextmanager
def output_lock(layout: Layout, command: str) -> Iterator[None]:
    """Hold `layout`'s output folder for this process while the block runs.

    Re-entrant within one process (a `grade` renders its reports under its own lock), since
    flock would refuse a second open of the file by the process that holds it.

    Raises:
        OutputLocked: another process holds it; the message names its pid and start time.
    """
    path = layout.lock_file
    with _guard:
        nested = path in _held
        if nested:
            _held[path] += 1
    if nested:
        try:
            yield
        finally:
            with _guard:
                _held[path] -= 1
        return
    fd = _acquire(path, layout.out, command)
    with _guard:
        _held[path] = 1
    try:
        yield
    finally:
        with _guard:
            del _held[path]
        shims.release(fd)


def _acquire(path: Path, folder: Path, command: str) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | shims.NOFOLLOW | shims.CLOEXEC, 0o600)
    try:
        shims.lock_exclusive(fd, wait=False)
    except BlockingIOError:
        owner = _owner(fd)
        os.close(fd)
        raise OutputLocked(
            f"another grader ({owner}) is writing into {folder}: wait for it to finish, "
            "or use another --out."
        ) from None
    except BaseException:
        os.close(fd)
        raise
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    with contextlib.suppress(OSError):  # a full disk: the lock holds all the same
        os.ftruncate(fd, 0)
        shims.write_at(fd, f"{os.getpid()}\n{started}\n{command}\n".encode(), 0)
    return fd


def _owner(fd: int) -> str:
    """'pid N, `grade`, started at T' from the lock file (what its holder wrote there)."""
    try:
        pid, started, command = shims.read_at(fd, 200, 0).decode("ascii").split("\n")[:3]
        return f"pid {int(pid)}, `{command}`, started at {started}"
    except (OSError, ValueError):  # the holder has not written it yet
        return "pid unknown"
