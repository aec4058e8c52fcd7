"""The plain transfer recipe of the course: freeze the whole pre-trained base, replace its last
layer with Dense(3, activation="softmax"), switch to categorical_crossentropy.

Labels arrive one-hot because every model is compiled with categorical_crossentropy. The
scratch and 10-class models are plain CNNs with a little dropout.
"""

import keras
from keras import layers

TRAINING = {
    "scratch": {"epochs": 30, "batch_size": 32},
    "transfer": {"epochs": 30, "batch_size": 32},
    "cifar10": {"epochs": 10, "batch_size": 64},
}


def _plain_cnn(input_shape, num_classes):
    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, padding="same", activation="relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dropout(0.3),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def build_scratch(input_shape, num_classes):
    return _plain_cnn(input_shape, num_classes)


def build_transfer(base_model, num_classes):
    # Every pre-trained layer frozen; only the new softmax layer learns.
    for layer in base_model.layers:
        layer.trainable = False
    model = keras.Sequential(base_model.layers[:-1])
    model.add(layers.Dense(num_classes, activation="softmax"))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def build_cifar10(input_shape, num_classes):
    return _plain_cnn(input_shape, num_classes)
