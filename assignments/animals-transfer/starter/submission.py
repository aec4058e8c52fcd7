"""Plantilla de la práctica «Transferencia de aprendizaje: 150 fotos de animales».

Completa las dos funciones. Define aquí solo funciones y constantes: el corrector importa este
archivo, construye tus modelos y los entrena él mismo con una partición fija. No cargues datos,
no entrenes ni dibujes al importar (tus pruebas, bajo `if __name__ == "__main__":` o en un
cuaderno).

Los modelos reciben imágenes float32 de forma (64, 64, 3) con píxeles en [0, 255].
"""

import keras
from keras import layers

# Opcional: épocas y tamaño de lote de cada tarea, dentro de los límites de la práctica.
TRAINING = {
    "scratch": {"epochs": 30, "batch_size": 16},
    "transfer": {"epochs": 20, "batch_size": 16},
}


def cabeza(x, num_classes):
    """El clasificador que usan LOS DOS modelos: así la comparación es justa."""
    x = layers.Flatten()(x)
    # TODO: una capa Dense oculta y Dropout, por ejemplo.
    return layers.Dense(num_classes, activation="softmax")(x)


def build_scratch(input_shape, num_classes):
    """Tu CNN entrenada desde cero para ave / caballo / gato (num_classes = 3)."""
    entradas = keras.Input(shape=input_shape)
    x = layers.Rescaling(1 / 255)(entradas)  # píxeles de [0, 255] a [0, 1]
    x = layers.Conv2D(16, 3, activation="relu")(x)
    x = layers.MaxPooling2D(4)(x)
    # TODO: más bloques convolucionales (Conv2D + MaxPooling2D), aumento de datos...
    modelo = keras.Model(entradas, cabeza(x, num_classes))
    modelo.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return modelo


def build_transfer(base_model, num_classes):
    """La red preentrenada del profesor con la MISMA cabeza que tu CNN.

    `base_model` llega con todas sus capas congeladas, ya incluye el Rescaling y termina en un
    mapa de características (sin clasificador): solo tienes que ponerle tu cabeza encima.
    """
    entradas = keras.Input(shape=(64, 64, 3))
    x = base_model(entradas, training=False)
    # TODO: ¿descongelar el último bloque (ajuste fino) con una tasa de aprendizaje menor?
    modelo = keras.Model(entradas, cabeza(x, num_classes))
    modelo.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return modelo


if __name__ == "__main__":
    # Una prueba rápida en tu ordenador (el corrector no ejecuta esto).
    base = keras.models.load_model("base_model.keras")
    base.trainable = False
    build_scratch((64, 64, 3), 3).summary()
    build_transfer(base, 3).summary()
