"""The handout's requirements table, written from the assignment's spec (never typed by hand).

`python -m grader handout --assignment DIR` (`make handout`) replaces the text between the
markers below in `DIR/README.md` with, per task, its title, the function to write, its
classes, training defaults and limits, then every check with its threshold and points, and
the total; the input shape and pixel range come from the `[data]` table. It is written in
the assignment's language, or in the one a marker names (`begin es (...)`: a bilingual
handout has one table per language). `--check` only compares, and fails when out of date.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from grader import checks
from grader.assignment import LANGUAGES, Assignment, Check, Relative, Task
from grader.atomic import write_atomic
from grader.errors import GradingError
from grader.messages import number
from grader.pipeline.timelimit import THREADS, cpu_budget
from grader.worker.build import EXPECTED

BEGIN = "<!-- requirements-table:begin (python -m grader handout writes this) -->"
END = "<!-- requirements-table:end -->"
_SECTION = re.compile(
    r"<!-- requirements-table:begin(?: (?P<language>[a-z]{2}))? "
    r"\(python -m grader handout writes this\) -->.*?" + re.escape(END),
    re.DOTALL,
)

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "inputs": "Every model is handed float32 images of shape `{shape}` with pixel values "
        "in [{low}, {high}]; `num_classes` is the number of the task's classes.",
        "tasks_header": "| task | function | classes | training defaults | limits |",
        "checks_header": "| task | check | required | points |",
        "defaults": "{epochs} epochs, batch {batch}, {optimizer}, learning rate {rate}",
        "patience": ", early stopping after {patience} epochs without improvement",
        "limits": "≤ {epochs} epochs, batch ≤ {batch}, ≤ {params} parameters, {seconds} s of "
        "training ({cpu} CPU-seconds at {threads} threads)",
        "reference": "reference solution",
        "partial": "; partial points from {start}",
        "total": "Total: {points} points.",
        "min_test_accuracy": "hidden-test accuracy",
        "min_val_accuracy": "validation accuracy",
        "max_gap": "overfitting gap",
        "max_params": "parameters",
        "reuses_base": "reuses the pre-trained base",
        "beats_scratch": "beats {other}",
        "required.reuses_base": "holds ≥ {value} of the base's layers with their pre-trained "
        "weights when built",
        "required.beats_scratch": "{task} test accuracy ≥ {other} test accuracy + {value}",
        "required.beats_scratch.relative": "{task} test accuracy − {other} test accuracy ≥ {value}",
    },
    "es": {
        "inputs": "Cada modelo recibe imágenes float32 de forma `{shape}` con valores de píxel "
        "en [{low}, {high}]; `num_classes` es el número de clases de la tarea.",
        "tasks_header": "| tarea | función | clases | entrenamiento por defecto | límites |",
        "checks_header": "| tarea | comprobación | requisito | puntos |",
        "defaults": "{epochs} épocas, lote {batch}, {optimizer}, tasa de aprendizaje {rate}",
        "patience": ", parada temprana tras {patience} épocas sin mejora",
        "limits": "≤ {epochs} épocas, lote ≤ {batch}, ≤ {params} parámetros, {seconds} s de "
        "entrenamiento ({cpu} segundos de CPU con {threads} hilos)",
        "reference": "solución de referencia",
        "partial": "; puntos parciales desde {start}",
        "total": "Total: {points} puntos.",
        "min_test_accuracy": "exactitud en test oculto",
        "min_val_accuracy": "exactitud de validación",
        "max_gap": "brecha de sobreajuste",
        "max_params": "parámetros",
        "reuses_base": "reutiliza la base preentrenada",
        "beats_scratch": "supera a {other}",
        "required.reuses_base": "al construirlo contiene ≥ {value} capas de la base con sus "
        "pesos preentrenados",
        "required.beats_scratch": "exactitud en test de {task} ≥ exactitud en test de {other} "
        "+ {value}",
        "required.beats_scratch.relative": "exactitud en test de {task} − exactitud en test de "
        "{other} ≥ {value}",
    },
}


def section(assignment: Assignment, language: str, begin: str = BEGIN) -> str:
    """The marked section: the inputs, the tasks table, the checks table and the total."""
    say = TEXTS[language]
    data = assignment.data
    low, high = data.pixel_range
    inputs = say["inputs"].format(shape=data.input_shape, low=low, high=high)
    tasks = [say["tasks_header"], "| --- | --- | --- | --- | --- |"]
    tasks += [_row(_task_cells(assignment, t, language)) for t in assignment.tasks.values()]
    rows = [say["checks_header"], "| --- | --- | --- | --- |"]
    rows += [_row(_check_cells(t, c, language)) for t in assignment.tasks.values()
             for c in t.checks]  # fmt: skip
    total = say["total"].format(points=number(assignment.max_score, "", language))
    return "\n".join([begin, inputs, "", *tasks, "", *rows, "", total, END])


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _task_cells(assignment: Assignment, task: Task, language: str) -> list[str]:
    say, d, lim = TEXTS[language], task.defaults, task.limits
    classes = assignment.splits[task.split].classes
    name = f"`{task.id}`" + ("" if task.title == task.id else f": {task.title}")
    call = EXPECTED["base" if task.uses_base else "shape"]
    defaults = say["defaults"].format(
        epochs=d.epochs,
        batch=d.batch_size,
        optimizer=d.optimizer,
        rate=_plain(d.learning_rate, language),
    )
    if d.early_stopping_patience:
        defaults += say["patience"].format(patience=d.early_stopping_patience)
    params, cpu = (number(v, ",", language) for v in (lim.max_params, cpu_budget(lim)))
    limits = say["limits"].format(epochs=lim.max_epochs, batch=lim.max_batch_size, params=params,
                                  seconds=lim.max_seconds, cpu=cpu, threads=THREADS)  # fmt: skip
    return [name, f"`{task.function}{call}`", f"{len(classes)}: {', '.join(classes)}",
            defaults, limits]  # fmt: skip


def _check_cells(task: Task, check: Check, language: str) -> list[str]:
    say, kind = TEXTS[language], checks.KINDS[check.kind]
    other = check.compare_to or ""
    value = _value(kind, check.threshold, language)
    key = f"required.{check.kind}"
    if isinstance(check.threshold, Relative) and f"{key}.relative" in say:
        key = f"{key}.relative"
    if key in say:
        required = say[key].format(value=value, task=task.id, other=other)
    else:
        required = f"{'≤' if kind.at_most else '≥'} {value}"
    if check.partial_from is not None:
        required += say["partial"].format(start=_value(kind, check.partial_from, language))
    label = say[check.kind].format(other=other)
    return [task.id, label, required, number(check.points, "", language)]


def _value(kind: type[checks.CheckKind], value: float | Relative, language: str) -> str:
    """A threshold: a count, a decimal, or `reference solution ± offset`."""
    if isinstance(value, Relative):
        base, offset = TEXTS[language]["reference"], value.offset
        if offset == 0:
            return base
        sign = "+" if offset > 0 else "−"
        return f"{base} {sign} {_decimal(abs(offset), language)}"
    if kind.bounds is checks.COUNT:
        return number(value, ",", language)
    return _decimal(value, language).replace("-", "−")


def _decimal(value: float, language: str) -> str:
    """Two decimals (0.50), more when the value has them (0.475)."""
    digits = next((d for d in range(2, 6) if round(value, d) == value), 6)
    return number(value, f".{digits}f", language)


def _plain(value: float, language: str) -> str:
    """A learning rate as Python writes it (0.001, 1e-05), with the language's decimal mark."""
    text = f"{value:g}"
    return text.replace(".", ",") if language == "es" else text


