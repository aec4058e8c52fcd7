"""Diego Fernández — Práctica: aprendizaje por transferencia (ave, caballo, gato).

Desde cero: una CNN sencilla de tres bloques (probé con BatchNormalization y la validación
se quedaba en 0,33 con lotes de 16, así que la quité). Transferencia: la red preentrenada con
la misma cabeza, y además ajuste fino (fine-tuning) del último bloque convolucional de la base
con una tasa de aprendizaje pequeña, para no destrozar los pesos preentrenados.
"""

import keras
from keras import layers

TRAINING = {
    "scratch": {"epochs": 25, "batch_size": 16},
    "transfer": {"epochs": 20, "batch_size": 16},
}

NEURONAS_OCULTAS = 64
TASA_DROPOUT = 0.3


def bloque_conv(filtros):
    return [
        layers.Conv2D(filtros, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
    ]


def capas_cabeza(num_classes):
    return [
        layers.Flatten(),
        layers.Dense(NEURONAS_OCULTAS, activation="relu"),
        layers.Dropout(TASA_DROPOUT),
        layers.Dense(num_classes, activation="softmax"),
    ]


def build_scratch(input_shape, num_classes):
    modelo = keras.Sequential(
        [keras.Input(shape=input_shape), layers.Rescaling(1.0 / 255)]
        + bloque_conv(16)
        + bloque_conv(32)
        + bloque_conv(64)
        + capas_cabeza(num_classes)
    )
    modelo.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return modelo


def build_transfer(base_model, num_classes):
    # Ajuste fino como en la guía de Keras: solo las dos Conv2D del último bloque se
    # entrenan; el resto de la base, BatchNormalization incluida, sigue congelado.
    base_model.trainable = True
    for capa in base_model.layers:
        capa.trainable = capa.name.startswith("block3_conv")
    modelo = keras.Sequential(
        [keras.Input(shape=(64, 64, 3)), base_model] + capas_cabeza(num_classes)
    )
    # Tasa pequeña: con ajuste fino una tasa grande estropea lo que la base ya sabe.
    modelo.compile(
        optimizer=keras.optimizers.Adam(1e-4),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return modelo
