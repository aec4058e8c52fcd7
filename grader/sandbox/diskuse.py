"""Measuring and deleting folder trees a child built: no link followed, any depth.

A child controls the shape of what it writes. Walking by path fails beyond PATH_MAX
(ENAMETOOLONG: bytes written deeper would go unseen) and recursion fails beyond Python's
recursion limit (`shutil.rmtree` raises RecursionError on a tree 3,000 folders deep, even
with ignore_errors). So the walk opens each folder relative to its parent's descriptor,
a tree deeper than MAX_DEPTH counts as over every cap, and deletion hoists a folder's
contents to the top before removing it, so nothing is ever deeper than two levels.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

MAX_DEPTH = 64  # folders inside one another; no honest job nests deeper
TOO_DEEP = 2**62  # what a deeper tree counts as: more than any write cap
ENTRY_BYTES = 4096  # what any entry costs at least (a block): a million empty files are not free
# Linux flags; absent on Windows (0 there), where a student's self-check imports this module
_OPEN_DIR = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
_OPEN_DIR |= getattr(os, "O_CLOEXEC", 0)


def tree_bytes(folder: Path | str) -> int:
    """Space used under `folder` (its own entry not counted): allocated bytes of every
    file, at least ENTRY_BYTES an entry; TOO_DEEP beyond MAX_DEPTH; 0 if it is not there."""
    try:
        fd = os.open(folder, _OPEN_DIR)
    except OSError:
        return 0
    try:
        return _bytes_below(fd, 1)
    finally:
        os.close(fd)


def entry_bytes(path: Path | str) -> int:
    """Space one entry uses: a file's blocks, or a folder's tree (see `tree_bytes`)."""
    try:
        info = os.lstat(path)
    except OSError:
        return 0
    own = max(info.st_blocks * 512, ENTRY_BYTES)
    return own + (tree_bytes(path) if stat.S_ISDIR(info.st_mode) else 0)


def _bytes_below(fd: int, depth: int) -> int:
    total = 0
    for name, info in _entries(fd):
        total += max(info.st_blocks * 512, ENTRY_BYTES)
        if stat.S_ISDIR(info.st_mode):
            if depth >= MAX_DEPTH:
                return TOO_DEEP
            with contextlib.suppress(OSError), _opened(name, fd) as inner:
                total += _bytes_below(inner, depth + 1)
    return min(total, TOO_DEEP)


def _entries(fd: int) -> Iterator[tuple[str, os.stat_result]]:
    try:
        names = os.listdir(fd)
    except OSError:
        return
    for name in names:
        with contextlib.suppress(OSError):
            yield name, os.stat(name, dir_fd=fd, follow_symlinks=False)


@contextlib.contextmanager
def _opened(name: str, parent: int) -> Iterator[int]:
    fd = os.open(name, _OPEN_DIR, dir_fd=parent)
    try:
        yield fd
    finally:
        os.close(fd)


def remove_tree(path: Path | str) -> None:
    """Delete `path` and everything under it, whatever its depth; never follows a link (a
    link is removed, not what it names). Best effort: what cannot be deleted stays."""
    try:
        top = os.open(path, _OPEN_DIR)
    except FileNotFoundError:
        return
    except OSError:  # a link or a file: the name alone goes
        with contextlib.suppress(OSError):
            os.unlink(path)
        return
    try:
        with contextlib.suppress(OSError):
            os.fchmod(top, 0o700)  # a child may have made its own folder read-only
        _empty(top)
    finally:
        os.close(top)
    with contextlib.suppress(OSError):
        os.rmdir(path)


def _empty(top: int) -> None:
    """Empty the folder open as `top`: files unlinked, empty folders removed, a full folder's
    entries moved up into `top` first. Stops when a pass changes nothing."""
    fresh = (f".grader-rm-{n}" for n in itertools.count())
    while names := _listed(top):
        changed = [_remove_entry(top, name, fresh) for name in names]
        if not any(changed):
            return  # not permitted: leave it


def _remove_entry(top: int, name: str, fresh: Iterator[str]) -> bool:
    """Delete one entry of `top`, or move a full folder's entries up; whether anything moved."""
    try:
        info = os.stat(name, dir_fd=top, follow_symlinks=False)
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode):
        return _done(os.unlink, name, top)
    if os.geteuid() != 0:  # root needs no permission; we own what our children made
        _done(os.chmod, name, top, 0o700)  # a folder the child made unreadable
    hoisted = False
    with contextlib.suppress(OSError), _opened(name, top) as inner:
        hoisted = any([_hoist(entry, inner, top, fresh) for entry in _listed(inner)])
    return _done(os.rmdir, name, top) or hoisted


def _done(call: Callable[..., None], name: str, folder: int, *args: int) -> bool:
    """`call(name, *args, dir_fd=folder)`; whether it worked."""
    try:
        call(name, *args, dir_fd=folder)
    except OSError:
        return False
    return True


def _hoist(name: str, folder: int, top: int, fresh: Iterator[str]) -> bool:
    """Move `name` from `folder` up into `top` under a fresh name (a taken one: the next)."""
    for _ in range(5):
        with contextlib.suppress(OSError):
            os.rename(name, next(fresh), src_dir_fd=folder, dst_dir_fd=top)
            return True
    return False


def _listed(fd: int) -> list[str]:
    try:
        return os.listdir(fd)
    except OSError:
        return []
