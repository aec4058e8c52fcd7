"""Notes stored on a check row (paired counts, a borderline result, partial credit): every language.

`check.borderline.<policy>` has one text per assignment `borderline` policy
(`checks.BORDERLINE_POLICIES`).
"""

TEXTS: dict[str, dict[str, str]] = {
    "check.beats_scratch.paired": {
        "en": "On the same {images:,} test images, {only_task:,} are right with this model and "
        "wrong with {other}, {only_other:,} right with {other} and wrong with this model.",
        "es": "En las mismas {images:,} imágenes de test, {only_task:,} aciertan con este modelo "
        "y fallan con {other}, {only_other:,} aciertan con {other} y fallan con este modelo.",
    },
    "check.borderline.flag": {
        "en": "Your {observed:.3f} is within measurement noise of {threshold:.3f} (95% interval "
        "{low:.3f}–{high:.3f}): the check is scored as measured, and your instructor will "
        "review it.",
        "es": "Tu {observed:.3f} está dentro del ruido de medida de {threshold:.3f} (intervalo "
        "del 95 %: {low:.3f}–{high:.3f}): la comprobación se puntúa tal como se midió y tu "
        "profesor la revisará.",
    },
    "check.borderline.pass": {
        "en": "Your {observed:.3f} is within measurement noise of {threshold:.3f} (95% interval "
        "{low:.3f}–{high:.3f}): too close to tell apart, so it earns its points.",
        "es": "Tu {observed:.3f} está dentro del ruido de medida de {threshold:.3f} (intervalo "
        "del 95 %: {low:.3f}–{high:.3f}): demasiado cerca para distinguirlos, así que obtiene "
        "sus puntos.",
    },
    "check.borderline.half": {
        "en": "Your {observed:.3f} is within measurement noise of {threshold:.3f} (95% interval "
        "{low:.3f}–{high:.3f}): too close to tell apart, so it earns at least half its points.",
        "es": "Tu {observed:.3f} está dentro del ruido de medida de {threshold:.3f} (intervalo "
        "del 95 %: {low:.3f}–{high:.3f}): demasiado cerca para distinguirlos, así que obtiene "
        "al menos la mitad de sus puntos.",
    },
    "check.partial": {
        "en": "Partial credit: {points:.2f} of {max_points:.2f} points, since {observed:.3f} lies "
        "between {partial_from:.3f} (no points) and {threshold:.3f} (all points).",
        "es": "Puntuación parcial: {points:.2f} de {max_points:.2f} puntos, ya que {observed:.3f} "
        "está entre {partial_from:.3f} (ningún punto) y {threshold:.3f} (todos los puntos).",
    },
}
