"""A strong scratch CNN (two convolutions per block, augmentation, dropout, 40 epochs) against
transfer with every layer of the base fine-tuned at a small learning rate.
"""

import keras
from keras import layers

TRAINING = {
    "scratch": {"epochs": 40, "batch_size": 32},
    "transfer": {"epochs": 30, "batch_size": 32, "early_stopping_patience": 8},
    "cifar10": {"epochs": 8, "batch_size": 64},
}


def _augment():
    return keras.Sequential(
        [layers.RandomFlip("horizontal"), layers.RandomTranslation(0.1, 0.1)], name="augment"
    )


def _strong_cnn(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)
    x = _augment()(inputs)
    for filters in (32, 64):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(128, 3, padding="same", activation="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.4)(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_scratch(input_shape, num_classes):
    return _strong_cnn(input_shape, num_classes)


def build_transfer(base_model, num_classes):
    # Fine-tune everything, gently: the pre-trained weights are a starting point.
    base_model.trainable = True
    inputs = keras.Input(shape=(32, 32, 3))
    x = inputs
    for layer in base_model.layers[:-1]:
        x = layer(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-4),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def build_cifar10(input_shape, num_classes):
    return _strong_cnn(input_shape, num_classes)
