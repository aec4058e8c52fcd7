"""One safe walk of a submission folder, shared by its hash and its copy: nothing trusted.

A submission is read twice over: its entries are listed first (`os.scandir` and `lstat`
only, never following a link), and every cap is checked on that listing: entries, depth,
each file's size and the total. Only then are its regular files opened, one path component
at a time with `O_NOFOLLOW`, and streamed in chunks into the hash (and the copy), the read
itself stopping at the cap should a file have grown since it was listed. Links, pipes,
devices and sockets are never opened: a link to `/proc/self/mem` or `/proc/kmsg`, or a FIFO
that would block an `open()`, is skipped like a cache folder. Names are bytes throughout
(a name that is not UTF-8 hashes and copies like any other; `folders.display` shows one).

The hash: for each regular file in the order of its path's components, `path + NUL + content
+ NUL` (a top-level `student.toml` left out since issue 15).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from grader.messages import Message
from grader.pipeline import portable_staging
from grader.pipeline.folders import display

MAX_FILES = 2_000  # entries of every kind, folders included: more is not a code submission
MAX_BYTES = 20 * 2**20  # all regular files together
MAX_DEPTH = 32  # folders below the submission's
MAX_PATH_BYTES = 1_024  # one entry's path inside the submission
CHUNK = 2**20  # bytes read at a time: memory stays at this whatever a file holds
SKIPPED_DIRS = frozenset({b"__pycache__"})  # caches: neither hashed nor copied
# Who the student is (`grader.lms.student`), not their work: neither hashed nor copied.
SKIPPED_TOP = frozenset({b"student.toml"})
# Linux flags, 0 where they do not exist (Windows, a student's self-check: it also lacks
# `dir_fd`, so `walk` and `copy_tree` hand over to `portable_staging` there).
_LINUX = {name: getattr(os, name, 0) for name in ("O_DIRECTORY", "O_NOFOLLOW", "O_NONBLOCK")}
_NOFOLLOW, _CLOEXEC = _LINUX["O_NOFOLLOW"], getattr(os, "O_CLOEXEC", 0)
DIR_FLAGS = os.O_RDONLY | _LINUX["O_DIRECTORY"] | _NOFOLLOW | _CLOEXEC
_FILE_FLAGS = os.O_RDONLY | _NOFOLLOW | _LINUX["O_NONBLOCK"] | _CLOEXEC  # a FIFO never blocks
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _NOFOLLOW | _CLOEXEC


@dataclass(frozen=True)
class Limits:
    """The caps one walk enforces (tests lower them)."""

    files: int = MAX_FILES
    bytes: int = MAX_BYTES
    depth: int = MAX_DEPTH


class Refused(Exception):
    """A submission the grader will not read; `message` names the problem and the fix.

    `digest` stands for what was seen before the refusal (names, sizes, times): a result
    refused for the same reason from the same files can be reused without reading again.
    """

    def __init__(self, message: Message, digest: str = "") -> None:
        super().__init__(message.id)
        self.message, self.digest = message, digest


@dataclass(frozen=True)
class Entry:
    """One entry of a submission: its path's components, relative, as bytes."""

    parts: tuple[bytes, ...]
    size: int = 0  # lstat size of a regular file; 0 for the rest

    @property
    def path(self) -> bytes:
        return b"/".join(self.parts)


@dataclass(frozen=True)
class Tree:
    """A submission's listing: what is read, and what is left alone."""

    files: tuple[Entry, ...]  # regular files, in hash order
    dirs: tuple[Entry, ...]  # folders, parents first
    skipped: tuple[Entry, ...] = ()  # links, pipes, devices, sockets: never opened
    links: frozenset[bytes] = frozenset()  # the paths of `skipped` that are links
    seen: int = 0  # entries listed, of every kind

    @property
    def total(self) -> int:
        return sum(f.size for f in self.files)


_Item = tuple[bytes, os.stat_result]  # a name in a folder, and its lstat
_Folder = tuple[int, tuple[bytes, ...], Iterator[_Item]]  # open, its path, entries to take


