"""Same work to look at (pure): students whose submissions are identical, or whose models have
the same layers and hyperparameters, listed in the class summary and never penalised.

Two kinds of group:
- identical: the same `submission_hash`, the hash of every file read (`student.toml`
  included: two students' identical code, each with their own `student.toml`, differ here,
  which is why models are compared too). A submission whose files were not read (no hash,
  or every task failed at staging: an empty folder, a refused one) is never grouped.
- same models: every task that both students trained has the same layer table (type, output
  shape, parameters, trainable; never the layer's name, which Keras numbers on its own) and
  the same optimizer, loss, planned epochs, batch size and parameter count, in at least one
  task. Students who also match the reference solution are not listed: the starter code
  and the assignment's hints make reference-like models common, not shared work.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from grader.errors import ErrorKind
from grader.messages import text
from grader.records import Result, TaskRecord

# A task's model in comparable form; `Models` a student's, by task (trained tasks only).
Signature = tuple[Hashable, ...]
Models = dict[str, Signature]
# Failures before anything of the submission was read or found: its hash says nothing of code.
NOT_READ = frozenset({ErrorKind.BAD_SUBMISSION, ErrorKind.MISSING_FILE})


@dataclass(frozen=True)
class SameWork:
    """One group of students to look at, and what they share."""

    kind: Literal["identical", "same_models"]
    students: tuple[str, ...]  # result keys (`Result.student`), sorted
    tasks: tuple[str, ...] = ()  # same_models: the tasks compared (trained by two or more)
    submission_hash: str = ""  # identical: the hash they share


def model_signature(task: TaskRecord) -> Signature | None:
    """The task's model without its layer names; None when there is nothing to compare (the
    task was not trained, or its record has no layer table)."""
    if not task.ok or not task.layers:
        return None
    layers = tuple((row.type, row.output_shape, row.params, row.trainable) for row in task.layers)
    # planned: a run stopped at its time limit was still configured like its twin
    epochs = task.planned_epochs if task.planned_epochs is not None else task.epochs
    return (layers, task.optimizer, task.loss, epochs, task.batch_size, task.params)


def models_of(result: Result) -> Models:
    """A student's comparable models, by task id."""
    return {tid: sig for tid, task in result.tasks.items() if (sig := model_signature(task))}


def same_models(first: Models, second: Models) -> bool:
    """Equal in every task both trained, and at least one such task."""
    common = first.keys() & second.keys()
    return bool(common) and all(first[t] == second[t] for t in common)


def same_work(results: Iterable[Result], reference: Result | None = None) -> list[SameWork]:
    """Identical submissions first, then students with the same models (see the module)."""
    results = sorted(results, key=lambda r: r.student)
    identical = identical_groups(results)
    reference_models = models_of(reference) if reference is not None else None
    already = [set(g.students) for g in identical]
    models = [g for g in model_groups(results, reference_models)
              if not any(set(g.students) <= seen for seen in already)]  # fmt: skip
    return identical + models


def identical_groups(results: list[Result]) -> list[SameWork]:
    """Students sharing a submission hash, among submissions whose files were read."""
    by_hash: dict[str, list[str]] = {}
    for result in results:
        digest = result.provenance.submission_hash
        if digest and _was_read(result):
            by_hash.setdefault(digest, []).append(result.student)
    groups = [SameWork("identical", tuple(sorted(s)), submission_hash=h)
              for h, s in by_hash.items() if len(s) > 1]  # fmt: skip
    return sorted(groups, key=lambda g: g.students)


def _was_read(result: Result) -> bool:
    """Some task got past staging: the hash is of files the grader read and found code in."""
    return any(task.error_kind not in NOT_READ for task in result.tasks.values())


def model_groups(results: list[Result], reference: Models | None = None) -> list[SameWork]:
    """Largest sets of students whose models are pairwise the same (`same_models`); a student
    may be in two sets (one who trained fewer tasks can match two students who differ)."""
    students_by_models: dict[tuple[tuple[str, Signature], ...], list[str]] = {}
    for result in results:
        models = models_of(result)
        if models:
            students_by_models.setdefault(tuple(sorted(models.items())), []).append(result.student)
    keys = list(students_by_models)
    models_by_key = [dict(key) for key in keys]
    neighbours = {i: {j for j in range(len(keys)) if j != i
                      and same_models(models_by_key[i], models_by_key[j])}
                  for i in range(len(keys))}  # fmt: skip
    order = list(dict.fromkeys(t for r in results for t in r.tasks))
    groups = []
    for clique in maximal_cliques(neighbours):
        members = [models_by_key[i] for i in clique]
        if reference is not None and all(same_models(reference, m) for m in members):
            continue  # like the reference solution: common, not shared work
        students = sorted(s for i in clique for s in students_by_models[keys[i]])
        if len(students) < 2:
            continue
        trained = {t: sum(len(students_by_models[keys[i]]) for i in clique
                          if t in models_by_key[i]) for t in order}  # fmt: skip
        tasks = tuple(t for t in order if trained[t] > 1)  # compared: two students trained it
        groups.append(SameWork("same_models", tuple(students), tasks))
    return sorted(groups, key=lambda g: g.students)


def maximal_cliques(neighbours: dict[int, set[int]]) -> list[tuple[int, ...]]:
    """Every maximal clique of an undirected graph (Bron-Kerbosch with a pivot), singletons
    included; nodes here are distinct model sets, so cliques stay small."""
    found: list[tuple[int, ...]] = []

    def expand(clique: set[int], candidates: set[int], excluded: set[int]) -> None:
        if not candidates and not excluded:
            found.append(tuple(sorted(clique)))
            return
        pivot = max(candidates | excluded, key=lambda n: len(neighbours[n] & candidates))
        for node in sorted(candidates - neighbours[pivot]):
            expand(clique | {node}, candidates & neighbours[node], excluded & neighbours[node])
            candidates = candidates - {node}
            excluded = excluded | {node}

    expand(set(), set(neighbours), set())
    return found


def same_work_section(
    groups: list[SameWork], results: Iterable[Result], language: str, *, reference: bool
) -> dict[str, Any] | None:
    """What the class summary shows of `groups` (None: no group, no section); `reference`:
    the grading had a reference solution, so reference-like models were left out."""
    if not groups:
        return None
    names = {r.student: r.name for r in results}
    note = "similarity.reference_left_out" if reference else "similarity.no_reference"
    return {
        "heading": text("similarity.heading", language),
        "intro": f"{text('similarity.intro', language)} {text(note, language)}",
        "what_heading": text("similarity.what", language),
        "groups": [{"students": [(names.get(s, s), s) for s in g.students],
                    "what": _what(g, language)} for g in groups],
    }  # fmt: skip


def _what(group: SameWork, language: str) -> str:
    if group.kind == "identical":
        return text("similarity.identical", language, hash=group.submission_hash)
    return text("similarity.same_models", language, tasks=", ".join(group.tasks))