def update(handout: str, assignment: Assignment) -> str:
    """The handout with every marked section rewritten (a marker may name its language).

    Raises:
        GradingError: no markers, or a marker names a language the grader does not write.
    """
    if not _SECTION.search(handout):
        raise GradingError(
            f"the handout has no requirements table: put the two lines {BEGIN!r} and "
            f"{END!r} where it goes (in a bilingual handout, `begin es (...)` for Spanish)"
        )

    def rewrite(match: re.Match[str]) -> str:
        language = match["language"] or assignment.language
        if language not in LANGUAGES:
            raise GradingError(f"a requirements-table marker names {language!r}: use one of "
                               f"{list(LANGUAGES)}")  # fmt: skip
        marked = match.group(0)
        return section(assignment, language, begin=marked[: marked.index("-->") + 3])

    return _SECTION.sub(rewrite, handout)


def write_or_check(assignment: Assignment, check: bool) -> int:
    """Rewrite `README.md` of the assignment (0), or with `check` say if it is current (0/1)."""
    handout = assignment.directory / "README.md"
    old = handout.read_text(encoding="utf-8") if handout.is_file() else ""
    new = update(old, assignment)
    if check:
        if new != old:
            print(f"{_shown(handout)}: the requirements table differs from assignment.toml; "
                  "run `make handout`", file=sys.stderr)  # fmt: skip
            return 1
        return 0
    write_atomic(handout, new)  # a full disk must not leave half a handout
    print(f"{_shown(handout)}: requirements table written from assignment.toml")
    return 0


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
