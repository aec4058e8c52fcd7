"""Platform shims: the one place the host side of the grader touches what only some systems
have (`resource`, `fcntl`, `msvcrt`, the C library through ctypes, `os.pwrite`).

Nothing here fails at import: each is looked up when first used, so the package (the CLI's
help, the student self-check) imports on Windows too. Grading itself needs Linux; a feature
it needs that this system lacks raises `PlatformUnsupported`, which names the feature and
says what to use instead. A sandboxed worker cannot see this module (sandbox/levels.py,
WORKER_CODE): `worker/budget.py` and `sandbox/landlock.py` look up their own, lazily.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import importlib
import os
import sys
import time
from types import ModuleType
from typing import Any

from grader.errors import GradingError

NEEDS = "grading needs Linux (sandboxing uses prctl, namespaces, rlimits and file locks)"
INSTEAD = "on Windows or macOS, check a submission with the student self-check instead"
SYSTEMS = {"win32": "Windows", "darwin": "macOS", "linux": "Linux"}
# Windows locks byte ranges, and a locked range cannot be read by others: lock one byte far
# past what a lock file holds, so that the owner it names stays readable.
WINDOWS_LOCK_OFFSET = 2**30
WINDOWS_RETRY_SECONDS = 0.1
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # 0 only on Windows (every POSIX system has it)
CLOEXEC = getattr(os, "O_CLOEXEC", 0)  # Windows descriptors are not inherited anyway


class PlatformUnsupported(GradingError):
    """Something grading needs does not exist on this system."""


def unsupported(what: str) -> PlatformUnsupported:
    """The error for `what` missing here: the system, the feature, and what to do instead."""
    system = SYSTEMS.get(sys.platform, sys.platform)
    return PlatformUnsupported(f"this system ({system}) has no {what}: {NEEDS}; {INSTEAD}.")


@functools.cache
def _module(name: str) -> ModuleType | None:
    """The standard module `name`, or None where this system has none."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


@functools.cache
def libc() -> Any:
    """The C library already loaded into this process (a `ctypes.CDLL`), or None (Windows)."""
    try:
        return ctypes.CDLL(None, use_errno=True)
    except (OSError, TypeError):  # Windows: CDLL(None) is a TypeError
        return None


def require_libc(what: str) -> Any:
    """The C library, for `what` (e.g. "prctl").

    Raises:
        PlatformUnsupported: there is none here.
    """
    if (found := libc()) is None:
        raise unsupported(f"{what} (the C library)")
    return found


def require_rlimits() -> ModuleType:
    """The `resource` module (every isolation level limits its children with it).

    Raises:
        PlatformUnsupported: this system has no rlimits.
    """
    if (resource := _module("resource")) is None:
        raise unsupported("resource limits (the `resource` module)")
    return resource


def require_sandboxing() -> None:
    """Stop now, before any child starts, if this system lacks what every level needs.

    Raises:
        PlatformUnsupported: no rlimits, or no file locks.
    """
    require_rlimits()
    require_locks()


def require_locks() -> None:
    """Stop unless `lock_exclusive` works here.

    Raises:
        PlatformUnsupported: this system has neither kind of lock.
    """
    if _module("fcntl") is None and _module("msvcrt") is None:
        raise unsupported("file locks (`fcntl` or `msvcrt`)")


def set_rlimit(name: str, value: int) -> None:
    """Set both limits of `RLIMIT_<name>` (e.g. "CPU") to `value`."""
    resource = require_rlimits()
    resource.setrlimit(getattr(resource, f"RLIMIT_{name}"), (value, value))


def lock_exclusive(fd: int, wait: bool = True) -> None:
    """Lock the open file `fd` for this open file (flock on POSIX, a byte range on Windows);
    `release` drops it, and so does the end of the process, however it ends.

    Raises:
        BlockingIOError: another holds it and `wait` is false.
        PlatformUnsupported: this system has neither kind of lock.
    """
    if (fcntl := _module("fcntl")) is not None:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    elif (msvcrt := _module("msvcrt")) is not None:
        while not _windows_lock(msvcrt, fd, msvcrt.LK_NBLCK):
            if not wait:
                raise BlockingIOError(errno.EWOULDBLOCK, "the file is locked by another process")
            time.sleep(WINDOWS_RETRY_SECONDS)
    else:
        require_locks()


def release(fd: int) -> None:
    """Drop the lock `lock_exclusive` took on `fd` and close it (on POSIX closing does both;
    Windows wants the range unlocked first)."""
    try:
        if _module("fcntl") is None and (msvcrt := _module("msvcrt")) is not None:
            _windows_lock(msvcrt, fd, msvcrt.LK_UNLCK)
    finally:
        os.close(fd)


def _windows_lock(msvcrt: ModuleType, fd: int, mode: int) -> bool:
    """Apply `mode` to the lock byte of `fd`; False if another holds it. The file position
    is kept (the lock file's content is written from the start)."""
    position = os.lseek(fd, 0, os.SEEK_CUR)
    os.lseek(fd, WINDOWS_LOCK_OFFSET, os.SEEK_SET)
    try:
        msvcrt.locking(fd, mode, 1)
    except PermissionError:  # EACCES: locked by another
        return False
    finally:
        os.lseek(fd, position, os.SEEK_SET)
    return True


def write_at(fd: int, data: bytes, offset: int) -> None:
    """Write `data` at `offset` (os.pwrite, which Windows lacks: seek and write there)."""
    if hasattr(os, "pwrite"):
        os.pwrite(fd, data, offset)
        return
    os.lseek(fd, offset, os.SEEK_SET)
    os.write(fd, data)


def read_at(fd: int, size: int, offset: int) -> bytes:
    """Up to `size` bytes from `offset` (os.pread, which Windows lacks)."""
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, size)
