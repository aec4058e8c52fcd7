"""An instructor's base model file is checked on the host, without Keras (issue 13, item 2).

Each file is a real Keras 3 `.keras` file saved by the test (tiny models; MobileNetV2 with
random weights for a real applications config), or a crafted archive where Keras 3 cannot
write the case (no weights, a Keras 2 style config, deep nesting).
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import keras
import pytest
from keras import layers

from grader.basefile import BaseFileFacts, inspect_base_file
from grader.errors import SpecError

SHAPE = (32, 32, 3)


def head() -> list[layers.Layer]:
    return [layers.Conv2D(4, 3), layers.GlobalAveragePooling2D(), layers.Dense(2)]


def save(model: keras.Model, folder: Path, name: str = "base_model.keras") -> Path:
    path = folder / name
    model.save(path)
    return path


def functional(*first: layers.Layer, shape: tuple[Any, ...] = SHAPE) -> keras.Model:
    inputs = x = keras.Input(shape)
    for layer in (*first, *head()):
        x = layer(x)
    return keras.Model(inputs, x)


def computing_layers(model: keras.Model) -> int:
    """Keras' own count of the layers that compute, nested models flattened."""
    found = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found += computing_layers(layer)
        elif not isinstance(layer, layers.InputLayer):
            found += 1
    return found


def refused(path: Path, shape: tuple[int, ...] = SHAPE, pixels: tuple[int, int] = (0, 1)) -> str:
    with pytest.raises(SpecError) as caught:
        inspect_base_file(path, shape, pixels)
    assert str(path) in str(caught.value)
    return str(caught.value)


def rewrite(path: Path, drop: str = "", config: Any = None) -> Path:
    """The same archive without `drop`, or with another config.json."""
    with zipfile.ZipFile(path) as old:
        entries = {name: old.read(name) for name in old.namelist() if name != drop}
    if config is not None:
        entries["config.json"] = json.dumps(config).encode()
    path.unlink()
    with zipfile.ZipFile(path, "w") as new:
        for name, data in entries.items():
            new.writestr(name, data)
    return path


def test_sequential_with_input_passes_with_its_facts(tmp_path: Path) -> None:
    model = keras.Sequential([keras.Input(SHAPE), layers.Rescaling(1 / 255), *head()])
    facts = inspect_base_file(save(model, tmp_path), SHAPE, (0, 255))
    assert facts == BaseFileFacts(SHAPE, (0, 255), 4, keras.__version__, ())
    assert facts.layers == computing_layers(model)


def test_sequential_built_with_build_and_functional_pass(tmp_path: Path) -> None:
    built = keras.Sequential([layers.Normalization(mean=0.5, variance=0.1), *head()])
    built.build((None, *SHAPE))
    facts = inspect_base_file(save(built, tmp_path, "built.keras"), SHAPE, (0, 255))
    assert (facts.input_shape, facts.expects_range, facts.notes) == (SHAPE, None, ())
    model = functional(layers.Rescaling(1 / 255))
    facts = inspect_base_file(save(model, tmp_path), SHAPE, (0, 255))
    assert facts.expects_range == (0, 255) and facts.layers == computing_layers(model) == 4


def test_wrong_input_shape_names_both(tmp_path: Path) -> None:
    message = refused(save(functional(), tmp_path), (64, 64, 3))
    assert "(32, 32, 3)" in message and "[64, 64, 3]" in message
    assert "keras.Input(shape=(64, 64, 3))" in message


def test_open_spatial_dimensions_accept_the_declared_size(tmp_path: Path) -> None:
    path = save(functional(shape=(None, None, 3)), tmp_path)
    assert inspect_base_file(path, (64, 64, 3), (0, 1)).input_shape == (64, 64, 3)
    assert "(None, None, 3)" in refused(path, (64, 64, 1))


@pytest.mark.parametrize(
    ("scale", "offset", "shown"), [(1 / 255, 0.0, "1/255"), (1 / 127.5, -1.0, "1/127.5")]
)
def test_rescaled_input_contradicts_declared_unit_range(
    tmp_path: Path, scale: float, offset: float, shown: str
) -> None:
    model = functional(layers.Rescaling(scale, offset=offset, name="to_unit"))
    message = refused(save(model, tmp_path), pixels=(0, 1))
    assert f"rescales its input by {shown} (layer 'to_unit')" in message
    assert "it expects pixels in [0, 255]" in message and "set pixel_range = [0, 255]" in message


def test_raw_pixels_get_a_note_rescaled_ones_do_not(tmp_path: Path) -> None:
    raw = inspect_base_file(save(functional(), tmp_path, "raw.keras"), SHAPE, (0, 255))
    assert raw.expects_range is None and len(raw.notes) == 1
    assert "raw 0-255 pixel values" in raw.notes[0] and "load_model('raw.keras')" in raw.notes[0]
    assert inspect_base_file(save(functional(), tmp_path), SHAPE, (0, 1)).notes == ()
    near_one = functional(layers.Rescaling(1.0, offset=-0.5))
    facts = inspect_base_file(save(near_one, tmp_path), SHAPE, (0, 255))
    assert (facts.expects_range, facts.notes) == (None, ())


