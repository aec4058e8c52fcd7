"""Why a task could not be graded: one entry per message id, in every language.

Workers raise `StudentError(kind, id, **params)`; the host builds the failed record with
`Message(id, params)`. The English texts are the ones result files have always stored.
"""

_CRASH_EN = "The training process stopped early: {why}. Do not call sys.exit/os._exit in " \
            "your submission; see the log below."  # fmt: skip
_CRASH_ES = "El proceso de entrenamiento se detuvo antes de tiempo: {why}. No llames a " \
            "sys.exit/os._exit en tu entrega; mira el registro más abajo."  # fmt: skip
_STANDARD_EN = "Build it from standard Keras layers only: no Lambda layers and no custom " \
               "layer classes."  # fmt: skip
_STANDARD_ES = "Constrúyelo solo con capas estándar de Keras: sin capas Lambda ni clases de " \
               "capa propias."  # fmt: skip


def _crash(en: str, es: str) -> dict[str, str]:
    return {"en": _CRASH_EN.replace("{why}", en), "es": _CRASH_ES.replace("{why}", es)}


TEXTS: dict[str, dict[str, str]] = {
    # importing the submission
    "syntax_error": {
        "en": "{file} has a syntax error at line {line}: {error}. Fix it, then run the "
        "self-check (python -m grader check).",
        "es": "{file} tiene un error de sintaxis en la línea {line}: {error}. Corrígelo y "
        "después ejecuta la autocomprobación (python -m grader check).",
    },
    "import_error": {
        "en": "Importing {file} failed: {error}. Keep training, plotting and data loading out "
        "of module level; the module should only define functions and constants.",
        "es": "Falló la importación de {file}: {error}. Deja el entrenamiento, las gráficas y "
        "la carga de datos fuera del nivel de módulo; el módulo solo debe definir funciones "
        "y constantes.",
    },
    # TRAINING = {...}
    "training_config.not_dicts": {
        "en": "TRAINING must be a dict of dicts, e.g. TRAINING = {{'{task}': {{'epochs': 10}}}}"
        ". Received: {received}",
        "es": "TRAINING debe ser un dict de dicts, p. ej. TRAINING = {{'{task}': {{'epochs': "
        "10}}}}. Recibido: {received}",
    },
    "training_config.unknown_key": {
        "en": "TRAINING['{task}'] has an unknown key {key}; allowed keys: {allowed}.",
        "es": "TRAINING['{task}'] tiene una clave desconocida {key}; claves permitidas: {allowed}.",
    },
    "training_config.out_of_range": {
        "en": "TRAINING['{task}']['{key}'] must be an integer from {low} to {high} (the "
        "assignment's limit). Received: {value}",
        "es": "TRAINING['{task}']['{key}'] debe ser un entero de {low} a {high} (el límite de "
        "la práctica). Recibido: {value}",
    },
    # building the model
    "missing_function": {
        "en": "The submission does not define `{function}{expected}`. Add "
        "`def {function}{expected}:` returning a keras.Model (check the spelling).",
        "es": "La entrega no define `{function}{expected}`. Añade `def {function}{expected}:` "
        "que devuelva un keras.Model (revisa cómo está escrito el nombre).",
    },
    "bad_signature": {
        "en": "`{function}` must accept {expected}; it is defined as `{function}{signature}`. "
        "Change its parameters to {expected}.",
        "es": "`{function}` debe aceptar {expected}; está definida como "
        "`{function}{signature}`. Cambia sus parámetros a {expected}.",
    },
    "build_error": {
        "en": "`{function}{expected}` raised {error}.",
        "es": "`{function}{expected}` lanzó {error}.",
    },
    "not_a_model": {
        "en": "`{function}` returned {type}, not a keras.Model. End the function with "
        "`return model`.",
        "es": "`{function}` devolvió {type}, no un keras.Model. Termina la función con "
        "`return model`.",
    },
    "wrong_input_shape.unbuildable": {
        "en": "The model from `{function}` cannot take inputs of shape {shape}: {error}. Start "
        "it with keras.Input(shape={shape}).",
        "es": "El modelo de `{function}` no admite entradas de forma {shape}: {error}. "
        "Empiézalo con keras.Input(shape={shape}).",
    },
    "wrong_input_shape": {
        "en": "`{function}` returned a model whose input shape is {got}; images here are "
        "{shape}. Start the model with keras.Input(shape={shape}).",
        "es": "`{function}` devolvió un modelo cuya entrada tiene forma {got}; aquí las "
        "imágenes son {shape}. Empieza el modelo con keras.Input(shape={shape}).",
    },
    "wrong_output_shape": {
        "en": "`{function}` returned a model whose output has {units} units; this task has "
        "{n} classes ({classes}). End the model with Dense({n}, activation='softmax').",
        "es": "`{function}` devolvió un modelo cuya salida tiene {units} unidades; esta tarea "
        "tiene {n} clases ({classes}). Termina el modelo con Dense({n}, "
        "activation='softmax').",
    },
    "too_many_params": {
        "en": "The model from `{function}` has {params:,} parameters; this task allows at "
        "most {max_params:,}. Use fewer filters or a smaller Dense layer, or pool before "
        "Flatten.",
        "es": "El modelo de `{function}` tiene {params:,} parámetros; esta tarea permite como "
        "máximo {max_params:,}. Usa menos filtros o una capa Dense más pequeña, o reduce "
        "(pooling) antes de Flatten.",
    },
    "save_error": {
        "en": "The trained model could not be saved: {error}. A custom layer needs a "
        "`get_config()` returning every argument of its `__init__`.",
        "es": "No se pudo guardar el modelo entrenado: {error}. Una capa propia necesita un "
        "`get_config()` que devuelva todos los argumentos de su `__init__`.",
    },
    # the loss and its labels (grader/labels.py)
    "unsupported_loss.several": {
        "en": "The model was compiled with several losses ({losses}); each task has one "
        "output. Compile with a single loss, e.g. loss='sparse_categorical_crossentropy'.",
        "es": "El modelo se compiló con varias pérdidas ({losses}); cada tarea tiene una sola "
        "salida. Compílalo con una única pérdida, p. ej. "
        "loss='sparse_categorical_crossentropy'.",
    },
    "unsupported_loss.unknown": {
        "en": "The model was compiled with loss={loss}, which the grader cannot match to a "
        "label format. Use 'sparse_categorical_crossentropy' (integer labels), "
        "'categorical_crossentropy' (one-hot labels) or, for one sigmoid unit, "
        "'binary_crossentropy'.",
        "es": "El modelo se compiló con loss={loss}, y el corrector no sabe qué formato de "
        "etiquetas le corresponde. Usa 'sparse_categorical_crossentropy' (etiquetas enteras), "
        "'categorical_crossentropy' (etiquetas one-hot) o, con una sola unidad sigmoide, "
        "'binary_crossentropy'.",
    },
    # training
    "training_error": {
        "en": "Training failed: {error}.",
        "es": "El entrenamiento falló: {error}.",
    },
    "nan_loss": {
        "en": "The training loss became NaN at epoch {epoch}. Lower the learning rate, and "
        "check that the last layer's activation matches the loss (softmax with categorical "
        "losses, sigmoid with binary).",
        "es": "La pérdida de entrenamiento se volvió NaN en la época {epoch}. Baja la tasa de "
        "aprendizaje y comprueba que la activación de la última capa encaja con la pérdida "
        "(softmax con pérdidas categóricas, sigmoide con la binaria).",
    },
    # how the training child ended (read by the host)
    "disk_limit": {
        "en": "The training process wrote more than {mb} MB to disk and was stopped. Do not "
        "write files from your submission; the grader saves your model itself.",
        "es": "El proceso de entrenamiento escribió más de {mb} MB en disco y se detuvo. No "
        "escribas archivos desde tu entrega; el corrector ya guarda tu modelo.",
    },
    "timeout": {
        "en": "Training did not finish within this task's limit of {limit} s (stopped after "
        "{seconds:.0f} s). Train fewer epochs (TRAINING), or use a smaller model.",
        "es": "El entrenamiento no terminó dentro del límite de esta tarea, {limit} s (se "
        "detuvo a los {seconds:.0f} s). Entrena menos épocas (TRAINING) o usa un modelo más "
        "pequeño.",
    },
    "crash.out_of_memory": {
        "en": "The training process stopped early: it used more memory than its limit and "
        "the kernel stopped it. Use a smaller model or batch size; see the log below.",
        "es": "El proceso de entrenamiento se detuvo antes de tiempo: usó más memoria de la "
        "permitida y el sistema lo paró. Usa un modelo o un tamaño de lote más pequeño; mira "
        "el registro más abajo.",
    },
    "crash.memory_error": _crash(
        "it ran out of memory (use a smaller model or batch size)",
        "se quedó sin memoria (usa un modelo o un tamaño de lote más pequeño)",
    ),
    "crash.segfault": _crash(
        "it crashed with a segmentation fault", "falló con un fallo de segmentación"
    ),
    "crash.file_size": _crash(
        "it wrote a file larger than {mb} MB", "escribió un archivo de más de {mb} MB"
    ),
    "crash.cpu_time": _crash(
        "it used more CPU time than allowed", "usó más tiempo de CPU del permitido"
    ),
    "crash.killed": _crash("it was killed (out of memory?)", "lo mataron (¿se quedó sin memoria?)"),
    "crash.signal": _crash("it was killed by signal {signal}", "lo mató la señal {signal}"),
    "crash.exit": _crash(
        "it exited with code {code} before saving the model ({detail})",
        "terminó con el código {code} antes de guardar el modelo ({detail})",
    ),
    "bad_output.training": {
        "en": "The training process left unusable output ({error}). Do not write files from "
        "your submission.",
        "es": "El proceso de entrenamiento dejó una salida inservible ({error}). No escribas "
        "archivos desde tu entrega.",
    },
    # scoring
    "custom_objects": {
        "en": "The model from `{function}` uses {classes}, which the grader cannot load "
        "safely (their code would have to run outside your sandbox). " + _STANDARD_EN,
        "es": "El modelo de `{function}` usa {classes}, que el corrector no puede cargar de "
        "forma segura (su código tendría que ejecutarse fuera de tu entorno aislado). "
        + _STANDARD_ES,
    },
    "unsafe_model_file": {
        "en": "The model trained from `{function}` could not be loaded safely for evaluation "
        "({error}). " + _STANDARD_EN,
        "es": "El modelo entrenado con `{function}` no se pudo cargar de forma segura para "
        "evaluarlo ({error}). " + _STANDARD_ES,
    },
    "bad_model_file.custom": {
        "en": "The model trained from `{function}` could not be loaded with your custom "
        "classes ({error}). Give each custom layer a `get_config()` that returns every "
        "argument of its `__init__`.",
        "es": "El modelo entrenado con `{function}` no se pudo cargar con tus clases propias "
        "({error}). Da a cada capa propia un `get_config()` que devuelva todos los argumentos "
        "de su `__init__`.",
    },
    "bad_predictions": {
        "en": "The trained model's {error}. Check the last layer and that training did not "
        "diverge.",
        "es": "Las salidas del modelo entrenado no sirven ({error}). Revisa la última capa y "
        "que el entrenamiento no divergiera.",
    },
    "bad_predictions.raised": {
        "en": "The model trained from `{function}` failed while predicting: {error}.",
        "es": "El modelo entrenado con `{function}` falló al predecir: {error}.",
    },
    "bad_output.sandbox_scoring": {
        "en": "Scoring in your sandbox left unusable output ({error}). Do not change Keras' "
        "predict or write files from your submission.",
        "es": "La evaluación en tu entorno aislado dejó una salida inservible ({error}). No "
        "modifiques el predict de Keras ni escribas archivos desde tu entrega.",
    },
    "evaluation_failed": {
        "en": "Evaluation failed ({error}): {log}",
        "es": "La evaluación falló ({error}): {log}",
    },
    "evaluation_failed.missing": {
        "en": "The model could not be evaluated.",
        "es": "No se pudo evaluar el modelo.",
    },
    # the grader's own bug
    "grader_error": {
        "en": "The grader failed on this task with an internal error ({error}). This is not a "
        "problem with your submission: tell your instructor, who has the log.",
        "es": "El corrector falló en esta tarea por un error interno ({error}). No es un "
        "problema de tu entrega: avisa a tu profesor, que tiene el registro.",
    },
}
