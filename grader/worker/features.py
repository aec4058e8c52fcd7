"""Train a model's head on its frozen trunk's features, computed once per split (issue 16).

A transfer model usually starts with a frozen base: every epoch recomputes the same base
outputs. When that is exactly equivalent, the base's part (the *trunk*) runs once on each
split and `fit` trains the rest (the *head*, the same layer objects, so the student's model
learns) on those features: the same History and weights to the last bit.

The trunk is the longest chain from the model's input through layers that
- have no trainable weights, so training never changes what they compute;
- are deterministic and the same in training and inference (a frozen BatchNormalization
  runs in inference mode in Keras 3; Dropout, noise and augmentation never qualify);
- compute each image's output alone, bit for bit whatever its batch or place in it. Dense
  does not (oneDNN's GEMM blocking depends on the batch), so it ends the trunk.
Nested models (the base called as a layer) are looked into, so the trunk can end inside.
Every tensor of the chain but its end feeds one layer only: the head depends on the input
through the cut tensor alone. Anything else, or a check that fails: the naive path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# Layer classes whose outputs are per-image, deterministic and mode-independent when
# frozen (compared by exact class: a subclass may override `call`).
TRUNK_LAYERS = frozenset(
    {
        "InputLayer", "Conv1D", "Conv2D", "Conv3D", "DepthwiseConv1D", "DepthwiseConv2D",
        "SeparableConv1D", "SeparableConv2D", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D",
        "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "GlobalMaxPooling1D",
        "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GlobalAveragePooling1D",
        "GlobalAveragePooling2D", "GlobalAveragePooling3D", "Flatten", "Reshape", "Permute",
        "Activation", "ReLU", "LeakyReLU", "ELU", "ZeroPadding1D", "ZeroPadding2D",
        "ZeroPadding3D", "Cropping1D", "Cropping2D", "Cropping3D", "Rescaling",
        "BatchNormalization",
    }
)  # fmt: skip
MAX_GROWTH = 8  # features may hold at most this many values per input value (memory)


@dataclass(frozen=True)
class Cut:
    """Where the trunk ends in one graph: at `tensor`, or inside the nested model that
    `node` calls on `tensor` (at `inner`, in that model's own graph)."""

    tensor: Any
    node: Any = None
    inner: Cut | None = None


@dataclass(frozen=True)
class Plan:
    """What `fit` trains (`model`) on which arrays (`data`); `used`: on the features."""

    model: Any
    data: dict[str, np.ndarray]
    used: bool = False


def plan(model: Any, data: dict[str, np.ndarray], batch_size: int) -> Plan:
    """The head on the trunk's features where exactly equivalent, else the model itself.

    `model` must be compiled (`compile_model`): the head is compiled the same way.
    """
    naive = Plan(model, data)
    if getattr(model, "jit_compile", False):  # XLA may fuse across the cut
        return naive
    try:
        cut = find_cut(model)
        if cut is None:
            return naive
        trunk, head = trunk_model(model, cut), head_model(model, cut)
        same = [id(v) for v in head.trainable_weights] == [id(v) for v in model.trainable_weights]
        # no frozen weights: little to save (e.g. a scratch model's Rescaling); a weight the
        # head would train but the model not (or the reverse); features too large to hold
        if not trunk.weights or not same or _grows(trunk):
            return naive
        x_train, x_val = (_features(trunk, data[s], batch_size) for s in ("x_train", "x_val"))
        if not _invariant(trunk, data["x_train"], x_train, batch_size):
            return naive
        head.compile(optimizer=model.optimizer, loss=model.loss, metrics=["accuracy"])
    except Exception:  # noqa: BLE001 - anything unforeseen: the naive path reports it
        return naive
    return Plan(head, {**data, "x_train": x_train, "x_val": x_val}, used=True)


def find_cut(model: Any) -> Cut | None:
    """The end of `model`'s trunk, or None: no graph, several inputs or outputs, a trunk
    that computes nothing (only the input) or everything (no head to train)."""
    cut = _cut_in(model)
    ends = (graph_of(model).inputs[0], graph_of(model).outputs[0]) if cut else ()
    if cut is None or (cut.node is None and any(cut.tensor is end for end in ends)):
        return None
    return cut


def graph_of(model: Any) -> Any:
    """The functional graph of a Functional or built Sequential model, else None."""
    import keras
    from keras.src.models.functional import Functional

    if type(model) is keras.Sequential:  # exact classes: a subclass may override `call`
        model = model._functional  # Sequential.call runs this graph when it has one
    return model if type(model) is Functional else None


def _cut_in(model: Any) -> Cut | None:
    graph = graph_of(model)
    if graph is None or len(graph.inputs) != 1 or len(graph.outputs) != 1:
        return None
    users = _users(graph)
    current = graph.inputs[0]
    while len(users.get(id(current), [])) == 1:
        node = users[id(current)][0]
        if node is None or not _single_tensor_call(node, current):
            break  # `current` is the output, or not the only argument
        op, after = node.operation, node.outputs[0]
        if not _in_trunk(op):
            inner = _cut_in(op)
            if inner is None or (inner.node is None and inner.tensor is graph_of(op).inputs[0]):
                break  # not a model, or nothing of it is trunk
            if inner.node is not None or inner.tensor is not graph_of(op).outputs[0]:
                return Cut(current, node, inner)  # the trunk ends inside this model
        current = after
    return Cut(current)


def _users(graph: Any) -> dict[int, list[Any]]:
    """The nodes each tensor of `graph` feeds (by the tensor's id); an output counts as a
    user too, so the chain stops there."""
    users: dict[int, list[Any]] = {id(t): [None] for t in graph.outputs}
    for nodes in graph._nodes_by_depth.values():
        for node in nodes:
            if node.is_input:
                continue
            for tensor in {id(t): t for t in node.input_tensors}.values():
                users.setdefault(id(tensor), []).append(node)
    return users


def _single_tensor_call(node: Any, tensor: Any) -> bool:
    """`node` is `op(tensor, **constants)`, with one output."""
    args = node.arguments
    return (
        len(args.args) == 1
        and args.args[0] is tensor
        and len(node.input_tensors) == 1
        and len(node.outputs) == 1
    )


def _in_trunk(layer: Any) -> bool:
    """A layer whose output can be computed once, before training (module docstring)."""
    import keras

    known = getattr(keras.layers, type(layer).__name__, None) is type(layer)
    activation = getattr(layer, "activation", None)
    builtin = activation is None or getattr(activation, "__module__", "").startswith(
        "keras.src.activations"
    )
    return (
        known
        and type(layer).__name__ in TRUNK_LAYERS
        and builtin
        and not (layer.trainable and layer.weights)  # frozen (BatchNormalization: inference)
        and getattr(layer, "activity_regularizer", None) is None  # it adds a loss
    )


def trunk_model(model: Any, cut: Cut) -> Any:
    """A model from `model`'s input to the cut: what is computed once."""
    import keras

    graph = graph_of(model)
    if cut.inner is None:
        return keras.Model(graph.inputs[0], cut.tensor)
    inner = trunk_model(cut.node.operation, cut.inner)
    return keras.Model(graph.inputs[0], inner(cut.tensor))


def head_model(model: Any, cut: Cut) -> Any:
    """A model from the cut to `model`'s output, made of the same layer objects called
    the same way (no new weight, no random draw): training it trains `model`.

    Keras clones the graph's nodes when a Functional starts at an intermediate tensor.
    """
    import keras

    graph = graph_of(model)
    output = graph.outputs[0]
    if cut.inner is None:
        return keras.Model(cut.tensor, output)
    inner = head_model(cut.node.operation, cut.inner)
    features = keras.Input(batch_shape=inner.inputs[0].shape, dtype=inner.inputs[0].dtype)
    x = inner(features, **cut.node.arguments.kwargs)  # e.g. training=False, as called
    after = cut.node.outputs[0]
    if after is not output:
        x = keras.Model(after, output)(x)
    return keras.Model(features, x)


def _grows(trunk: Any) -> bool:
    sizes = [int(np.prod(t.shape[1:])) for t in (trunk.inputs[0], trunk.outputs[0])]
    return sizes[1] > MAX_GROWTH * sizes[0]


def _features(trunk: Any, x: np.ndarray, batch_size: int) -> np.ndarray:
    return np.asarray(trunk.predict(x, batch_size=batch_size, verbose=0))


def _invariant(trunk: Any, x: np.ndarray, features: np.ndarray, batch_size: int) -> bool:
    """The trunk gives each image the same features, bit for bit, in batches as training
    shuffles them: the first images reversed, in a full batch and one of the last batch's
    size (oneDNN computes a batch of one image differently). No random draw: the random
    streams must stay as in the naive path."""
    count = min(len(x), batch_size + len(x) % batch_size)
    again = _features(trunk, x[:count][::-1], batch_size)[::-1]
    return again.tobytes() == features[:count].tobytes()
