"""The report's own words (headings, labels, table columns) by id, in English and Spanish.

Sentences about a submission are not here: they are stored or built as `Message`s and
rendered by `grader.messages` (feedback, check texts, errors, notebook drop reasons).
"""

from __future__ import annotations

from typing import Any

from grader.messages import LocaleFormatter

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "report_title": "Grading report",
        "self_check_note": "Student self-check: graded on the public validation split. Every "
        "“test” figure in this report is a validation figure; the instructor grades on a "
        "hidden test split.",
        "student": "Student",
        "student_id": "Student id",
        "assignment": "Assignment",
        "score": "Score",
        "status": "Status",
        "checks": "Checks",
        "task": "Task",
        "required": "Required",
        "observed": "Observed",
        "points": "Points",
        "passed": "passed",
        "failed": "failed",
        "ok": "graded",
        "error": "error",
        "timeout": "timeout",
        "partial": "partly graded",
        "not_measured": "not measured",
        "train": "train",
        "validation": "validation",
        "test": "hidden test",
        "gap": "gap (train − validation)",
        "gap_short": "gap",
        "accuracy": "accuracy",
        "loss": "loss",
        "epoch": "epoch",
        "best_epoch": "best validation epoch",
        "results": "Results",
        "curves": "Training curves",
        "confusion": "Confusion matrix (hidden test split)",
        "true_class": "true class",
        "predicted": "predicted",
        "samples": "Sample test images (✗ = wrong prediction)",
        "layers": "Model layers",
        "layer": "layer",
        "type": "type",
        "output_shape": "output shape",
        "params": "parameters",
        "trainable": "trainable",
        "frozen": "frozen",
        "yes": "yes",
        "no": "no",
        "total_params": "{total:,} parameters ({trainable:,} trainable, {frozen:,} frozen)",
        "training": "{epochs} epochs, batch size {batch}, optimizer {optimizer}, loss {loss}, "
        "{seconds:.0f} s",
        "feedback": "Feedback",
        "task_error": "This task could not be graded",
        "log": "Last lines of the log",
        "comparison": "{first} vs {second}",
        "data_split": "How the data was split",
        "class": "class",
        "provenance": "Provenance",
        "page": "Page",
        "of": "of",
        "data": "data",
        "seed": "seed",
        "name_warning": "About the name",
        "notebook": "Notebook lines the grader dropped",
        "dropped_line": "cell {cell}, line {line}",
        "scored_in_sandbox": "Scored in your sandbox: this model uses custom layers or Lambda "
        "layers, so the grader loaded it with your code, as this assignment allows. Your code "
        "received the images but never the labels.",
        "sandbox_footnote": "† scored in the student's sandbox (custom layers or Lambda layers): "
        "the student's code ran while the model was scored, so read that submission before "
        "relying on the figure.",
        "summary_title": "Class summary",
        "students": "Students",
        "images": "images",
        "score_distribution": "Score distribution",
        "accuracy_distribution": "Hidden-test accuracy per task",
        "scatter": "{first} vs {second} (one point per student)",
        "pass_rate": "Pass rate per check",
        "failed_tasks": "Failed tasks",
        "stopped_tasks": "Training stopped at its time limit (the last completed epoch scored)",
        "borderline": "borderline",
        "borderline_checks": "Borderline checks to review",
        "borderline_intro": "The threshold lies inside the 95% interval of the measured value: "
        "the measurement cannot tell whether the student met it.",
        "reference_solution": "Reference solution",
        "reference_intro": "Your own solution, graded like a submission on the same images "
        "(students never see it or these figures). Score: {score}.",
        "reference_thresholds": "Thresholds relative to it",
        "reference_value": "its value",
        "offset": "offset",
        "interval": "95% interval",
        "intervals_note": "In brackets: the 95% interval of each accuracy (Wilson; for the gap, "
        "Newcombe's), from the number of images it was measured on.",
        "error_kind": "error kind",
        "report": "report",
        "none": "none",
        "prov_grader_version": "grader version",
        "prov_data_fingerprint": "data fingerprint",
        "prov_spec_hash": "assignment spec hash",
        "prov_submission_hash": "submission hash",
        "prov_seed": "seed",
        "prov_isolation": "isolation",
        "prov_memory_cap": "memory cap",
        "prov_tensorflow": "TensorFlow",
        "prov_keras": "Keras",
        "prov_python": "Python",
        "prov_cpu": "CPU",
        "prov_date": "date",
    },
    "es": {
        "report_title": "Informe de corrección",
        "self_check_note": "Autocomprobación del estudiante: corregida con la partición pública "
        "de validación. Toda cifra de «test» de este informe es de validación; el profesor "
        "corrige con una partición de test oculta.",
        "student": "Estudiante",
        "student_id": "Identificador",
        "assignment": "Práctica",
        "score": "Nota",
        "status": "Estado",
        "checks": "Comprobaciones",
        "task": "Tarea",
        "required": "Requisito",
        "observed": "Observado",
        "points": "Puntos",
        "passed": "superada",
        "failed": "no superada",
        "ok": "corregida",
        "error": "error",
        "timeout": "tiempo agotado",
        "partial": "corregida en parte",
        "not_measured": "sin medir",
        "train": "entrenamiento",
        "validation": "validación",
        "test": "test oculto",
        "gap": "brecha (entrenamiento − validación)",
        "gap_short": "brecha",
        "accuracy": "exactitud",
        "loss": "pérdida",
        "epoch": "época",
        "best_epoch": "mejor época de validación",
        "results": "Resultados",
        "curves": "Curvas de entrenamiento",
        "confusion": "Matriz de confusión (partición de test oculta)",
        "true_class": "clase real",
        "predicted": "predicha",
        "samples": "Imágenes de test de ejemplo (✗ = predicción errónea)",
        "layers": "Capas del modelo",
        "layer": "capa",
        "type": "tipo",
        "output_shape": "forma de salida",
        "params": "parámetros",
        "trainable": "entrenable",
        "frozen": "congelada",
        "yes": "sí",
        "no": "no",
        "total_params": "{total:,} parámetros ({trainable:,} entrenables, {frozen:,} congelados)",
        "training": "{epochs} épocas, lote de {batch}, optimizador {optimizer}, pérdida {loss}, "
        "{seconds:.0f} s",
        "feedback": "Comentarios",
        "task_error": "Esta tarea no se pudo corregir",
        "log": "Últimas líneas del registro",
        "comparison": "{first} frente a {second}",
        "data_split": "Cómo se repartieron los datos",
        "class": "clase",
        "provenance": "Procedencia",
        "page": "Página",
        "of": "de",
        "data": "datos",
        "seed": "semilla",
        "name_warning": "Sobre el nombre",
        "notebook": "Líneas del cuaderno que el corrector descartó",
        "dropped_line": "celda {cell}, línea {line}",
        "scored_in_sandbox": "Evaluado en tu entorno aislado: este modelo usa capas propias o "
        "capas Lambda, así que el corrector lo cargó con tu código, como permite esta tarea. "
        "Tu código recibió las imágenes, pero nunca las etiquetas.",
        "sandbox_footnote": "† evaluado en el entorno aislado del estudiante (capas propias o "
        "Lambda): su código se ejecutó mientras se medía el modelo; revisa esa entrega antes "
        "de fiarte de la cifra.",
        "summary_title": "Resumen de la clase",
        "students": "Estudiantes",
        "images": "imágenes",
        "score_distribution": "Distribución de notas",
        "accuracy_distribution": "Exactitud en test oculto por tarea",
        "scatter": "{first} frente a {second} (un punto por estudiante)",
        "pass_rate": "Porcentaje de aprobados por comprobación",
        "failed_tasks": "Tareas con error",
        "stopped_tasks": "Entrenamientos detenidos en su límite de tiempo (se puntuó la última "
        "época completa)",
        "borderline": "al límite",
        "borderline_checks": "Comprobaciones al límite que revisar",
        "borderline_intro": "El umbral cae dentro del intervalo del 95 % del valor medido: la "
        "medida no permite saber si el estudiante lo alcanzó.",
        "reference_solution": "Solución de referencia",
        "reference_intro": "Tu propia solución, corregida como una entrega con las mismas "
        "imágenes (los estudiantes no la ven ni ven estas cifras). Nota: {score}.",
        "reference_thresholds": "Umbrales relativos a ella",
        "reference_value": "su valor",
        "offset": "desplazamiento",
        "interval": "intervalo del 95 %",
        "intervals_note": "Entre paréntesis: el intervalo del 95 % de cada exactitud (Wilson; "
        "para la brecha, Newcombe), según el número de imágenes con que se midió.",
        "error_kind": "tipo de error",
        "report": "informe",
        "none": "ninguna",
        "prov_grader_version": "versión del corrector",
        "prov_data_fingerprint": "huella de los datos",
        "prov_spec_hash": "huella del enunciado",
        "prov_submission_hash": "huella de la entrega",
        "prov_seed": "semilla",
        "prov_isolation": "aislamiento",
        "prov_memory_cap": "límite de memoria",
        "prov_tensorflow": "TensorFlow",
        "prov_keras": "Keras",
        "prov_python": "Python",
        "prov_cpu": "CPU",
        "prov_date": "fecha",
    },
}


def strings(language: str) -> dict[str, str]:
    """The words of one language.

    Raises:
        ValueError: the language has no translation.
    """
    if language not in STRINGS:
        raise ValueError(f"No report translation for language {language!r}; use one of "
                         f"{sorted(STRINGS)} (assignment.toml: language).")  # fmt: skip
    return STRINGS[language]


def say(language: str, word_id: str, **params: Any) -> str:
    """One of the report's words with its values filled in, numbers the language's way."""
    return LocaleFormatter(language).format(strings(language)[word_id], **params)


def heading(language: str, word_id: str, **params: Any) -> str:
    """`say`, with its first letter made upper case (a heading may start with a task id)."""
    text = say(language, word_id, **params)
    return text[:1].upper() + text[1:]
