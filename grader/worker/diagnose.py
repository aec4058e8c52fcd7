"""The real cause of a student's exception, when it is a known one: its message id and fix.

Real course code fails here for a few reasons that have nothing to do with the model: a
Keras 2 API that Keras 3 removed, TensorFlow's private `tensorflow.python.keras`, or a
download (pre-trained weights, a data set) in a sandbox without network. Each becomes
`<stage>.<cause>` (e.g. `import_error.keras2_augmentation`), texts in
`grader/messages/diagnoses.py`; anything else keeps the stage's own message.
"""

from __future__ import annotations

import re
import traceback
from typing import Any

from grader.errors import ErrorKind, StudentError
from grader.worker.runtime import describe, where

LAYER_MODULES = ("core", "convolutional", "pooling", "normalization", "advanced_activations",
                 "recurrent", "embeddings")  # fmt: skip
OPTIMIZERS = ("Adam", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam")
# What each Keras 2 name (found by one of its dotted parts) became in Keras 3: code only.
REPLACEMENTS = {
    "experimental": "keras.layers.RandomFlip, keras.layers.RandomRotation, "
    "keras.layers.RandomZoom, keras.layers.Rescaling",
    "np_utils": "keras.utils.to_categorical(y)",
    "fit_generator": "model.fit(...)",
    "evaluate_generator": "model.evaluate(...)",
    "predict_generator": "model.predict(...)",
    "predict_classes": "np.argmax(model.predict(x), axis=1)",
    "predict_proba": "model.predict(x)",
    "merge": "keras.layers.Concatenate(), keras.layers.Add()",
    "engine": "keras.layers.Layer, keras.Model",
    "legacy": "keras.optimizers.Adam(learning_rate=...)",
    **{module: "from keras.layers import Conv2D, Dense" for module in LAYER_MODULES},
    **{o.lower(): f"keras.optimizers.{o}(learning_rate=...)" for o in OPTIMIZERS},
}
MODEL_METHODS = {"fit_generator", "evaluate_generator", "predict_generator", "predict_classes",
                 "predict_proba"}  # fmt: skip
PRIVATE_KERAS = ("tensorflow.python.keras", "tensorflow/python/keras", "tf_keras")
_MISSING = (
    re.compile(r"cannot import name '(?P<name>\w+)' from '(?P<module>[\w.]+)'"),
    re.compile(r"No module named '(?P<module>[\w.]+)'"),
    re.compile(r"module '(?P<module>[\w.]+)' has no attribute '(?P<name>\w+)'"),
)
_METHOD = re.compile(r"'\w+' object has no attribute '(?P<name>\w+)'")
_NETWORK = {"URLError", "gaierror", "herror", "ConnectionError", "NewConnectionError",
            "MaxRetryError", "NameResolutionError", "ConnectTimeout"}  # fmt: skip


def student_error(exc: BaseException, kind: ErrorKind, stage: str, **params: Any) -> StudentError:
    """The error for `exc`, raised by student code at `stage` (`import_error`, `build_error`).

    A known cause gets its own message (`<stage>.<cause>`), which names the student's line
    and the fix instead of the raw exception; any other keeps `stage` with `error`.
    """
    found = cause(exc)
    if found is None:
        return StudentError(kind, stage, **params, error=describe(exc))
    name, extra = found
    return StudentError(kind, f"{stage}.{name}", **params, where=where(exc), **extra)


def cause(exc: BaseException) -> tuple[str, dict[str, str]] | None:
    """A known cause of `exc` (its id and parameters), or None."""
    return _private(exc) or _download(exc) or _keras2(exc)


def private_model(model: Any) -> bool:
    """A model from TensorFlow's private Keras 2 copy (or the tf_keras package)."""
    return type(model).__module__.startswith(("tensorflow.python.keras", "tf_keras"))


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and the exceptions it was raised from or while handling (at most 10)."""
    out: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in out and len(out) < 10:
        out.append(current)
        current = current.__cause__ or current.__context__
    return out


def _frames(exc: BaseException) -> list[traceback.FrameSummary]:
    return [f for e in _chain(exc) for f in traceback.extract_tb(e.__traceback__)]


def _private(exc: BaseException) -> tuple[str, dict[str, str]] | None:
    text = " ".join([str(e) for e in _chain(exc)] + [f.filename for f in _frames(exc)])
    return ("private_keras", {}) if any(p in text for p in PRIVATE_KERAS) else None


def _download(exc: BaseException) -> tuple[str, dict[str, str]] | None:
    """A download that failed for want of network: pre-trained weights, a data set, other."""
    errors = _chain(exc)
    names = {c.__name__ for e in errors for c in type(e).__mro__}
    if not names & _NETWORK and not any("URL fetch failure" in str(e) for e in errors):
        return None
    for frame in _frames(exc):
        path = frame.filename.replace("\\", "/")
        if "/keras/src/applications/" in path and frame.name[:1].isupper():
            return "no_network.weights", {"what": f"keras.applications.{frame.name}"}
        if "/keras/src/datasets/" in path:
            stem = path.rsplit("/", 1)[-1].removesuffix(".py")
            return "no_network.dataset", {"what": f"keras.datasets.{stem}.load_data()"}
    return "no_network", {}


def _keras2(exc: BaseException) -> tuple[str, dict[str, str]] | None:
    """A Keras 2 name or argument that Keras 3 does not have."""
    text = str(exc)
    if isinstance(exc, ValueError) and re.search(r"not recognized: \{'lr'", text):
        return "keras2_lr", {}
    if isinstance(exc, AttributeError) and (method := _METHOD.search(text)):
        name = method["name"]
        if name not in MODEL_METHODS:
            return None  # an attribute of the student's own making
        return "keras2_removed", {"old": f"model.{name}", "new": REPLACEMENTS[name]}
    if not isinstance(exc, ImportError | AttributeError):
        return None
    for pattern in _MISSING:
        match = pattern.search(text)
        if match and match["module"].split(".")[0] in ("keras", "tensorflow"):
            return _missing(match)
    return None


def _missing(match: re.Match[str]) -> tuple[str, dict[str, str]] | None:
    """A `keras` (or `tensorflow.keras`) module or name that cannot be imported."""
    name = match.groupdict().get("name")
    old = f"{match['module']}.{name}" if name else match["module"]
    if old.startswith("tensorflow.python."):
        return None  # TensorFlow's internals: not a Keras 2 name
    if "ImageDataGenerator" in old:
        return "keras2_augmentation", {"old": old}
    new = _new(old)
    return ("keras2_removed", {"old": old, "new": new}) if new else ("keras2_missing", {"old": old})


def _new(old: str) -> str | None:
    return next((REPLACEMENTS[p] for p in reversed(old.split(".")) if p in REPLACEMENTS), None)
