"""The checkpoint a training leaves after each epoch (grader/worker/budget.py), for a time
limit to score: written from an exact copy of the model in a thread of its own (training
goes on meanwhile), or from the model itself when no exact copy can be made. Either way the
file holds the model of that epoch, as the grader's scoring loads it."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.protocol import History, TrainFacts
from grader.worker import budget as budget_module
from grader.worker.budget import checkpoint_name, checkpoints
from grader.worker.loading import load_model

keras = pytest.importorskip("keras")


class Unlimited:
    """Budget's interface, without the watchdog or RLIMIT_CPU (this is pytest's process)."""

    def __init__(self, seconds: float = 0.0) -> None:
        pass

    def charged(self) -> float:
        return 1.5

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        yield


def facts(history: History, cpu_seconds: float) -> TrainFacts:
    return TrainFacts(history, 16, "adam", "sparse_categorical_crossentropy", "integer", 1)


@pytest.fixture
def saves(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    """(epochs, thread name) of each checkpoint written."""
    seen: list[tuple[int, str]] = []
    real = budget_module.save_checkpoint

    def recorded(model: Any, out: Path, report: TrainFacts) -> None:
        seen.append((report.history.epochs, threading.current_thread().name))
        real(model, out, report)

    monkeypatch.setattr(budget_module, "save_checkpoint", recorded)
    return seen


def fit(model: Any, out: Path, epochs: int = 3) -> Any:
    """Train `model` on random images with the checkpoint callback; the callback."""
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 8, 8, 3), np.float32), rng.integers(0, 3, 64)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    callback = checkpoints(out, Unlimited(), facts, model)  # type: ignore[arg-type]
    model.fit(x, y, validation_data=(x, y), epochs=epochs, batch_size=16, verbose=0,
              callbacks=[callback])  # fmt: skip
    return callback


def assert_last_checkpoint_is_the_model(model: Any, out: Path, epochs: int) -> None:
    assert sorted(p.name for p in out.glob("epoch-*.keras")) == [checkpoint_name(epochs)]
    progress = json.loads((out / "progress.json").read_text())
    assert len(progress["trained"]["history"]["loss"]) == epochs
    saved = load_model(str(out / checkpoint_name(epochs)), "build", None)
    assert as_saved(saved.get_config()) == as_saved(model.get_config())
    assert len(saved.weights) == len(model.weights)
    for mine, theirs in zip(model.weights, saved.weights, strict=True):
        assert np.array_equal(np.asarray(mine), np.asarray(theirs)), mine.path


def as_saved(config: dict) -> str:
    """A model's config as a `.keras` file holds it (JSON: a tuple reads back as a list)."""
    return json.dumps(config, sort_keys=True)


def sequential() -> Any:
    layers = keras.layers
    return keras.Sequential([
        keras.Input((8, 8, 3)), layers.RandomFlip("horizontal"),
        layers.Conv2D(4, 3, activation="relu"), layers.BatchNormalization(),
        layers.Flatten(), layers.Dropout(0.2), layers.Dense(3, activation="softmax"),
    ])  # fmt: skip


def functional() -> Any:
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))


@pytest.mark.parametrize("build", [sequential, functional])
def test_each_epoch_is_checkpointed_from_a_copy_in_a_thread_of_its_own(
    build: Any, saves: list[tuple[int, str]], tmp_path: Path
) -> None:
    model = build()
    callback = fit(model, tmp_path)
    assert callback.writer.copy is not None
    assert saves == [(1, "grader-checkpoint"), (2, "grader-checkpoint"), (3, "grader-checkpoint")]
    assert callback.writer.thread is None  # the last one was waited for when training ended
    assert_last_checkpoint_is_the_model(model, tmp_path, 3)


def test_a_subclassed_model_is_checkpointed_as_it_is_in_the_training_thread(
    saves: list[tuple[int, str]], tmp_path: Path
) -> None:
    class Small(keras.Model):
        def __init__(self) -> None:
            super().__init__()
            self.flat, self.head = keras.layers.Flatten(), keras.layers.Dense(3, "softmax")

        def call(self, x: Any) -> Any:
            return self.head(self.flat(x))

    model = Small()
    callback = fit(model, tmp_path, epochs=2)
    assert callback.writer.copy is None
    main = threading.current_thread().name
    assert saves == [(1, main), (2, main)]
    assert (tmp_path / checkpoint_name(2)).is_file()


def test_a_layer_whose_config_cannot_rebuild_it_is_saved_from_the_model(
    saves: list[tuple[int, str]], tmp_path: Path
) -> None:
    class Scale(keras.layers.Layer):  # its get_config leaves out `factor`: no exact copy
        def __init__(self, factor: float, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x: Any) -> Any:
            return x * self.factor

    model = keras.Sequential([keras.Input((8, 8, 3)), Scale(0.5), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])  # fmt: skip
    callback = fit(model, tmp_path, epochs=2)
    assert callback.writer.copy is None
    assert [thread for _, thread in saves] == [threading.current_thread().name] * 2
