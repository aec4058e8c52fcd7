"""A subclassed keras.Model is graded as the functional model its call() builds (issue 12).

Each submission goes through the training worker's own path in this process: import,
`build`, `validate_model`, `compile_model`, a few training steps, `model.save`, and the
scoring side's safe-mode `load_model` (no student code). A subclass that the functional
model would not reproduce is refused, with the reason and the fix.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader import protocol
from grader.errors import ErrorKind, StudentError
from grader.messages import LANGUAGES, Message, render
from grader.worker.build import build, validate_model
from grader.worker.inspect import count_reused, custom_classes_in, serialized_config
from grader.worker.loading import import_submission, load_model
from grader.worker.train import Settings, compile_model, fit
from tests.conftest import FIXTURES

SHAPE = (16, 16, 3)
HEADER = """
import keras
import tensorflow as tf
from keras import layers


"""
QUICKSTART = """
class MyModel(keras.Model):  # TensorFlow's "for experts" quickstart, as students copy it
    def __init__(self, num_classes):
        super().__init__()
        self.scale = layers.Rescaling(1 / 255)
        self.conv1 = layers.Conv2D(8, 3, activation="relu")
        self.pool = layers.MaxPooling2D()
        self.flatten = layers.Flatten()
        self.d1 = layers.Dense(16, activation="relu")
        self.d2 = layers.Dense(num_classes, activation="softmax")

    def call(self, x):
        return self.d2(self.d1(self.flatten(self.pool(self.conv1(self.scale(x))))))


def build_scratch(input_shape, num_classes):
    model = MyModel(num_classes)
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy")
    return model
"""
WITH_TRAINING = """
class MyModel(keras.Model):
    def __init__(self, num_classes, **kwargs):
        super().__init__(**kwargs)
        self.augment = keras.Sequential([layers.RandomFlip("horizontal")])
        self.conv = layers.Conv2D(8, 3, activation="relu")
        self.gap = layers.GlobalAveragePooling2D()
        self.dropout = layers.Dropout(0.3)
        self.out = layers.Dense(num_classes, activation="softmax")

    def call(self, inputs, training=False):
        x = self.augment(inputs, training=training)
        x = self.dropout(self.gap(self.conv(x / 255.0)), training=training)
        return self.out(x)


def build_scratch(input_shape, num_classes):
    return MyModel(num_classes)
"""
SEQUENTIAL = """
class Net(keras.Sequential):
    pass


def build_scratch(input_shape, num_classes):
    return Net([layers.Conv2D(4, 3), layers.Flatten(), layers.Dense(num_classes, "softmax")])
"""
TRANSFER = """
class Transfer(keras.Model):
    def __init__(self, base, num_classes):
        super().__init__()
        self.base = base
        self.head = layers.Dense(num_classes, activation="softmax")

    def call(self, x):
        return self.head(self.base(x, training=False))


def build_transfer(base_model, num_classes):
    features = keras.Model(base_model.inputs, base_model.layers[-2].output)
    return Transfer(features, num_classes)
"""
REFUSED = {  # call(), or another method, and the reason the grader gives
    "training_branch": """
    def call(self, x, training=None):
        if training:
            x = self.flip(x)
        return self.out(self.flatten(x))
""",
    "training_steps": """
    def call(self, x):
        return self.out(self.flatten(x))

    def train_step(self, data):
        return super().train_step(data)
""",
    "untraceable": """
    def call(self, x):
        return self.out(self.flatten(tf.nn.relu(x)))
""",
    "differs": """
    def call(self, x):
        return layers.Dense(3, activation="softmax")(self.flatten(x))
""",
}
REFUSED_CLASS = """
class MyModel(keras.Model):
    def __init__(self, num_classes):
        super().__init__()
        self.flip = layers.RandomFlip("horizontal")
        self.flatten = layers.Flatten()
        self.out = layers.Dense(num_classes, activation="softmax")
{call}

def build_scratch(input_shape, num_classes):
    return MyModel(num_classes)
