"""Every word a report shows, in English and Spanish."""

from __future__ import annotations

import re

from grader import notebook

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
        "comparison": "Scratch vs transfer",
        "comparison_text": "Transfer test accuracy {transfer:.3f} vs scratch {scratch:.3f}: "
        "difference {diff:+.3f}.",
        "data_split": "How the data was split",
        "class": "class",
        "provenance": "Provenance",
        "page": "Page",
        "of": "of",
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
        "scatter": "Scratch vs transfer (one point per student)",
        "pass_rate": "Pass rate per check",
        "failed_tasks": "Failed tasks",
        "error_kind": "error kind",
        "report": "report",
        "none": "none",
        "fb_overfit": "Validation loss rose after epoch {k} while training loss kept falling: "
        "the model started to overfit there. Try data augmentation, Dropout, a smaller dense "
        "layer, fewer epochs, or early stopping (TRAINING: early_stopping_patience).",
        "fb_gap": "Training accuracy exceeds validation accuracy by {gap:.3f} (allowed: "
        "{limit:.3f}): the model memorises its training images. Regularise it (augmentation, "
        "Dropout) or train for fewer epochs.",
        "fb_accuracy": "Hidden-test accuracy is {observed:.3f}, {short:.3f} below the required "
        "{threshold:.3f}.",
        "fb_params": "The model has {observed:,.0f} parameters, more than {threshold:,.0f}: "
        "pool before Flatten, or use fewer filters or a smaller Dense layer.",
        "fb_reuse": "The model holds {observed:.0f} of the base's pre-trained layers (needed: "
        "{threshold:.0f}). Build on base_model.layers (e.g. base_model.layers[:-1]) instead of "
        "new layers.",
        "fb_beats": "The transfer model does not beat the scratch model by {threshold:.2f} "
        "(difference {observed:+.3f}). Is the base really frozen while the new head trains? "
        "Was it cut at the right layer? Fine-tuning its top layers with a small learning rate "
        "often helps.",
        "fb_rising": "Validation accuracy was still rising at the last epoch: more epochs may "
        "help.",
        "fb_all_passed": "Every check of this task passed.",
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
        "comparison": "Desde cero frente a transferencia",
        "comparison_text": "Exactitud de test con transferencia {transfer:.3f} frente a "
        "{scratch:.3f} desde cero: diferencia {diff:+.3f}.",
        "data_split": "Cómo se repartieron los datos",
        "class": "clase",
        "provenance": "Procedencia",
        "page": "Página",
        "of": "de",
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
        "scatter": "Desde cero frente a transferencia (un punto por estudiante)",
        "pass_rate": "Porcentaje de aprobados por comprobación",
        "failed_tasks": "Tareas con error",
        "error_kind": "tipo de error",
        "report": "informe",
        "none": "ninguna",
        "fb_overfit": "La pérdida de validación subió a partir de la época {k} mientras la de "
        "entrenamiento seguía bajando: ahí empezó el sobreajuste. Prueba aumento de datos, "
        "Dropout, una capa densa más pequeña, menos épocas o parada temprana (TRAINING: "
        "early_stopping_patience).",
        "fb_gap": "La exactitud de entrenamiento supera a la de validación en {gap:.3f} "
        "(permitido: {limit:.3f}): el modelo memoriza sus imágenes de entrenamiento. "
        "Regularízalo (aumento de datos, Dropout) o entrena menos épocas.",
        "fb_accuracy": "La exactitud en test oculto es {observed:.3f}, {short:.3f} por debajo "
        "del mínimo de {threshold:.3f}.",
        "fb_params": "El modelo tiene {observed:,.0f} parámetros, más de {threshold:,.0f}: "
        "reduce antes de Flatten, o usa menos filtros o una capa densa más pequeña.",
        "fb_reuse": "El modelo contiene {observed:.0f} capas preentrenadas de la base (se piden "
        "{threshold:.0f}). Construye sobre base_model.layers (por ejemplo "
        "base_model.layers[:-1]) en lugar de capas nuevas.",
        "fb_beats": "El modelo con transferencia no supera al entrenado desde cero en "
        "{threshold:.2f} (diferencia {observed:+.3f}). ¿Está de verdad congelada la base "
        "mientras se entrena la cabeza nueva? ¿Se cortó por la capa adecuada? Ajustar sus "
        "últimas capas con una tasa de aprendizaje pequeña suele ayudar.",
        "fb_rising": "La exactitud de validación seguía subiendo en la última época: más "
        "épocas podrían ayudar.",
        "fb_all_passed": "Todas las comprobaciones de esta tarea se superaron.",
    },
}

CHECK_NAMES = {
    "en": {
        "min_test_accuracy": "hidden-test accuracy ≥ {t:.2f}",
        "max_gap": "train − validation accuracy ≤ {t:.2f}",
        "max_params": "at most {t:,.0f} parameters",
        "reuses_base": "holds ≥ {t:.0f} pre-trained base layers",
        "beats_scratch": "beats scratch by ≥ {t:.2f}",
    },
    "es": {
        "min_test_accuracy": "exactitud en test oculto ≥ {t:.2f}",
        "max_gap": "exactitud entrenamiento − validación ≤ {t:.2f}",
        "max_params": "como máximo {t:,.0f} parámetros",
        "reuses_base": "contiene ≥ {t:.0f} capas preentrenadas de la base",
        "beats_scratch": "supera a scratch en ≥ {t:.2f}",
    },
}


# Why a notebook line was dropped is stored in English (grader/notebook.py's texts); these
# are the other languages' versions, keyed by those texts.
_KEPT_ES = "solo se conservan importaciones, definiciones y constantes"
DROPPED_REASONS = {
    "es": {
        notebook.WHOLE_CELL_MAGIC: "magia de celda de IPython (la celda entera no es Python)",
        notebook.CELL_MAGIC: "magia de celda de IPython",
        notebook.MAGIC: "magia de IPython",
        notebook.SHELL: "orden de la terminal",
        notebook.HELP: "ayuda de IPython",
        notebook.MAIN_BLOCK: 'el bloque `if __name__ == "__main__":` no se ejecuta al corregir',
        notebook.CALL: "llamada a nivel de módulo (el código que entrena o dibuja no se "
                       "ejecuta al corregir)",
        notebook.NOT_CONSTANT: f"no es una constante ({_KEPT_ES})",
        notebook.STATEMENT: f"instrucción a nivel de módulo ({_KEPT_ES})",
        notebook.BLOCK: "bloque `{keyword}` a nivel de módulo (" + _KEPT_ES + ")",
    },
}  # fmt: skip
_BLOCK = re.compile(re.escape(notebook.BLOCK).replace(re.escape("{keyword}"), r"(?P<keyword>\w+)"))


def dropped_reason(reason: str, language: str) -> str:
    """A dropped notebook line's reason in the report's language (English if unknown)."""
    table = DROPPED_REASONS.get(language, {})
    if reason in table:
        return table[reason]
    block = _BLOCK.fullmatch(reason)
    if block and notebook.BLOCK in table:
        return table[notebook.BLOCK].format(keyword=block["keyword"])
    return reason


def strings(language: str) -> dict[str, str]:
    """The strings of one language.

    Raises:
        ValueError: the language has no translation.
    """
    if language not in STRINGS:
        raise ValueError(f"No report translation for language {language!r}; use one of "
                         f"{sorted(STRINGS)} (assignment.toml: language).")  # fmt: skip
    return STRINGS[language]
