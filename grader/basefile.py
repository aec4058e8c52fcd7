"""Checks an instructor's pre-trained base model file (`.keras`) on the host, without Keras.

A Keras 3 `.keras` file is a zip holding `config.json` (the architecture), `metadata.json`
(the Keras version) and `model.weights.h5`. The grader process never imports Keras (models
are loaded only in sandboxed children), so what can be known before a child loads the file
is read from these entries: a wrong input shape, a layer safe mode refuses, a declared pixel
range the file contradicts, or a file that is not a Keras 3 model at all stops the run with
a message saying the fix, instead of every submission failing in its child.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader import kerasconfig
from grader.errors import SpecError

MAX_FILE = 2 * 1024**3  # a base model for a course fits well inside this
MAX_CONFIG = 20 * 1024**2  # MobileNetV2's config is 160 kB
MAX_METADATA = 64 * 1024
MAX_DEPTH = 100  # models nested inside models
WEIGHTS = ("model.weights.h5", "model.weights.npz")  # Keras 3 writes .h5 unless told npz
HDF5_MAGIC = b"\x89HDF"
SAVE = "save it with model.save('base_model.keras')"
RESAVE = f"load it with Keras 3 and {SAVE}"


@dataclass(frozen=True)
class BaseFileFacts:
    """What the file says about itself, once it agrees with `[base_model]` in the spec.

    Attributes:
        input_shape: the declared input shape (no batch dimension), which the file accepts.
        expects_range: the pixel range its first Rescaling layer implies, None when no layer
            says (no Rescaling, a Normalization, or a scale near 1).
        layers: layers that compute something (nested models flattened, input layers left out).
        keras_version: from metadata.json, "" when it does not say.
        notes: warnings for the instructor that do not stop the run.
    """

    input_shape: tuple[int, ...]
    expects_range: tuple[int, int] | None
    layers: int
    keras_version: str
    notes: tuple[str, ...]


def inspect_base_file(
    path: Path, input_shape: tuple[int, ...], pixel_range: tuple[int, int]
) -> BaseFileFacts:
    """Reads `path` as a Keras 3 model file and checks it against the spec's declarations.

    Raises:
        SpecError: the file is missing, not a Keras 3 `.keras` file, has no weights, takes
            another input shape, holds a layer safe mode cannot load, or contradicts
            `pixel_range`; the message names the file, what was found and the fix.
    """
    config, version = _read_archive(path)
    entries = _layers(path, config)
    _check_shape(path, _input_shape(path, config), tuple(input_shape))
    found = kerasconfig.first_preprocessing(config)
    evidence = kerasconfig.implied_range(found)
    _check_range(path, evidence, tuple(pixel_range))
    notes = []
    if tuple(pixel_range) == (0, 255) and not found:
        notes.append(
            f"{path}: no Rescaling or Normalization layer comes first, so the model will see "
            "raw 0-255 pixel values. That is right only if it was trained on them; to check, "
            f"print keras.saving.load_model('{path.name}').layers[:3] and how it was trained "
            "(keras.applications models expect their preprocess_input outside the model). "
            "If it was trained on [0, 1] pixels, set pixel_range = [0, 1]."
        )
    if version.startswith("2."):
        notes.append(f"{path}: saved with Keras {version}; if a child cannot load it, {RESAVE}.")
    expects = evidence[0] if evidence else None
    layers = kerasconfig.count_layers(entries)
    return BaseFileFacts(tuple(input_shape), expects, layers, version, tuple(notes))


def _read_archive(path: Path) -> tuple[dict[str, Any], str]:
    """The parsed config.json and the Keras version, once the file is a zip with weights."""
    if path.is_dir():
        raise SpecError(f"{path}: a folder, not a `.keras` file; {RESAVE}.")
    if not path.is_file():
        raise SpecError(
            f"{path}: [base_model] file names this file, but it does not exist. "
            "Put the saved model next to assignment.toml or correct the name."
        )
    if path.stat().st_size > MAX_FILE:
        raise SpecError(
            f"{path}: {path.stat().st_size} bytes; a base model file may hold at "
            f"most {MAX_FILE} bytes. Use a smaller model."
        )
    with path.open("rb") as stream:
        head = stream.read(8)
    if head.startswith(HDF5_MAGIC):
        raise SpecError(
            f"{path}: an HDF5 (.h5) model file from Keras 2, not a Keras 3 "
            f"`.keras` file. Fix: {RESAVE}, and name that file in [base_model]."
        )
    try:
        with zipfile.ZipFile(path) as archive:
            return _read_entries(path, archive), _keras_version(archive)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise SpecError(
            f"{path}: not a Keras 3 `.keras` file (not a zip archive: {exc}; it "
            f"starts with bytes {head[:4].hex()}). Fix: {RESAVE}."
        ) from None


def _read_entries(path: Path, archive: zipfile.ZipFile) -> dict[str, Any]:
    """config.json parsed, after checking that the weights are there."""
    sizes = {info.filename: info.file_size for info in archive.infolist()}
    if "config.json" not in sizes:
        raise SpecError(
            f"{path}: a zip without config.json, so not a Keras 3 `.keras` file "
            f"(it holds {sorted(sizes)[:5]}). Fix: {RESAVE}."
        )
    if not any(sizes.get(name, 0) > 0 for name in WEIGHTS):
        raise SpecError(
            f"{path}: no model.weights.h5 (or an empty one): the model was saved "
            "without weights, so there is nothing pre-trained to use. Fix: save "
            "the trained model with model.save('base_model.keras')."
        )
    with archive.open("config.json") as stream:
        raw = stream.read(MAX_CONFIG + 1)
    if len(raw) > MAX_CONFIG:
        raise SpecError(f"{path}: config.json is over {MAX_CONFIG} bytes; use a smaller model.")
    try:
        config = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise SpecError(
            f"{path}: config.json cannot be read ({str(exc)[:200]}). Fix: {RESAVE}."
        ) from None
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
        raise SpecError(f"{path}: config.json is not a Keras model config. Fix: {RESAVE}.")
    return config


def _keras_version(archive: zipfile.ZipFile) -> str:
    """metadata.json's keras_version; "" when absent or unreadable (it only informs)."""
    try:
        with archive.open("metadata.json") as stream:
            version = json.loads(stream.read(MAX_METADATA)).get("keras_version", "")
    except (KeyError, ValueError, AttributeError, RecursionError):
        return ""
    return version if isinstance(version, str) else ""