@dataclass
class _Listing:
    limits: Limits
    files: list[Entry] = field(default_factory=list)
    dirs: list[Entry] = field(default_factory=list)
    skipped: list[Entry] = field(default_factory=list)
    links: set[bytes] = field(default_factory=set)
    seen: int = 0
    total: int = 0
    meta: hashlib._Hash = field(default_factory=hashlib.sha256)

    def refuse(self, message_id: str, **params: object) -> Refused:
        message = Message(message_id, dict(params))
        text = json.dumps([message.id, message.params], sort_keys=True).encode()
        digest = hashlib.sha256(b"refused\0" + text + b"\0" + self.meta.digest())
        return Refused(message, digest.hexdigest()[:16])


def walk(root: Path, limits: Limits | None = None) -> Tree:
    """List `root` without following a link or opening a file, checking every cap.

    Raises:
        Refused: over a cap, or `root` itself is a link.
        OSError: a folder could not be listed.
    """
    if os.open not in os.supports_dir_fd:  # Windows: by paths (self-check only)
        return portable_staging.walk(root, limits, sys.modules[__name__])
    listing = _Listing(limits or Limits())
    if os.path.islink(root):
        raise listing.refuse("staging.folder_link")
    stack: list[_Folder] = []
    try:
        _enter(stack, os.open(root, DIR_FLAGS), (), listing)
        while stack:
            fd, parts, items = stack[-1]
            item = next(items, None)
            if item is None:
                stack.pop()
                os.close(fd)
                continue
            here = (*parts, item[0])
            child = _take(fd, here, item[1], listing)
            if child is not None:
                _enter(stack, child, here, listing)
    finally:
        for fd, _, _ in stack:
            os.close(fd)
    return Tree(tuple(listing.files), tuple(listing.dirs), tuple(listing.skipped),
                frozenset(listing.links), listing.seen)  # fmt: skip


def _enter(stack: list[_Folder], fd: int, parts: tuple[bytes, ...], listing: _Listing) -> None:
    """List the open folder `fd` and put it on the stack, which closes it (or close it now)."""
    try:
        items = iter(_list(fd, parts, listing))
    except BaseException:
        os.close(fd)
        raise
    stack.append((fd, parts, items))


def _list(fd: int, parts: tuple[bytes, ...], listing: _Listing) -> list[_Item]:
    """One folder's entries (caches left out), sorted by name; counted as they are listed,
    so 100,000 files are refused after the first few thousand."""
    found = []
    with os.scandir(fd) as entries:
        for entry in entries:
            listing.seen += 1
            if listing.seen > listing.limits.files:
                raise listing.refuse("staging.too_many_files", limit=listing.limits.files)
            name = os.fsencode(entry.name)
            st = entry.stat(follow_symlinks=False)
            listing.meta.update(b"/".join((*parts, name)) + b"\0%d:%d:%d\0" % (
                st.st_mode, st.st_size, st.st_mtime_ns))  # fmt: skip
            if name not in SKIPPED_DIRS and (parts or name not in SKIPPED_TOP):
                found.append((name, st))
    return sorted(found, key=lambda item: item[0])


def _take(fd: int, parts: tuple[bytes, ...], st: os.stat_result, listing: _Listing) -> int | None:
    """Record one entry; for a folder, open it (no link followed) and return its descriptor."""
    entry, limits = Entry(parts), listing.limits
    if len(parts) > limits.depth + 1 or len(entry.path) > MAX_PATH_BYTES:
        raise listing.refuse("staging.too_deep", path=display(entry.path), depth=limits.depth)
    if stat.S_ISDIR(st.st_mode):
        listing.dirs.append(entry)
        return os.open(parts[-1], DIR_FLAGS, dir_fd=fd)
    if not stat.S_ISREG(st.st_mode):
        listing.skipped.append(entry)
        if stat.S_ISLNK(st.st_mode):
            listing.links.add(entry.path)
        return None
    cap = limits.bytes // 2**20
    if st.st_size > limits.bytes:
        raise listing.refuse("staging.file_too_large", file=display(entry.path),
                             size=megabytes(st.st_size), megabytes=cap)  # fmt: skip
    listing.total += st.st_size
    if listing.total > limits.bytes:
        raise listing.refuse("bad_submission.too_large", megabytes=cap)
    listing.files.append(Entry(parts, st.st_size))
    return None


