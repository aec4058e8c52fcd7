"""The class summary's "Same work to look at" section (grader/report/similarity.py): groups of
students with identical submissions (param `hash`) or the same models (param `tasks`: task
ids, comma-separated). For the instructor only; nothing in it changes a score."""

TEXTS: dict[str, dict[str, str]] = {
    "similarity.heading": {
        "en": "Same work to look at",
        "es": "Trabajos iguales que revisar",
    },
    "similarity.intro": {
        "en": "Students whose submitted files are identical, or whose models have the same "
        "layers and hyperparameters in every task they both trained. Nothing was penalised: "
        "the grader only lists them for you to look at, and similar models can have an "
        "innocent cause, such as the starter code.",
        "es": "Estudiantes cuyos archivos entregados son idénticos, o cuyos modelos tienen las "
        "mismas capas e hiperparámetros en cada tarea que ambos entrenaron. No se ha "
        "penalizado nada: el corrector solo los lista para que los revises, y unos modelos "
        "parecidos pueden tener una causa inocente, como el código de partida.",
    },
    "similarity.reference_left_out": {
        "en": "Models that also match your reference solution are left out.",
        "es": "Se omiten los modelos que además coinciden con tu solución de referencia.",
    },
    "similarity.no_reference": {
        "en": "This grading had no reference solution, so models that simply follow the "
        "starter code may be listed too; add a reference solution to leave those out.",
        "es": "Esta corrección no tenía solución de referencia, así que también pueden "
        "aparecer modelos que solo siguen el código de partida; añade una solución de "
        "referencia para omitirlos.",
    },
    "similarity.what": {
        "en": "What is the same",
        "es": "Qué coincide",
    },
    "similarity.identical": {
        "en": "Identical files (submission hash {hash})",
        "es": "Archivos idénticos (huella de la entrega {hash})",
    },
    "similarity.same_models": {
        "en": "Same layers, optimizer, loss, epochs, batch size and parameter count in {tasks}",
        "es": "Mismas capas, optimizador, función de pérdida, épocas, tamaño de lote y número "
        "de parámetros en {tasks}",
    },
}
