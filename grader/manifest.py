"""Content hashes of the grader's own caches: recorded when a cache is made, checked on use.

A cached file the grader made (the split arrays, the trained base model) can be cut short
by a full disk or a killed run, or changed by hand. Used unchecked, it silently changes
every grade (issue 12: a truncated `y_test.npy` gave every student 0). So each cache folder
holds `manifest.json`, written atomically once its files are complete, with the SHA-256 of
each; every run hashes the files again before using them (0.1-0.25 s for the 142 MB of
the shipped assignment's split).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from grader.atomic import write_atomic

MANIFEST = "manifest.json"
FORMAT = 1  # bump when the manifest's layout changes: older manifests are then rebuilt
CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's content (hex), read in chunks: never whole into memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def record(folder: Path, names: Iterable[str], **extra: Any) -> dict[str, str]:
    """Hash the files `names` (paths relative to `folder`) and write the manifest atomically,
    after them: a folder whose manifest exists was complete when it was written.
    `extra` is stored beside the hashes, for people (where the data came from)."""
    hashes = {name: file_sha256(folder / name) for name in sorted(names)}
    text = json.dumps({"format": FORMAT, "files": hashes, **extra}, indent=1, sort_keys=True)
    write_atomic(folder / MANIFEST, text, private=True)
    return hashes


def recorded(folder: Path) -> dict[str, str] | None:
    """The hashes the folder's manifest records; None when it has none or it is unreadable."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        files = manifest["files"]
        if manifest["format"] != FORMAT or not isinstance(files, dict):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        return None
    return dict(files)


def problem(folder: Path, expected: Iterable[str]) -> str | None:
    """Why the cache in `folder` cannot be used as it is, as a phrase for a progress line
    (None: every expected file is there and matches the hash recorded when it was made)."""
    hashes = recorded(folder)
    if hashes is None:
        if (folder / MANIFEST).exists():
            return f"its {MANIFEST} is unreadable"
        return f"it has no {MANIFEST} of content hashes (made by an older grader, or cut short)"
    for name in sorted(expected):
        if name not in hashes:
            return f"its {MANIFEST} does not list {name}"
    for name, digest in sorted(hashes.items()):
        path = folder / name
        if not path.is_file() or path.is_symlink():
            return f"{name} is missing"
        if file_sha256(path) != digest:
            return f"{name} does not match its recorded content hash (damaged or changed)"
    return None