def test_nested_preprocessing_model_is_found(tmp_path: Path) -> None:
    augment = keras.Sequential([layers.RandomFlip()], name="augment")
    block = keras.Sequential([layers.Rescaling(1 / 255, name="scale")], name="preprocessing")
    model = functional(augment, block)
    facts = inspect_base_file(save(model, tmp_path), SHAPE, (0, 255))
    assert (facts.expects_range, facts.notes) == ((0, 255), ())
    assert facts.layers == computing_layers(model) == 5
    assert "(layer 'scale')" in refused(save(model, tmp_path))


def test_rescaling_after_a_computing_layer_is_not_evidence(tmp_path: Path) -> None:
    model = keras.Sequential([keras.Input(SHAPE), layers.Conv2D(3, 1), layers.Rescaling(1 / 255)])
    facts = inspect_base_file(save(model, tmp_path), SHAPE, (0, 1))
    assert facts.expects_range is None


def test_lambda_layer_is_refused_by_name(tmp_path: Path) -> None:
    model = functional(layers.Lambda(lambda t: t / 255.0, name="halve"))
    message = refused(save(model, tmp_path))
    assert "layer 'halve'" in message and "Lambda" in message and "safe mode" in message


def test_custom_registered_layer_is_refused_by_name(tmp_path: Path) -> None:
    @keras.saving.register_keras_serializable(package="course")
    class Shift(layers.Layer):
        def call(self, x: Any) -> Any:
            return x - 0.5

    path = save(functional(Shift(name="shift")), tmp_path)
    message = refused(path)
    assert "layer 'shift'" in message and "'Shift'" in message and "course>Shift" in message
    # Keras writes module None for a class defined in a notebook or a script (__main__)
    config = json.loads(zipfile.ZipFile(path).read("config.json"))
    entry = next(e for e in config["config"]["layers"] if e["class_name"] == "Shift")
    assert entry["module"] == __name__
    entry["module"] = None
    assert "'Shift' (module None" in refused(rewrite(path, config=config))


def test_keras2_h5_file_is_told_how_to_convert(tmp_path: Path) -> None:
    path = tmp_path / "base_model.h5"
    functional().save(path)  # Keras 3 still writes the legacy HDF5 format for .h5
    assert path.read_bytes().startswith(b"\x89HDF")
    message = refused(path)
    assert "Keras 2" in message and "model.save('base_model.keras')" in message


def test_not_a_keras_file(tmp_path: Path) -> None:
    path = tmp_path / "base_model.keras"
    path.write_bytes(bytes(range(256)) * 4)
    assert "not a Keras 3 `.keras` file (not a zip archive" in refused(path)
    assert "does not exist" in refused(tmp_path / "absent.keras")


def test_file_without_weights_is_refused(tmp_path: Path) -> None:
    path = rewrite(save(functional(), tmp_path), drop="model.weights.h5")
    assert "saved without weights" in refused(path)


def test_several_inputs_are_refused(tmp_path: Path) -> None:
    image, extra = keras.Input(SHAPE), keras.Input((4,))
    x = layers.Concatenate()([layers.GlobalAveragePooling2D()(image), extra])
    message = refused(save(keras.Model([image, extra], layers.Dense(2)(x)), tmp_path))
    assert "2 inputs" in message


def test_keras2_style_config_is_read(tmp_path: Path) -> None:
    path = save(functional(), tmp_path)
    entry = {"module": "keras.layers", "class_name": "Rescaling", "name": "scale",
             "config": {"name": "scale", "scale": 1 / 255, "offset": 0.0},
             "inbound_nodes": [[["input_1", 0, 0, {}]]]}  # fmt: skip
    model = {"module": "keras.src.models.functional", "class_name": "Functional",
             "config": {"name": "old", "input_layers": [["input_1", 0, 0]], "layers": [
                 {"module": "keras.layers", "class_name": "InputLayer", "name": "input_1",
                  "config": {"batch_input_shape": [None, 32, 32, 3], "name": "input_1"}},
                 entry]}}  # fmt: skip
    facts = inspect_base_file(rewrite(path, config=model), SHAPE, (0, 255))
    assert (facts.expects_range, facts.layers) == ((0, 255), 1)


def test_deep_nesting_is_a_clear_error(tmp_path: Path) -> None:
    path = save(functional(), tmp_path)
    model: dict[str, Any] = {"module": "keras", "class_name": "Sequential",
                             "config": {"layers": []}}  # fmt: skip
    for _ in range(150):
        model = {"module": "keras", "class_name": "Sequential", "config": {"layers": [model]}}
    assert "nested more than 100 deep" in refused(rewrite(path, config=model))


def test_mobilenet_v2_passes_with_its_input_shape(tmp_path: Path) -> None:
    model = keras.applications.MobileNetV2(input_shape=(64, 64, 3), include_top=False,
                                           weights=None)  # fmt: skip
    facts = inspect_base_file(save(model, tmp_path), (64, 64, 3), (0, 255))
    assert facts.input_shape == (64, 64, 3) and facts.layers == computing_layers(model)
    assert facts.expects_range is None and "preprocess_input" in facts.notes[0]
    assert "(64, 64, 3)" in refused(tmp_path / "base_model.keras", (32, 32, 3))


def test_the_check_imports_no_keras() -> None:
    code = (
        "import sys, grader.basefile; "
        "sys.exit(any(m.split('.')[0] in ('keras', 'tensorflow') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
