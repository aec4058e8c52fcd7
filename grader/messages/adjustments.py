"""Adjustments to a score (`grader.adjust`): the late penalty and an instructor's override,
and the words of the report's adjustments table. Every language.

`adjust.late*` ids end in `.one` or `.other` by the number of days; `_unknown`: the LMS marked
the work late without its time; `_capped`: the policy's cap decided the penalty. Params:
`days`, `due` (text with its offset), `points` (negative), `per_day`, `max_penalty`, `cap`
(shares of the maximum); `reason` is the instructor's own text, never translated.
"""

_PER_DAY = {"en": "({per_day:.0%} a day, at most {max_penalty:.0%})",
            "es": "({per_day:.0%} por día, como máximo {max_penalty:.0%})"}  # fmt: skip
_CAP = {
    "en": "(late work earns at most {cap:.0%} of the points)",
    "es": "(un trabajo entregado tarde obtiene como máximo el {cap:.0%} de los puntos)",
}
_LATE = {
    "en": {"one": "late by {days} day (due {due})", "other": "late by {days} days (due {due})"},
    "es": {"one": "entregado con {days} día de retraso (fecha límite {due})",
           "other": "entregado con {days} días de retraso (fecha límite {due})"},
}  # fmt: skip
_UNKNOWN = {
    "en": {"one": "marked late, at a time not known: counted as {days} day late (due {due})",
           "other": "marked late, at a time not known: counted as {days} days late "
                    "(due {due})"},
    "es": {"one": "marcado con retraso, a una hora desconocida: se cuenta {days} día de "
                  "retraso (fecha límite {due})",
           "other": "marcado con retraso, a una hora desconocida: se cuentan {days} días de "
                    "retraso (fecha límite {due})"},
}  # fmt: skip
_POINTS = {"en": "{points:+} points", "es": "{points:+} puntos"}


def _late_texts() -> dict[str, dict[str, str]]:
    """Every `adjust.late*` id: when it was late, the points, and the rule that decided them."""
    texts: dict[str, dict[str, str]] = {}
    for when, phrases in (("", _LATE), ("_unknown", _UNKNOWN)):
        for rule, why in (("", _PER_DAY), ("_capped", _CAP)):
            for number in ("one", "other"):
                texts[f"adjust.late{when}{rule}.{number}"] = {
                    lang: f"{phrases[lang][number]}: {_POINTS[lang]} {why[lang]}"
                    for lang in ("en", "es")
                }
    return texts


TEXTS: dict[str, dict[str, str]] = {
    **_late_texts(),
    "adjust.late_excused.one": {
        "en": "late by {days} day (due {due}), no penalty: {reason}",
        "es": "entregado con {days} día de retraso (fecha límite {due}), sin penalización: "
        "{reason}",
    },
    "adjust.late_excused.other": {
        "en": "late by {days} days (due {due}), no penalty: {reason}",
        "es": "entregado con {days} días de retraso (fecha límite {due}), sin penalización: "
        "{reason}",
    },
    "adjust.points": {
        "en": "adjusted by your instructor: {points:+} points: {reason}",
        "es": "ajustado por tu profesor: {points:+} puntos: {reason}",
    },
    "adjust.score": {
        "en": "score set to {score} by your instructor: {reason}",
        "es": "nota fijada en {score} por tu profesor: {reason}",
    },
    "adjust.heading": {"en": "Adjustments", "es": "Ajustes"},
    "adjust.checks_score": {"en": "Score from the checks", "es": "Nota de las comprobaciones"},
    "adjust.final": {"en": "Final grade", "es": "Nota final"},
}
