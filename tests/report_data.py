"""Result records for the report tests: fixture files (schema 1, upgraded on read), with the
message ids a current grader stores added by `dataclasses.replace`.

Some catalogs (`grader/messages/grading.py`: check texts, notebook drop reasons, name
warnings) are written by another change; until an id is there, `stand_in_catalog` supplies
a text for it so the report tests do not depend on that timing. An id the real catalog has
always wins.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import replace

import pytest

from grader import messages
from grader.checks import KINDS
from grader.errors import ErrorKind
from grader.messages import Message
from grader.records import CheckResult, DroppedLine, Result, read_result
from grader.spec import Check
from tests.conftest import FIXTURES

RESULTS = FIXTURES / "results"

# Ids this test data uses from catalogs other changes are writing (en, es). Each English text
# is the one those results store; the Spanish one follows the report's former translation.
STAND_INS: dict[str, dict[str, str]] = {
    "check.min_test_accuracy.required": {
        "en": "hidden-test accuracy >= {threshold:.2f}",
        "es": "exactitud en test oculto ≥ {threshold:.2f}",
    },
    "check.max_gap.required": {
        "en": "train - validation accuracy <= {threshold:.2f}",
        "es": "exactitud entrenamiento − validación ≤ {threshold:.2f}",
    },
    "check.max_params.required": {
        "en": "at most {threshold:,.0f} parameters",
        "es": "como máximo {threshold:,.0f} parámetros",
    },
    "check.reuses_base.required": {
        "en": "holds >= {threshold:.0f} pre-trained base layers",
        "es": "contiene ≥ {threshold:.0f} capas preentrenadas de la base",
    },
    "check.beats_scratch.required": {
        "en": "test accuracy >= {other} test accuracy + {threshold:.2f}",
        "es": "exactitud de test ≥ la de {other} + {threshold:.2f}",
    },
    "check.observed.met": {
        "en": "observed {observed:.3f} against {threshold:.3f}",
        "es": "observado {observed:.3f} frente a {threshold:.3f}",
    },
    "check.observed.short": {
        "en": "observed {observed:.3f} against {threshold:.3f}, short by {missed:.3f}",
        "es": "observado {observed:.3f} frente a {threshold:.3f}; faltan {missed:.3f}",
    },
    "check.observed.over": {
        "en": "observed {observed:.3f} against {threshold:.3f}, over by {missed:.3f}",
        "es": "observado {observed:.3f} frente a {threshold:.3f}; sobran {missed:.3f}",
    },
    "check.max_params.within": {
        "en": "{observed:,.0f} parameters (within the limit)",
        "es": "{observed:,.0f} parámetros (dentro del límite)",
    },
    "check.max_params.over": {
        "en": "{observed:,.0f} parameters (over the limit)",
        "es": "{observed:,.0f} parámetros (por encima del límite)",
    },
    "check.reuses_base.observed": {
        "en": "{observed:.0f} of the base's {total} weighted layers held with pre-trained weights",
        "es": "{observed:.0f} de las {total} capas con pesos de la base, con sus pesos "
        "preentrenados",
    },
    "check.not_measured": {
        "en": "not measured: this task did not produce a trained model (see its error)",
        "es": "sin medir: esta tarea no produjo un modelo entrenado (mira su error)",
    },
    "check.not_measured_other": {
        "en": "not measured: task {other!r} did not produce a model to compare",
        "es": "sin medir: la tarea {other!r} no produjo un modelo con el que comparar",
    },
    "notebook.magic": {"en": "IPython magic", "es": "magia de IPython"},
    "notebook.block": {
        "en": "top-level `{keyword}` block (only imports, definitions and constants are kept)",
        "es": "bloque `{keyword}` a nivel de módulo (solo se conservan importaciones, "
        "definiciones y constantes)",
    },
    "notebook.call": {
        "en": "top-level call (training/plotting code does not run during grading)",
        "es": "llamada a nivel de módulo (el código que entrena o dibuja no se ejecuta al "
        "corregir)",
    },
    "name.no_name_line": {
        "en": 'student.toml has no name = "..." line',
        "es": 'student.toml no tiene una línea name = "..."',
    },
}
CIFAR_CLASSES = "airplane, automobile, bird, cat, deer, dog, frog, horse, ship, truck"
WRONG_OUTPUT = Message(
    "wrong_output_shape",
    {"function": "build_cifar10", "units": 3, "n": 10, "classes": CIFAR_CLASSES},
)
SPANISH_TITLES = {
    "scratch": "CNN entrenada desde cero (otros / automóvil / camión)",
    "transfer": "Modelo con transferencia sobre la base preentrenada",
    "cifar10": "Modelo de CIFAR-10 con 10 clases",
}


def load(student: str) -> Result:
    """A fixture result as stored by grader 0.1.0 (result schema 1), upgraded on read."""
    return read_result(RESULTS / f"{student}.json")


def with_messages(result: Result) -> Result:
    """The result with every check's texts by id, as the check registry now stores them."""
    return replace(result, checks=tuple(_check_messages(c, result) for c in result.checks))


def _check_messages(check: CheckResult, result: Result) -> CheckResult:
    kind_class = KINDS[check.kind]
    other = (check.compare_to or kind_class.default_compare_to) if kind_class.compares else None
    kind = kind_class(Check(check.kind, check.threshold, check.max_points, other))
    task = result.tasks[check.task]
    if check.observed is not None:
        observed = kind.observed(check.observed, check.passed, task)
    elif task.ok and other is not None:
        observed = Message("check.not_measured_other", {"other": other})
    else:
        observed = Message("check.not_measured")
    return replace(check, required_message=kind.required(), observed_message=observed,
                   compare_to=other)  # fmt: skip


def failed_with_dropped_line(language: str) -> Result:
    """carlos-broken in `language`: a task failed with an error by id, a dropped notebook
    line with its reason by id, a name warning by id, check texts by id."""
    result = with_messages(load("carlos-broken"))
    cifar = result.tasks["cifar10"]
    assert cifar.error_kind is ErrorKind.WRONG_OUTPUT_SHAPE
    tasks = {**result.tasks, "cifar10": replace(cifar, error_message=WRONG_OUTPUT)}
    if language == "es":
        tasks = {tid: replace(t, title=SPANISH_TITLES[tid]) for tid, t in tasks.items()}
    dropped = DroppedLine(1, 2, "%matplotlib inline", "IPython magic", Message("notebook.magic"))
    return replace(
        result,
        tasks=tasks,
        notebook_dropped=(dropped,),
        name_warning='student.toml has no name = "..." line',
        name_warning_message=Message("name.no_name_line"),
        assignment=replace(result.assignment, language=language, title="Aprendizaje por "
                           "transferencia" if language == "es" else result.assignment.title),
    )  # fmt: skip


@contextlib.contextmanager
def stand_in_catalog() -> Iterator[list[str]]:
    """The message catalog with `STAND_INS` for the ids it lacks; yields those ids."""
    real = messages.catalog()
    missing = sorted(set(STAND_INS) - set(real))
    if missing:
        warnings.warn(f"stand-in texts for ids no catalog has yet: {missing}", stacklevel=3)
    merged = {**{i: STAND_INS[i] for i in missing}, **real}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(messages, "catalog", lambda: merged)
        yield missing
