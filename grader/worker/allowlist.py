"""The Keras objects a saved model may name and still be loaded without student code.

Safe mode stops Python lambdas, not Keras' own classes that run code or read files: a
`Lambda` layer calls any function its config names, `TFSMLayer` loads a SavedModel from
disk, `JaxLayer`, `FlaxLayer` and `TorchModuleWrapper` run (or unpickle) wrapped code, and
`StringLookup`, `IntegerLookup` and `TextVectorization` read a vocabulary from any path.
So the grader allows an explicit list instead of refusing a few names: the layers below,
Keras' three model classes, the tensor operations a functional model records (`inputs /
255.0` becomes a `TrueDivide` node), and the pure-math namespaces whose names a config
uses (initializers, regularizers, constraints, activations, losses, metrics, optimizers,
learning-rate schedules, dtype policies, quantizers). A class Keras adds in a later version
is refused until it is reviewed and listed here.
"""

from __future__ import annotations

import functools
import inspect
import sys
from typing import Any

LAYERS = (
    # core, reshaping, merging
    "InputLayer", "Dense", "EinsumDense", "Embedding", "ReversibleEmbedding", "Activation",
    "Identity", "Masking", "Flatten", "Reshape", "Permute", "RepeatVector", "Cropping1D",
    "Cropping2D", "Cropping3D", "UpSampling1D", "UpSampling2D", "UpSampling3D", "ZeroPadding1D",
    "ZeroPadding2D", "ZeroPadding3D", "Add", "Subtract", "Multiply", "Average", "Maximum",
    "Minimum", "Concatenate", "Dot",
    # convolution and pooling (with their aliases)
    "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
    "Convolution1D", "Convolution2D", "Convolution3D", "Convolution1DTranspose",
    "Convolution2DTranspose", "Convolution3DTranspose", "DepthwiseConv1D", "DepthwiseConv2D",
    "SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D",
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D",
    "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "AvgPool1D", "AvgPool2D",
    "AvgPool3D", "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
    "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPooling1D",
    "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GlobalMaxPool1D", "GlobalMaxPool2D",
    "GlobalMaxPool3D", "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D",
    "AdaptiveAveragePooling3D", "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D",
    "AdaptiveMaxPooling3D",
    # normalization, regularization, activations, attention
    "BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization",
    "RMSNormalization", "SpectralNormalization", "Dropout", "SpatialDropout1D", "SpatialDropout2D",
    "SpatialDropout3D", "GaussianDropout", "GaussianNoise", "AlphaDropout",
    "ActivityRegularization", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "Attention",
    "AdditiveAttention", "MultiHeadAttention", "GroupQueryAttention",
    # recurrent (a cell or wrapped layer is checked on its own)
    "RNN", "SimpleRNN", "SimpleRNNCell", "GRU", "GRUCell", "LSTM", "LSTMCell", "ConvLSTM1D",
    "ConvLSTM2D", "ConvLSTM3D", "StackedRNNCells", "Bidirectional", "TimeDistributed",
    # preprocessing that reads no files
    "Rescaling", "Resizing", "CenterCrop", "Normalization", "Discretization", "CategoryEncoding",
    "Hashing", "HashedCrossing", "MelSpectrogram", "STFTSpectrogram", "Pipeline",
    "MaxNumBoundingBoxes",
    # image augmentation
    "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomCrop",
    "RandomContrast", "RandomBrightness", "RandomColorDegeneration", "RandomColorJitter",
    "RandomElasticTransform", "RandomErasing", "RandomGaussianBlur", "RandomGrayscale", "RandomHue",
    "RandomInvert", "RandomPerspective", "RandomPosterization", "RandomSaturation",
    "RandomSharpness", "RandomShear", "AugMix", "AutoContrast", "CutMix", "Equalization", "MixUp",
    "RandAugment", "Solarization", "ContrastLimitedAdaptiveHistogramEqualization",
)  # fmt: skip
# keras.layers classes deliberately left out (a test checks every class is one or the other)
REFUSED_LAYERS = frozenset({"Lambda", "TFSMLayer", "JaxLayer", "FlaxLayer", "TorchModuleWrapper",
                            "StringLookup", "IntegerLookup", "TextVectorization", "Layer",
                            "Wrapper", "InputSpec"})  # fmt: skip
