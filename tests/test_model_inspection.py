"""Model files are checked the way Keras resolves them before safe mode loads them (issue 12,
item 17).

Each crafted file is a real `.keras` archive whose `config.json` was edited inside the zip:
a Lambda layer under Keras' other spellings of it, function references, classes from
outside Keras, old-format entries. Honest models (Sequential and functional CNNs with
augmentation, regularizers and initializers, a base model used as a layer, optimizers with
schedules, Keras' applications) must still load in safe mode.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from grader.errors import ErrorKind, StudentError
from grader.messages import Message, render
from grader.worker import allowlist, loading
from grader.worker.references import refused_references

Config = dict[str, Any]
RELU = {"module": "keras.ops", "class_name": "function", "config": "relu",
        "registered_name": "function"}  # fmt: skip


def keras_module() -> Any:
    import keras

    return keras


def save(model: Any, folder: Path, name: str = "model.keras") -> Path:
    path = folder / name
    model.save(path)
    return path


def rewrite_config(path: Path, edit: Callable[[Config], Any]) -> Path:
    """Edit `config.json` inside the archive, every other member kept as it was."""

    def edited(text: bytes) -> bytes:
        config = json.loads(text)
        edit(config)
        return json.dumps(config).encode()

    return rewrite_text(path, edited)


def rewrite_text(path: Path, edit: Callable[[bytes], bytes]) -> Path:
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members["config.json"] = edit(members["config.json"])
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def layers_of(config: Config) -> list[Config]:
    return config["config"]["layers"]


def entry(config: Config, class_name: str) -> Config:
    return next(e for e in layers_of(config) if e["class_name"] == class_name)


def load_safely(path: Path) -> Any:
    return loading.load_model(str(path), "build_scratch", None)


def refused(path: Path) -> StudentError:
    with pytest.raises(StudentError) as caught:
        load_safely(path)
    return caught.value


# honest models ------------------------------------------------------------------------


def sequential_cnn() -> Any:
    keras = keras_module()
    layers = keras.layers
    model = keras.Sequential([
        keras.Input((16, 16, 3)), layers.Rescaling(1 / 255), layers.RandomFlip("horizontal"),
        layers.RandomRotation(0.1), layers.RandomZoom(0.1), layers.RandomTranslation(0.1, 0.1),
        layers.RandomContrast(0.1),
        layers.Conv2D(8, 3, padding="same", kernel_initializer="he_normal",
                      kernel_regularizer=keras.regularizers.l2(1e-4)),
        layers.BatchNormalization(), layers.Activation("relu"), layers.MaxPooling2D(),
        layers.Dropout(0.25), layers.Conv2D(8, 3, activation="relu"),
        layers.GlobalAveragePooling2D(),
        layers.Dense(16, activation="relu", kernel_initializer=keras.initializers.GlorotNormal(3),
                     kernel_regularizer=keras.regularizers.L1L2(1e-5, 1e-4),
                     kernel_constraint=keras.constraints.MaxNorm(3)),
        layers.Dense(3, activation="softmax"),
    ])  # fmt: skip
    schedule = keras.optimizers.schedules.ExponentialDecay(1e-3, 100, 0.9)
    model.compile(keras.optimizers.Adam(schedule), "sparse_categorical_crossentropy", ["accuracy"])
    return model


def functional_cnn() -> Any:
    keras = keras_module()
    layers = keras.layers
    inputs = keras.Input((16, 16, 3))
    x = inputs / 255.0  # recorded as a TrueDivide operation
    x = layers.Conv2D(8, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    skip = layers.ReLU()(x)
    x = layers.SeparableConv2D(8, 3, padding="same", activation="relu")(skip)
    x = layers.Add()([x, skip])
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.3)(x)
    model = keras.Model(inputs, layers.Dense(3, activation="softmax")(x))
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([100], [0.01, 0.001])
    model.compile(keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True),
                  keras.losses.SparseCategoricalCrossentropy(), ["accuracy"])  # fmt: skip
    return model


def base_model() -> Any:
    """A compiled base: Keras compiles a nested model from its own compile config on load."""
    keras = keras_module()
    layers = keras.layers
    base = keras.Sequential([
        keras.Input((16, 16, 3)), layers.Conv2D(8, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dense(16, activation="relu"), layers.Dense(10, "softmax"),
    ], name="base")  # fmt: skip
    schedule = keras.optimizers.schedules.CosineDecay(1e-3, 1000)
    base.compile(keras.optimizers.RMSprop(schedule), "sparse_categorical_crossentropy",
                 [keras.metrics.SparseCategoricalAccuracy()])  # fmt: skip
    base.trainable = False
    return base


def base_as_layer() -> Any:
    keras = keras_module()
    base = base_model()
    return keras.Sequential([keras.Input((16, 16, 3)), base, keras.layers.Dense(3, "softmax")])


def base_as_functional_layer() -> Any:
    keras = keras_module()
    inputs = keras.Input((16, 16, 3))
    base = base_model()
    features = keras.Model(base.inputs, base.layers[-2].output)
    x = features(inputs, training=False)
    return keras.Model(inputs, keras.layers.Dense(3, "softmax")(keras.layers.Dropout(0.2)(x)))


def base_layers_reused() -> Any:
    keras = keras_module()
    return keras.Sequential(base_model().layers[:-1] + [keras.layers.Dense(3, "softmax")])


HONEST = [sequential_cnn, functional_cnn, base_as_layer, base_as_functional_layer,
          base_layers_reused]  # fmt: skip


@pytest.mark.parametrize("build", HONEST, ids=lambda f: f.__name__)
def test_honest_models_are_loaded_in_safe_mode(build: Callable[[], Any], tmp_path: Path) -> None:
    model = build()
    path = save(model, tmp_path)
    loaded = load_safely(path)
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    assert refused_references(config, compiled=True) == set()  # optimizers, schedules, metrics


@pytest.mark.parametrize("name", ["MobileNetV2", "EfficientNetB0", "ConvNeXtTiny"])
def test_keras_applications_built_without_weights_pass(name: str) -> None:
    keras = keras_module()
    model = getattr(keras.applications, name)(input_shape=(32, 32, 3), weights=None, classes=3)
    assert refused_references(keras.saving.serialize_keras_object(model)) == set()


# a Lambda layer under every spelling Keras resolves ------------------------------------


@pytest.fixture
def lambda_file(tmp_path: Path) -> Path:
    """A saved model with a real Lambda layer (keras.ops.relu)."""
    keras = keras_module()
    layers = keras.layers
    model = keras.Sequential(
        [keras.Input((8, 8, 3)), layers.Flatten(), layers.Lambda(keras.ops.relu),
         layers.Dense(3, "softmax")]
    )  # fmt: skip
    return save(model, tmp_path)


SPELLINGS = {  # module, class_name: each resolves to keras.layers.Lambda
    "issue": ("keras", "layers.Lambda"),
    "public": ("keras.layers", "Lambda"),
    "source module": ("keras.src.layers.core.lambda_layer", "Lambda"),
    "source package": ("keras.src.layers", "Lambda"),
    "dotted public": ("keras.layers.core", "Lambda"),  # nothing: Keras cannot load it either
}


def respelled(module: str, class_name: str, function: Config | None = None) -> Any:
    def edit(config: Config) -> None:
        found = entry(config, "Lambda")
        found.update(module=module, class_name=class_name, registered_name=None)
        if function is not None:
            found["config"]["function"] = function

    return edit


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_lambda_layer_is_refused_under_any_spelling(lambda_file: Path, spelling: str) -> None:
    rewrite_config(lambda_file, respelled(*SPELLINGS[spelling], function=RELU))
    error = refused(lambda_file)
    assert error.kind is ErrorKind.CUSTOM_OBJECTS
    text = render(Message(error.message_id, error.params), "en")
    assert "uses a Lambda layer" in text or "Lambda (from keras.layers.core)" in text, text


def test_keras_safe_mode_itself_loads_the_disguised_lambda(lambda_file: Path) -> None:
    """Why the check resolves names: Keras' safe mode loads this file, Lambda and all."""
    keras = keras_module()
    rewrite_config(lambda_file, respelled("keras", "layers.Lambda", function=RELU))
    model = keras.models.load_model(lambda_file, compile=False, safe_mode=True)
    assert any(isinstance(layer, keras.layers.Lambda) for layer in model.layers)
    assert "a Lambda layer" in refused(lambda_file).params["classes"]


