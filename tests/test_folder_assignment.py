"""An assignment over a photo folder: its spec (classes from folders, shares, image size,
pixel range, a saved base model checked against `[data]`) and the splits drawn from it
(sizes, counts, hidden test from test/ or from train/, too few images, duplicates)."""

from __future__ import annotations

import shutil
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from grader import data
from grader.errors import DataError, SpecError
from grader.spec import load_assignment

CLASSES = ("caballo", "gato", "pájaro")  # sorted: the label order


def photos(root: Path, train: int = 10, test: int | None = 4) -> Path:
    """Class-coloured photos of varied sizes and formats (a grayscale one per class)."""
    rng = np.random.default_rng(1)
    parts = [("train", train)] + ([("test", test)] if test else [])
    for part, count in parts:
        for c, cls in enumerate(CLASSES):
            (root / part / cls).mkdir(parents=True)
            for i in range(count):
                pixels = rng.integers(0, 80, (30 + 7 * i, 40 + 3 * c, 3), dtype=np.uint8)
                pixels[..., c] += 170
                image = Image.fromarray(pixels)
                if i == 0:
                    image = image.convert("L")
                image.save(root / part / cls / f"{cls}_{i:02d}{'.png' if i % 3 else '.jpg'}")
    return root


SPEC = """
id = "fotos"
seed = 3
[data]
source = "folder"
path = "fotos"
image_size = [24, 20]
pixel_range = [0, 255]
[splits.main]
{classes}
train_per_class = {train}
val_per_class = {val}
test_per_class = {test}
[tasks.scratch]
function = "build_scratch"
split = "main"
defaults = {{ epochs = 1 }}
limits = {{ max_epochs = 1, max_params = 10_000, max_seconds = 60 }}
checks = [{{ kind = "min_test_accuracy", threshold = 0.1, points = 1 }}]
{extra}
"""


def assignment(
    tmp_path: Path,
    *,
    classes: str = "",
    train: str = "6",
    val: str = "2",
    test: str = "4",
    extra: str = "",
    test_folder: bool = True,
) -> Path:
    folder = tmp_path / "assignment"
    if not (folder / "fotos").exists():
        photos(folder / "fotos", test=4 if test_folder else None)
    text = SPEC.format(classes=classes, train=train, val=val, test=test, extra=extra)
    (folder / "assignment.toml").write_text(text, encoding="utf-8")
    return folder


def splits(folder: Path, tmp_path: Path) -> tuple[dict[str, np.ndarray], list[str]]:
    spec = load_assignment(folder)
    notes: list[str] = []
    built = data.prepare_splits(
        spec, data.find_source(spec, None), tmp_path / "splits", notes.append
    )
    return data.load_split(built / "main"), notes


def test_classes_come_from_the_folders_and_images_take_the_spec_size(tmp_path: Path) -> None:
    folder = assignment(tmp_path)
    spec = load_assignment(folder)
    assert spec.splits["main"].classes == CLASSES
    assert spec.data.input_shape == (24, 20, 3) and spec.data.pixel_divisor == 1.0
    arrays, notes = splits(folder, tmp_path)
    assert arrays["x_train"].shape == (18, 24, 20, 3) and arrays["x_train"].dtype == np.uint8
    assert np.bincount(arrays["y_train"]).tolist() == [6, 6, 6]
    assert np.bincount(arrays["y_test"]).tolist() == [4, 4, 4]  # all of test/
    assert notes == []
    # each class keeps its colour through decoding and resizing: labels match the pixels
    dominant = arrays["x_train"].reshape(18, -1, 3).mean(axis=1).argmax(axis=1)
    grey = arrays["x_train"].std(axis=3).mean(axis=(1, 2)) < 1
    assert (dominant == arrays["y_train"])[~grey].all()


def test_shares_give_each_class_its_own_count(tmp_path: Path) -> None:
    folder = assignment(tmp_path, train="0.5", val="0.2", test="0.25")
    arrays, _ = splits(folder, tmp_path)
    assert np.bincount(arrays["y_train"]).tolist() == [5, 5, 5]
    assert np.bincount(arrays["y_val"]).tolist() == [2, 2, 2]
    assert np.bincount(arrays["y_test"]).tolist() == [1, 1, 1]  # 0.25 of test/'s 4


def test_without_test_folder_the_hidden_test_is_drawn_from_train_disjointly(
    tmp_path: Path,
) -> None:
    folder = assignment(tmp_path, train="5", val="2", test="3", test_folder=False)
    arrays, _ = splits(folder, tmp_path)
    flat = {n: arrays[f"x_{n}"].reshape(len(arrays[f"x_{n}"]), -1) for n in ("train", "test")}
    rows = {row.tobytes() for row in flat["train"]}
    assert len(flat["test"]) == 9 and not any(r.tobytes() in rows for r in flat["test"])


