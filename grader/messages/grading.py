"""Checks, notebook drop reasons, staging, names and self-check rows: per id, every language."""

_KEPT = {
    "en": "only imports, definitions and constants are kept",
    "es": "solo se conservan importaciones, definiciones y constantes",
}
_RESAVE = {
    "en": "Re-save the notebook from Jupyter, or submit submission.py instead.",
    "es": "Vuelve a guardar el cuaderno desde Jupyter, o entrega submission.py en su lugar.",
}
_ACCURACY = {"en": "observed {observed:.3f} against {threshold:.3f}",
             "es": "observado {observed:.3f} frente a {threshold:.3f}"}  # fmt: skip

CHECKS: dict[str, dict[str, str]] = {
    "check.min_test_accuracy.required": {
        "en": "hidden-test accuracy >= {threshold:.2f}",
        "es": "exactitud en test oculto ≥ {threshold:.2f}",
    },
    "check.min_val_accuracy.required": {
        "en": "validation accuracy >= {threshold:.2f}",
        "es": "exactitud de validación ≥ {threshold:.2f}",
    },
    "check.max_gap.required": {
        "en": "train - validation accuracy <= {threshold:.2f}",
        "es": "exactitud de entrenamiento − validación ≤ {threshold:.2f}",
    },
    "check.max_params.required": {
        "en": "at most {threshold:,.0f} parameters",
        "es": "como máximo {threshold:,.0f} parámetros",
    },
    "check.reuses_base.required": {
        "en": "holds >= {threshold:.0f} pre-trained base layers",
        "es": "contiene ≥ {threshold:.0f} capas preentrenadas de la base",
    },
    "check.beats_scratch.required": {
        "en": "test accuracy >= {other} test accuracy + {threshold:.2f}",
        "es": "exactitud de test ≥ la de {other} + {threshold:.2f}",
    },
    "check.observed.met": _ACCURACY,
    "check.observed.short": {
        "en": _ACCURACY["en"] + ", short by {missed:.3f}",
        "es": _ACCURACY["es"] + "; faltan {missed:.3f}",
    },
    "check.observed.over": {
        "en": _ACCURACY["en"] + ", over by {missed:.3f}",
        "es": _ACCURACY["es"] + "; sobran {missed:.3f}",
    },
    "check.max_params.within": {
        "en": "{observed:,.0f} parameters (within the limit)",
        "es": "{observed:,.0f} parámetros (dentro del límite)",
    },
    "check.max_params.over": {
        "en": "{observed:,.0f} parameters (over the limit)",
        "es": "{observed:,.0f} parámetros (por encima del límite)",
    },
    "check.reuses_base.observed": {
        "en": "{observed:.0f} of the base's {total} weighted layers held with pre-trained weights",
        "es": "{observed:.0f} de las {total} capas con pesos de la base conservan los pesos "
        "preentrenados",
    },
    "check.not_measured": {
        "en": "not measured: this task did not produce a trained model (see its error)",
        "es": "sin medir: esta tarea no produjo un modelo entrenado (mira su error)",
    },
    "check.not_measured_other": {
        "en": "not measured: task '{other}' did not produce a model to compare",
        "es": "sin medir: la tarea '{other}' no produjo un modelo con el que comparar",
    },
    "check.reuses_base.hint": {
        "en": "reuses the pre-trained base",
        "es": "reutiliza la base preentrenada",
    },
    "check.reuses_base.hint_ok": {
        "en": "holds {held} of the base's {total} pre-trained layers",
        "es": "contiene {held} de las {total} capas preentrenadas de la base",
    },
    "check.reuses_base.hint_problem": {
        "en": "holds {held} of the base's {total} pre-trained layers: build on "
        "base_model.layers (e.g. base_model.layers[:-1]) instead of new layers",
        "es": "contiene {held} de las {total} capas preentrenadas de la base: construye sobre "
        "base_model.layers (por ejemplo base_model.layers[:-1]) en lugar de capas nuevas",
    },
    "check.max_params.hint": {
        "en": "parameters within the graded maximum",
        "es": "parámetros dentro del máximo que se puntúa",
    },
    "check.max_params.hint_over": {
        "en": "{params:,} > {threshold:,.0f}: this check will score 0",
        "es": "{params:,} > {threshold:,.0f}: esta comprobación puntuará 0",
    },
}