def _layers(path: Path, config: dict[str, Any]) -> list[dict[str, Any]]:
    """Every entry, once nesting is within the cap and safe mode can load each layer."""
    entries = []
    for entry, depth in kerasconfig.walk(config):
        if depth > MAX_DEPTH:
            raise SpecError(f"{path}: models nested more than {MAX_DEPTH} deep; flatten them.")
        culprit = kerasconfig.foreign(entry)
        if culprit is not None:
            raise SpecError(
                f"{path}: layer '{kerasconfig.name(entry)}' uses {culprit}, which graders "
                "cannot load: base models are loaded in safe mode, from Keras' built-in "
                "classes only. Fix: rebuild the model from built-in layers (a Rescaling "
                f"instead of a Lambda), copy the trained weights over, then {SAVE}."
            )
        entries.append(entry)
    return entries


def _input_shape(path: Path, config: dict[str, Any]) -> list[Any]:
    """The model's one input shape (batch dimension first), or the error saying why not."""
    shapes = kerasconfig.input_shapes(config)
    if len(shapes) > 1:
        raise SpecError(
            f"{path}: the model has {len(shapes)} inputs ({', '.join(shapes)}); a base model "
            "takes one image input. Fix: save a model built from a single keras.Input."
        )
    shape = next(iter(shapes.values()), None)
    if not isinstance(shape, list) or len(shape) < 2 or isinstance(shape[0], list):
        raise SpecError(
            f"{path}: config.json does not say one input shape (found {shape!r}). "
            f"Fix: build the model from keras.Input(shape=...), then {SAVE}."
        )
    return shape


def _check_shape(path: Path, found: list[Any], declared: tuple[int, ...]) -> None:
    """The file's shape without the batch dimension must admit the declared one (a None
    dimension admits any size)."""
    own = found[1:]
    if len(own) == len(declared) and all(
        f is None or f == d for f, d in zip(own, declared, strict=True)
    ):
        return
    shown = "(" + ", ".join("None" if d is None else str(d) for d in own) + ")"
    raise SpecError(
        f"{path}: the model's input shape is {shown}, but [base_model] input_shape in "
        f"assignment.toml declares {list(declared)}. Fix: set input_shape to the file's "
        f"shape, or save the model built with keras.Input(shape={tuple(declared)})."
    )


def _check_range(
    path: Path, evidence: tuple[tuple[int, int], str] | None, declared: tuple[int, ...]
) -> None:
    """A declared range the file's own rescaling contradicts would feed it wrong pixels."""
    if declared not in ((0, 1), (0, 255)):
        raise SpecError(
            f"{path}: [base_model] pixel_range is {list(declared)}; use [0, 255] or "
            "[0, 1], the range of the pixels the model was trained on."
        )
    if evidence is None or evidence[0] == declared:
        return
    expects, how = evidence
    raise SpecError(
        f"{path}: the file {how}: it expects pixels in {list(expects)}, but "
        f"assignment.toml declares [base_model] pixel_range = {list(declared)}. "
        f"Fix: set pixel_range = {list(expects)}."
    )