OPS_MODULES = ("numpy", "nn", "math", "image", "linalg")  # tensor maths: all their operations
# from keras.src.ops.core, not Map, Scan, Cond, WhileLoop...: those take Python callables
OPS_CORE = ("Cast", "SaturateCast", "ConvertToTensor", "Slice", "SliceUpdate", "Scatter",
            "ScatterUpdate", "StopGradient", "Unstack")  # fmt: skip
OPS_REFUSED = frozenset({"JVP"})  # takes a function
NAMESPACES = ("initializers", "regularizers", "constraints", "activations", "losses", "metrics",
              "optimizers", "dtype_policies", "quantizers")  # fmt: skip


@functools.cache
def allowed() -> frozenset[Any]:
    """Every class and function a config may name (objects, compared by identity)."""
    import keras
    from keras.src.models.functional import Functional

    objects: set[Any] = {getattr(keras.layers, n) for n in LAYERS if hasattr(keras.layers, n)}
    objects |= {keras.Model, keras.Sequential, Functional}
    objects |= _applications_layers()
    objects |= _operations()
    tables = namespace_tables()
    for name in NAMESPACES:
        objects |= set(tables[name].values())
    objects |= {v for v in tables["schedules"].values() if _subclass(v, _schedule_base())}
    return frozenset(objects)


def is_allowed(obj: Any) -> bool:
    """Whether a resolved object is on the list (an unhashable one never is)."""
    try:
        return obj in allowed()
    except TypeError:
        return False


@functools.cache
def namespace_tables() -> dict[str, dict[str, Any]]:
    """The name-to-object tables Keras resolves bare names in (`module_objects`), by namespace.
    Schedules are resolved in their module's globals, every name of it (only the schedule
    classes are allowed)."""
    import importlib

    from keras.src.optimizers.schedules import learning_rate_schedule as schedules

    tables = {n: importlib.import_module(f"keras.src.{n}").ALL_OBJECTS_DICT for n in NAMESPACES}
    return {**tables, "schedules": dict(vars(schedules))}


def _schedule_base() -> type:
    from keras.src.optimizers.schedules.learning_rate_schedule import LearningRateSchedule

    return LearningRateSchedule


@functools.cache
def legacy_layers() -> dict[str, Any]:
    """The table Keras resolves old-format layer names in (every name in `keras.src.layers`,
    modules and functions included: a bare name can reach any of them)."""
    from keras.src import layers, models

    return {**vars(layers), "Functional": models.Functional, "Model": models.Model,
            "Sequential": models.Sequential}  # fmt: skip


def _operations() -> set[Any]:
    """The tensor operations a functional model records as nodes (`x / 255.0`, `ops.relu`)."""
    import importlib

    from keras.src.ops.operation import Operation

    found = set()
    for name in OPS_MODULES:
        module = importlib.import_module(f"keras.src.ops.{name}")
        found |= {
            v
            for n, v in vars(module).items()
            if _subclass(v, Operation) and v.__module__ == module.__name__ and n not in OPS_REFUSED
        }
    core = importlib.import_module("keras.src.ops.core")
    return found | {getattr(core, n) for n in OPS_CORE if hasattr(core, n)}


def _applications_layers() -> set[Any]:
    """Layers Keras' own applications define (ConvNeXt's LayerScale...): Keras code, maths."""
    from keras.src.layers.layer import Layer

    return {
        v
        for name, module in list(sys.modules.items())
        if name.startswith("keras.src.applications.") and module is not None
        for v in vars(module).values()
        if _subclass(v, Layer) and v.__module__ == name
    }


def _subclass(value: Any, base: type) -> bool:
    return inspect.isclass(value) and issubclass(value, base)