NOTEBOOK: dict[str, dict[str, str]] = {
    "notebook.whole_cell_magic": {
        "en": "IPython cell magic (the whole cell is not Python)",
        "es": "magia de celda de IPython (la celda entera no es Python)",
    },
    "notebook.cell_magic": {"en": "IPython cell magic", "es": "magia de celda de IPython"},
    "notebook.magic": {"en": "IPython magic", "es": "magia de IPython"},
    "notebook.shell": {"en": "shell command", "es": "orden de la terminal"},
    "notebook.help": {"en": "IPython help", "es": "ayuda de IPython"},
    "notebook.main_block": {
        "en": 'the `if __name__ == "__main__":` block does not run during grading',
        "es": 'el bloque `if __name__ == "__main__":` no se ejecuta al corregir',
    },
    "notebook.call": {
        "en": "top-level call (training/plotting code does not run during grading)",
        "es": "llamada a nivel de módulo (el código que entrena o dibuja no se ejecuta al "
        "corregir)",
    },
    "notebook.not_constant": {
        "en": f"not a constant ({_KEPT['en']})",
        "es": f"no es una constante ({_KEPT['es']})",
    },
    "notebook.statement": {
        "en": f"top-level statement ({_KEPT['en']})",
        "es": f"instrucción a nivel de módulo ({_KEPT['es']})",
    },
    "notebook.block": {
        "en": "top-level `{keyword}` block (" + _KEPT["en"] + ")",
        "es": "bloque `{keyword}` a nivel de módulo (" + _KEPT["es"] + ")",
    },
    "bad_notebook.not_utf8": {
        "en": "{filename} is not UTF-8 text. " + _RESAVE["en"],
        "es": "{filename} no es texto UTF-8. " + _RESAVE["es"],
    },
    "bad_notebook.bad_json": {
        "en": "{filename} is not valid JSON (line {line}, column {column}): {error}. "
        + _RESAVE["en"],
        "es": "{filename} no es JSON válido (línea {line}, columna {column}): {error}. "
        + _RESAVE["es"],
    },
    "bad_notebook.too_deep": {
        "en": "{filename} is nested too deeply to be a notebook.",
        "es": "{filename} está anidado a demasiada profundidad para ser un cuaderno.",
    },
    "bad_notebook.not_a_notebook": {
        "en": "{filename} is not a Jupyter notebook (it has no list of cells). Submit the "
        ".ipynb file Jupyter saves, or submission.py.",
        "es": "{filename} no es un cuaderno de Jupyter (no tiene una lista de celdas). Entrega "
        "el archivo .ipynb que guarda Jupyter, o submission.py.",
    },
    "bad_notebook.no_code_cells": {
        "en": "{filename} has no code cells: put the functions the assignment asks for "
        "(build_...) in code cells.",
        "es": "{filename} no tiene celdas de código: pon las funciones que pide la tarea "
        "(build_...) en celdas de código.",
    },
    "bad_notebook.bad_cell_source": {
        "en": "{filename}: code cell {cell} has a source that is neither text nor a list of "
        "lines. Re-save it from Jupyter.",
        "es": "{filename}: la celda de código {cell} tiene un contenido que no es texto ni una "
        "lista de líneas. Vuelve a guardarlo desde Jupyter.",
    },
    "bad_notebook.syntax_error": {
        "en": "{filename}: code cell {cell} is not valid Python (line {line}: {error}). Fix "
        "the cell (run it in Jupyter to see the error) or delete it.",
        "es": "{filename}: la celda de código {cell} no es Python válido (línea {line}: "
        "{error}). Corrige la celda (ejecútala en Jupyter para ver el error) o bórrala.",
    },
    "bad_notebook.syntax_error_in": {
        "en": "{filename}: code cell {cell} is not valid Python (line {line}: {error}) in "
        "{code}. Fix the cell (run it in Jupyter to see the error) or delete it.",
        "es": "{filename}: la celda de código {cell} no es Python válido (línea {line}: "
        "{error}) en {code}. Corrige la celda (ejecútala en Jupyter para ver el error) o "
        "bórrala.",
    },
    "bad_notebook.not_python": {
        "en": "{filename}: code cell {cell} is not valid Python ({error}). Fix the cell (run "
        "it in Jupyter to see the error) or delete it.",
        "es": "{filename}: la celda de código {cell} no es Python válido ({error}). Corrige la "
        "celda (ejecútala en Jupyter para ver el error) o bórrala.",
    },
}

