"""What a child leaves where every uid may write (/tmp, /var/tmp, /dev/shm, ...): counted in
its write cap while it runs and removed after it, found by the child's throw-away uid.

Only at the rlimits level can a child reach these folders (bubblewrap shows it none of
them, Landlock lets it write to none), and /dev/shm is memory: unseen, a child could fill
half the RAM. They are looked at for every child with a uid of its own; the cost is a
listing of a few folders. Without root children run as the grader: nothing tells their
files from anyone else's, so nothing is counted or removed there.
"""

from __future__ import annotations

import contextlib
import functools
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from grader.sandbox import diskuse, unseen

# The folders every uid may write to by convention; the temp folder of this process too.
SHARED_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/lock", "/dev/mqueue")
MAX_DEPTH = 8  # of world-writable folders inside one another, followed to find a child's


def shared_folders() -> list[Path]:
    """The shared folders that exist here, each once (/var/lock is often /run/lock)."""
    found: dict[tuple[int, int], Path] = {}
    for name in (*SHARED_FOLDERS, tempfile.gettempdir()):
        with contextlib.suppress(OSError):
            info = os.stat(name)  # a link to a folder is the folder
            if stat.S_ISDIR(info.st_mode):
                found.setdefault((info.st_dev, info.st_ino), Path(name))
    return list(found.values())


def owned(uid: int) -> Iterator[os.DirEntry[str]]:
    """Every entry owned by `uid` in a shared folder, or in a world-writable folder inside
    one (where another uid could have let it write). Links are never followed."""
    for folder in shared_folders():
        yield from _owned_in(folder, uid, MAX_DEPTH)


def bytes_of(uid: int) -> int:
    """The space `uid`'s files in the shared folders take, counted as the write cap counts a
    job's folders (`diskuse`; a file linked twice counts twice)."""
    return sum(diskuse.entry_bytes(entry.path) for entry in owned(uid))


def counter(uid: int | None) -> Callable[[], int] | None:
    """What the watch adds to a child's folders for the write cap: its files here and what
    it holds without a name (`unseen`); None when it has no uid of its own."""
    return None if uid is None else functools.partial(_all_bytes, uid)


def _all_bytes(uid: int) -> int:
    return bytes_of(uid) + unseen.bytes_held(uid)


def remove(uid: int) -> list[Path]:
    """Delete `uid`'s files and folders in the shared folders (its processes must be dead
    by now: `uids.sweep`); returns what was there. Folders go with everything in them;
    no link is followed."""
    removed = [Path(entry.path) for entry in owned(uid)]
    for path in removed:
        diskuse.remove_tree(path)
    return removed


def _owned_in(folder: Path, uid: int, depth: int) -> Iterator[os.DirEntry[str]]:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if info.st_uid == uid:
            yield entry
        elif depth > 0 and stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_IWOTH:
            yield from _owned_in(Path(entry.path), uid, depth - 1)