def test_listed_classes_and_relabel_use_folder_names(tmp_path: Path) -> None:
    classes = 'classes = ["mamífero", "pájaro"]\nrelabel = { "mamífero" = ["caballo", "gato"] }'
    spec = load_assignment(assignment(tmp_path, classes=classes, train="4", val="2", test="2"))
    assert spec.splits["main"].sources == (("caballo", "gato"), ("pájaro",))
    with pytest.raises(SpecError, match=r"classes in fotos \['caballo', 'gato', 'pájaro'\]"):
        load_assignment(assignment(tmp_path, classes='classes = ["gato", "perro"]'))


def test_a_class_with_too_few_images_is_named_with_the_counts(tmp_path: Path) -> None:
    folder = assignment(tmp_path, train="8", val="4")
    spec = load_assignment(folder)
    with pytest.raises(DataError) as info:
        data.prepare_splits(spec, data.find_source(spec, None), tmp_path / "splits")
    message = str(info.value)
    assert "class 'caballo' has 10 images in train/" in message
    assert "draw 12 (main.train 8, main.val 4)" in message and "lower the" in message


def test_a_broken_image_stops_the_split_naming_the_file(tmp_path: Path) -> None:
    folder = assignment(tmp_path, train="10", val="0")  # every train image is used
    (folder / "fotos" / "train" / "gato" / "gato_05.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    spec = load_assignment(folder)
    with pytest.raises(DataError, match=r"train/gato/gato_05\.png"):
        data.prepare_splits(spec, data.find_source(spec, None), tmp_path / "splits")


def test_an_image_in_train_and_hidden_test_is_reported(tmp_path: Path) -> None:
    folder = assignment(tmp_path, train="10", val="0")
    copy = folder / "fotos" / "test" / "gato" / "gato_03.png"
    shutil.copyfile(folder / "fotos" / "train" / "gato" / "gato_04.png", copy)
    _, notes = splits(folder, tmp_path)
    assert any("train/gato/gato_04.png" in n and "test/gato/gato_03.png" in n for n in notes)


# A saved base model, checked against the [data] table and the file itself


def saved_base(path: Path, shape: tuple[int, ...], rescale: bool) -> None:
    head = [keras.layers.Rescaling(1 / 255)] if rescale else []
    model = keras.Sequential(
        [keras.Input(shape), *head, keras.layers.Conv2D(4, 3, name="conv")], name="base"
    )
    model.save(path)


BASE = """
[base_model]
file = "base.keras"
input_shape = {shape}
pixel_range = {range}
"""


def test_a_saved_base_matching_the_data_loads(tmp_path: Path) -> None:
    extra = BASE.format(shape="[24, 20, 3]", range="[0, 255]")
    folder = assignment(tmp_path, extra=extra)
    saved_base(folder / "base.keras", (24, 20, 3), rescale=True)
    base = load_assignment(folder).base_model
    assert base is not None and base.from_file and base.input_shape == (24, 20, 3)
    assert base.function is None and base.split is None


@pytest.mark.parametrize(
    ("declared", "saved", "expected"),
    [
        ("[32, 32, 3]", (32, 32, 3), "must be the \\[data\\] table's image size \\[24, 20, 3\\]"),
        ("[24, 20, 3]", (32, 32, 3), "32, 32, 3"),  # the file's own input differs
    ],
)
def test_a_saved_base_of_another_size_is_refused(
    tmp_path: Path, declared: str, saved: tuple[int, ...], expected: str
) -> None:
    folder = assignment(tmp_path, extra=BASE.format(shape=declared, range="[0, 255]"))
    saved_base(folder / "base.keras", saved, rescale=True)
    with pytest.raises(SpecError, match=expected):
        load_assignment(folder)


def test_a_saved_base_that_rescales_is_refused_for_pixels_in_0_1(tmp_path: Path) -> None:
    extra = BASE.format(shape="[24, 20, 3]", range="[0, 1]")
    folder = assignment(tmp_path, extra=extra)
    text = (folder / "assignment.toml").read_text(encoding="utf-8")
    (folder / "assignment.toml").write_text(text.replace("[0, 255]", "[0, 1]", 1), "utf-8")
    saved_base(folder / "base.keras", (24, 20, 3), rescale=True)
    with pytest.raises(SpecError, match="pixel_range"):
        load_assignment(folder)


def test_a_saved_base_must_use_the_data_pixel_range(tmp_path: Path) -> None:
    folder = assignment(tmp_path, extra=BASE.format(shape="[24, 20, 3]", range="[0, 1]"))
    saved_base(folder / "base.keras", (24, 20, 3), rescale=False)
    with pytest.raises(SpecError, match="every model is handed the same pixels"):
        load_assignment(folder)


def test_a_saved_base_takes_no_training_keys(tmp_path: Path) -> None:
    extra = BASE.format(shape="[24, 20, 3]", range="[0, 255]") + 'split = "main"\n'
    folder = assignment(tmp_path, extra=extra)
    saved_base(folder / "base.keras", (24, 20, 3), rescale=True)
    with pytest.raises(SpecError, match="unset for a saved model"):
        load_assignment(folder)
