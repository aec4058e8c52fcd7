"""Staging where `os.open` takes no `dir_fd` (Windows, for a student's self-check): the walk,
caps, results and errors of grader/pipeline/staging.py, by paths instead of descriptors.

Never used where `dir_fd` exists (Linux, where grading runs). Every entry is listed with its
lstat (`os.scandir`, no link followed); a link, or on Windows a junction or any other reparse
point that stands for another path, is left out as staging leaves a link out. A file is opened
(plain `open`) only after its folder and each component of its path were lstat'ed as plain
folders and the file itself as a regular file, so a link, pipe or device is never opened. Paths
leave a moment between that check and the open that descriptors do not: acceptable for a
student's own files on their own machine, the only place this runs.

staging.py imports this module and passes itself in (`kit`): importing it back here would be
an import cycle (tests/test_layers.py), so its names are imported for type checking only.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, BinaryIO

from grader.messages import Message
from grader.pipeline.folders import display

if TYPE_CHECKING:
    from grader.pipeline.staging import Copied, Entry, Limits, Tree, _Listing

# A reparse tag's name-surrogate bit (Windows): set for symbolic links and junctions, which
# lstat does not follow, and not for OneDrive placeholders and the like, which are files.
_NAME_SURROGATE = 0x20000000
_Item = tuple[bytes, os.stat_result]  # a name in a folder, and its lstat


def is_link(st: os.stat_result) -> bool:
    """A link, or a Windows junction or other reparse point standing for another path."""
    return stat.S_ISLNK(st.st_mode) or bool(getattr(st, "st_reparse_tag", 0) & _NAME_SURROGATE)


def walk(root: Path, limits: Limits | None, kit: ModuleType) -> Tree:
    """`staging.walk` by paths: the same `Tree`, refusals and digests.

    Raises:
        Refused: over a cap, or `root` itself is a link (or junction).
        OSError: a folder could not be listed, or was swapped for a link while listed.
    """
    listing: _Listing = kit._Listing(limits or kit.Limits())
    base = os.fsencode(root)
    if os.path.lexists(base) and is_link(os.lstat(base)):
        raise listing.refuse("staging.folder_link")
    stack: list[tuple[tuple[bytes, ...], Iterator[_Item]]] = []
    stack.append(((), iter(_list(base, (), listing, kit))))
    while stack:
        parts, items = stack[-1]
        item = next(items, None)
        if item is None:
            stack.pop()
            continue
        here = (*parts, item[0])
        if _take(here, item[1], listing, kit):
            stack.append((here, iter(_list(base, here, listing, kit))))
    return kit.Tree(tuple(listing.files), tuple(listing.dirs), tuple(listing.skipped),
                    frozenset(listing.links), listing.seen)  # fmt: skip


def _list(base: bytes, parts: tuple[bytes, ...], listing: _Listing, kit: ModuleType) -> list[_Item]:
    """One folder's entries, as `staging._list` counts, digests and sorts them (it lists a
    path as it lists a descriptor); the folder is first checked not to be a link."""
    path = _folder(base, parts)
    entries: list[_Item] = kit._list(path, parts, listing)
    return entries


def _folder(base: bytes, parts: tuple[bytes, ...]) -> bytes:
    """`base/parts`, each component lstat'ed a plain folder, as `O_DIRECTORY | O_NOFOLLOW`
    opens it on Linux: a link, or anything else not a folder, is ENOTDIR."""
    path = base
    for part in (b"", *parts):
        path = os.path.join(path, part) if part else path
        st = _lstat(path, part or base)
        if is_link(st) or not stat.S_ISDIR(st.st_mode):
            raise OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), part or base)
    return path


def _lstat(path: bytes, name: bytes) -> os.stat_result:
    """`os.lstat`, its error naming `name` as a descriptor-relative open names it."""
    try:
        return os.lstat(path)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, name) from None


def _take(parts: tuple[bytes, ...], st: os.stat_result, listing: _Listing, kit: ModuleType) -> bool:
    """Record one entry as `staging._take` does; True for a folder, to be listed next."""
    entry: Entry = kit.Entry(parts)
    limits: Limits = listing.limits
    if len(parts) > limits.depth + 1 or len(entry.path) > kit.MAX_PATH_BYTES:
        raise listing.refuse("staging.too_deep", path=display(entry.path), depth=limits.depth)
    if stat.S_ISDIR(st.st_mode) and not is_link(st):
        listing.dirs.append(entry)
        return True
    if is_link(st) or not stat.S_ISREG(st.st_mode):
        listing.skipped.append(entry)
        if is_link(st):
            listing.links.add(entry.path)
        return False
    cap = limits.bytes // 2**20
    if st.st_size > limits.bytes:
        raise listing.refuse("staging.file_too_large", file=display(entry.path),
                             size=kit.megabytes(st.st_size), megabytes=cap)  # fmt: skip
    listing.total += st.st_size
    if listing.total > limits.bytes:
        raise listing.refuse("bad_submission.too_large", megabytes=cap)
    listing.files.append(kit.Entry(parts, st.st_size))
    return False


def copy_tree(root: Path, target: Path | None, limits: Limits | None, kit: ModuleType) -> Copied:
    """`staging.copy_tree` by paths: the same hash, copy and refusals.

    Raises:
        Refused: over a cap (checked before anything is read, and again while reading).
        OSError: a file could not be read or written.
    """
    limits = limits or kit.Limits()
    tree = walk(root, limits, kit)
    out = kit.make_folders(target, tree)
    digest, budget, base = hashlib.sha256(), limits.bytes, os.fsencode(root)
    for entry in tree.files:
        digest.update(entry.path + b"\0")
        dest = None if out is None else os.path.join(out, *entry.parts)
        budget -= _copy_file(base, entry, dest, digest, budget, limits, kit)
        digest.update(b"\0")
    copied: Copied = kit.Copied(digest.hexdigest()[:16], tree)
    return copied


def _copy_file(
    base: bytes, entry: Entry, dest: bytes | None, digest: hashlib._Hash, budget: int,
    limits: Limits, kit: ModuleType,
) -> int:  # fmt: skip
    """Stream one file into the digest (and `dest`); the bytes read, never over `budget`."""
    with open_inside(base, entry.parts, kit) as source:
        if dest is None:
            return _stream(source, None, digest, budget, limits, kit)
        try:
            with open(dest, "wb") as out:
                return _stream(source, out, digest, budget, limits, kit)
        finally:
            os.chmod(dest, 0o644)  # whatever the umask


def _stream(
    source: BinaryIO, out: BinaryIO | None, digest: hashlib._Hash, budget: int, limits: Limits,
    kit: ModuleType,
) -> int:  # fmt: skip
    got = 0
    while chunk := source.read(min(kit.CHUNK, budget - got + 1)):
        got += len(chunk)
        if got > budget:  # it grew since it was listed
            raise kit.Refused(Message("bad_submission.too_large",
                                      {"megabytes": limits.bytes // 2**20}))  # fmt: skip
        digest.update(chunk)
        if out is not None:
            out.write(chunk)
    return got


def open_inside(base: bytes, parts: tuple[bytes, ...], kit: ModuleType) -> BinaryIO:
    """Open a regular file below `base` for reading (unbuffered: each read is one read), no
    component of its path a link: `staging.open_inside` and its caller's check by paths.

    Raises:
        OSError: the file is a link (ELOOP), a folder on its path is a link or no folder
            (ENOTDIR), or something is missing.
        Refused: the file is not a regular file (a pipe is never opened).
    """
    path = os.path.join(_folder(base, parts[:-1]), parts[-1])
    st = _lstat(path, parts[-1])
    if is_link(st):
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), parts[-1])
    if stat.S_ISREG(st.st_mode):
        source = open(path, "rb", buffering=0)  # noqa: SIM115 (the caller closes it)
        if stat.S_ISREG(os.fstat(source.fileno()).st_mode):  # not swapped since
            return source
        source.close()
    raise kit.Refused(Message("staging.not_regular", {"file": display(b"/".join(parts))}))
