"""Result records for the report tests: fixture files (schema 1, upgraded on read), with the
message ids a current grader stores added by `dataclasses.replace` (texts from the real
catalogs: a missing id fails the report tests).
"""

from __future__ import annotations

from dataclasses import replace

from grader.checks import KINDS
from grader.errors import ErrorKind
from grader.messages import Message
from grader.records import CheckResult, DroppedLine, Result, read_result
from grader.spec import Check
from tests.conftest import FIXTURES

RESULTS = FIXTURES / "results"

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
    """The result `make grade` stored for an example of `submissions/` (the handout's table)."""
    return read_result(RESULTS / f"{student}.json")


def load_legacy(student: str) -> Result:
    """A result as grader 0.1.0 stored it (result schema 1, the assignment before its
    redesign), upgraded on read."""
    return read_result(FIXTURES / "legacy" / f"{student}-schema1.json")


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
    """carlos-broken (as grader 0.1.0 stored it: its transfer does not beat its scratch model)
    in `language`: a task failed with an error by id, a dropped notebook line with its reason
    by id, a name warning by id, check texts by id."""
    result = with_messages(load_legacy("carlos-broken"))
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
