"""The learning floor (issue 12, `grader.floor`): why a check of a model at chance level is not
counted, and what a borderline floor decision made of it; en + es for every id.

Params: `task`, `accuracy` (its hidden-test accuracy), `low`/`high` (its 95 % interval),
`classes`, `chance` (always answering the most common class), `floor`.
"""

_AT_CHANCE = {
    "en": "the model of '{task}' is at chance level (test accuracy {accuracy:.3f} for {classes} "
    "classes; chance {chance:.3f}, floor {floor:.3f})",
    "es": "el modelo de '{task}' está al nivel del azar (exactitud de test {accuracy:.3f} con "
    "{classes} clases; azar {chance:.3f}, mínimo {floor:.3f})",
}
_FIX = {
    "en": "A model that has not learned earns no points for its gap, size or structure: fix its "
    "training first (a learning rate that is too high, or nothing left to train, keeps a model "
    "at chance).",
    "es": "Un modelo que no ha aprendido no obtiene puntos por su diferencia, tamaño o "
    "estructura: arregla primero su entrenamiento (una tasa de aprendizaje demasiado alta, o no "
    "dejar nada que entrenar, mantiene un modelo al nivel del azar).",
}
_NOISE = {
    "en": "The test accuracy {accuracy:.3f} of '{task}' is within measurement noise of the floor "
    "{floor:.3f} (95% interval {low:.3f}–{high:.3f}): ",
    "es": "La exactitud de test {accuracy:.3f} de '{task}' está dentro del ruido de medida del "
    "mínimo {floor:.3f} (intervalo del 95 %: {low:.3f}–{high:.3f}): ",
}

TEXTS: dict[str, dict[str, str]] = {
    "learning.not_counted": {
        "en": f"Not counted: {_AT_CHANCE['en']}. {_FIX['en']}",
        "es": f"No cuenta: {_AT_CHANCE['es']}. {_FIX['es']}",
    },
    "learning.not_counted_other": {
        "en": f"Not counted: {_AT_CHANCE['en']}, and beating a model that has not learned shows "
        "nothing. Fix the training of '{task}' first.",
        "es": f"No cuenta: {_AT_CHANCE['es']}, y superar a un modelo que no ha aprendido no "
        "demuestra nada. Arregla primero el entrenamiento de '{task}'.",
    },
    "learning.borderline.flag": {
        "en": _NOISE["en"] + "the check is not counted, as measured, and your instructor will "
        "review it.",
        "es": _NOISE["es"] + "la comprobación no cuenta, tal como se midió, y tu profesor la "
        "revisará.",
    },
    "learning.borderline.pass": {
        "en": _NOISE["en"] + "too close to tell apart, so the check counts.",
        "es": _NOISE["es"] + "demasiado cerca para distinguirlos, así que la comprobación cuenta.",
    },
    "learning.borderline.half": {
        "en": _NOISE["en"] + "too close to tell apart, so the check earns half of its points.",
        "es": _NOISE["es"] + "demasiado cerca para distinguirlos, así que la comprobación obtiene "
        "la mitad de sus puntos.",
    },
    "learning.borderline.above": {
        "en": _NOISE["en"] + "the check counts, as measured, and your instructor will review it.",
        "es": _NOISE["es"] + "la comprobación cuenta, tal como se midió, y tu profesor la "
        "revisará.",
    },
    "learning.mark": {"en": "not counted", "es": "no cuenta"},
}