# other entries refused ------------------------------------------------------------------


def dense_entry(config: Config) -> Config:
    return entry(config, "Dense")


def set_activation(value: Any) -> Callable[[Config], None]:
    return lambda config: dense_entry(config)["config"].update(activation=value)


def replace_entry(**fields: Any) -> Callable[[Config], None]:
    return lambda config: dense_entry(config).update(fields)


def drop_module(config: Config) -> None:
    del dense_entry(config)["module"]


EDITS = {
    "function reference": (set_activation(RELU), "the function keras.ops.relu"),
    "non-modelling function": (
        set_activation({**RELU, "module": "keras.utils", "config": "get_file"}),
        "the function keras.utils.get_file",
    ),
    "builtins function": (
        set_activation({**RELU, "module": "builtins", "config": "deserialize"}),
        "the function builtins.deserialize",
    ),
    "python lambda": (
        set_activation({"class_name": "__lambda__", "config": {"code": "x"}}),
        "a Python lambda",
    ),
    "fake module": (replace_entry(module="evil"), "Dense (from evil)"),
    "student module": (
        replace_entry(module="submission", class_name="MyLayer"),
        "MyLayer (from submission)",
    ),
    "no module": (replace_entry(module=None, class_name="MyModel"), "MyModel"),
    "unknown keras class": (
        replace_entry(class_name="NoSuchLayer"),
        "NoSuchLayer (from keras.layers)",
    ),
    "file-reading layer": (replace_entry(class_name="StringLookup"), "StringLookup"),
    "saved-model layer": (replace_entry(class_name="TFSMLayer"), "TFSMLayer"),
    "registered elsewhere": (
        replace_entry(registered_name="evil>Dense"),
        "Dense (registered as evil>Dense)",
    ),
    "old format": (drop_module, "Dense (not a class Keras saves)"),
    "type spec": (replace_entry(class_name="__typespec__"), "__typespec__"),
    "control characters": (
        replace_entry(module="x\x1b]52;c;\x07", class_name="A\rB"),
        "A?B (from x?]52;c;?)",
    ),
}


