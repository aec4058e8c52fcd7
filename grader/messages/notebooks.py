"""What the notebook conversion kept, dropped or could not use, by cell (issue 11).

Drop reasons found by looking at the whole notebook (grader/notebook/usage.py), the error a
worker reports for a NameError on a name only a left-out line set, how reports group the
left-out lines, and the feedback that knows the notebook's augmentation was left out.
"""

_MOVE_EN = "keras.layers.RandomFlip('horizontal'), RandomRotation(0.1) and RandomZoom(0.1) " \
           "right after keras.Input"  # fmt: skip
_MOVE_ES = "keras.layers.RandomFlip('horizontal'), RandomRotation(0.1) y RandomZoom(0.1) " \
           "justo después de keras.Input"  # fmt: skip

REASONS: dict[str, dict[str, str]] = {
    "notebook.needed": {
        "en": "sets {names}, used by {users}: grading leaves this line out, so that code "
        "fails with a NameError. If it is a fixed value, write it as a constant (e.g. "
        "`SIZE = (32, 32)`); otherwise compute it inside the function, from its arguments",
        "es": "define {names}, que usa {users}: la corrección no ejecuta esta línea, así que "
        "ese código falla con un NameError. Si es un valor fijo, escríbelo como constante "
        "(p. ej. `SIZE = (32, 32)`); si no, calcúlalo dentro de la función, a partir de sus "
        "argumentos",
    },
    "notebook.augmentation": {
        "en": "data augmentation outside the model: the grader trains the model your build_* "
        "function returns on plain images, so this augmentation is not used. To keep it, put "
        f"it in the model: {_MOVE_EN} (they change images only while training)",
        "es": "aumento de datos fuera del modelo: el corrector entrena el modelo que devuelve "
        "tu función build_* con las imágenes tal cual, así que este aumento no se usa. Para "
        f"conservarlo, ponlo dentro del modelo: {_MOVE_ES} (solo alteran las imágenes "
        "durante el entrenamiento)",
    },
    "notebook.unused_import": {
        "en": "`{module}` is not installed where grading runs, and no kept code uses it, so "
        "the import was left out",
        "es": "`{module}` no está instalado donde se corrige y ningún código conservado lo "
        "usa, así que se descartó la importación",
    },
}

ERRORS: dict[str, dict[str, str]] = {
    "notebook.dropped_name": {  # reported by a worker: params of the stage's message + these
        "en": "{error}. `{name}` is set only in cell {cell}, line {line} (`{code}`), a line "
        "grading leaves out: it keeps a notebook's imports, functions, classes and constants "
        "and runs nothing else (the grader loads the images and trains the model itself). If "
        "`{name}` is a fixed value, write it as a constant; otherwise compute it inside the "
        "function that uses it, from its arguments.",
        "es": "{error}. `{name}` solo se define en la celda {cell}, línea {line} (`{code}`), "
        "una línea que la corrección no ejecuta: de un cuaderno conserva importaciones, "
        "funciones, clases y constantes, y no ejecuta nada más (el corrector carga las "
        "imágenes y entrena el modelo). Si `{name}` es un valor fijo, escríbelo como "
        "constante; si no, calcúlalo dentro de la función que lo usa, a partir de sus "
        "argumentos.",
    },
}

GROUPS: dict[str, dict[str, str]] = {  # where a group of left-out lines is, in reports
    "notebook.where_line": {"en": "cell {cell}, line {line}", "es": "celda {cell}, línea {line}"},
    "notebook.where_cell": {
        "en": "cell {cell}, {count} lines",
        "es": "celda {cell}, {count} líneas",
    },
    "notebook.where_cells": {
        "en": "cells {cells}, {count} lines",
        "es": "celdas {cells}, {count} líneas",
    },
    "selfcheck.dropped_group": {
        "en": "{where}: {code} ({reason})",
        "es": "{where}: {code} ({reason})",
    },
}

FEEDBACK: dict[str, dict[str, str]] = {  # instead of "try augmentation" (grader/report/feedback.py)
    "feedback.max_gap.notebook_augmentation": {
        "en": "Training accuracy exceeds validation accuracy by {observed:.3f} (allowed: "
        "{threshold:.3f}): the model memorises its training images. Your notebook augments "
        "its images outside the model (cells {cells}), and the grader does not use that: move "
        f"the augmentation into the model ({_MOVE_EN}). Dropout or fewer epochs also help.",
        "es": "La exactitud de entrenamiento supera a la de validación en {observed:.3f} "
        "(permitido: {threshold:.3f}): el modelo memoriza sus imágenes de entrenamiento. Tu "
        "cuaderno aumenta los datos fuera del modelo (celdas {cells}), y el corrector no lo "
        f"usa: pasa el aumento al modelo ({_MOVE_ES}). Dropout o menos épocas también ayudan.",
    },
    "feedback.overfit_epoch.notebook_augmentation": {
        "en": "Validation loss rose after epoch {epoch} while training loss kept falling: the "
        "model started to overfit there. Your notebook's augmentation (cells {cells}) is "
        f"outside the model, so the grader does not use it: move it into the model "
        f"({_MOVE_EN}). Dropout, fewer epochs or early stopping (TRAINING: "
        "early_stopping_patience) also help.",
        "es": "La pérdida de validación subió a partir de la época {epoch} mientras la de "
        "entrenamiento seguía bajando: ahí empezó el sobreajuste. El aumento de datos de tu "
        "cuaderno (celdas {cells}) está fuera del modelo, así que el corrector no lo usa: "
        f"pásalo al modelo ({_MOVE_ES}). Dropout, menos épocas o parada temprana (TRAINING: "
        "early_stopping_patience) también ayudan.",
    },
    "feedback.max_gap.model_augments": {
        "en": "Training accuracy exceeds validation accuracy by {observed:.3f} (allowed: "
        "{threshold:.3f}) even with the model's own augmentation ({layers}): it memorises its "
        "training images. Add Dropout, use a smaller dense layer, or train for fewer epochs.",
        "es": "La exactitud de entrenamiento supera a la de validación en {observed:.3f} "
        "(permitido: {threshold:.3f}) aun con el aumento de datos del propio modelo ({layers}): "
        "memoriza sus imágenes de entrenamiento. Añade Dropout, usa una capa densa más "
        "pequeña o entrena menos épocas.",
    },
    "feedback.overfit_epoch.model_augments": {
        "en": "Validation loss rose after epoch {epoch} while training loss kept falling, even "
        "with the model's own augmentation ({layers}): the model started to overfit there. "
        "Try Dropout, a smaller dense layer, fewer epochs, or early stopping (TRAINING: "
        "early_stopping_patience).",
        "es": "La pérdida de validación subió a partir de la época {epoch} mientras la de "
        "entrenamiento seguía bajando, aun con el aumento de datos del propio modelo "
        "({layers}): ahí empezó el sobreajuste. Prueba Dropout, una capa densa más pequeña, "
        "menos épocas o parada temprana (TRAINING: early_stopping_patience).",
    },
}

TEXTS: dict[str, dict[str, str]] = {**REASONS, **ERRORS, **GROUPS, **FEEDBACK}
