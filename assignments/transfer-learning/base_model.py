"""The instructor's base model: a small CNN that tells the ten CIFAR-10 classes apart.

The grader trains it once on the `base` split (see assignment.toml), caches it, and hands
every student the trained model, all layers frozen, as `build_transfer(base_model, ...)`.
"""

import keras
from keras import layers


def build_base_model(input_shape):
    """A compact CNN whose convolutional blocks learn features worth reusing."""
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, 3, padding="same", activation="relu", name="conv1"),
            layers.MaxPooling2D(name="pool1"),
            layers.Conv2D(64, 3, padding="same", activation="relu", name="conv2"),
            layers.MaxPooling2D(name="pool2"),
            layers.Conv2D(64, 3, padding="same", activation="relu", name="conv3"),
            layers.GlobalAveragePooling2D(name="gap"),
            layers.Dense(64, activation="relu", name="features"),
            layers.Dense(10, activation="softmax", name="class10"),
        ],
        name="base_model",
    )
