"""Feedback sentences a report writes from a task's numbers: one entry per id, every language.

A check's sentence is `feedback.<kind>` (the check registry's `feedback_id`), with the
parameters `observed`, `threshold`, `short` (threshold - observed) and `other` (the task it
is compared with, if any). The others are written from a task's training history.
"""

TEXTS: dict[str, dict[str, str]] = {
    "feedback.min_test_accuracy": {
        "en": "Hidden-test accuracy is {observed:.3f}, {short:.3f} below the required "
        "{threshold:.3f}.",
        "es": "La exactitud en test oculto es {observed:.3f}, {short:.3f} por debajo del mínimo "
        "de {threshold:.3f}.",
    },
    "feedback.min_val_accuracy": {
        "en": "Validation accuracy is {observed:.3f}, {short:.3f} below the required "
        "{threshold:.3f}.",
        "es": "La exactitud de validación es {observed:.3f}, {short:.3f} por debajo del mínimo "
        "de {threshold:.3f}.",
    },
    "feedback.max_gap": {
        "en": "Training accuracy exceeds validation accuracy by {observed:.3f} (allowed: "
        "{threshold:.3f}): the model memorises its training images. Regularise it "
        "(augmentation, Dropout) or train for fewer epochs.",
        "es": "La exactitud de entrenamiento supera a la de validación en {observed:.3f} "
        "(permitido: {threshold:.3f}): el modelo memoriza sus imágenes de entrenamiento. "
        "Regularízalo (aumento de datos, Dropout) o entrena menos épocas.",
    },
    "feedback.max_params": {
        "en": "The model has {observed:,.0f} parameters, more than {threshold:,.0f}: pool before "
        "Flatten, or use fewer filters or a smaller Dense layer.",
        "es": "El modelo tiene {observed:,.0f} parámetros, más de {threshold:,.0f}: reduce antes "
        "de Flatten, o usa menos filtros o una capa densa más pequeña.",
    },
    "feedback.reuses_base": {
        "en": "The model holds {observed:.0f} of the base's pre-trained layers (needed: "
        "{threshold:.0f}). Build on base_model.layers (e.g. base_model.layers[:-1]) instead of "
        "new layers.",
        "es": "El modelo contiene {observed:.0f} capas preentrenadas de la base (se piden "
        "{threshold:.0f}). Construye sobre base_model.layers (por ejemplo "
        "base_model.layers[:-1]) en lugar de capas nuevas.",
    },
    "feedback.beats_scratch": {
        "en": "This model does not beat the {other} model by {threshold:.2f} (difference "
        "{observed:+.3f}). Is the base really frozen while the new head trains? Was it cut at "
        "the right layer? Fine-tuning its top layers with a small learning rate often helps.",
        "es": "Este modelo no supera al modelo {other} en {threshold:.2f} (diferencia "
        "{observed:+.3f}). ¿Está de verdad congelada la base mientras se entrena la cabeza "
        "nueva? ¿Se cortó por la capa adecuada? Ajustar sus últimas capas con una tasa de "
        "aprendizaje pequeña suele ayudar.",
    },
    "feedback.overfit_epoch": {
        "en": "Validation loss rose after epoch {epoch} while training loss kept falling: the "
        "model started to overfit there. Try data augmentation, Dropout, a smaller dense layer, "
        "fewer epochs, or early stopping (TRAINING: early_stopping_patience).",
        "es": "La pérdida de validación subió a partir de la época {epoch} mientras la de "
        "entrenamiento seguía bajando: ahí empezó el sobreajuste. Prueba aumento de datos, "
        "Dropout, una capa densa más pequeña, menos épocas o parada temprana (TRAINING: "
        "early_stopping_patience).",
    },
    "feedback.still_rising": {
        "en": "Validation accuracy was still rising at the last epoch: more epochs may help.",
        "es": "La exactitud de validación seguía subiendo en la última época: más épocas "
        "podrían ayudar.",
    },
    "feedback.all_passed": {
        "en": "Every check of this task passed.",
        "es": "Todas las comprobaciones de esta tarea se superaron.",
    },
    "feedback.comparison": {
        "en": "Test accuracy of {task} {accuracy:.3f} vs {other} {other_accuracy:.3f}: "
        "difference {diff:+.3f}.",
        "es": "Exactitud de test de {task} {accuracy:.3f} frente a {other_accuracy:.3f} de "
        "{other}: diferencia {diff:+.3f}.",
    },
}