@pytest.fixture
def dense_file(tmp_path: Path) -> Path:
    keras = keras_module()
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])  # fmt: skip
    return save(model, tmp_path)


@pytest.mark.parametrize("case", EDITS)
def test_entries_outside_the_allowlist_are_refused(dense_file: Path, case: str) -> None:
    edit, described = EDITS[case]
    rewrite_config(dense_file, edit)
    error = refused(dense_file)
    assert (error.kind, error.message_id) == (ErrorKind.CUSTOM_OBJECTS, "custom_objects")
    assert described in error.params["classes"], error.params["classes"]


def test_a_nested_compile_config_is_checked_and_the_top_level_one_is_not(tmp_path: Path) -> None:
    """`load_model(compile=False)` drops the model's own compile config, but compiles a nested
    model from its own: a custom optimizer there would be loaded."""
    custom = {"module": "submission", "class_name": "MyOptimizer", "config": {},
              "registered_name": "MyOptimizer"}  # fmt: skip
    path = save(base_as_layer(), tmp_path)

    def top_level(config: Config) -> None:
        config["compile_config"] = {"optimizer": custom, "loss": "mse"}

    load_safely(rewrite_config(path, top_level))

    def nested(config: Config) -> None:
        entry(config, "Sequential")["compile_config"]["optimizer"] = custom

    error = refused(rewrite_config(path, nested))
    assert error.params["classes"] == "MyOptimizer (from submission)"


def test_an_unreadable_config_is_not_loaded(dense_file: Path) -> None:
    depth = 100_000  # json.loads gives up (RecursionError), as Keras' loader would
    deep = b', "deep": ' + b"[" * depth + b"]" * depth + b"}"
    rewrite_text(dense_file, lambda text: text.rstrip().removesuffix(b"}") + deep)
    error = refused(dense_file)
    assert (error.kind, error.message_id) == (ErrorKind.BAD_MODEL_FILE, "unsafe_model_file")
    assert "config.json cannot be read" in error.params["error"]


def test_a_crafted_config_deeper_than_python_recurses_is_walked() -> None:
    deep: Any = {"class_name": "Lambda", "module": "keras.layers", "config": {}}
    for _ in range(50_000):
        deep = {"config": deep}
    assert refused_references(deep) == {"a Lambda layer"}


def test_every_keras_layer_class_was_reviewed() -> None:
    """A layer a later Keras adds is refused until it is reviewed and listed."""
    import inspect

    keras = keras_module()
    classes = {n for n in dir(keras.layers) if inspect.isclass(getattr(keras.layers, n))}
    assert classes - set(allowlist.LAYERS) - allowlist.REFUSED_LAYERS == set()
    assert set(allowlist.LAYERS) & allowlist.REFUSED_LAYERS == set()
    for name in allowlist.REFUSED_LAYERS - {"InputSpec"}:
        assert not allowlist.is_allowed(getattr(keras.layers, name)), name


def test_a_model_ending_in_a_nested_head_reports_the_head_activation() -> None:
    """A head built as its own Sequential ends the model: its softmax is the output's."""
    import keras

    from grader.worker.inspect import output_activation

    head = keras.Sequential([keras.layers.Dense(3, activation="softmax")], name="head")
    inputs = keras.Input((8,))
    model = keras.Model(inputs, head(keras.layers.Dense(4)(inputs)))
    assert output_activation(model) == "softmax"
    plain = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3)])
    assert output_activation(plain) == "linear"
