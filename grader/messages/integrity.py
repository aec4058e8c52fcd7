"""integrity messages (issue 12); en + es for every id.

Scoring per task: a model that could not be scored even in a process of its own. The kind
is `evaluation_failed` (the machine's fault, not the student's), so such a result is never
reused: the next run scores the task again.
"""

_AGAIN_EN = "The next grading run scores this task again."
_AGAIN_ES = "La próxima corrección vuelve a evaluar esta tarea."

TEXTS: dict[str, dict[str, str]] = {
    "evaluation_failed.memory": {
        "en": "Scoring the model trained from `{function}` ran out of memory (the scoring "
        "process may use {memory_gb} GB), although it ran in a process of its own and predicted "
        "a few images at a time. If the model has layers with very large outputs, make them "
        f"smaller. {_AGAIN_EN} Last output: {{log}}",
        "es": "La evaluación del modelo entrenado con `{function}` se quedó sin memoria (el "
        "proceso de evaluación puede usar {memory_gb} GB), aunque se hizo en un proceso propio "
        "y prediciendo pocas imágenes a la vez. Si el modelo tiene capas con salidas muy "
        f"grandes, redúcelas. {_AGAIN_ES} Última salida: {{log}}",
    },
    "evaluation_failed.timeout": {
        "en": "Scoring the model trained from `{function}` took longer than {seconds} s, in a "
        f"process of its own. {_AGAIN_EN} Last output: {{log}}",
        "es": "La evaluación del modelo entrenado con `{function}` tardó más de {seconds} s, "
        f"en un proceso propio. {_AGAIN_ES} Última salida: {{log}}",
    },
    "evaluation_failed.crash": {
        "en": "The process scoring the model trained from `{function}` (a process of its own) "
        f"ended with exit status {{code}} before writing its result. {_AGAIN_EN} "
        "Last output: {log}",
        "es": "El proceso que evaluaba el modelo entrenado con `{function}` (un proceso propio) "
        f"terminó con estado de salida {{code}} antes de escribir su resultado. {_AGAIN_ES} "
        "Última salida: {log}",
    },
}
