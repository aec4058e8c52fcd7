# Bruno Sánchez - práctica 4, transfer learning
# En clase me salía train 0.91 y val 0.70 con mi CNN... creo que sobreajusta pero lo entrego así

import keras
from keras.layers import Conv2D, Dense, Flatten, MaxPooling2D, Rescaling

TRAINING = {
    "scratch": {"epochs": 30, "batch_size": 16},
    "transfer": {"epochs": 15, "batch_size": 16},
}


def build_scratch(input_shape, num_classes):
    model = keras.Sequential()
    model.add(keras.Input(shape=input_shape))
    model.add(Rescaling(1.0 / 255))
    model.add(Conv2D(32, (3, 3), activation="relu", padding="same"))
    model.add(MaxPooling2D((2, 2)))
    model.add(Conv2D(64, (3, 3), activation="relu", padding="same"))
    model.add(MaxPooling2D((2, 2)))
    model.add(Conv2D(64, (3, 3), activation="relu", padding="same"))
    model.add(MaxPooling2D((2, 2)))
    # cabeza grande, sin dropout
    model.add(Flatten())
    model.add(Dense(128, activation="relu"))
    model.add(Dense(num_classes, activation="softmax"))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_transfer(base_model, num_classes):
    # la misma cabeza que en mi CNN, pero encima de la red preentrenada
    model = keras.Sequential(
        [
            base_model,
            Flatten(),
            Dense(128, activation="relu"),
            Dense(num_classes, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
