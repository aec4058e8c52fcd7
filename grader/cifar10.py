"""CIFAR-10 as a dataset source: `cifar10.zip`, an unpacked `cifar10/` folder, or Keras'
downloader (for users who are online), all giving the same interface (`DataSource`)."""

from __future__ import annotations

import functools
import hashlib
import io
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import numpy as np

from grader.assignment import CIFAR10_CLASSES
from grader.datasource import PARTS, DataSource
from grader.errors import DataError

SHAPE = (32, 32, 3)  # every CIFAR-10 image as stored


def find(data_dir: Path | None) -> DataSource:
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

    out = np.empty((len(keys), *SHAPE), dtype=np.uint8)
    for i, key in enumerate(keys):
        with Image.open(io.BytesIO(read(key))) as img:
            out[i] = np.asarray(img.convert("RGB").resize((SHAPE[1], SHAPE[0])))
    return out


def _zip_source(path: Path) -> DataSource:
    """The archive's fingerprint now; its listing (60,000 names: a quarter of a second)
    only when a split is built from it, not on every run that finds its splits cached."""
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path} is not a readable zip archive.")

    @functools.cache
    def archive() -> zipfile.ZipFile:
        try:
            return zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise DataError(f"{path} is not a readable zip archive ({exc}).") from None

    return DataSource(
        f"{path}",
        _file_sha256(path),
        CIFAR10_CLASSES,
        Listing(lambda: _group_members(archive().namelist(), str(path))),
        lambda _part, keys: _decode_jpegs(archive().read, keys),
    )


class Listing(Mapping[str, list[list[str]]]):
    """A source's `members`, listed on first use."""

    def __init__(self, list_members: Callable[[], dict[str, list[list[str]]]]) -> None:
        self._list = functools.cache(list_members)

    def __getitem__(self, part: str) -> list[list[str]]:
        return self._list()[part]

    def __iter__(self) -> Iterator[str]:
        return iter(self._list())

    def __len__(self) -> int:
        return len(self._list())


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
        CIFAR10_CLASSES,
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
        CIFAR10_CLASSES,
        members,
        lambda part, keys: arrays[part][0][[int(k) for k in keys]],
    )


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()[:16]