"""


def request(function: str = "build_scratch", call: str = "shape") -> protocol.TrainRequest:
    return protocol.TrainRequest(
        task="scratch",
        call=call,  # type: ignore[arg-type]
        function=function,
        classes=("other", "automobile", "truck"),
        input_shape=SHAPE,
        seed=7,
        defaults=protocol.Defaults(1, 8, "adam", 0.001, 0),
        limits=protocol.TrainLimits(max_epochs=1, max_params=100_000, max_batch_size=8),
        submission="submission.py",
        data=".",
        out=".",
    )


@pytest.fixture
def submit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Import a submission's source as the worker does."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "submission", raising=False)

    def write(source: str) -> Any:
        path = tmp_path / "submission.py"
        path.write_text(HEADER + textwrap.dedent(source))
        return import_submission(path)

    return write


def base_model() -> Any:
    import keras

    return keras.Sequential([keras.Input(SHAPE), keras.layers.Conv2D(4, 3),
                             keras.layers.Flatten(), keras.layers.Dense(8),
                             keras.layers.Dense(10, activation="softmax")])  # fmt: skip


def graded(model: Any, sent: protocol.TrainRequest, folder: Path) -> tuple[Any, Any]:
    """Check, compile, train a few steps and save as the training child does; load the file
    as the scoring child does. The trained model and the loaded one."""
    validate_model(model, sent)
    _, fmt = compile_model(model, sent.defaults)
    rng = np.random.default_rng(0)
    data = {f"x_{s}": rng.integers(0, 256, (16, *SHAPE)).astype(np.uint8) for s in ("train", "val")}
    data |= {f"y_{s}": rng.integers(0, 3, 16) for s in ("train", "val")}
    fit(model, data, fmt, sent, Settings(epochs=1, batch_size=8, early_stopping_patience=0))
    model.save(folder / "model.keras")
    return model, load_model(str(folder / "model.keras"), sent.function, None)


@pytest.mark.parametrize("source", [QUICKSTART, WITH_TRAINING, SEQUENTIAL])
def test_a_subclassed_model_is_graded_as_its_functional_model(
    submit: Any, source: str, tmp_path: Path
) -> None:
    import keras

    sent = request()
    model = build(submit(source), sent, None)
    assert type(model).__module__.startswith("keras.")
    assert custom_classes_in(serialized_config(model)) == set()  # scored in safe mode
    trained, loaded = graded(model, sent, tmp_path)
    x = np.random.default_rng(1).random((4, *SHAPE), dtype=np.float32)
    assert np.allclose(loaded.predict(x, verbose=0), trained.predict(x, verbose=0), atol=1e-6)
    assert trained.count_params() == loaded.count_params()
    if source is QUICKSTART:  # the student's own compile: SGD, not the default Adam
        assert isinstance(trained.optimizer, keras.optimizers.SGD)


def test_the_functional_model_trains_the_students_own_layers(submit: Any) -> None:
    module = submit(QUICKSTART)
    sent = request()
    model = build(module, sent, None)
    student_weights = {id(w) for w in model.layers[-1].weights}
    assert student_weights <= {id(w) for w in model.trainable_weights}
    assert [type(layer).__name__ for layer in model.layers] == [
        "InputLayer", "Rescaling", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense"
    ]  # fmt: skip


def test_a_subclass_holding_the_base_model_reuses_it(submit: Any, tmp_path: Path) -> None:
    base = base_model()
    sent = request("build_transfer", "base")
    model = build(submit(TRANSFER), sent, base)
    trained, loaded = graded(model, sent, tmp_path)
    reuse = count_reused(base, loaded)
    assert (reuse.base_layers, reuse.reused_layers) == (3, 2)  # conv and features, not the head


@pytest.mark.parametrize("reason", REFUSED)
def test_a_subclass_its_functional_model_would_change_is_refused(submit: Any, reason: str) -> None:
    module = submit(REFUSED_CLASS.format(call=REFUSED[reason]))
    with pytest.raises(StudentError) as caught:
        build(module, request(), None)
    error = caught.value
    assert error.kind is ErrorKind.NOT_A_MODEL
    assert error.message_id == f"not_a_model.subclass.{reason}"
    texts = [render(Message(error.message_id, error.params), lang) for lang in LANGUAGES]
    assert "`build_scratch` returned an instance of your class `MyModel`" in texts[0]
    assert "keras.Sequential([keras.Input(shape=(16, 16, 3)), ...])" in texts[0]


def test_the_course_fixture_subclass_now_grades(submit: Any, tmp_path: Path) -> None:
    source = (FIXTURES / "submissions" / "subclassed-model" / "submission.py").read_text()
    model = build(submit(source), request(), None)
    graded(model, request(), tmp_path)
