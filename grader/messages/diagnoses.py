"""Why a submission's code failed to load or build, in the student's terms, with the fix (issue 11).

A known cause found while importing the module or calling its function (see
`grader/worker/diagnose.py`) is `<stage>.<cause>`: the stage's opening (which file or
function, which line) followed by the cause and its fix. A model the grader cannot take is
`not_a_model.<cause>`.
"""

_STAGES = {  # `{where}` is " (submission line N: `code`)" or empty
    "import_error": {
        "en": "Importing {file} failed{where}: ",
        "es": "Falló la importación de {file}{where}: ",
    },
    "build_error": {
        "en": "`{function}{expected}` failed{where}: ",
        "es": "`{function}{expected}` falló{where}: ",
    },
}
_KERAS3_EN = "the version the grader runs"
_KERAS3_ES = "la versión que usa el corrector"
_CAUSES = {
    "keras2_augmentation": {
        "en": f"`{{old}}` was removed in Keras 3, {_KERAS3_EN}. Augment inside the model "
        "instead: right after keras.Input, add layers such as "
        "keras.layers.RandomFlip('horizontal'), keras.layers.RandomRotation(0.1) and "
        "keras.layers.RandomZoom(0.1). They change the images during training only, so they "
        "work when the grader trains your model with model.fit.",
        "es": f"`{{old}}` se eliminó en Keras 3, {_KERAS3_ES}. Haz el aumento de datos dentro "
        "del modelo: justo después de keras.Input, añade capas como "
        "keras.layers.RandomFlip('horizontal'), keras.layers.RandomRotation(0.1) y "
        "keras.layers.RandomZoom(0.1). Solo alteran las imágenes durante el entrenamiento, así "
        "que funcionan cuando el corrector entrena tu modelo con model.fit.",
    },
    "keras2_lr": {
        "en": "Keras 3 optimizers take `learning_rate=`, not Keras 2's `lr=`. Write e.g. "
        "keras.optimizers.Adam(learning_rate=0.001).",
        "es": "Los optimizadores de Keras 3 reciben `learning_rate=`, no el `lr=` de Keras 2. "
        "Escribe p. ej. keras.optimizers.Adam(learning_rate=0.001).",
    },
    "keras2_removed": {
        "en": f"`{{old}}` was removed in Keras 3, {_KERAS3_EN}. Use instead: {{new}}.",
        "es": f"`{{old}}` se eliminó en Keras 3, {_KERAS3_ES}. Usa en su lugar: {{new}}.",
    },
    "keras2_missing": {
        "en": f"`{{old}}` does not exist in Keras 3, {_KERAS3_EN}. Check the spelling; if it "
        "is a Keras 2 name, use its Keras 3 replacement (keras.io/guides/migrating_to_keras_3).",
        "es": f"`{{old}}` no existe en Keras 3, {_KERAS3_ES}. Revisa cómo está escrito; si es "
        "un nombre de Keras 2, usa su sustituto en Keras 3 "
        "(keras.io/guides/migrating_to_keras_3).",
    },
    "private_keras": {
        "en": "your code uses `tensorflow.python.keras` (or `tf_keras`), TensorFlow's private "
        "copy of the old Keras 2. Its layers and models are not Keras 3 objects, so the grader "
        "can neither check, train nor save them. Use the public Keras 3 API: `import keras` "
        "and `from keras import layers` (or `from tensorflow import keras`).",
        "es": "tu código usa `tensorflow.python.keras` (o `tf_keras`), la copia privada de "
        "TensorFlow del antiguo Keras 2. Sus capas y modelos no son objetos de Keras 3, así "
        "que el corrector no puede comprobarlos, entrenarlos ni guardarlos. Usa la API pública "
        "de Keras 3: `import keras` y `from keras import layers` (o "
        "`from tensorflow import keras`).",
    },
    "no_network.weights": {
        "en": "{what} with pre-trained weights downloads them from the internet, and there is "
        "no network while grading. Use the provided base model: `build_transfer(base_model, "
        "num_classes)` receives it already trained, every layer frozen; reuse its layers. "
        "Anywhere else, build the network with weights=None.",
        "es": "{what} con pesos preentrenados los descarga de internet, y durante la "
        "corrección no hay red. Usa el modelo base que se te da: `build_transfer(base_model, "
        "num_classes)` lo recibe ya entrenado, con todas las capas congeladas; reutiliza sus "
        "capas. En cualquier otro sitio, construye la red con weights=None.",
    },
    "no_network.dataset": {
        "en": "{what} downloads the data set, and there is no network while grading. The "
        "grader trains your model on its own copy of the images: load data only under "
        '`if __name__ == "__main__":` (in a notebook, in cells outside your functions), '
        "never in the functions the grader calls.",
        "es": "{what} descarga el conjunto de datos, y durante la corrección no hay red. El "
        "corrector entrena tu modelo con su propia copia de las imágenes: carga los datos solo "
        'bajo `if __name__ == "__main__":` (en un notebook, en celdas fuera de tus '
        "funciones), nunca en las funciones que llama el corrector.",
    },
    "no_network": {
        "en": "your code tried to download something, and there is no network while grading. "
        "Do not download files from your submission: use the provided base model and the "
        "images the grader gives your model.",
        "es": "tu código intentó descargar algo, y durante la corrección no hay red. No "
        "descargues archivos desde tu entrega: usa el modelo base que se te da y las imágenes "
        "que el corrector le pasa a tu modelo.",
    },
}
# A subclassed keras.Model is graded as the functional model its call() builds on
# keras.Input (grader/worker/subclass.py); these say why that was not possible here.
_SUBCLASS = {
    "en": "`{function}` returned an instance of your class `{type}`, a subclass of "
    "keras.Model. The grader checks, saves and scores a model without running your code, so "
    "it calls your call() once on keras.Input(shape={shape}) and grades the functional model "
    "that builds, over the same layers; ",
    "es": "`{function}` devolvió una instancia de tu clase `{type}`, una subclase de "
    "keras.Model. El corrector comprueba, guarda y puntúa el modelo sin ejecutar tu código, "
    "así que llama una vez a tu call() con keras.Input(shape={shape}) y corrige el modelo "
    "funcional que resulta, con las mismas capas; ",
}
_SUBCLASS_FIX = {
    "en": " Or write the network without a class: keras.Sequential([keras.Input(shape={shape}), "
    "...]), or inputs = keras.Input(shape={shape}), x = layers.Conv2D(...)(inputs), ..., "
    "return keras.Model(inputs, outputs).",
    "es": " O escribe la red sin una clase: keras.Sequential([keras.Input(shape={shape}), "
    "...]), o inputs = keras.Input(shape={shape}), x = layers.Conv2D(...)(inputs), ..., "
    "return keras.Model(inputs, outputs).",
}
_SUBCLASS_REASONS = {
    "untraceable": {
        "en": "calling call() on keras.Input failed: {error}. Use only Keras layers and "
        "keras.ops functions in call() (not tf.* or NumPy functions on the tensors).",
        "es": "llamar a call() con keras.Input falló: {error}. Usa en call() solo capas de "
        "Keras y funciones de keras.ops (no funciones tf.* ni de NumPy sobre los tensores).",
    },
    "training_branch": {
        "en": "but your call() computes something else when training (a Python `if training:`), "
        "which that model cannot record. Let the layers handle it: Dropout and the "
        "augmentation layers (RandomFlip...) are only active while training; call them "
        "always, e.g. x = self.dropout(x, training=training).",
        "es": "pero tu call() calcula otra cosa al entrenar (un `if training:` de Python), que "
        "ese modelo no puede registrar. Deja que lo resuelvan las capas: Dropout y las capas "
        "de aumento de datos (RandomFlip...) solo actúan al entrenar; llámalas siempre, p. ej. "
        "x = self.dropout(x, training=training).",
    },
    "differs": {
        "en": "but that model does not compute what yours does (your call() creates layers or "
        "weights of its own, or uses something other than the layers of __init__). Create "
        "every layer in __init__ and only call them in call().",
        "es": "pero ese modelo no calcula lo mismo que el tuyo (tu call() crea capas o pesos "
        "propios, o usa algo distinto de las capas de __init__). Crea todas las capas en "
        "__init__ y en call() solo llámalas.",
    },
    "training_steps": {
        "en": "but your class overrides {methods}, and the grader trains every model with "
        "Keras' standard fit(), which would skip that code. Remove {methods}: put the "
        "computation in layers and choose the loss and optimizer with compile().",
        "es": "pero tu clase redefine {methods}, y el corrector entrena todos los modelos con "
        "el fit() estándar de Keras, que se saltaría ese código. Quita {methods}: pon el "
        "cálculo en capas y elige la pérdida y el optimizador con compile().",
    },
}