def megabytes(size: int) -> float:
    """A size in MB, as messages show it."""
    return round(size / 2**20, 1)


@dataclass(frozen=True)
class Copied:
    """A submission hashed (and copied): its hash, and the listing it came from."""

    hash: str
    tree: Tree


def copy_tree(root: Path, target: Path | None, limits: Limits | None = None) -> Copied:
    """Hash the regular files of `root` (and copy them, with its folders, to `target`:
    world-readable, for the sandbox's uids); links, pipes, devices and caches left out.

    The bytes hashed are the bytes copied, read once.

    Raises:
        Refused: over a cap (checked before anything is read, and again while reading).
        OSError: a file could not be read or written.
    """
    if os.open not in os.supports_dir_fd:  # Windows: by paths (self-check only)
        return portable_staging.copy_tree(root, target, limits, sys.modules[__name__])
    limits = limits or Limits()
    tree = walk(root, limits)
    out = make_folders(target, tree)
    digest, budget = hashlib.sha256(), limits.bytes
    root_fd = os.open(root, DIR_FLAGS)
    try:
        for entry in tree.files:
            digest.update(entry.path + b"\0")
            dest = None if out is None else os.path.join(out, *entry.parts)
            budget -= _copy_file(root_fd, entry, dest, digest, budget, limits)
            digest.update(b"\0")
    finally:
        os.close(root_fd)
    return Copied(digest.hexdigest()[:16], tree)


def make_folders(target: Path | None, tree: Tree) -> bytes | None:
    """`target` and the tree's folders in it, readable by a child uid whatever the umask;
    None (nothing made) without a target."""
    if target is None:
        return None
    out = os.fsencode(target)
    for folder in (out, *(os.path.join(out, *d.parts) for d in tree.dirs)):
        os.makedirs(folder, 0o755, exist_ok=True)
        os.chmod(folder, 0o755)
    return out


def _copy_file(
    root_fd: int, entry: Entry, dest: bytes | None, digest: hashlib._Hash, budget: int,
    limits: Limits,
) -> int:  # fmt: skip
    """Stream one file into the digest (and `dest`); the bytes read, never over `budget`."""
    fd = open_inside(root_fd, entry.parts)
    out = None if dest is None else os.open(dest, _WRITE_FLAGS, 0o644)
    got = 0
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped since it was listed
            raise Refused(Message("staging.not_regular", {"file": display(entry.path)}))
        while chunk := os.read(fd, min(CHUNK, budget - got + 1)):
            got += len(chunk)
            if got > budget:  # it grew since it was listed
                raise Refused(Message("bad_submission.too_large",
                                      {"megabytes": limits.bytes // 2**20}))  # fmt: skip
            digest.update(chunk)
            view = memoryview(chunk)
            while out is not None and view:
                view = view[os.write(out, view) :]
    finally:
        os.close(fd)
        if out is not None:
            os.fchmod(out, 0o644)
            os.close(out)
    return got


def open_inside(root_fd: int, parts: tuple[bytes, ...]) -> int:
    """Open a regular file below `root_fd` for reading, no component of its path a link.

    Raises:
        OSError: a component is a link (ELOOP, ENOTDIR) or is missing.
    """
    fd = root_fd
    try:
        for part in parts[:-1]:
            opened = os.open(part, DIR_FLAGS, dir_fd=fd)
            if fd != root_fd:
                os.close(fd)
            fd = opened
        return os.open(parts[-1], _FILE_FLAGS, dir_fd=fd)
    finally:
        if fd != root_fd:
            os.close(fd)
