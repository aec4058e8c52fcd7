"""The spec's `[data]` table, split amounts and `[base_model]` table: where images come from,
what models are handed, and which pre-trained model a transfer task builds on."""

from __future__ import annotations

import functools
from pathlib import Path

from grader.assignment import (
    CIFAR10_CLASSES,
    PIXEL_RANGES,
    RESIZE_METHODS,
    SOURCES,
    BaseModel,
    Data,
    Split,
    Training,
)
from grader.errors import DataError, SpecError
from grader.spec_reader import TableReader, field_names

MAX_SIDE = 1024  # pixels per side a model may be handed


def read_data(r: TableReader, directory: Path) -> Data:
    """The `[data]` table (absent: CIFAR-10 at 32x32, pixels in [0, 1])."""
    r.reject_unknown(field_names(Data))
    source = r.get("source", str, "cifar10", check=lambda v: v in SOURCES,
                   expected=f"one of {list(SOURCES)}")  # fmt: skip
    path = None
    if source == "folder":
        path = r.get("path", str, expected="a folder or .zip of train/<class>/ images")
        if not (directory / path).exists():
            raise r.fail("path", path, f"a folder or .zip that exists (looked in {directory})")
    elif "path" in r.table:
        raise r.fail("path", r.table["path"], 'unset unless source = "folder"')
    size = r.get("image_size", list, [32, 32], check=_is_size,
                 expected=f"[height, width], whole pixels from 8 to {MAX_SIDE}")  # fmt: skip
    return Data(
        source=source,
        path=path,
        image_size=(size[0], size[1]),
        resize=r.get(
            "resize",
            str,
            "stretch",
            check=lambda v: v in RESIZE_METHODS,
            expected=f"one of {list(RESIZE_METHODS)}",
        ),  # fmt: skip
        pixel_range=read_range(r, "pixel_range", (0, 1)),
    )


def _is_size(value: list[object]) -> bool:
    return len(value) == 2 and all(
        isinstance(v, int) and not isinstance(v, bool) and 8 <= v <= MAX_SIDE for v in value
    )


def read_range(r: TableReader, key: str, default: tuple[int, int] | object) -> tuple[int, int]:
    ranges = [list(p) for p in PIXEL_RANGES]
    value = r.get(key, list, list(default) if isinstance(default, tuple) else default,
                  check=lambda v: v in ranges, expected=f"one of {ranges}")  # fmt: skip
    return (value[0], value[1])


def source_classes(data: Data, directory: Path) -> tuple[str, ...]:
    """The class names a split may draw from: CIFAR-10's, or the folder's `train/` classes.

    Raises:
        SpecError: the folder is not in the image-folder layout (the message says why).
    """
    if data.source == "cifar10":
        return CIFAR10_CLASSES
    assert data.path is not None
    return _folder_classes(directory / data.path)


@functools.cache
def _folder_classes(path: Path) -> tuple[str, ...]:
    from grader import imagefolder  # only folder assignments need Pillow and zip listing

    try:
        return imagefolder.class_names(path)
    except DataError as exc:
        raise SpecError(f"[data] path = {path}: {exc}") from None


def read_amount(r: TableReader, key: str) -> int | float:
    """A per-class amount: a count of images, or a share of each class's images."""
    return r.get(
        key,
        (int, float),
        check=lambda v: (
            not isinstance(v, bool) and (0 <= v <= 1_000_000 if isinstance(v, int) else 0 < v <= 1)
        ),
        expected="a count of images per class (an integer >= 0) or a share of each "
        "class's images (a number in (0, 1], e.g. 0.2)",
    )


def read_base(r: TableReader, splits: dict[str, Split], directory: Path, data: Data) -> BaseModel:
    """`[base_model]`: a builder the grader trains once (.py), or a saved model (.keras)."""
    if "positive_class" in r.table:  # read by older graders, never used: say so, not ignore it
        name = r.name("positive_class")
        raise SpecError(
            f"{r.path}: `{name}` is no longer used (the base model learns its split's classes "
            f"in order); remove it. Received: {name}={r.table['positive_class']!r}"
        )
    r.reject_unknown(field_names(BaseModel))
    file = r.get("file", str, "base_model.py", check=lambda v: v.endswith((".py", ".keras")),
                 expected="a builder (.py) or a saved Keras model (.keras)")  # fmt: skip
    if not (directory / file).is_file():
        raise r.fail("file", file, f"a file inside {directory}")
    if file.endswith(".keras"):
        return _read_base_file(r, file, directory, data)
    for key in ("input_shape", "pixel_range"):
        if key in r.table:
            raise r.fail(key, r.table[key], "unset for a builder (the [data] table decides)")
    # Any split: a binary detector, or a multi-class classifier (a richer feature extractor).
    split = r.get("split", str, check=lambda v: v in splits, expected=f"one of {list(splits)}")
    training = read_training(r.sub("training"))
    return BaseModel(file, r.get("function", str, "build_base_model"), split, training)


def _read_base_file(r: TableReader, file: str, directory: Path, data: Data) -> BaseModel:
    """A saved model: its declared input must be what the [data] table hands the models."""
    for key in ("function", "split", "training"):
        if key in r.table:
            raise r.fail(key, r.table[key], "unset for a saved model (.keras): it is not trained")
    shape = r.get("input_shape", list, expected="[height, width, 3], as the file was saved")
    if shape != list(data.input_shape):
        raise r.fail(
            "input_shape", shape, f"the [data] table's image size {list(data.input_shape)}: "
            "the base model takes the images the students' models take (set [data] "
            "image_size to the base model's input size)"
        )  # fmt: skip
    pixel_range = read_range(r, "pixel_range", ...)
    if pixel_range != data.pixel_range:
        raise r.fail(
            "pixel_range", list(pixel_range), f"the [data] table's pixel_range "
            f"{list(data.pixel_range)}: every model is handed the same pixels"
        )  # fmt: skip
    from grader import basefile  # reads the file's config, never TensorFlow

    basefile.inspect_base_file(directory / file, tuple(shape), pixel_range)
    return BaseModel(file, None, None, None, tuple(shape), pixel_range)


def read_training(r: TableReader) -> Training:
    from grader.assignment import OPTIMIZERS

    r.reject_unknown(field_names(Training))
    return Training(
        epochs=r.positive("epochs"),
        batch_size=r.positive("batch_size", 32),
        optimizer=r.get("optimizer", str, "adam", check=lambda v: v in OPTIMIZERS,
                        expected=f"one of {list(OPTIMIZERS)}"),
        learning_rate=r.get("learning_rate", float, 0.001, check=lambda v: 0 < v < 10,
                            expected="a number in (0, 10)"),
        early_stopping_patience=r.get("early_stopping_patience", int, 0,
                                      check=lambda v: v >= 0, expected="an integer >= 0"),
    )  # fmt: skip
