"""Time and resource limits: CPU-time budgets, timeouts, epochs completed (issue 11).

A task's budget is `max_seconds` x the training threads, in CPU-seconds (params `budget`,
`limit`: max_seconds, `threads`); `epochs` completed of `planned`; `seconds`: wall clock.
"""

_BUDGET = {
    "en": "this task's CPU-time budget ({budget:,.0f} CPU-seconds: max_seconds = {limit} s × "
    "{threads} threads)",
    "es": "el presupuesto de tiempo de CPU de esta tarea ({budget:,.0f} segundos de CPU: "
    "max_seconds = {limit} s × {threads} hilos)",
}
_FEWER = {
    "en": "Train fewer epochs (TRAINING) or a smaller model, and run the self-check: it "
    "estimates how long your training takes.",
    "es": "Entrena menos épocas (TRAINING) o un modelo más pequeño, y ejecuta la "
    "autocomprobación: estima cuánto tarda tu entrenamiento.",
}
_FEWER_HERE = {
    "en": "Train fewer epochs (TRAINING) or a smaller model.",
    "es": "Entrena menos épocas (TRAINING) o un modelo más pequeño.",
}
_STOPPED = {
    "en": "Training stopped at " + _BUDGET["en"] + " after {epochs} of {planned} epochs",
    "es": "El entrenamiento se detuvo al agotar " + _BUDGET["es"] + " tras {epochs} de "
    "{planned} épocas",
}
_STOPPED_WALL = {
    "en": "Training was stopped by the wall-clock backstop ({seconds:,.0f} s) after {epochs} "
    "of {planned} epochs, with CPU time still left: your code spent most of that time "
    "waiting (a sleep or a blocking call?)",
    "es": "El entrenamiento se detuvo por el límite de seguridad de tiempo real "
    "({seconds:,.0f} s) tras {epochs} de {planned} épocas, aún con tiempo de CPU disponible: "
    "tu código pasó la mayor parte de ese tiempo esperando (¿un sleep o una llamada que "
    "bloquea?)",
}
_SCORED = {
    "en": "; the model after epoch {epochs} was scored, and your instructor sees this flag. ",
    "es": "; se puntuó el modelo tras la época {epochs}, y tu profesor ve este aviso. ",
}
_ZERO = {
    "en": ". This assignment gives no points to a model that does not finish training. ",
    "es": ". Esta tarea no da puntos a un modelo que no termina de entrenar. ",
}


def _join(*parts: dict[str, str]) -> dict[str, str]:
    return {lang: "".join(p[lang] for p in parts) for lang in ("en", "es")}


TEXTS: dict[str, dict[str, str]] = {
    # a task stopped at a limit whose model is scored: the report's notice
    "limits.stopped": _join(_STOPPED, _SCORED, _FEWER),
    "limits.stopped_wall": _join(_STOPPED_WALL, _SCORED, _FEWER),
    # ... and the task's error when the assignment scores such a model zero
    "limits.zero": _join(_STOPPED, _ZERO, _FEWER),
    "limits.zero_wall": _join(_STOPPED_WALL, _ZERO, _FEWER),
    # stopped before one epoch was complete: nothing to score
    "limits.cpu_no_epoch": {
        "en": "Training used up " + _BUDGET["en"] + " before it completed one epoch, so "
        "there is no trained model to score. The budget counts the CPU time your code uses "
        "from its import on (building the model included), not the clock. " + _FEWER["en"],
        "es": "El entrenamiento agotó " + _BUDGET["es"] + " antes de completar una época, así "
        "que no hay modelo entrenado que puntuar. El presupuesto cuenta el tiempo de CPU que "
        "usa tu código desde que se importa (incluida la construcción del modelo), no el "
        "reloj. " + _FEWER["es"],
    },
    "limits.wall_no_epoch": {
        "en": "Training did not complete one epoch within the wall-clock backstop of "
        "{seconds:,.0f} s, although it had CPU time left: your code spent that time waiting "
        "(a sleep, a blocking call, an endless wait). Remove anything that waits from your "
        "functions.",
        "es": "El entrenamiento no completó ni una época dentro del límite de seguridad de "
        "tiempo real, {seconds:,.0f} s, aunque le quedaba tiempo de CPU: tu código pasó ese "
        "tiempo esperando (un sleep, una llamada que bloquea, una espera sin fin). Quita de "
        "tus funciones todo lo que espere.",
    },
    # the self-check's estimate of the whole training, from one measured epoch
    "limits.selfcheck": {
        "en": "training time (CPU budget)",
        "es": "tiempo de entrenamiento (presupuesto de CPU)",
    },  # fmt: skip
    "limits.selfcheck_ok": {
        "en": "about {estimate:,.0f} of {budget:,.0f} CPU-seconds ({planned} epochs of about "
        "{epoch:,.1f})",
        "es": "unos {estimate:,.0f} de {budget:,.0f} segundos de CPU ({planned} épocas de unos "
        "{epoch:,.1f})",
    },
    "limits.selfcheck_close": {
        "en": "about {estimate:,.0f} of {budget:,.0f} CPU-seconds ({planned} epochs of about "
        "{epoch:,.1f}): close to the budget, and this is an estimate. Train a few epochs "
        "fewer to be safe.",
        "es": "unos {estimate:,.0f} de {budget:,.0f} segundos de CPU ({planned} épocas de unos "
        "{epoch:,.1f}): cerca del presupuesto, y es una estimación. Entrena algunas épocas "
        "menos para ir sobre seguro.",
    },
    "limits.selfcheck_over": {
        "en": "about {estimate:,.0f} CPU-seconds for {planned} epochs of about {epoch:,.1f}, "
        "over " + _BUDGET["en"] + ": training would stop after about {epochs} epochs and the "
        "model after the last completed epoch would be scored. " + _FEWER_HERE["en"],
        "es": "unos {estimate:,.0f} segundos de CPU para {planned} épocas de unos "
        "{epoch:,.1f}, más que " + _BUDGET["es"] + ": el entrenamiento se detendría tras unas "
        "{epochs} épocas y se puntuaría el modelo tras la última época completa. "
        + _FEWER_HERE["es"],
    },
    "limits.selfcheck_over_zero": {
        "en": "about {estimate:,.0f} CPU-seconds for {planned} epochs of about {epoch:,.1f}, "
        "over " + _BUDGET["en"] + ": training would stop after about {epochs} epochs, and "
        "this assignment gives no points to a model that does not finish. " + _FEWER_HERE["en"],
        "es": "unos {estimate:,.0f} segundos de CPU para {planned} épocas de unos "
        "{epoch:,.1f}, más que " + _BUDGET["es"] + ": el entrenamiento se detendría tras unas "
        "{epochs} épocas, y esta tarea no da puntos a un modelo que no termina. "
        + _FEWER_HERE["es"],
    },
}
