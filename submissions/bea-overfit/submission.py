"""A submission that overfits: big dense layers, no augmentation, no regularisation."""

import keras
from keras import layers

TRAINING = {
    "scratch": {"epochs": 25, "batch_size": 16},
    "transfer": {"epochs": 40, "batch_size": 16},
    "cifar10": {"epochs": 15, "batch_size": 32},
}


def build_scratch(input_shape, num_classes):
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(32, 3, activation="relu"),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )


def build_transfer(base_model, num_classes):
    # Uses the whole base, then stacks a large head on its ten-class softmax output.
    base_model.trainable = True
    return keras.Sequential(
        [
            keras.Input(shape=(32, 32, 3)),
            base_model,
            layers.Dense(512, activation="relu"),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )


def build_cifar10(input_shape, num_classes):
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(32, 3, activation="relu"),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
