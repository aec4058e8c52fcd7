"""Reads a saved Keras model's `config.json` as plain JSON: its layers, its input, and the
preprocessing its input meets first.

Pure and Keras-free (the grader process never imports Keras). Follows what Keras 3 writes
(`keras.saving.serialize_keras_object`): a model entry is `{"module", "class_name", "config",
"registered_name", "build_config"}`; a model's `config["layers"]` lists its layers' entries
(nested models hold their own `layers`); Functional entries also carry `name` and
`inbound_nodes`, and the model's `config["input_layers"]` names its inputs. Keras 2's
`.keras` files (`batch_input_shape`, `[["name", 0, 0, {}]]` nodes) are read too.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any

from grader.worker.allowlist import REFUSED_LAYERS
from grader.worker.references import DATA

Entry = dict[str, Any]

PREPROCESSING = frozenset({"Rescaling", "Normalization"})
# Layers that move or augment pixels without changing their range: the search for the first
# preprocessing layer looks past them (as well as past any class named Random*).
PASS_THROUGH = frozenset({
    "InputLayer", "Resizing", "CenterCrop", "Cropping2D", "ZeroPadding2D", "Dropout",
    "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "Identity", "Reshape", "Permute",
})  # fmt: skip
# A Rescaling whose scale is at most this maps [0, 255] into [0, 1] or [-1, 1] (1/255, 1/127.5)
SMALL_SCALE = 1 / 50


def _config(entry: Any) -> dict[str, Any]:
    config = entry.get("config") if isinstance(entry, dict) else None
    return config if isinstance(config, dict) else {}


def layer_list(entry: Entry) -> list[Entry]:
    """The layer entries of a model's config (Sequential or Functional), else []."""
    layers = _config(entry).get("layers")
    return [e for e in layers if isinstance(e, dict)] if isinstance(layers, list) else []


def is_model(entry: Entry) -> bool:
    return bool(layer_list(entry))


def name(entry: Entry) -> str:
    """A layer's name: Functional entries carry it beside the config, Sequential ones inside."""
    return str(entry.get("name") or _config(entry).get("name") or "?")


def walk(model: Entry) -> Iterator[tuple[Entry, int]]:
    """Every entry (the model, its layers, nested models' layers) with its nesting depth.

    Iterative and lazy, so a caller can stop at a depth cap before a deep file costs much.
    """
    stack = [(model, 0)]
    while stack:
        entry, depth = stack.pop()
        yield entry, depth
        stack.extend((child, depth + 1) for child in reversed(layer_list(entry)))


def count_layers(entries: list[Entry]) -> int:
    """Layers that compute something: nested models flattened, input layers left out."""
    return sum(not is_model(e) and e.get("class_name") != "InputLayer" for e in entries)


def foreign(entry: Entry) -> str | None:
    """What in this layer is not Keras' own (safe mode refuses it), or None.

    Looks at the layer's class and every object serialized in its config (activations,
    initializers, a wrapped layer); a nested model's layers are entries of their own.
    """
    for obj in [entry, *_serialized(entry.get("config"))]:
        culprit = _foreign_object(obj)
        if culprit is not None:
            return culprit
    return None


def _foreign_object(obj: Entry) -> str | None:
    """The worker's rules (grader/worker/references.py), in the part that needs no Keras."""
    module, cls = obj.get("module"), str(obj.get("class_name"))
    if cls in DATA:
        return None  # tensors, arrays, slices: data, not a class
    if cls in ("__lambda__", "Lambda") or cls.endswith(".Lambda"):
        return "a Lambda layer (Python code stored in the file)"
    if cls.rsplit(".", 1)[-1] in REFUSED_LAYERS:
        return f"the layer class {cls}, which the grader refuses (it runs code or reads files)"
    if cls.startswith("__") or "module" not in obj:
        return f"the entry '{cls}' without a module (an old Keras format)"
    if module == "builtins" and cls == "function":
        return f"the custom function '{obj.get('config')}'"
    if not isinstance(module, str) or not (module == "keras" or module.startswith("keras.")):
        registered = obj.get("registered_name")
        return f"the custom class '{cls}' (module {module!r}, registered as {registered!r})"
    return None


def _serialized(value: Any) -> Iterator[Entry]:
    """Every serialized object (a dict naming a class) inside a config, skipping `layers`."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "class_name" in item:
                yield item
            stack.extend(v for k, v in item.items() if k != "layers")
        elif isinstance(item, list):
            stack.extend(item)


def input_names(model: Entry) -> list[str]:
    """A Functional model's input layers: `["a", 0, 0]`, `[["a", 0, 0], ...]` or a dict."""
    spec = _config(model).get("input_layers")
    if isinstance(spec, dict):
        spec = list(spec.values())
    if isinstance(spec, list) and spec and isinstance(spec[0], str):
        spec = [spec]
    if not isinstance(spec, list):
        return []
    return [str(item[0]) for item in spec if isinstance(item, list) and item]


