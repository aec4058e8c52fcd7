"""A subclassed `keras.Model`, graded as the functional model its `call()` builds.

`class MyModel(keras.Model)` with `call()` is a fair idiom (TensorFlow's "for experts"
quickstart), but the grader must check the model's input and output, save it, and load it
for scoring without the student's code: a subclass has no `inputs`, and its saved config
names the student's class (which Keras' automatic config rebuilds wrongly when `__init__`
takes positional arguments or no `**kwargs`). When `call()` chains Keras layers and
`keras.ops`, calling it once on `keras.Input` records the same computation over the same
layer objects (the same weights) as a functional model: that model is trained, saved and
scored. It replaces the student's only when it provably computes the same thing: no
overridden training step, no Python branch on `training`, the same weights, and the same
predictions on a test batch. Otherwise the student is told which of these failed.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from grader.errors import ErrorKind, StudentError
from grader.worker.runtime import describe

# Model methods whose override the grader's standard `fit()` on the functional twin would skip
TRAINING_METHODS = ("train_step", "test_step", "predict_step", "compute_loss",
                    "compute_metrics", "fit", "evaluate", "predict", "train_on_batch",
                    "test_on_batch", "predict_on_batch", "metrics")  # fmt: skip


def student_subclass(model: Any) -> bool:
    """A keras.Model of the student's own class (not Sequential or functional as they are)."""
    import keras

    return isinstance(model, keras.Model) and not type(model).__module__.startswith("keras.")


def functional_twin(model: Any, function: str, shape: tuple[int, ...]) -> Any:
    """The functional model `model.call()` builds on `keras.Input(shape)`, compiled as the
    student compiled theirs.

    Raises:
        StudentError: the twin would not be the student's model (message says why).
    """
    kind, cls, where = ErrorKind.NOT_A_MODEL, type(model).__name__, str(shape)
    overridden = [m for m in TRAINING_METHODS if _overrides(type(model), m)]
    if overridden:
        methods = ", ".join(f"`{m}`" for m in overridden)
        raise StudentError(kind, "not_a_model.subclass.training_steps", function=function,
                           type=cls, shape=where, methods=methods)  # fmt: skip
    try:
        twin = _traced(model, shape, training=None)
        branches = _takes_training(model) and _graph(model, twin) != _graph(
            model, _traced(model, shape, training=True)
        )
        same = not branches and _same_model(model, twin, shape)
        if same and getattr(model, "compiled", False) and model.optimizer is not None:
            twin.compile(optimizer=model.optimizer, loss=model.loss)  # what compile_model reads
    except Exception as exc:  # noqa: BLE001 - the student's call() refused symbolic inputs
        raise StudentError(kind, "not_a_model.subclass.untraceable", function=function,
                           type=cls, shape=where, error=describe(exc)) from None  # fmt: skip
    if branches:
        raise StudentError(kind, "not_a_model.subclass.training_branch", function=function,
                           type=cls, shape=where)  # fmt: skip
    if not same:
        raise StudentError(kind, "not_a_model.subclass.differs", function=function, type=cls,
                           shape=where)  # fmt: skip
    return twin


def _overrides(cls: type, method: str) -> bool:
    """Whether one of the student's classes (those before Keras' own in `cls`'s ancestry)
    defines `method`."""
    for c in cls.__mro__:
        if c.__module__.startswith("keras"):
            return False
        if method in vars(c):
            return True
    return False


def _takes_training(model: Any) -> bool:
    try:
        return "training" in inspect.signature(model.call).parameters
    except (TypeError, ValueError):
        return True  # unknown: assume it may branch on training


def _traced(model: Any, shape: tuple[int, ...], training: bool | None) -> Any:
    import keras

    inputs = keras.Input(shape)
    kwargs = {"training": training} if _takes_training(model) else {}
    return keras.Model(inputs, model.call(inputs, **kwargs), name=model.name)


def _graph(model: Any, twin: Any) -> list[Any]:
    """The twin's operations in order: the student's layers by identity, others by type
    (a trace creates new ones: its Input, the operations of `x / 255.0`...)."""
    own = {id(layer) for layer in model.layers}
    return [id(op) if id(op) in own else type(op).__name__ for op in twin.operations]


def _same_model(model: Any, twin: Any, shape: tuple[int, ...]) -> bool:
    """The same weights, and the same predictions on a fixed batch (inference mode)."""
    import keras

    batch = np.random.default_rng(0).random((2, *shape), dtype=np.float32)
    theirs = keras.tree.flatten(model(batch, training=False))
    ours = keras.tree.flatten(twin(batch, training=False))
    if {id(w) for w in model.weights} != {id(w) for w in twin.weights} or len(theirs) != len(ours):
        return False
    return all(
        np.allclose(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), atol=1e-5)
        for a, b in zip(theirs, ours, strict=True)
    )
