"""The run's work folder for job folders: made private, locked while the run lives, and the
folders of dead runs (`kill -9`, a crash) removed when the next run starts.

It lives in the system temp folder so that every child uid can pass through it (0o711:
searchable, not listable); what is inside is reachable only by each job's own uid (jobs.py).
A run holds an exclusive `flock` on `LOCK_NAME` inside its folder until it ends: a folder
whose lock anyone can take belongs to no live run.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import threading
import time
from pathlib import Path

from grader import shims
from grader.sandbox import diskuse

PREFIX = "grader-work-"
LOCK_NAME = "run.lock"
# A folder without a lock file predates the lock (or is a few microseconds old): removed
# only once nothing has touched it for this long.
UNLOCKED_STALE_SECONDS = 24 * 3600
_held: dict[Path, int] = {}  # work folder -> descriptor holding its lock
_guard = threading.Lock()


def make() -> Path:
    """Remove the work folders of dead runs, then make this run's, locked until `remove`.

    Raises:
        PlatformUnsupported: no file locks here (before any folder is made).
    """
    shims.require_locks()
    remove_stale()
    root = Path(tempfile.mkdtemp(prefix=PREFIX))
    root.chmod(0o711)
    # Locked before it gets its name: a starting run never sees it unlocked.
    fd = os.open(root / f".{LOCK_NAME}", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    shims.lock_exclusive(fd)
    os.rename(root / f".{LOCK_NAME}", root / LOCK_NAME)
    with _guard:
        _held[root] = fd
    return root


def remove(root: Path) -> None:
    """Delete a work folder made by `make` and release its lock; idempotent."""
    diskuse.remove_tree(root)
    with _guard:
        fd = _held.pop(root, None)
    if fd is not None:
        shims.release(fd)


def remove_stale(folder: Path | None = None) -> list[Path]:
    """Delete every work folder in `folder` (the temp folder) that belongs to no live run
    and to our uid; returns them. Links are never followed and other users' folders never
    touched (the temp folder is sticky: we could not delete them anyway)."""
    removed = []
    for candidate in sorted(Path(folder or tempfile.gettempdir()).glob(f"{PREFIX}*")):
        if _ours(candidate) and _dead(candidate):
            diskuse.remove_tree(candidate)
            removed.append(candidate)
    return removed


def _ours(candidate: Path) -> bool:
    try:
        info = candidate.lstat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid()


def _dead(root: Path) -> bool:
    """Whether no live run holds `root`'s lock (tried without waiting; a lock this process
    holds refuses too: flock locks belong to open files, not processes)."""
    try:
        fd = os.open(root / LOCK_NAME, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        with contextlib.suppress(OSError):
            return time.time() - root.lstat().st_mtime > UNLOCKED_STALE_SECONDS
        return False
    except OSError:
        return False
    try:
        shims.lock_exclusive(fd, wait=False)
    except OSError:
        return False  # held: a live run
    finally:
        shims.release(fd)
    return True
