"""Listing a folder or a zip as posix paths, safely: no symlinks, no extraction, size caps.

Both kinds look the same to `grader.imagefolder`: file and folder paths relative to the
top, in Unicode NFC (macOS may store "pájaro" decomposed; a spec types it composed), and
a `read(name)` that returns a file's bytes from memory, never via a temporary copy.
"""

from __future__ import annotations

import os
import stat
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import DataError

MAX_ZIP_MEMBERS = 1_000_000
MAX_MEMBER_BYTES = 100_000_000  # 100 MB uncompressed: far above any photo, far below RAM
JUNK_FILES = frozenset({"thumbs.db", "desktop.ini"})  # left behind by Windows Explorer
SYMLINKS = "symbolic links, which are never followed"
UNSAFE = "zip entries with unsafe names (absolute, or containing ..)"


@dataclass
class FileTree:
    """What a folder or zip holds: NFC posix paths, and a reader for the files."""

    files: dict[str, str]  # path -> the name `read` takes (the stored spelling)
    dirs: set[str]
    read: Callable[[str], bytes]  # raises OSError with a short reason
    skipped: dict[str, list[str]] = field(default_factory=dict)  # why -> paths
    close: Callable[[], None] = lambda: None


def is_ignored(name: str) -> bool:
    """Hidden files and folders, macOS zip metadata and Windows thumbnails: never data."""
    return name.startswith(".") or name == "__MACOSX" or name.casefold() in JUNK_FILES


def open_tree(path: Path) -> FileTree:
    """List `path`, a folder or a zip archive, skipping ignored names and symlinks.

    Raises:
        DataError: `path` is missing, not a folder or zip, unreadable, or has too many
            members or two names that differ only in their Unicode form.
    """
    if path.is_dir():
        return _folder_tree(path)
    if path.is_file():
        return _zip_tree(path)
    raise DataError(
        f"{path} does not exist: give the image folder, or a .zip of it, that holds "
        "train/<class>/ folders of images."
    )


def _add(tree: FileTree, key: str, name: str, origin: Path) -> None:
    """Record one file under its NFC path; two stored spellings of one path are refused."""
    key = unicodedata.normalize("NFC", key)
    if key in tree.files:
        raise DataError(
            f"{origin} holds two entries named {key!r} (spelt with different Unicode "
            "characters, or stored twice in the zip). Rename or remove one, then run again."
        )
    tree.files[key] = name


def _folder_tree(root: Path) -> FileTree:
    """Walk without following symlinks: a link could point anywhere on the machine."""
    tree = FileTree({}, set(), lambda name: _read_file(root / name))
    pending = [""]
    while pending:
        rel = pending.pop()
        try:
            entries = list(os.scandir(root / rel))
        except OSError as exc:
            raise DataError(f"Cannot list {root / rel} ({exc.strerror}): check it.") from None
        for entry in entries:
            path = f"{rel}/{entry.name}" if rel else entry.name
            if is_ignored(entry.name):
                continue
            if entry.is_symlink():
                tree.skipped.setdefault(SYMLINKS, []).append(path)
            elif entry.is_dir(follow_symlinks=False):
                tree.dirs.add(unicodedata.normalize("NFC", path))
                pending.append(path)
            elif entry.is_file(follow_symlinks=False):
                _add(tree, path, path, root)
    return tree


def _read_file(path: Path) -> bytes:
    """Read a regular file, refusing a symlink planted after the listing (O_NOFOLLOW)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise OSError(f"could not be read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise OSError("not a regular file")
        return fh.read()


def _zip_tree(path: Path) -> FileTree:
    """List a zip's central directory; members are read into memory only when asked for."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(
            f"{path} is neither a folder nor a readable zip archive ({exc}). Give the "
            "image folder itself, or zip it again."
        ) from None
    infos = archive.infolist()
    if len(infos) > MAX_ZIP_MEMBERS:
        archive.close()
        raise DataError(
            f"{path} has {len(infos):,} members, over the limit of {MAX_ZIP_MEMBERS:,}: "
            "this is not a course data set. Check the file, or unzip it and give the folder."
        )
    by_name = {info.filename: info for info in infos}
    tree = FileTree({}, set(), lambda name: _read_member(archive, by_name[name]))
    tree.close = archive.close
    for info in infos:
        _list_member(tree, info, path)
    return tree


def _list_member(tree: FileTree, info: zipfile.ZipInfo, origin: Path) -> None:
    # Windows tools sometimes store backslashes; "./" prefixes are harmless and dropped.
    raw = info.filename.replace("\\", "/")
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if raw.startswith("/") or ".." in parts or (parts and parts[0].endswith(":")):
        tree.skipped.setdefault(UNSAFE, []).append(info.filename)
        return
    if not parts or any(is_ignored(p) for p in parts):
        return
    if stat.S_ISLNK(info.external_attr >> 16):
        tree.skipped.setdefault(SYMLINKS, []).append("/".join(parts))
        return
    folders = parts if info.is_dir() else parts[:-1]
    for depth in range(1, len(folders) + 1):
        tree.dirs.add(unicodedata.normalize("NFC", "/".join(folders[:depth])))
    if not info.is_dir():
        _add(tree, "/".join(parts), info.filename, origin)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """One member's bytes; zipfile stops at the declared size and checks the CRC."""
    if info.file_size > MAX_MEMBER_BYTES:
        raise OSError(
            f"{info.file_size:,} bytes uncompressed, over the {MAX_MEMBER_BYTES:,}-byte "
            "limit for one zip member"
        )
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError) as exc:
        # RuntimeError: an encrypted member; NotImplementedError: an unknown compression
        raise OSError(f"could not be read from the zip ({exc})") from None
