"""Dataset sources (CIFAR-10 here, image folders in `grader.imagefolder`) and the fixed,
cached train / validation / hidden-test splits drawn from them."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from grader import cifar10, manifest
from grader.assignment import SUBSETS, drawn, overdrawn, part_of
from grader.datasource import PARTS, DataSource
from grader.errors import DataError
from grader.records import SplitCounts
from grader.spec import Assignment, Data

SPLIT_FORMAT = 1  # bump when the selection algorithm changes, so old caches are not reused
ARRAY_NAMES = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
CIFAR10_SHAPE = cifar10.SHAPE


def find_source(assignment: Assignment, data_dir: Path | None) -> DataSource:
    """The images an assignment is drawn from, decoded at its image size: its own image
    folder, else CIFAR-10 (`grader.cifar10.find`), fitted to the spec's image size.

    Raises:
        DataError: the images are not where the spec or `data_dir` says, or not readable.
    """
    spec = assignment.data
    if spec.source == "folder":
        from grader import imagefolder  # Pillow and zip listing: only folder assignments

        assert spec.path is not None
        return imagefolder.open_image_folder(
            assignment.directory / spec.path, spec.image_size, spec.resize
        )
    source = cifar10.find(data_dir)
    if spec.image_size != CIFAR10_SHAPE[:2]:
        source.decode = _resized(source.decode, spec)
    return source


def _resized(
    decode: Callable[[str, list[str]], np.ndarray], spec: Data
) -> Callable[[str, list[str]], np.ndarray]:
    """CIFAR-10 images fitted to another size, the way image folders are (`grader.images`)."""
    from grader.images import fit_array

    def decode_resized(part: str, keys: list[str]) -> np.ndarray:
        images = decode(part, keys)
        out = np.empty((len(images), *spec.input_shape), dtype=np.uint8)
        for i, image in enumerate(images):
            out[i] = fit_array(image, spec.image_size, spec.resize)
        return out

    return decode_resized


def split_key(assignment: Assignment, source: DataSource) -> str:
    """Fingerprint of everything that decides the split arrays."""
    params = {
        "format": SPLIT_FORMAT,
        "seed": assignment.seed,
        "data": source.fingerprint,
        "splits": [vars(s) for s in assignment.splits.values()],
    }
    if assignment.data.image_size != CIFAR10_SHAPE[:2] or assignment.data.source != "cifar10":
        params["images"] = [assignment.data.image_size, assignment.data.resize]
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]


def prepare_splits(
    assignment: Assignment,
    source: DataSource,
    splits_root: Path,
    note: Callable[[str], None] | None = None,
) -> Path:
    """Build every split once and cache it; return `splits_root/<key>/`.

    Each split gets a folder of `.npy` arrays (images uint8, labels int32) and the cache a
    manifest of their content hashes (`grader.manifest`), checked on every call. A cache hit
    decodes nothing; a damaged cache, or one without a manifest, is built again (the split is
    a function of the data and the spec), with a `note` saying why. The folder is written
    under a temporary name and renamed, so an interrupted run never leaves half a cache.

    Raises:
        DataError: the split could not be written (disk, permissions): names the folder.
    """
    target = splits_root / split_key(assignment, source)
    expected = [f"{s}/{n}.npy" for s in assignment.splits for n in ARRAY_NAMES]
    why = manifest.problem(target, expected) if target.exists() else None
    if target.exists() and why is None:
        return target
    before = manifest.recorded(target)
    if why is not None and note is not None:
        note(f"cached split {target.name}: {why}; rebuilding it from {source.description}")
    if note is not None:
        for line in source.notes:
            note(line)
    try:
        after = _build(assignment, source, target, expected, note)
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(
            f"Could not build the data split {target} ({why or 'not built yet'}): {exc}. "
            f"Check that {source.description} is readable and that {splits_root} is writable "
            f"with room to spare, delete {target}, and run again."
        ) from None
    changed = sorted(k for k in after if before is not None and after[k] != before.get(k))
    if changed and note is not None:  # the same data, decoded otherwise (another Pillow?)
        note(
            f"the rebuilt split differs from the one first recorded ({changed[0]}): results "
            "graded on the old one are not regraded by themselves; pass --force to regrade"
        )
    return target


def _build(
    assignment: Assignment,
    source: DataSource,
    target: Path,
    expected: list[str],
    note: Callable[[str], None] | None,
) -> dict[str, str]:
    """Write the split arrays and their manifest, then put them in place at `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".staging-"))
    try:
        for name, arrays in select_images(assignment, source, note).items():
            (staging / name).mkdir()
            for array_name, array in arrays.items():
                np.save(staging / name / f"{array_name}.npy", array, allow_pickle=False)
        hashes = manifest.record(staging, expected, data=source.description)
        if target.exists():  # a damaged cache: set aside in one step, removed after
            old = Path(tempfile.mkdtemp(dir=target.parent, prefix=".damaged-"))
            os.replace(target, old / target.name)
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return hashes


def select_images(
    assignment: Assignment, source: DataSource, note: Callable[[str], None] | None = None
) -> dict[str, dict[str, np.ndarray]]:
    """Stratified, seeded, disjoint selection of every split, in declaration order.

    Raises:
        DataError: the splits draw more images of a class than the source holds.
    """
    available = {(p, c): source.count(p, c) for p in PARTS for c in source.classes}
    if (problem := overdrawn(assignment.splits, available, source.has_test)) is not None:
        raise DataError(
            f"{source.description}: {problem}. Add images to that class, or lower the "
            "splits' per-class counts in assignment.toml."
        )
    cursors = {(p, c): 0 for p in PARTS for c in range(len(source.classes))}
    orders = {
        (p, c): np.random.default_rng([assignment.seed, pi, c]).permutation(len(keys))
        for pi, p in enumerate(PARTS)
        if p in source.members
        for c, keys in enumerate(source.members[p])
    }

    def take(part: str, c: int, count: int) -> list[str]:
        start = cursors[part, c]
        cursors[part, c] += count
        return [source.members[part][c][i] for i in orders[part, c][start : start + count]]

    result = {}
    for index, split in enumerate(assignment.splits.values()):
        rng = np.random.default_rng([assignment.seed, 1000 + index])
        keys: dict[str, list[tuple[str, int]]] = {"train": [], "val": [], "test": []}
        for label, sources in enumerate(split.sources):
            for cls in sources:
                c = source.classes.index(cls)
                for subset in SUBSETS:
                    part = part_of(subset, source.has_test)
                    count = drawn(split, subset, cls, available[part, cls])
                    keys[subset] += [(k, label) for k in take(part, c, count)]
        result[split.name] = _load_subsets(source, keys, rng, assignment.data.input_shape)
        _note_duplicates(split.name, keys, result[split.name], note)
    return result


def _load_subsets(
    source: DataSource,
    keys: dict[str, list[tuple[str, int]]],
    rng: np.random.Generator,
    shape: tuple[int, ...],
) -> dict[str, np.ndarray]:
    arrays = {}
    for subset, pairs in keys.items():
        pairs = [pairs[i] for i in rng.permutation(len(pairs))]
        keys[subset] = pairs  # in the order of the arrays, for the duplicate check
        part = part_of(subset, source.has_test)
        images = (
            source.decode(part, [k for k, _ in pairs]) if pairs else np.zeros((0, *shape), np.uint8)
        )
        arrays[f"x_{subset}"] = images
        arrays[f"y_{subset}"] = np.array([label for _, label in pairs], dtype=np.int32)
    return arrays


def _note_duplicates(
    split: str,
    keys: dict[str, list[tuple[str, int]]],
    arrays: dict[str, np.ndarray],
    note: Callable[[str], None] | None,
) -> None:
    """Warn, naming the files, of one image in two subsets (a leak) or under two labels."""
    from grader.images import find_duplicates

    subsets = {
        s: ([k for k, _ in keys[s]], [label for _, label in keys[s]], arrays[f"x_{s}"])
        for s in SUBSETS
    }
    for line in find_duplicates(subsets):
        if note is not None:
            note(f"split {split}: {line}")


def class_counts(splits_dir: Path, assignment: Assignment) -> dict[str, SplitCounts]:
    """Images per class in each part of every split, from its label arrays: a per-class
    share gives each class its own count."""
    counts = {}
    for name, split in assignment.splits.items():
        labels = load_split(splits_dir / name, ("y_train", "y_val", "y_test"))
        n = len(split.classes)
        per = {k: tuple(int(c) for c in np.bincount(v, minlength=n)) for k, v in labels.items()}
        counts[name] = SplitCounts(name, per["y_train"], per["y_val"], per["y_test"])
    return counts


def load_split(split_dir: Path, names: tuple[str, ...] = ARRAY_NAMES) -> dict[str, np.ndarray]:
    """Read cached split arrays (never pickles)."""
    return {n: np.load(split_dir / f"{n}.npy", allow_pickle=False) for n in names}
