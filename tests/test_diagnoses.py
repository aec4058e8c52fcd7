"""Real student code that cannot run here is told the real cause and its fix (issue 11).

Each fixture under tests/fixtures/submissions is written as students write it; it goes
through the training worker's own import, call and model check in this process. Downloads
fail as in the sandbox (no network): Keras' download function raises a name-resolution
error, with its cache pointed at an empty folder.
"""

from __future__ import annotations

import shutil
import socket
import sys
import urllib.error
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from grader.errors import ErrorKind, StudentError
from grader.messages import LANGUAGES, Message, diagnoses, render
from grader.pipeline.training import child_failure
from grader.protocol import ErrorReport
from grader.worker.build import build, validate_model
from grader.worker.loading import import_submission
from tests.conftest import FIXTURES, ROOT
from tests.test_error_messages import placeholders
from tests.test_protocol import request

SUBMISSIONS = FIXTURES / "submissions"
CASES = {  # fixture, task: error kind, message id, what the English text says
    ("private-keras", "scratch"): (
        ErrorKind.NOT_A_MODEL,
        "not_a_model.private_keras",
        "returned a Sequential from `tensorflow.python.keras`, TensorFlow's private copy",
    ),
    ("private-keras", "transfer"): (
        ErrorKind.BUILD_ERROR,
        "build_error.private_keras",
        "`build_transfer(base_model, num_classes)` failed (submission line 18: `model = "
        "models.Sequential(base_model.layers[:-1])`): your code uses `tensorflow.python.keras`",
    ),
    ("imagenet-weights", "transfer"): (
        ErrorKind.BUILD_ERROR,
        "build_error.no_network.weights",
        "keras.applications.VGG16 with pre-trained weights downloads them from the internet, "
        "and there is no network while grading. Use the provided base model",
    ),
    ("keras2-augmentation", "scratch"): (
        ErrorKind.IMPORT_ERROR,
        "import_error.keras2_augmentation",
        "Importing submission.py failed (submission line 4: `from keras.preprocessing.image "
        "import ImageDataGenerator`): `keras.preprocessing.image.ImageDataGenerator` was "
        "removed in Keras 3, the version the grader runs. Augment inside the model instead",
    ),
    ("keras2-optimizer", "scratch"): (
        ErrorKind.BUILD_ERROR,
        "build_error.keras2_lr",
        "(submission line 16: `opt = Adam(lr=0.0005)`): Keras 3 optimizers take "
        "`learning_rate=`, not Keras 2's `lr=`",
    ),
    ("keras2-np-utils", "scratch"): (
        ErrorKind.IMPORT_ERROR,
        "import_error.keras2_removed",
        "`keras.utils.np_utils` was removed in Keras 3, the version the grader runs. Use "
        "instead: keras.utils.to_categorical(y).",
    ),
    ("dataset-download", "scratch"): (
        ErrorKind.IMPORT_ERROR,
        "import_error.no_network.dataset",
        "keras.datasets.cifar10.load_data() downloads the data set, and there is no network "
        "while grading.",
    ),
}


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Downloads fail as they do in the sandbox, and nothing is found already downloaded."""
    from keras.src.backend import config
    from keras.src.utils import file_utils

    def unreachable(url: str, *args: Any, **kwargs: Any) -> None:
        reason = socket.gaierror(-3, "Temporary failure in name resolution")
        raise urllib.error.URLError(reason)

    monkeypatch.setattr(file_utils, "urlretrieve", unreachable)
    monkeypatch.setattr(config, "_KERAS_DIR", str(tmp_path / "keras-home"))


@pytest.fixture
def worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_network: None) -> Any:
    """Run a fixture submission's task as the training worker does, up to the model check."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "submission", raising=False)

    def run(fixture: str, task: str, **changes: Any) -> Any:
        folder = tmp_path / "submission"
        shutil.copytree(SUBMISSIONS / fixture, folder)
        function = {"scratch": "build_scratch", "transfer": "build_transfer"}[task]
        call = "base" if task == "transfer" else "shape"
        sent = replace(request(), task=task, function=function, call=call, **changes)
        module = import_submission(folder / "submission.py")
        validate_model(build(module, sent, _base() if call == "base" else None), sent)

    return run


def _base() -> Any:
    import keras

    return keras.Sequential(
        [keras.Input((32, 32, 3)), keras.layers.Conv2D(4, 3), keras.layers.Flatten(),
         keras.layers.Dense(8), keras.layers.Dense(10, activation="softmax")]
    )  # fmt: skip


@pytest.mark.parametrize(("fixture", "task"), list(CASES))
def test_the_real_cause_is_named_with_its_fix(worker: Any, fixture: str, task: str) -> None:
    kind, message_id, english = CASES[fixture, task]
    with pytest.raises(StudentError) as caught:
        worker(fixture, task)
    assert (caught.value.kind, caught.value.message_id) == (kind, message_id), caught.value
    texts = [render(Message(message_id, caught.value.params), lang) for lang in LANGUAGES]
    assert english in texts[0], texts[0]
    for text in texts:
        for path in (sys.prefix, sys.base_prefix, str(ROOT), "/tmp/", "<python>", "<grader>"):
            assert path not in text, text


def test_an_unknown_keras_name_is_not_called_removed(worker: Any, tmp_path: Path) -> None:
    folder = SUBMISSIONS / "keras2-np-utils"
    with pytest.raises(StudentError) as caught:
        source = (
            (folder / "submission.py")
            .read_text()
            .replace("from keras.utils import np_utils", "x = keras.layers.Conv2d")
        )
        path = tmp_path / "typo" / "submission.py"
        path.parent.mkdir()
        path.write_text(source)
        import_submission(path)
    assert caught.value.message_id == "import_error.keras2_missing"
    assert "`keras.layers.Conv2d` does not exist in Keras 3" in render(
        Message(caught.value.message_id, caught.value.params), "en"
    )


def test_other_failures_keep_the_raw_error(worker: Any) -> None:
    with pytest.raises(StudentError) as caught:
        worker("build-raises", "scratch")
    assert caught.value.message_id == "build_error"
    assert (
        "ValueError: Could not interpret activation function identifier: nope"
        in (caught.value.params["error"])
    )


@pytest.mark.parametrize("message_id", sorted(diagnoses.TEXTS))
def test_every_diagnosis_has_both_languages_and_reaches_the_host(message_id: str) -> None:
    texts = diagnoses.TEXTS[message_id]
    assert set(texts) == set(LANGUAGES)
    assert placeholders(texts["es"]) == placeholders(texts["en"])
    params = {name: "x" for name in placeholders(texts["en"])}
    kind = "not_a_model" if message_id.startswith("not_a_model") else message_id.split(".")[0]
    assert child_failure(ErrorReport(kind, message_id, params))[1].id == message_id
