"""Bringing code and models into a worker: the submission, and `.keras` files (safe or not).

A model file came out of a child that ran student code, so by default it is loaded in
Keras' safe mode, and refused before loading when its config names anything outside an
allowlist of Keras' own classes and functions (a Lambda layer under any spelling, a class
from outside Keras...: see worker/references.py). Only a worker in the student's own
sandbox loads one with the submission's classes.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

from grader.errors import ErrorKind, StudentError
from grader.worker import linemap
from grader.worker.diagnose import student_error
from grader.worker.inspect import custom_classes_in
from grader.worker.packages import missing_module_error
from grader.worker.runtime import first_line

CONFIG_MAX_BYTES = 16 * 2**20  # a CNN's config is a few kB; Keras would read it whole
SHOWN = 6  # refused classes named in the message


def import_submission(path: Path) -> Any:
    """Import the student's module (its folder on sys.path, for its own helper modules).

    Raises:
        StudentError: a syntax error, or anything raised while the module ran.
    """
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location("submission", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["submission"] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise StudentError(
            ErrorKind.SYNTAX_ERROR, "syntax_error", file=path.name, line=exc.lineno, error=exc.msg
        ) from None
    except BaseException as exc:  # noqa: BLE001 - anything at import time is the student's error
        file = linemap.notebook_name(str(path)) or path.name  # the file the student wrote
        missing = missing_module_error(exc, file)
        kind = ErrorKind.IMPORT_ERROR
        raise missing or student_error(exc, kind, "import_error", file=file) from None
    return module


def student_objects(submission: Path) -> dict[str, Any]:
    """The submission's classes and functions, by name, for loading its custom layers."""
    module = import_submission(submission)
    return {
        name: value
        for name, value in vars(module).items()
        if inspect.isclass(value) or inspect.isfunction(value)
    }


def load_base(path: str) -> Any:
    """The instructor's base model, whole, every layer frozen, `.input`/`.output` defined."""
    import keras

    base = keras.models.load_model(path, compile=False)
    base.trainable = False  # `base_model.trainable = True` then unfreezes it, as in Keras' guide
    for layer in base.layers:
        layer.trainable = False
    define_input(base)
    return base


def define_input(model: Any) -> None:
    """Give a Sequential the `.input` and `.output` tf.keras gave it (Keras 3 does not).

    A Keras 3 Sequential has `inputs` and its layers have outputs, but `.input`/`.output`
    raise until the model is called. Calling it once on its own input tensor defines both on
    the graph its layers belong to, so the tutorials' `keras.Model(base.input,
    base.layers[-2].output)` is connected; `layers` and everything else are unchanged.
    Its first layer is given the `input_shape` a Sequential looks for, so that
    `keras.Sequential(base.layers[:-1] + [...])` is built at once (`count_params()` works).
    """
    import keras

    inputs = getattr(model, "inputs", None)
    if not inputs or len(inputs) != 1 or not model.layers:
        return
    try:
        model.input  # noqa: B018 - a functional model (or one already called) has it
    except AttributeError:
        model(inputs[0])
    first = model.layers[0]
    if not isinstance(first, keras.layers.InputLayer) and not hasattr(first, "input_shape"):
        first.input_shape = tuple(inputs[0].shape)


def load_model(path: str, function: str, custom: dict[str, Any] | None) -> Any:
    """Load a `.keras` file: in safe mode with Keras' own classes, or with the student's.

    Raises:
        StudentError: the file names custom classes (safe mode), or does not load.
    """
    if custom is not None:
        return _load_with_classes(path, function, custom)
    found = sorted(custom_classes_in_file(path, function))
    if found:
        classes = ", ".join(found[:SHOWN]) + (", ..." if len(found) > SHOWN else "")
        raise StudentError(
            ErrorKind.CUSTOM_OBJECTS, "custom_objects", function=function, classes=classes
        )
    import keras

    try:
        return keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - a model file is untrusted input
        text = first_line(exc)
        custom_named = "custom" in text.lower() or "lambda" in text.lower()
        kind = ErrorKind.CUSTOM_OBJECTS if custom_named else ErrorKind.BAD_MODEL_FILE
        raise StudentError(kind, "unsafe_model_file", function=function, error=text) from None


def _load_with_classes(path: str, function: str, custom: dict[str, Any]) -> Any:
    import keras

    try:
        return keras.models.load_model(path, custom_objects=custom, compile=False, safe_mode=False)
    except Exception as exc:  # noqa: BLE001 - the student's classes failed to rebuild
        raise StudentError(
            ErrorKind.BAD_MODEL_FILE,
            "bad_model_file.custom",
            function=function,
            error=first_line(exc),
        ) from None


def custom_classes_in_file(path: str, function: str) -> set[str]:
    """What in a `.keras` file's config the grader cannot load without the student's code,
    found without loading it.

    Raises:
        StudentError: the config cannot be read as Keras would read it (then it is not
            loaded at all).
    """
    try:
        with zipfile.ZipFile(path) as archive, archive.open("config.json") as member:
            raw = member.read(CONFIG_MAX_BYTES + 1)
        if len(raw) > CONFIG_MAX_BYTES:
            raise ValueError(f"config.json is over {CONFIG_MAX_BYTES // 2**20} MB")
        config = json.loads(raw)
    except (OSError, KeyError, ValueError, RecursionError, zipfile.BadZipFile) as exc:
        error = f"its config.json cannot be read: {first_line(exc)}"
        raise StudentError(
            ErrorKind.BAD_MODEL_FILE, "unsafe_model_file", function=function, error=error
        ) from None
    return custom_classes_in(config)
