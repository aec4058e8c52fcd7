"""Every class and function a saved model's config names, resolved the way Keras' loader
resolves it, and checked against the allowlist (grader/worker/allowlist.py).

Keras (keras/src/saving/serialization_lib.py) turns a `{"class_name", "module",
"registered_name", "config"}` entry into an object in three ways: a registered custom
object by `registered_name`; `"<module>.<class_name>"` looked up among Keras' exported
names, so `module "keras"` with `class_name "layers.Lambda"` is `keras.layers.Lambda`, or
any class of an imported `keras...` module (`keras.src.layers.core.lambda_layer`); and, for
entries passed through a namespace's `deserialize`, the bare name in that namespace's table.
A function is `{"class_name": "function", "config": "<name>"}`, looked up the same ways
(`module "builtins"`: in activations, losses, metrics...). An entry is allowed only when
every way that finds something finds an allowed object; an entry nothing resolves, a Python
lambda, an old-format entry (no `module`: the legacy loader resolves bare names in all of
`keras.src.layers`) or a `registered_name` that is not the entry's own name is refused.
Plain strings (`"activation": "relu"`) need no check: each is looked up only in its own
namespace's table of built-ins (activations, initializers...), all of them allowed.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from grader.worker import allowlist

DATA = {"__keras_tensor__", "__tensor__", "__numpy__", "__bytes__", "__ellipsis__", "__slice__"}
KERAS_PACKAGES = {"keras", "keras_hub", "keras_cv", "keras_nlp"}  # Keras imports their modules
SHOWN_CHARS = 60
_NON_MODELING = object()  # a name Keras refuses to deserialize (load_model, get_file...)


def refused_references(config: Any, compiled: bool = False) -> set[str]:
    """What in a serialized model (as `config.json` holds it) the grader would not load
    without the student's code: a readable description of each refused entry.

    Args:
        config: the whole config, as `keras.saving.serialize_keras_object` writes it.
        compiled: whether loading compiles the model; `load_model(compile=False)` drops the
            top-level `compile_config` (nested models are compiled from theirs regardless).
    """
    if isinstance(config, dict) and not compiled:
        config = {k: v for k, v in config.items() if k != "compile_config"}
    return {found for node in _entries(config) if (found := refusal(node)) is not None}


def _entries(config: Any) -> Iterator[dict[str, Any]]:
    """Every dict in the config that names a class (iteratively: a crafted config may nest
    deeper than Python recurses)."""
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "class_name" in node:
                yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def refusal(node: dict[str, Any]) -> str | None:
    """Why one entry is refused (its description), or None when it is allowed."""
    name, module = node["class_name"], node.get("module")
    if not isinstance(name, str) or not isinstance(module, str | None):
        return "an unreadable class entry"
    if name in DATA:
        return None
    if name == "__lambda__":
        return "a Python lambda"
    if name.startswith("__") or "module" not in node:
        return _shown(f"{name} (not a class Keras saves)")
    kind = "function" if name == "function" else "class"
    if kind == "function":
        name = node.get("config")
        if not isinstance(name, str):
            return "a function"
    registered = node.get("registered_name", node["class_name"])
    if registered not in (None, name, node["class_name"]):
        return _shown(f"{name} (registered as {registered})")
    primary = resolved(name, registered, module, kind)
    found = primary + by_bare_name([name, registered])
    refused = [obj for obj in found if not allowlist.is_allowed(obj)]
    if not primary or refused:
        return _described(name, module, kind, refused[0] if refused else None)
    return None


def resolved(name: str, registered: Any, module: str | None, kind: str) -> list[Any]:
    """What `deserialize_keras_object` makes of the entry: a registered object, else what its
    module names (nothing: Keras cannot load it either)."""
    from keras.src.saving import object_registration

    key = name if kind == "function" else registered
    custom = object_registration.get_registered_object(key) if isinstance(key, str) else None
    if custom is not None:
        return [custom]
    return _by_module(name, module, kind) if module else []


def by_bare_name(keys: list[Any]) -> list[Any]:
    """What a namespace's `deserialize` (or the old-format loader) finds for the same names:
    the bare name in each table Keras passes as `module_objects`."""
    tables = [*allowlist.namespace_tables().values(), allowlist.legacy_layers()]
    names = [key for key in keys if isinstance(key, str)]
    found = [table.get(key) for key in names for table in tables]
    optimizers = allowlist.namespace_tables()["optimizers"]  # looked up in lower case
    found += [optimizers.get(key.lower()) for key in names]
    return [obj for obj in found if obj is not None]


def _by_module(name: str, module: str, kind: str) -> list[Any]:
    """What `_retrieve_class_or_fn` finds from the entry's module, without importing one."""
    from keras.src import api_export
    from keras.src.saving import serialization_lib as keras_lib
    from keras.src.saving.keras_saveable import KerasSaveable

    if module == "keras" or module.startswith("keras."):
        path = f"{module}.{name}"
        if path in keras_lib.NON_MODELING_APIS:
            return [_NON_MODELING]
        exported = api_export.get_symbol_from_name(path)
        if exported is not None:
            return [exported]
    if kind == "function" and module == "builtins":  # Keras takes the first of a frozenset
        names = [f"keras.{m}.{name}" for m in sorted(keras_lib.BUILTIN_MODULES)]
        return [obj for n in names if (obj := api_export.get_symbol_from_name(n)) is not None]
    loaded = sys.modules.get(module) if module.split(".")[0] in KERAS_PACKAGES else None
    obj = vars(loaded).get(name) if loaded is not None else None  # not loaded: not allowed
    return [obj] if isinstance(obj, type) and issubclass(obj, KerasSaveable) else []


def _described(name: str, module: str | None, kind: str, obj: Any) -> str:
    """How the message names a refused entry (`a Lambda layer`, `MyLayer (from submission)`)."""
    if kind == "class" and getattr(obj, "__name__", None) == "Lambda":
        return "a Lambda layer"
    if kind == "function":
        return _shown(f"the function {module}.{name}" if module else f"the function {name}")
    if obj is not None and obj is not _NON_MODELING:
        return _shown(getattr(obj, "__name__", name))
    return _shown(f"{name} (from {module})" if module else name)


def _shown(text: str) -> str:
    """A child-written name made safe to print: no control characters, bounded."""
    clean = "".join(c if c.isprintable() else "?" for c in text)
    return clean if len(clean) <= SHOWN_CHARS else clean[: SHOWN_CHARS - 1] + "…"