STAGING: dict[str, dict[str, str]] = {
    "bad_submission.unreadable": {
        "en": "Could not read the submission: {error}.",
        "es": "No se pudo leer la entrega: {error}.",
    },
    "bad_submission.too_large": {
        "en": "Could not read the submission: it holds more than {megabytes} MB; submit code only.",
        "es": "No se pudo leer la entrega: ocupa más de {megabytes} MB; entrega solo el código.",
    },
    "missing_file": {
        "en": "{folder}/ has no {file} (or {notebook}). Put your functions in {file} (see the "
        "handout).",
        "es": "{folder}/ no tiene {file} (ni {notebook}). Pon tus funciones en {file} (mira el "
        "enunciado).",
    },
    "name.bad_toml": {
        "en": "student.toml is not valid TOML ({error})",
        "es": "student.toml no es TOML válido ({error})",
    },
    "name.no_name_line": {
        "en": 'student.toml has no name = "..." line',
        "es": 'student.toml no tiene una línea name = "..."',
    },
}

SELFCHECK: dict[str, dict[str, str]] = {
    "step.imports": {
        "en": "imports and defines the function",
        "es": "se importa y define la función",
    },
    "step.training_config": {
        "en": "TRAINING settings within the limits",
        "es": "ajustes de TRAINING dentro de los límites",
    },
    "step.returns_model": {"en": "returns a Keras model", "es": "devuelve un modelo de Keras"},
    "step.input_shape": {"en": "input shape {shape}", "es": "forma de entrada {shape}"},
    "step.output_shape": {
        "en": "one output unit per class",
        "es": "una unidad de salida por clase",
    },
    "step.params": {
        "en": "parameters within the hard limit",
        "es": "parámetros dentro del límite estricto",
    },
    "step.saves": {"en": "the model can be saved", "es": "el modelo se puede guardar"},
    "step.loss": {
        "en": "a loss the grader can feed labels to",
        "es": "una pérdida para la que el corrector sabe dar etiquetas",
    },
    "step.trains": {
        "en": "trains a few steps (no NaN, no shape error)",
        "es": "entrena unos pasos (sin NaN ni errores de forma)",
    },
    "step.scores": {"en": "grades without error", "es": "se corrige sin errores"},
    "selfcheck.trains_and_evaluates": {
        "en": "trains and evaluates",
        "es": "entrena y se evalúa",
    },
    "selfcheck.dropped": {
        "en": "notebook: dropped line",
        "es": "cuaderno: línea descartada",
    },
    "selfcheck.dropped_detail": {
        "en": "cell {cell}, line {line}: {code} ({reason})",
        "es": "celda {cell}, línea {line}: {code} ({reason})",
    },
    "selfcheck.custom": {
        "en": "standard Keras layers only",
        "es": "solo capas estándar de Keras",
    },
    "selfcheck.custom_allowed": {
        "en": "uses {layers}: allowed here, but scored in your sandbox and flagged as such to "
        "the instructor",
        "es": "usa {layers}: aquí se permite, pero se evalúa en tu entorno aislado y se le "
        "señala así al profesor",
    },
    "selfcheck.custom_refused": {
        "en": "uses {layers}: grading refuses custom and Lambda layers (loading them would run "
        "your code); build the model from keras.layers",
        "es": "usa {layers}: la corrección rechaza las capas propias y Lambda (cargarlas "
        "ejecutaría tu código); construye el modelo con keras.layers",
    },
    "selfcheck.loss": {
        "en": "loss matches the output activation",
        "es": "la pérdida encaja con la activación de salida",
    },
    "selfcheck.loss_sigmoid_categorical": {
        "en": "sigmoid output with a categorical loss: end the model with "
        "Dense(n, activation='softmax')",
        "es": "salida sigmoid con una pérdida categórica: termina el modelo con "
        "Dense(n, activation='softmax')",
    },
    "selfcheck.loss_softmax_binary": {
        "en": "softmax output with binary_crossentropy: use categorical_crossentropy (one-hot "
        "labels) or sparse_categorical_crossentropy (integer labels)",
        "es": "salida softmax con binary_crossentropy: usa categorical_crossentropy (etiquetas "
        "one-hot) o sparse_categorical_crossentropy (etiquetas enteras)",
    },
    "selfcheck.loss_activation": {
        "en": "the last layer's activation is '{activation}': unless the loss uses "
        "from_logits=True, end with activation='softmax'",
        "es": "la activación de la última capa es '{activation}': salvo que la pérdida use "
        "from_logits=True, termina con activation='softmax'",
    },
    "selfcheck.loss_ok": {"en": "{activation} + {loss}", "es": "{activation} + {loss}"},
}

TEXTS: dict[str, dict[str, str]] = {**CHECKS, **NOTEBOOK, **STAGING, **SELFCHECK}
