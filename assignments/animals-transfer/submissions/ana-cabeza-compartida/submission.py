"""Práctica de transferencia de aprendizaje: ave / caballo / gato.

Comparo una CNN entrenada desde cero con la red preentrenada del profesor. Para que la
comparación sea justa, los dos modelos terminan con la MISMA cabeza (función `cabeza`).
"""

import keras
from keras import layers

TRAINING = {
    "scratch": {"epochs": 30, "batch_size": 16},
    "transfer": {"epochs": 20, "batch_size": 16},
}


def cabeza(x, num_classes):
    """Clasificador común a los dos modelos: Flatten -> Dense(64) -> Dropout -> softmax."""
    x = layers.Flatten()(x)
    x = layers.Dense(64, activation="relu")(x)
    x = layers.Dropout(0.3)(x)
    return layers.Dense(num_classes, activation="softmax")(x)


def build_scratch(input_shape, num_classes):
    entradas = keras.Input(shape=input_shape)
    x = layers.Rescaling(1 / 255)(entradas)  # los píxeles llegan en [0, 255]
    for filtros in (32, 64, 128):
        x = layers.Conv2D(filtros, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D()(x)
    modelo = keras.Model(entradas, cabeza(x, num_classes), name="desde_cero")
    modelo.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return modelo


def build_transfer(base_model, num_classes):
    # La base ya reescala los píxeles y llega congelada: solo se entrena la cabeza.
    entradas = keras.Input(shape=(64, 64, 3))
    x = base_model(entradas, training=False)
    modelo = keras.Model(entradas, cabeza(x, num_classes), name="transferencia")
    modelo.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return modelo
