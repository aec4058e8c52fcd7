"""Whether a child's throw-away uid can reach and start the grader's own interpreter.

Every level runs the grader's Python as that uid. A virtual environment under a folder
other users cannot search (`/root` is 0700) starts for the grader and for no child: every
submission would then fail the same way, so detection checks it first and says where.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from grader.errors import GradingError
from grader.messages import text

# What each level's probe runs, as a child would: the interpreter, the worker code, and a
# package of its environment found (numpy's import would cost half a second a level).
PROBE_IMPORTS = (
    "import grader.sandbox.landlock, importlib.util; "
    "assert importlib.util.find_spec('numpy'), 'numpy: not found'"
)
PROBE_SECONDS = 20  # a busy machine


def require(uid: int | None, paths: Iterable[Path]) -> None:
    """Stop unless `uid` can reach each of `paths` (and the files symlinks among them name).

    Raises:
        GradingError: naming the path, the folder in the way and the fix.
    """
    if uid is None:
        return  # children run as the grader itself
    wanted = [q for p in paths for q in (p, p.resolve())]
    if (blocked := unreachable(uid, wanted)) is not None:
        path, folder = blocked
        message = text(
            "environment.interpreter_unreachable", "en", uid=uid, path=path, folder=folder
        )
        raise GradingError(message)


def nothing_starts(python: str, uid: int | None, reason: str) -> GradingError:
    """The error when no level can start `python` as `uid` (the reason from the last tried)."""
    who = uid if uid is not None else os.getuid()
    return GradingError(text("environment.no_level", "en", python=python, uid=who, reason=reason))


def unreachable(uid: int, paths: Iterable[Path]) -> tuple[Path, Path] | None:
    """The first of `paths` whose folders `uid` (in no other group) may not search, with the
    folder that stops it; None when every path is reachable."""
    for path in paths:
        for folder in [*reversed(path.parents), path]:
            if not _searchable(folder, uid):
                return path, folder
    return None


def _searchable(folder: Path, uid: int) -> bool:
    """Whether `uid` (gid == uid, no supplementary groups) may pass through `folder`.
    The permission bits only; a file is not a folder and passes."""
    try:
        info = folder.lstat()
    except OSError:
        return True  # nothing there: the probe says what is missing
    if not stat.S_ISDIR(info.st_mode):
        return True
    if info.st_uid == uid:
        return bool(info.st_mode & stat.S_IXUSR)
    if info.st_gid == uid:
        return bool(info.st_mode & stat.S_IXGRP)
    return bool(info.st_mode & stat.S_IXOTH)


def probe(command: list[str], uid: int | None, env: dict[str, str] | None = None) -> str | None:
    """Run `command` as `uid` from `/`: None if it succeeded, else the end of what it said."""
    drop: dict[str, Any] = {} if uid is None else {"user": uid, "group": uid, "extra_groups": []}
    try:
        done = subprocess.run(
            command, capture_output=True, timeout=PROBE_SECONDS, env=env, cwd="/", **drop
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if done.returncode == 0:
        return None
    said = done.stderr.decode("utf-8", "replace").strip().splitlines()
    return (said[-1] if said else f"exit code {done.returncode}")[:300]