TEXTS: dict[str, dict[str, str]] = {
    **{
        f"{stage}.{cause}": {lang: opening[lang] + text[lang] for lang in opening}
        for stage, opening in _STAGES.items()
        for cause, text in _CAUSES.items()
    },
    "not_a_model.private_keras": {
        "en": "`{function}` returned a {type} from `{module}`, TensorFlow's private copy of the "
        "old Keras 2, not a keras.Model: the grader can neither check, train nor save it. "
        "Build the model with the public Keras 3 API: `import keras`, `from keras import "
        "layers`, then keras.Sequential([...]) or keras.Model(inputs, outputs).",
        "es": "`{function}` devolvió un {type} de `{module}`, la copia privada de TensorFlow "
        "del antiguo Keras 2, no un keras.Model: el corrector no puede comprobarlo, entrenarlo "
        "ni guardarlo. Construye el modelo con la API pública de Keras 3: `import keras`, "
        "`from keras import layers`, y después keras.Sequential([...]) o "
        "keras.Model(inputs, outputs).",
    },
    **{
        f"not_a_model.subclass.{reason}": {
            lang: _SUBCLASS[lang] + text[lang] + _SUBCLASS_FIX[lang] for lang in text
        }
        for reason, text in _SUBCLASS_REASONS.items()
    },
}
