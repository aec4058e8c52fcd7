"""An instructor's own photos as a data source: `train/<class>/*` and optional `test/<class>/*`.

The layout is Keras' `image_dataset_from_directory` one, so a folder that works in a
student's notebook works here: one folder per class, images found in nested folders too,
class names sorted. The same files give the same fingerprint in a folder or a zip, so
zipping the data does not rebuild the split.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grader.datasource import PARTS, DataSource
from grader.errors import DataError
from grader.filetree import FileTree, open_tree
from grader.images import RESIZE_METHODS, ImageError, decode_image

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
SHOWN_IN_NOTES = 5
SHOWN_IN_ERRORS = 10
EXPECTED_LAYOUT = """\
    train/
      <class 1>/   photos: .jpg, .jpeg or .png (subfolders allowed)
      <class 2>/
      ...
    test/          optional: the same class folders; else the hidden test comes from train/
      <class 1>/
      ..."""
_Reader = Callable[[str], bytes]


@dataclass
class _Layout:
    """The folder read as a data set: keys relative to the top (inside any wrapper)."""

    classes: tuple[str, ...]
    members: dict[str, list[list[str]]]
    names: dict[str, str] = field(default_factory=dict)  # key -> the tree's name for it
    notes: list[str] = field(default_factory=list)


def class_names(path: Path) -> tuple[str, ...]:
    """The sorted class folder names of `train/`, without reading any image.

    Raises:
        DataError: `path` is missing or unreadable, or has no `train/` with class folders.
    """
    path = Path(path)
    tree = open_tree(path)
    try:
        return _train_classes(tree, _find_top(tree, path), path)
    finally:
        tree.close()


def open_image_folder(path: Path, image_size: tuple[int, int], resize: str) -> DataSource:
    """A `DataSource` over a folder or `.zip` of `train/<class>/` (and `test/<class>/`).

    Every listed image is read once here, for the fingerprint; none is decoded until
    `decode` is called (on a cache miss).

    Raises:
        DataError: a wrong layout, an empty class, `test/` classes that differ from
            `train/`, or files that cannot be read; the message names them and the fix.
        ValueError: `resize` is not one of `RESIZE_METHODS` (a caller's bug).
    """
    if resize not in RESIZE_METHODS:
        raise ValueError(f"resize must be one of {RESIZE_METHODS}, got {resize!r}")
    path = Path(path)
    tree = open_tree(path)
    try:
        layout = _read_layout(tree, path)
        fingerprint = _fingerprint(layout, lambda key: _read(tree, layout, key), str(path))
    except BaseException:  # no DataSource will own the open zip: close it here
        tree.close()
        raise

    def decode(part: str, keys: list[str]) -> np.ndarray:
        """Decode `keys` in order; every failing file is collected into one error."""
        out = np.empty((len(keys), *image_size, 3), dtype=np.uint8)
        failures: list[ImageError] = []
        for i, key in enumerate(keys):
            try:
                out[i] = decode_image(_read(tree, layout, key), key, image_size, resize)
            except ImageError as exc:
                failures.append(exc)
        if failures:
            raise _files_error(failures, str(path))
        return out

    return DataSource(
        description=str(path),
        fingerprint=fingerprint,
        classes=layout.classes,
        members=layout.members,
        decode=decode,
        notes=tuple(layout.notes),
    )


def _read(tree: FileTree, layout: _Layout, key: str) -> bytes:
    try:
        return tree.read(layout.names[key])
    except OSError as exc:
        raise ImageError(key, str(exc)) from None


def _find_top(tree: FileTree, path: Path) -> str:
    """Where `train/` is: at the top (""), or in one wrapping folder ("animals/": a zipped
    folder usually has one)."""
    top_dirs = sorted(d for d in tree.dirs if "/" not in d)
    if "train" in top_dirs:
        return ""
    if len(top_dirs) == 1 and f"{top_dirs[0]}/train" in tree.dirs:
        return f"{top_dirs[0]}/"
    found = top_dirs + sorted(f for f in tree.files if "/" not in f)
    shown = ", ".join(d + "/" if d in tree.dirs else d for d in found[:10]) or "nothing"
    if len(found) > 10:
        shown += f" and {len(found) - 10} more"
    raise DataError(
        f"{path} has no train/ folder. An image data set is laid out like this:\n"
        f"  {path.name}/\n{EXPECTED_LAYOUT}\nFound at its top: {shown}. Put one folder "
        "per class (named after the class) under train/, then run again."
    )


def _train_classes(tree: FileTree, top: str, path: Path) -> tuple[str, ...]:
    classes = _subfolders(tree, f"{top}train")
    if not classes:
        raise DataError(
            f"{path}: {top}train/ has no class folders. Make one folder per class under "
            f"train/ holding that class's images:\n{EXPECTED_LAYOUT}"
        )
    return classes


def _subfolders(tree: FileTree, parent: str) -> tuple[str, ...]:
    depth = parent.count("/") + 1
    return tuple(
        sorted(
            d.split("/")[depth]
            for d in tree.dirs
            if d.startswith(parent + "/") and d.count("/") == depth
        )
    )


def _read_layout(tree: FileTree, path: Path) -> _Layout:
    """Sort every file into a class, a note, or silence; then check the classes."""
    top = _find_top(tree, path)
    classes = _train_classes(tree, top, path)
    parts = [p for p in PARTS if f"{top}{p}" in tree.dirs]
    if "test" in parts:
        _check_test_classes(classes, _subfolders(tree, f"{top}test"), path)
    layout = _Layout(classes, {p: [[] for _ in classes] for p in parts})
    skipped: dict[str, list[str]] = {k: list(v) for k, v in tree.skipped.items()}
    unused = sorted({d[len(top) :] + "/" for d in tree.dirs if _is_unused_dir(d, top)})
    for name in sorted(tree.files):
        if not name.startswith(top):
            continue  # beside a wrapping folder: the wrapper is the data set
        key = name[len(top) :]
        why = _place(layout, key)
        if why is None:
            layout.names[key] = tree.files[name]
        elif why:
            skipped.setdefault(why, []).append(key)
    layout.notes = [_note(f"skipped {{n}} {why}", keys) for why, keys in skipped.items()]
    if unused:
        layout.notes.append(_note("not used: {n} folder(s) other than train/ and test/", unused))
    _check_not_empty(layout, path)
    return layout


def _is_unused_dir(d: str, top: str) -> bool:
    rel = d[len(top) :] if d.startswith(top) else ""
    return bool(rel) and "/" not in rel and rel not in PARTS


def _place(layout: _Layout, key: str) -> str | None:
    """Put `key` in its class (None); or say why it was skipped ("": silently)."""
    part, _, rest = key.partition("/")
    if part not in layout.members:
        return ""  # a top-level file (README), or in a folder noted as unused
    if "/" not in rest:
        return "file(s) outside the class folders"
    if not key.lower().endswith(IMAGE_SUFFIXES):
        return "file(s) that are not .jpg, .jpeg or .png images"
    cls = rest.split("/", 1)[0]
    layout.members[part][layout.classes.index(cls)].append(key)  # sorted: names are
    return None


def _note(template: str, names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN_IN_NOTES])
    more = f" and {len(names) - SHOWN_IN_NOTES} more" if len(names) > SHOWN_IN_NOTES else ""
    return f"{template.format(n=len(names))}: {shown}{more}"


def _check_test_classes(train: tuple[str, ...], test: tuple[str, ...], path: Path) -> None:
    missing = [c for c in train if c not in test]
    extra = [c for c in test if c not in train]
    if not missing and not extra:
        return
    problems = []
    if missing:
        problems.append(f"missing from test/: {', '.join(missing)}")
    if extra:
        problems.append(f"in test/ but not in train/: {', '.join(extra)}")
    raise DataError(
        f"{path}: test/ must have the same class folders as train/ ({'; '.join(problems)}). "
        "Add or rename the folders so both list the same classes, or remove test/ to "
        "take the hidden test images from train/."
    )


def _check_not_empty(layout: _Layout, path: Path) -> None:
    empty = [
        f"{part}/{cls}/"
        for part, lists in layout.members.items()
        for cls, keys in zip(layout.classes, lists, strict=True)
        if not keys
    ]
    if empty:
        raise DataError(
            f"{path}: {', '.join(empty)} hold(s) no .jpg, .jpeg or .png images. Add images "
            "to every class folder, or remove the class from both train/ and test/."
        )


def _fingerprint(layout: _Layout, read: _Reader, origin: str) -> str:
    """sha256 over (key, bytes) of every image in sorted order: where they live is no part."""
    digest = hashlib.sha256()
    failures: list[ImageError] = []
    for key in sorted(layout.names):
        try:
            data = read(key)
        except ImageError as exc:
            failures.append(exc)
            continue
        for chunk in (key.encode(), data):  # length-prefixed: no two inputs hash alike
            digest.update(len(chunk).to_bytes(8, "big") + chunk)
    if failures:
        raise _files_error(failures, origin)
    return digest.hexdigest()[:16]


def _files_error(failures: Iterable[ImageError], origin: str) -> DataError:
    """One error for every file that failed, so the instructor fixes them all in one go."""
    failures = list(failures)
    lines = [f"  {f.name}: {f.reason}" for f in failures[:SHOWN_IN_ERRORS]]
    if len(failures) > SHOWN_IN_ERRORS:
        lines.append(f"  ... and {len(failures) - SHOWN_IN_ERRORS} more")
    listing = "\n".join(lines)
    return DataError(
        f"{len(failures)} image file(s) in {origin} cannot be used:\n{listing}\n"
        "Replace or remove these files, then run again."
    )
