"""Thresholds relative to the instructor's reference solution (issue 10): the note on a
check row (params `threshold`, `value`: the reference's value, `offset`; `partial_from`) and
the self-check's row for such a check, which only the instructor grades."""

TEXTS: dict[str, dict[str, str]] = {
    "reference.threshold": {
        "en": "The threshold {threshold:.3f} is relative to your instructor's reference "
        "solution: its {value:.3f} on this check, {offset:+.3f}.",
        "es": "El umbral {threshold:.3f} es relativo a la solución de referencia de tu "
        "profesor: su {value:.3f} en esta comprobación, {offset:+.3f}.",
    },
    "reference.partial_from": {
        "en": "Partial credit starts at {partial_from:.3f}, relative to your instructor's "
        "reference solution: its {value:.3f} on this check, {offset:+.3f}.",
        "es": "La puntuación parcial empieza en {partial_from:.3f}, relativa a la solución de "
        "referencia de tu profesor: su {value:.3f} en esta comprobación, {offset:+.3f}.",
    },
    "reference.selfcheck_name": {
        "en": "{kind} (relative to the reference solution)",
        "es": "{kind} (relativa a la solución de referencia)",
    },
    "reference.selfcheck": {
        "en": "your instructor grades this check against their own reference solution, which "
        "the self-check does not have: it is not checked or scored here",
        "es": "tu profesor puntúa esta comprobación frente a su propia solución de referencia, "
        "que la autocomprobación no tiene: aquí no se comprueba ni se puntúa",
    },
}
