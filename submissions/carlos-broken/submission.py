"""A submission broken in one task: the 10-class model keeps the 3-unit head.

The scratch and transfer models are fine (integer labels, sparse loss) and are graded.
"""

import keras
from keras import layers


def build_scratch(input_shape, num_classes):
    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_transfer(base_model, num_classes):
    features = keras.Model(base_model.inputs, base_model.layers[-2].output)
    inputs = keras.Input(shape=(32, 32, 3))
    x = features(inputs, training=False)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def build_cifar10(input_shape, num_classes):
    # Bug: copied from the 3-class model, so the output layer still has 3 units.
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )
