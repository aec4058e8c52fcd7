"""Reading what a child left behind: no links followed, plain files only, sizes capped."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from grader.errors import ChildOutputError

__all__ = ["ChildOutputError", "read_child_file", "read_child_json"]


def read_child_file(path: Path, max_bytes: int) -> bytes:
    """Read a file a child wrote, refusing symlinks, hard links, non-files and huge files."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ChildOutputError(f"{path.name} was not written") from None
    except OSError as exc:  # ELOOP: a planted symlink
        raise ChildOutputError(f"{path.name} could not be opened safely ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            raise ChildOutputError(f"{path.name} is not a plain file")
        if info.st_size > max_bytes:
            raise ChildOutputError(
                f"{path.name} is {info.st_size:,} bytes; the limit is {max_bytes:,}"
            )
        return fh.read(max_bytes + 1)[:max_bytes]


def read_child_json(path: Path, max_bytes: int = 4 * 2**20) -> dict[str, Any]:
    """Parse a child's JSON output, which must be an object."""
    try:
        data = json.loads(read_child_file(path, max_bytes))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ChildOutputError(f"{path.name} is not valid JSON ({exc})") from None
    except RecursionError:  # `[[[[...` a few thousand deep: the parser gives up
        raise ChildOutputError(f"{path.name} is nested too deeply") from None
    if not isinstance(data, dict):
        raise ChildOutputError(f"{path.name} does not hold a JSON object")
    return data
