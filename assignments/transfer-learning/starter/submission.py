"""Starter file for the transfer-learning assignment. Fill in the three functions.

Only define functions and constants here: the grader imports this file, builds your
models, and trains them itself on a fixed split. Do not load data, train or plot at module
level (put experiments under `if __name__ == "__main__":` or in a notebook).
"""

import keras
from keras import layers

# Optional: per-task training settings, within the assignment's limits.
TRAINING = {
    "scratch": {"epochs": 30, "batch_size": 32},
    "transfer": {"epochs": 30, "batch_size": 32},
    "cifar10": {"epochs": 10, "batch_size": 64},
}


def build_scratch(input_shape, num_classes):
    """A CNN trained from scratch on other / automobile / truck (num_classes = 3)."""
    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(),
            # TODO: more convolution blocks, regularisation (Dropout, augmentation) ...
            layers.Flatten(),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_transfer(base_model, num_classes):
    """Your head on the instructor's pre-trained base (every base layer arrives frozen).

    `base_model` ends with the Dense(10, softmax) CIFAR-10 classifier; cut it off, e.g. with
    base_model.layers[:-1], and add your own classifier for num_classes classes.
    """
    model = keras.Sequential(
        [keras.Input(shape=(32, 32, 3))]
        + base_model.layers[:-1]
        + [layers.Dense(num_classes, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_cifar10(input_shape, num_classes):
    """A CNN for all ten CIFAR-10 classes (num_classes = 10)."""
    raise NotImplementedError("build your 10-class model here")
