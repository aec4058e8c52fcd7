"""Small everything: one tiny convolution block from scratch, a frozen base called as a layer,
and a 10-class model trained for only three epochs.

Functional style throughout; integer labels (sparse loss).
"""

import keras
from keras import layers

TRAINING = {
    "scratch": {"epochs": 20, "batch_size": 32},
    "transfer": {"epochs": 20, "batch_size": 32},
    "cifar10": {"epochs": 3, "batch_size": 64},
}


def _tiny(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)
    x = layers.Conv2D(8, 3, activation="relu")(inputs)
    x = layers.MaxPooling2D(4)(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_scratch(input_shape, num_classes):
    return _tiny(input_shape, num_classes)


def build_transfer(base_model, num_classes):
    base_model.trainable = False
    features = keras.Model(base_model.inputs, base_model.layers[-2].output)
    inputs = keras.Input(shape=(32, 32, 3))
    x = features(inputs, training=False)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_cifar10(input_shape, num_classes):
    return _tiny(input_shape, num_classes)
