"""A head trained on its frozen base's features, computed once, is trained exactly as the
whole model would be: the same History and weights to the last bit (issue 16, item 4).

Each `build_transfer` idiom goes through the training worker's `train` twice from the same
seed, once with the features path disabled, and the two reports and saved models must be
equal with `==`. Models where it would not be equivalent must take the naive path.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader import data, protocol
from grader.worker import features
from grader.worker import train as train_module
from grader.worker.loading import load_base, load_model
from grader.worker.train import train
from tests.conftest import ROOT
from tests.test_checkpoints import Unlimited
from tests.test_transfer_idioms import HEAD, IDIOMS, transfer_request

pytestmark = pytest.mark.slow
BASE = ROOT / "assignments" / "transfer-learning" / "base_model.py"
INPUTS = "inputs = keras.Input(shape=(32, 32, 3))\n"
BASE_ON_INPUTS = "x = base_model(inputs, training=False)\n"
MODEL = f"model = keras.Model(inputs, {HEAD}(x))\n"
# More heads and trunks than tests/test_transfer_idioms.py needs: stochastic or stateful
# layers after the cut, and frozen layers of the student's own before it.
MORE: dict[str, str] = {
    "head_with_batchnorm_and_dropout": (
        "x = base_model.layers[-2].output\nx = layers.BatchNormalization()(x)\n"
        f"x = layers.Dropout(0.5)(x)\nmodel = keras.Model(base_model.input, {HEAD}(x))\n"
    ),
    "nested_base_then_dropout": (
        f"{INPUTS}{BASE_ON_INPUTS}x = layers.Dropout(0.3)(x)\n{MODEL}"
    ),  # fmt: skip
    "dropout_inside_the_base": (
        f"{INPUTS}x = base_model.layers[1](base_model.layers[0](inputs))\n"
        "x = layers.Dropout(0.2)(x)\nfor layer in base_model.layers[2:-1]:\n    x = layer(x)\n"
        f"{MODEL}"
    ),
    "extractor_up_to_the_pooling_on_new_input": (
        "extractor = keras.Model(base_model.input, base_model.layers[-3].output)\n"
        f"{INPUTS}x = extractor(inputs, training=False)\n{MODEL}"
    ),
    "frozen_batchnorm_in_the_trunk": (
        "norm = layers.BatchNormalization()\nnorm.trainable = False\n"
        "x = norm(base_model.layers[2].output)\nx = layers.GlobalAveragePooling2D()(x)\n"
        f"model = keras.Model(base_model.input, {HEAD}(x))\n"
    ),
}
# `pop_and_add`: the Sequential's `trainable = False` freezes the added layer, which is
# trainable on its own: a head of it would train what the model does not (naive path).
ELIGIBLE = {name: body for name, (body, _, _) in IDIOMS.items() if name != "pop_and_add"} | MORE
# These compute their features differently in training, or learn them: never cached.
NAIVE: dict[str, str] = {
    "augmentation_before_the_base": (
        f'{INPUTS}x = layers.RandomFlip("horizontal")(inputs)\n'
        f"x = base_model(x, training=False)\n{MODEL}"
    ),
    "fine_tuned_base": (
        "base_model.trainable = True\n"
        f"model = keras.Model(base_model.input, {HEAD}(base_model.layers[-2].output))\n"
    ),
    "dropout_on_the_input": (
        f"{INPUTS}x = layers.Dropout(0.1)(inputs)\nx = base_model(x, training=False)\n{MODEL}"
    ),
    "pop_and_add": IDIOMS["pop_and_add"][0],
    "skip_connection_from_the_input": (
        f"{INPUTS}{BASE_ON_INPUTS}x = layers.Concatenate()([x, layers.Flatten()(inputs)])\n{MODEL}"
    ),
}


@pytest.fixture(scope="module")
def base_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The transfer-learning assignment's base (untrained: the weights only need be fixed)."""
    spec = importlib.util.spec_from_file_location("base_transfer_learning", BASE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path_factory.mktemp("base") / "base.keras"
    module.build_base_model(data.CIFAR10_SHAPE).save(path)
    return path


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100 training images (3 full batches of 32 and a partial one) and 40 validation."""
    folder = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(16)
    for split, n in (("train", 100), ("val", 40)):
        np.save(folder / f"x_{split}.npy", rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8))
        np.save(folder / f"y_{split}.npy", rng.integers(0, 3, n, dtype=np.int64))
    return folder


def run(body: str, base: Path, folder: Path, tmp: Path, mp: pytest.MonkeyPatch, **kw: Any) -> Any:
    """`train` a `build_transfer` with `body` as the worker does; its report."""
    defaults = protocol.Defaults(kw.get("epochs", 3), 32, "adam", 0.001, kw.get("patience", 1))
    limits = protocol.TrainLimits(5, 10**6, 64, cpu_seconds=kw.get("cpu_seconds", 0.0))
    request = transfer_request(body, base, folder, tmp, mp, defaults, limits)
    report = train(request)
    assert report.error is None, report.error
    return report


def naive_and_features(body: str, base: Path, folder: Path, tmp: Path) -> tuple[Any, Any]:
    """The reports and saved weights of `train` without the features path, then with it."""
    runs = []
    for name in ("naive", "features"):
        with pytest.MonkeyPatch.context() as mp:
            if name == "naive":
                mp.setattr(features, "find_cut", lambda model: None)
            report = run(body, base, folder, tmp / name, mp)
        saved = load_model(str(tmp / name / "out" / "model.keras"), "build_transfer", None)
        runs.append((report.trained, [np.asarray(w) for w in saved.weights]))
    return runs[0], runs[1]


@pytest.mark.parametrize("idiom", list(ELIGIBLE))
def test_the_head_trains_on_features_exactly_as_the_whole_model(
    idiom: str, base_file: Path, images: Path, tmp_path: Path
) -> None:
    (naive, naive_weights), (cached, cached_weights) = naive_and_features(
        ELIGIBLE[idiom], base_file, images, tmp_path
    )
    assert (naive.base_features, cached.base_features) == (False, True)
    assert cached.history == naive.history  # every float, bit for bit
    assert len(cached_weights) == len(naive_weights)
    for ours, theirs in zip(cached_weights, naive_weights, strict=True):
        assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs)
    assert naive.history.epochs >= 2
    assert len(set(naive.history.loss)) > 1  # it did learn: the comparison means something


@pytest.mark.parametrize("idiom", list(NAIVE))
def test_models_computing_their_features_while_training_take_the_naive_path(
    idiom: str, base_file: Path, images: Path, tmp_path: Path
) -> None:
    with pytest.MonkeyPatch.context() as mp:
        report = run(NAIVE[idiom], base_file, images, tmp_path, mp, epochs=1)
    assert report.trained.base_features is False


def test_the_trunk_ends_before_the_first_dropout(base_file: Path, tmp_path: Path) -> None:
    import keras

    base = load_base(str(base_file))
    inputs = keras.Input(shape=(32, 32, 3))
    pooled = base.layers[1](base.layers[0](inputs))
    outputs = keras.layers.Dense(3)(keras.layers.Flatten()(keras.layers.Dropout(0.5)(pooled)))
    cut = features.find_cut(keras.Model(inputs, outputs))
    assert cut is not None and cut.node is None
    assert cut.tensor._keras_history.operation is base.layers[1]


def _frozen_gap_model(base_file: Path) -> Any:
    import keras

    base = load_base(str(base_file))
    model = keras.Model(base.input, keras.layers.Dense(3)(base.get_layer("gap").output))
    model.compile(optimizer="adam", loss="mse")
    return model


@pytest.mark.parametrize("images", [65, 66, 64])
def test_features_are_used_when_the_last_batchs_size_gives_the_same_bits(
    images: int, base_file: Path
) -> None:
    """Training may put any image in the last, smaller batch. Under the children's AVX2 cap
    oneDNN convolves a batch of one image otherwise than a batch of 32 (by ~3e-7; 65 images
    then train the naive way), at this process's native ISA it may not: the plan follows the
    bits, whatever the machine."""
    import keras

    model = _frozen_gap_model(base_file)
    x = np.random.default_rng(1).random((images, 32, 32, 3), dtype=np.float32)
    trunk = keras.Model(model.input, model.get_layer("gap").output)
    rest = images % 32 or 32
    alone = trunk.predict(x[:rest], batch_size=32, verbose=0)
    in_a_full_batch = trunk.predict(x[:32], batch_size=32, verbose=0)[:rest]
    plan = features.plan(model, {"x_train": x, "x_val": x[:8]}, 32)
    assert plan.used is bool(np.array_equal(alone, in_a_full_batch))
    if plan.used:
        assert plan.data["x_train"].shape == (images, 64) and plan.model is not model


def test_features_that_change_by_one_ulp_in_other_batches_are_not_used(
    base_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard's second look (the first images again, in other batches) differing in a
    single last bit is enough for the naive path."""
    model = _frozen_gap_model(base_file)
    x = np.random.default_rng(2).random((66, 32, 32, 3), dtype=np.float32)
    real, looks = features._features, []

    def second_look_differs(trunk: Any, images: np.ndarray, batch_size: int) -> np.ndarray:
        looks.append(len(images))
        found = real(trunk, images, batch_size)
        return found if len(looks) <= 2 else np.nextafter(found, np.inf)  # train, val, guard

    assert features.plan(model, {"x_train": x, "x_val": x[:8]}, 32).used
    looks.clear()
    monkeypatch.setattr(features, "_features", second_look_differs)
    assert not features.plan(model, {"x_train": x, "x_val": x[:8]}, 32).used
    assert looks == [66, 8, 34]  # the guard looked at a full batch and one of the last's size


def test_a_subclassed_model_has_no_cut(base_file: Path) -> None:
    import keras

    class Head(keras.Model):
        def __init__(self, base: Any) -> None:
            super().__init__()
            self.base, self.head = base, keras.layers.Dense(3)

        def call(self, x: Any) -> Any:
            return self.head(self.base(x))

    model = Head(load_base(str(base_file)))
    model(np.zeros((1, 32, 32, 3), np.float32))
    assert features.find_cut(model) is None


def test_the_checkpoints_hold_the_whole_model(
    base_file: Path, images: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(train_module, "Budget", Unlimited)
    monkeypatch.setattr(train_module, "drop_checkpoints", lambda out: None)
    body = IDIOMS["base_called_with_training_false"][0]
    report = run(
        body, base_file, images, tmp_path, monkeypatch, epochs=2, patience=0, cpu_seconds=999.0
    )
    assert report.trained.base_features
    out = tmp_path / "out"
    last = load_model(str(out / "epoch-2.keras"), "build_transfer", None)
    final = load_model(str(out / "model.keras"), "build_transfer", None)
    assert [w.shape for w in last.weights] == [w.shape for w in final.weights]
    assert all(np.array_equal(a, b) for a, b in zip(last.weights, final.weights, strict=True))
    progress = (out / "progress.json").read_text()
    assert '"base_features": true' in progress


def test_a_trunk_without_frozen_weights_is_not_cached() -> None:
    """A scratch model's Rescaling is exact to cache but saves nothing: naive path."""
    import keras

    inputs = keras.Input(shape=(32, 32, 3))
    x = keras.layers.Conv2D(4, 3)(keras.layers.Rescaling(1 / 255)(inputs))
    model = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(x)))
    model.compile(optimizer="adam", loss="mse")
    assert features.find_cut(model) is not None  # the Rescaling alone
    x_train = np.zeros((8, 32, 32, 3), np.float32)
    assert features.plan(model, {"x_train": x_train, "x_val": x_train}, 4).used is False


def test_a_model_all_trunk_has_no_head_to_train(base_file: Path) -> None:
    import keras

    base = load_base(str(base_file))
    assert features.find_cut(keras.Model(base.input, base.get_layer("gap").output)) is None
