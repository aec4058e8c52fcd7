"""What a model is made of: its layer table, its reuse of the base model, its custom classes."""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.errors import ErrorKind, StudentError
from grader.protocol import Layer, ModelFacts, Reuse
from grader.worker.references import refused_references
from grader.worker.runtime import describe


def model_facts(model: Any) -> ModelFacts:
    """Parameter counts and the layer table of a loaded model."""
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    total = int(model.count_params())
    return ModelFacts(
        params=total,
        trainable_params=trainable,
        non_trainable_params=total - trainable,
        layers=tuple(layer_table(model)),
    )


def layer_table(model: Any, prefix: str = "") -> list[Layer]:
    """One row per layer; a nested model (e.g. the base) is listed layer by layer."""
    rows = []
    for layer in model.layers:
        if hasattr(layer, "layers") and layer.layers:
            rows += layer_table(layer, prefix=f"{prefix}{layer.name}/")
            continue
        try:
            shape = str(tuple(layer.output.shape))
        except Exception:  # noqa: BLE001 - some layers have no single output
            shape = "?"
        params = int(layer.count_params())
        rows.append(
            Layer(
                name=prefix + layer.name,
                type=type(layer).__name__,
                output_shape=shape,
                params=params,
                trainable=bool(layer.trainable and params > 0),
            )
        )
    return rows


def count_reused(base: Any, built: Any) -> Reuse:
    """Weighted base layers whose every weight `built` holds with identical values."""
    held = [w.numpy() for w in built.weights]
    weighted = [layer for layer in base.layers if layer.weights]
    reused = sum(
        all(
            any(h.shape == w.shape and np.array_equal(h, w.numpy()) for h in held)
            for w in layer.weights
        )
        for layer in weighted
    )
    frozen = sum(not layer.trainable for layer in flatten(built) if layer.weights)
    return Reuse(base_layers=len(weighted), reused_layers=int(reused), frozen_layers=frozen)


def flatten(model: Any) -> list[Any]:
    """Every leaf layer of a model, nested models opened."""
    out = []
    for layer in model.layers:
        out += flatten(layer) if hasattr(layer, "layers") and layer.layers else [layer]
    return out


def custom_classes_in(config: Any) -> set[str]:
    """What in a serialized model config the grader cannot load without the student's code
    (Lambda layers, classes from outside Keras' allowlist, function references...), each
    described for the message; empty when safe mode may load it (see worker/references.py)."""
    return refused_references(config, compiled=False)  # as `load_model(compile=False)` reads it


def serialized_config(model: Any) -> dict[str, Any]:
    """The model's config as saving would write it (the self-check's view of it).

    Raises:
        StudentError: the model cannot be serialized (it could not be saved either).
    """
    import keras

    try:
        config: dict[str, Any] = keras.saving.serialize_keras_object(model)
    except Exception as exc:  # noqa: BLE001 - the same failure saving would hit when graded
        raise unsavable(exc) from None
    return config


def unsavable(exc: BaseException) -> StudentError:
    """The error for a model Keras cannot save."""
    return StudentError(ErrorKind.SAVE_ERROR, "save_error", error=describe(exc))


def output_activation(model: Any) -> str:
    """The last layer's activation name (`linear` when it has none); a model ending in a
    nested model (a head built as its own Sequential) ends in that model's last layer."""
    leaves = flatten(model) if model.layers else []
    activation = getattr(leaves[-1], "activation", None) if leaves else None
    return str(getattr(activation, "__name__", "linear"))