def input_shapes(model: Entry) -> dict[str, Any]:
    """Each input's shape (batch dimension first) by input name; None where nothing says.

    Sequential: its InputLayer's `batch_shape` (Keras 2: `batch_input_shape`), else the
    `build_input_shape` of `build()`, else `build_config.input_shape`. Functional: the
    InputLayers that `input_layers` names.
    """
    layers = layer_list(model)
    if model.get("class_name") != "Sequential":
        by_name = {name(e): e for e in layers}
        return {n: _batch_shape(by_name.get(n, {})) for n in input_names(model)}
    first = layers[0] if layers else {}
    shape = _batch_shape(first) if first.get("class_name") == "InputLayer" else None
    build = model.get("build_config")
    shape = shape or _config(model).get("build_input_shape")
    shape = shape or (build.get("input_shape") if isinstance(build, dict) else None)
    return {"input": shape}


def _batch_shape(entry: Entry) -> Any:
    config = _config(entry)
    return config.get("batch_shape") or config.get("batch_input_shape")


def first_preprocessing(model: Entry) -> list[Entry]:
    """The Rescaling/Normalization layers the input meets first, looking past layers that
    only move pixels and into nested models (a "preprocessing" Sequential block)."""
    return _first(model)[0]


def _first(model: Entry) -> tuple[list[Entry], bool]:
    """Found layers, and whether every path only passes pixels through (search goes on)."""
    found: list[Entry] = []
    layers = layer_list(model)
    if model.get("class_name") == "Sequential":
        for entry in layers:
            if not _visit(entry, found):
                return found, False
        return found, True
    consumers: dict[str, list[Entry]] = {}
    for entry in layers:
        for source in set(_inbound(entry.get("inbound_nodes"))):
            consumers.setdefault(source, []).append(entry)
    queue, seen, through = deque(input_names(model)), set(), True
    while queue:
        source = queue.popleft()
        if source in seen:
            continue
        seen.add(source)
        for entry in consumers.get(source, []):
            if _visit(entry, found):
                queue.append(name(entry))
            else:
                through = False  # this path stops at a layer that computes something
    return found, through


def _visit(entry: Entry, found: list[Entry]) -> bool:
    """Records a preprocessing layer; True when the search goes on past `entry`."""
    cls = str(entry.get("class_name"))
    if cls in PREPROCESSING:
        found.append(entry)
        return False
    if is_model(entry):
        inner, through = _first(entry)
        found.extend(inner)
        return through and not inner
    return cls in PASS_THROUGH or cls.startswith("Random")


def _inbound(value: Any) -> Iterator[str]:
    """Names of the layers feeding a Functional layer: Keras 3's `keras_history`, or Keras 2's
    `[["name", 0, 0, {}]]` lists."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            history = _config(item).get("keras_history")
            if isinstance(history, list) and history and isinstance(history[0], str):
                yield history[0]
            stack.extend(item.values())
        elif isinstance(item, list):
            if len(item) >= 3 and isinstance(item[0], str) and isinstance(item[1], int):
                yield item[0]
            else:
                stack.extend(item)


def implied_range(found: list[Entry]) -> tuple[tuple[int, int], str] | None:
    """The pixel range the first decisive Rescaling implies, and how it says so: x1/255 or
    x1/127.5 means [0, 255]; x255 means [0, 1]. A scale near 1 or a Normalization says
    nothing (its statistics are weights, adapted to whatever it was fed)."""
    for entry in found:
        scale = _scale(entry) if entry.get("class_name") == "Rescaling" else None
        if not scale:
            continue
        how = f"(layer '{name(entry)}')"
        if scale <= SMALL_SCALE:
            return (0, 255), f"rescales its input by 1/{1 / scale:g} {how}"
        if scale >= 1 / SMALL_SCALE:
            return (0, 1), f"multiplies its input by {scale:g} {how}"
    return None


def _scale(entry: Entry) -> float | None:
    """A Rescaling's scale (the largest, when per channel), None when unreadable."""
    scale = _config(entry).get("scale")
    values = scale if isinstance(scale, list) else [scale]
    numbers = [abs(float(v)) for v in values if isinstance(v, int | float)]
    return max(numbers) if numbers and len(numbers) == len(values) else None
