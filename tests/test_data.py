"""The fixed split: stratified, seeded, disjoint, identical on every run, and cached."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from grader import cifar10, data
from grader.spec import load_assignment
from tests.conftest import FIXTURES

TINY = FIXTURES / "assignments" / "tiny"


@pytest.fixture(scope="module")
def source(data_dir: Path) -> data.DataSource:
    return cifar10.find(data_dir)


@pytest.fixture(scope="module")
def splits(source: data.DataSource, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return data.prepare_splits(load_assignment(TINY), source, tmp_path_factory.mktemp("cache"))


def test_source_fingerprint_is_the_archive_hash(source: data.DataSource) -> None:
    assert source.fingerprint == "05b4c8c8bf43c212"
    assert [len(c) for c in source.members["train"]] == [5000] * 10
    assert [len(c) for c in source.members["test"]] == [1000] * 10


def test_split_is_stratified_with_relabelled_classes(splits: Path) -> None:
    arrays = data.load_split(splits / "vehicles")
    assert arrays["x_train"].shape == (120, 32, 32, 3) and arrays["x_train"].dtype == np.uint8
    assert np.bincount(arrays["y_train"]).tolist() == [40, 40, 40]
    assert np.bincount(arrays["y_val"]).tolist() == [20, 20, 20]
    assert np.bincount(arrays["y_test"]).tolist() == [30, 30, 30]
    assert arrays["y_train"][:10].tolist() != sorted(arrays["y_train"][:10].tolist())  # shuffled


def _digests(images: np.ndarray) -> set[str]:
    return {hashlib.sha1(img.tobytes()).hexdigest() for img in images}


def test_splits_draw_disjoint_images(splits: Path) -> None:
    seen: set[str] = set()
    for name in ("base", "vehicles", "cifar10"):
        arrays = data.load_split(splits / name)
        for part in ("x_train", "x_val"):
            digests = _digests(arrays[part])
            assert not digests & seen, f"{name}/{part} reuses an image of an earlier split"
            seen |= digests


def test_selection_is_deterministic_and_seeded(source: data.DataSource) -> None:
    tiny = load_assignment(TINY)
    first = data.select_images(tiny, source)["vehicles"]
    again = data.select_images(tiny, source)["vehicles"]
    assert all(np.array_equal(first[k], again[k]) for k in data.ARRAY_NAMES)
    other_seed = data.select_images(tiny.__class__(**{**vars(tiny), "seed": 8}), source)
    assert not np.array_equal(first["x_train"], other_seed["vehicles"]["x_train"])


def test_second_prepare_decodes_nothing(source: data.DataSource, tmp_path: Path) -> None:
    tiny = load_assignment(TINY)
    first = data.prepare_splits(tiny, source, tmp_path)

    def refuse(*_args: object) -> np.ndarray:
        raise AssertionError("the cache was not used: images were decoded again")

    cached = data.DataSource(
        source.description, source.fingerprint, source.classes, source.members, refuse
    )
    assert data.prepare_splits(tiny, cached, tmp_path) == first


def test_cache_key_changes_with_split_parameters(source: data.DataSource, tmp_path: Path) -> None:
    spec = (
        (TINY / "assignment.toml")
        .read_text()
        .replace("train_per_class = 40", "train_per_class = 41")
    )
    shutil.copy(TINY / "base_model.py", tmp_path / "base_model.py")
    (tmp_path / "assignment.toml").write_text(spec)
    assert data.split_key(load_assignment(tmp_path), source) != data.split_key(
        load_assignment(TINY), source
    )


def test_unpacked_folder_gives_the_same_images(source: data.DataSource, tmp_path: Path) -> None:
    import zipfile

    wanted = [source.members[p][c][i] for p in data.PARTS for c in range(10) for i in range(3)]
    with zipfile.ZipFile(Path(source.description)) as archive:
        for name in wanted:
            target = tmp_path / "cifar10" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(name))
    folder = cifar10.find(tmp_path)
    assert np.array_equal(folder.decode("train", wanted[:3]), source.decode("train", wanted[:3]))


def test_missing_data_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(data.DataError, match="Pass --data DIR \\(or set GRADER_DATA_DIR\\)"):
        cifar10.find(tmp_path)


def test_a_file_that_is_no_zip_archive_is_refused_at_once(tmp_path: Path) -> None:
    (tmp_path / "cifar10.zip").write_bytes(b"<html>a login page, saved by a browser</html>")
    with pytest.raises(data.DataError, match="is not a readable zip archive"):
        cifar10.find(tmp_path)


def test_wrong_archive_layout(tmp_path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(tmp_path / "cifar10.zip", "w") as archive:
        archive.writestr("images/cat/1.jpg", b"x")
    source = cifar10.find(tmp_path)  # listed when a split is built from it: then refused
    with pytest.raises(data.DataError, match="not the CIFAR-10 image-folder layout"):
        data.select_images(load_assignment(TINY), source)


def test_cifar10_at_another_size_is_fitted_like_a_folder(data_dir: Path, tmp_path: Path) -> None:
    """A CIFAR-10 assignment with `[data] image_size`: every image resized the way photos
    are (`grader.images.fit_array`), and its own cache key."""
    text = (TINY / "assignment.toml").read_text()
    text = text.replace("seed = 7\n", "seed = 7\n[data]\nimage_size = [48, 40]\n", 1)
    shutil.copy(TINY / "base_model.py", tmp_path / "base_model.py")
    (tmp_path / "assignment.toml").write_text(text)
    spec = load_assignment(tmp_path)
    assert spec.data.input_shape == (48, 40, 3)
    resized = data.find_source(spec, data_dir)
    plain = cifar10.find(data_dir)
    keys = resized.members["test"][1][:3]
    images = resized.decode("test", keys)
    assert images.shape == (3, 48, 40, 3) and images.dtype == np.uint8
    from grader.images import fit_array

    expected = fit_array(plain.decode("test", keys)[0], (48, 40), "stretch")
    assert np.array_equal(images[0], expected)
    assert data.split_key(spec, resized) != data.split_key(load_assignment(TINY), plain)
