"""Every common way to use the base model grades, on every base model an assignment names.

Each idiom is a `build_transfer` as tutorials and students write it. It goes through the
training worker's own code in this process (the base saved, then loaded by `load_base`, the
function called, the model checked, trained one epoch on a few images and saved), and the
saved files are read as the scoring worker reads them: safe mode, base reuse counted on the
model as built. tests/test_real_student_code.py grades one idiom in real child processes.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader import data, protocol
from grader.spec import load_assignment
from grader.worker.inspect import count_reused
from grader.worker.loading import load_base, load_model
from grader.worker.train import train
from tests.conftest import FIXTURES, ROOT

pytestmark = pytest.mark.slow
ASSIGNMENTS = [ROOT / "assignments" / "transfer-learning", FIXTURES / "assignments" / "tiny"]
HEADER = (
    "import keras\nfrom keras import layers\n\n\ndef build_transfer(base_model, num_classes):\n"
)
HEAD = 'layers.Dense(num_classes, activation="softmax")'
COMPILE = '    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")\n'
# name: (body of build_transfer, pre-trained layers reused: "head" = all but the base's
# classifier, "all", or a number; frozen layers: "reused" = all those, or reused minus n)
IDIOMS: dict[str, tuple[str, Any, Any]] = {
    "model_from_input_and_layer_output": (
        f"x = base_model.layers[-2].output\noutputs = {HEAD}(x)\n"
        "model = keras.Model(base_model.input, outputs)\n",
        "head",
        "reused",
    ),
    "model_from_inputs_plural": (
        f"model = keras.Model(inputs=base_model.inputs, outputs={HEAD}(base_model.layers[-2]"
        ".output))\n",
        "head",
        "reused",
    ),
    "head_on_the_whole_output": (
        'x = layers.Dense(16, activation="relu")(base_model.output)\n'
        f"model = keras.Model(base_model.input, {HEAD}(x))\n",
        "all",
        "reused",
    ),
    "cut_at_a_convolution": (
        "x = base_model.layers[2].output\nx = layers.GlobalAveragePooling2D()(x)\n"
        f"model = keras.Model(base_model.input, {HEAD}(x))\n",
        2,
        "reused",
    ),
    "feature_extractor_called_on_new_input": (
        "features = keras.Model(base_model.input, base_model.get_layer(base_model.layers[-2]"
        ".name).output)\ninputs = keras.Input(shape=(32, 32, 3))\n"
        f"x = features(inputs, training=False)\nmodel = keras.Model(inputs, {HEAD}(x))\n",
        "head",
        "reused",
    ),
    "sequential_of_layers": (
        f"model = keras.Sequential(base_model.layers[:-1] + [{HEAD}])\n",
        "head",
        "reused",
    ),  # fmt: skip
    "sequential_of_layers_inspected_in_the_function": (
        f"model = keras.Sequential(base_model.layers[:-1] + [{HEAD}])\n"
        "print(model.count_params(), model.output_shape)\nmodel.summary()\n",
        "head",
        "reused",
    ),
    "sequential_with_input_and_layers": (
        "model = keras.Sequential([keras.Input(shape=(32, 32, 3))] + base_model.layers[:-1] + "
        f"[{HEAD}])\n",
        "head",
        "reused",
    ),
    "base_called_with_training_false": (
        "inputs = keras.Input(shape=(32, 32, 3))\nx = base_model(inputs, training=False)\n"
        f"model = keras.Model(inputs, {HEAD}(x))\n",
        "all",
        "reused",
    ),
    "sequential_around_the_whole_base": (
        f"model = keras.Sequential([base_model, {HEAD}])\n",
        "all",
        "reused",
    ),  # fmt: skip
    "layers_applied_in_a_loop": (
        "inputs = keras.Input(shape=(32, 32, 3))\nx = inputs\n"
        "for layer in base_model.layers[:-1]:\n    x = layer(x)\n"
        f"model = keras.Model(inputs, {HEAD}(x))\n",
        "head",
        "reused",
    ),
    "sequential_built_with_add": (
        "model = keras.Sequential()\nfor layer in base_model.layers[:-1]:\n    model.add(layer)\n"
        f"model.add({HEAD})\n",
        "head",
        "reused",
    ),
    "pop_and_add": (
        f"base_model.pop()\nbase_model.add({HEAD})\nmodel = base_model\n",
        "head",
        "reused",
    ),  # fmt: skip
    "trainable_false_then_functional": (
        "base_model.trainable = False\nx = base_model.layers[-2].output\n"
        f"model = keras.Model(base_model.input, {HEAD}(x))\n",
        "head",
        "reused",
    ),
    "per_layer_freezing": (
        "base_model.trainable = True\nfor layer in base_model.layers[:-2]:\n"
        "    layer.trainable = False\n"
        f"model = keras.Model(base_model.input, {HEAD}(base_model.layers[-2].output))\n",
        "head",
        1,  # the last Dense layer kept from the base trains again
    ),
}


def _bases() -> list[Any]:
    found = []
    for folder in ASSIGNMENTS:
        spec = load_assignment(folder).base_model
        assert spec is not None, folder
        found.append(pytest.param((folder / spec.file, spec.function), id=folder.name))
    return found


@pytest.fixture(scope="module", params=_bases())
def base_file(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The assignment's base model, built by its own code and saved as the grader saves it."""
    source, function = request.param
    spec = importlib.util.spec_from_file_location(f"base_{source.parent.name}", source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path_factory.mktemp("base") / "base.keras"
    getattr(module, function)(data.CIFAR10_SHAPE).save(path)
    return path


def _inputs(folder: Path) -> None:
    rng = np.random.default_rng(0)
    for split, n in (("train", 16), ("val", 8)):
        images = rng.integers(0, 256, (n, *data.CIFAR10_SHAPE), dtype=np.uint8)
        np.save(folder / f"x_{split}.npy", images)
        np.save(folder / f"y_{split}.npy", np.arange(n, dtype=np.int64) % 3)


def grade_idiom(body: str, base: Path, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Train one `build_transfer` as the worker does; its report and its saved models."""
    _inputs(tmp)
    defaults = protocol.Defaults(1, 8, "adam", 0.001, 0)
    limits = protocol.TrainLimits(max_epochs=2, max_params=10**6, max_batch_size=64)
    return train(transfer_request(body, base, tmp, tmp, monkeypatch, defaults, limits))


def transfer_request(
    body: str,
    base: Path,
    folder: Path,
    tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
    defaults: protocol.Defaults,
    limits: protocol.TrainLimits,
) -> protocol.TrainRequest:
    """The training request of a `build_transfer` whose body is `body`, written to
    `tmp/submission.py` (importable afresh); its arrays in `folder`, its output `tmp/out`."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "submission", raising=False)
    (tmp / "out").mkdir(parents=True)
    indented = "".join(f"    {line}\n" for line in body.splitlines())
    (tmp / "submission.py").write_text(HEADER + indented + COMPILE + "    return model\n")
    return protocol.TrainRequest(
        task="transfer",
        call="base",
        function="build_transfer",
        classes=("other", "automobile", "truck"),
        input_shape=data.CIFAR10_SHAPE,
        seed=7,
        defaults=defaults,
        limits=limits,
        submission=str(tmp / "submission.py"),
        data=str(folder),
        out=str(tmp / "out"),
        base_model=str(base),
    )


@pytest.mark.parametrize("idiom", list(IDIOMS))
def test_the_idiom_grades(
    idiom: str, base_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body, reused, frozen = IDIOMS[idiom]
    report = grade_idiom(body, base_file, tmp_path, monkeypatch)
    assert report.error is None, report.error
    assert report.trained is not None and report.trained.history.epochs == 1
    trained = load_model(str(tmp_path / "out" / "model.keras"), "build_transfer", None)
    assert trained.outputs[0].shape[-1] == 3  # loads in safe mode: no custom class
    base = load_model(str(base_file), "the base model", None)
    built = load_model(str(tmp_path / "out" / "built.keras"), "build_transfer", None)
    learned = [
        not np.array_equal(a, b) for a, b in zip(built.weights, trained.weights, strict=True)
    ]
    # A layer added to the frozen base itself is frozen with it (Keras: model.trainable)
    assert learned[-1] is (idiom != "pop_and_add"), "the new head trains"
    reuse = count_reused(base, built)
    expected = {"head": reuse.base_layers - 1, "all": reuse.base_layers}.get(reused, reused)
    assert reuse.reused_layers == expected, reuse
    assert reuse.frozen_layers == expected - (0 if frozen == "reused" else frozen), reuse


def test_the_loaded_base_has_input_and_output_on_its_layers_graph(base_file: Path) -> None:
    base = load_base(str(base_file))
    assert base.input is base.inputs[0] is base.layers[0].input
    assert tuple(base.output.shape) == tuple(base.layers[-1].output.shape)
    assert [type(layer).__name__ for layer in base.layers][0] != "InputLayer"
    assert all(not layer.trainable for layer in base.layers)
