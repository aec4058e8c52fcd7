"""CIFAR-10 sources and the fixed, cached train / validation / hidden-test splits."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader import manifest
from grader.errors import DataError
from grader.spec import CIFAR10_CLASSES, Assignment, Split, share_count

SPLIT_FORMAT = 1  # bump when the selection algorithm changes, so old caches are not reused
ARRAY_NAMES = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
PARTS = ("train", "test")
IMAGE_SHAPE = (32, 32, 3)  # every CIFAR-10 image: what each split holds, what models take


@dataclass
class DataSource:
    """CIFAR-10 images addressable by (part, class, position in that class's sorted list)."""

    description: str
    fingerprint: str
    members: dict[str, list[list[str]]]  # part -> class index -> sorted image keys
    decode: Callable[[str, list[str]], np.ndarray]  # (part, keys) -> uint8 (n, 32, 32, 3)


def find_source(data_dir: Path | None) -> DataSource:
    """Locate CIFAR-10: `data_dir/cifar10.zip`, `data_dir/cifar10/`, or Keras' downloader.

    Raises:
        DataError: `data_dir` holds neither form, or the archive is not CIFAR-10.
    """
    if data_dir is None:
        return _keras_source()
    data_dir = Path(data_dir)
    if (data_dir / "cifar10.zip").is_file():
        return _zip_source(data_dir / "cifar10.zip")
    if (data_dir / "cifar10").is_dir():
        return _folder_source(data_dir / "cifar10")
    if data_dir.name == "cifar10.zip" and data_dir.is_file():
        return _zip_source(data_dir)
    raise DataError(
        f"No CIFAR-10 data in {data_dir}: expected {data_dir / 'cifar10.zip'} or a folder "
        f"{data_dir / 'cifar10'}/ with train/<class>/*.jpg and test/<class>/*.jpg. Pass "
        "--data DIR (or set GRADER_DATA_DIR), or leave both unset to download with Keras."
    )


def _group_members(names: list[str], origin: str) -> dict[str, list[list[str]]]:
    members: dict[str, list[list[str]]] = {p: [[] for _ in CIFAR10_CLASSES] for p in PARTS}
    for name in names:
        parts = name.split("/")
        if len(parts) == 3 and parts[0] in PARTS and parts[1] in CIFAR10_CLASSES and parts[2]:
            members[parts[0]][CIFAR10_CLASSES.index(parts[1])].append(name)
    for part in PARTS:
        for cls, keys in zip(CIFAR10_CLASSES, members[part], strict=True):
            if not keys:
                raise DataError(
                    f"{origin} has no images in {part}/{cls}/: not the CIFAR-10 "
                    "image-folder layout (see shared/data/README.md)."
                )
            keys.sort()
    return members


def _decode_jpegs(read: Callable[[str], bytes], keys: list[str]) -> np.ndarray:
    from PIL import Image  # only needed on a cache miss

    out = np.empty((len(keys), *IMAGE_SHAPE), dtype=np.uint8)
    for i, key in enumerate(keys):
        with Image.open(io.BytesIO(read(key))) as img:
            out[i] = np.asarray(img.convert("RGB").resize((IMAGE_SHAPE[1], IMAGE_SHAPE[0])))
    return out


def _zip_source(path: Path) -> DataSource:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise DataError(f"{path} is not a readable zip archive ({exc}).") from None
    members = _group_members(archive.namelist(), str(path))
    return DataSource(
        f"{path}",
        _file_sha256(path),
        members,
        lambda _part, keys: _decode_jpegs(archive.read, keys),
    )


def _folder_source(root: Path) -> DataSource:
    names = [p.relative_to(root).as_posix() for p in root.glob("*/*/*") if p.is_file()]
    members = _group_members(names, str(root))
    digest = hashlib.sha256()
    for part in PARTS:  # content hash: same images, same fingerprint, wherever they live
        for keys in members[part]:
            for key in keys:
                digest.update(key.encode() + (root / key).read_bytes())
    return DataSource(
        f"{root}",
        digest.hexdigest()[:16],
        members,
        lambda _part, keys: _decode_jpegs(lambda k: (root / k).read_bytes(), keys),
    )


def _keras_source() -> DataSource:
    import keras  # the fallback for users who are online; never needed by the tests

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
    except Exception as exc:  # noqa: BLE001 - any download failure gets the same advice
        raise DataError(
            f"Could not download CIFAR-10 with Keras ({exc}). Offline? Pass "
            "--data DIR with cifar10.zip, or set GRADER_DATA_DIR."
        ) from None
    arrays = {"train": (x_train, y_train.ravel()), "test": (x_test, y_test.ravel())}
    members = {
        p: [[f"{i:05d}" for i in np.flatnonzero(arrays[p][1] == c)] for c in range(10)]
        for p in PARTS
    }
    digest = hashlib.sha256(x_train.tobytes() + x_test.tobytes() + y_train.tobytes())
    return DataSource(
        "keras.datasets.cifar10",
        digest.hexdigest()[:16],
        members,
        lambda part, keys: arrays[part][0][[int(k) for k in keys]],
    )


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def split_key(assignment: Assignment, source: DataSource) -> str:
    """Fingerprint of everything that decides the split arrays."""
    params = {
        "format": SPLIT_FORMAT,
        "seed": assignment.seed,
        "data": source.fingerprint,
        "splits": [vars(s) for s in assignment.splits.values()],
    }
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
    try:
        after = _build(assignment, source, target, expected)
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
    assignment: Assignment, source: DataSource, target: Path, expected: list[str]
) -> dict[str, str]:
    """Write the split arrays and their manifest, then put them in place at `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".staging-"))
    try:
        for name, arrays in select_images(assignment, source).items():
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


def select_images(assignment: Assignment, source: DataSource) -> dict[str, dict[str, np.ndarray]]:
    """Stratified, seeded, disjoint selection of every split, in declaration order."""
    cursors = {(p, c): 0 for p in PARTS for c in range(len(CIFAR10_CLASSES))}
    orders = {
        (p, c): np.random.default_rng([assignment.seed, pi, c]).permutation(len(keys))
        for pi, p in enumerate(PARTS)
        for c, keys in enumerate(source.members[p])
    }

    def take(part: str, cifar_class: int, count: int) -> list[str]:
        start = cursors[part, cifar_class]
        cursors[part, cifar_class] += count
        picked = orders[part, cifar_class][start : start + count]
        return [source.members[part][cifar_class][i] for i in picked]

    result = {}
    for index, split in enumerate(assignment.splits.values()):
        rng = np.random.default_rng([assignment.seed, 1000 + index])
        keys: dict[str, list[tuple[str, int]]] = {"train": [], "val": [], "test": []}
        for label, sources in enumerate(split.sources):
            for i, cls in enumerate(sources):
                c = CIFAR10_CLASSES.index(cls)
                for subset, part, per_class in _subsets(split):
                    count = share_count(per_class, len(sources), i)
                    keys[subset] += [(k, label) for k in take(part, c, count)]
        result[split.name] = _load_subsets(source, keys, rng)
    return result


def _subsets(split: Split) -> list[tuple[str, str, int]]:
    return [
        ("train", "train", split.train_per_class),
        ("val", "train", split.val_per_class),
        ("test", "test", split.test_per_class),
    ]


def _load_subsets(
    source: DataSource, keys: dict[str, list[tuple[str, int]]], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    arrays = {}
    for subset, pairs in keys.items():
        pairs = [pairs[i] for i in rng.permutation(len(pairs))]
        part = "test" if subset == "test" else "train"
        images = (
            source.decode(part, [k for k, _ in pairs])
            if pairs
            else np.zeros((0, *IMAGE_SHAPE), np.uint8)
        )
        arrays[f"x_{subset}"] = images
        arrays[f"y_{subset}"] = np.array([label for _, label in pairs], dtype=np.int32)
    return arrays


def load_split(split_dir: Path, names: tuple[str, ...] = ARRAY_NAMES) -> dict[str, np.ndarray]:
    """Read cached split arrays (never pickles)."""
    return {n: np.load(split_dir / f"{n}.npy", allow_pickle=False) for n in names}
