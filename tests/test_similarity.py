"""Same work to look at: identical submissions and same models grouped for the class summary,
from synthetic results (pure), and the summary's section (HTML only: no PDF)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from grader.errors import ErrorKind
from grader.layout import Layout
from grader.messages import Message
from grader.records import Result, write_json_atomic
from grader.report.render import class_summary_pages
from grader.report.similarity import SameWork, maximal_cliques, same_work
from tests.report_data import load, with_messages

TASKS = ("scratch", "transfer", "cifar10")


def student(key: str, base: str = "alvaro-pequeno", *, digest: str | None = None) -> Result:
    """A copy of a fixture result under another student's key, name and hash."""
    result = with_messages(load(base))
    provenance = replace(result.provenance, submission_hash=f"hash-{key}" if digest is None
                         else digest)  # fmt: skip
    return replace(result, student=key, name=f"Name {key}", provenance=provenance)


def with_task(result: Result, task_id: str, **changes: Any) -> Result:
    return replace(result, tasks={**result.tasks, task_id: replace(result.tasks[task_id],
                                                                   **changes)})  # fmt: skip


def failed(result: Result, task_id: str, kind: ErrorKind = ErrorKind.TRAINING_ERROR) -> Result:
    message = Message("missing_file", {"folder": result.student, "file": "submission.py",
                                       "notebook": "submission.ipynb"})  # fmt: skip
    task = result.tasks[task_id].failed(kind, message)
    return replace(result, tasks={**result.tasks, task_id: task})


def renamed_layers(result: Result) -> Result:
    """The same models, with the layer names Keras numbers differently in another session."""
    for task_id, task in result.tasks.items():
        layers = tuple(replace(row, name=f"{row.name}_{i + 7}") for i, row in
                       enumerate(task.layers))  # fmt: skip
        result = with_task(result, task_id, layers=layers)
    return result


def test_identical_hashes_are_grouped_once() -> None:
    groups = same_work([student("ana", digest="abc"), student("ben", digest="abc"),
                        student("cy", "bea-overfit")])  # fmt: skip
    # their models are the same too: said once, as identical files
    assert groups == [SameWork("identical", ("ana", "ben"), submission_hash="abc")]


@pytest.mark.parametrize("digest", ["", "e3b0c44298fc1c14"])
def test_submissions_not_read_are_never_grouped(digest: str) -> None:
    empty = [student(k, digest=digest) for k in ("ana", "ben")]  # two empty folders
    for kind in (ErrorKind.MISSING_FILE, ErrorKind.BAD_SUBMISSION):
        not_read = [failed(failed(failed(r, "scratch", kind), "transfer", kind), "cifar10", kind)
                    for r in empty]  # fmt: skip
        assert same_work(not_read) == []


def test_no_hash_is_not_identical_but_models_still_compare() -> None:
    grader_errors = [student(k, digest="") for k in ("ana", "ben")]
    assert same_work(grader_errors) == [SameWork("same_models", ("ana", "ben"), TASKS)]


def test_same_layers_under_other_names_are_the_same_models() -> None:
    ana, ben = student("ana"), renamed_layers(student("ben"))
    assert ana.tasks["scratch"].layers != ben.tasks["scratch"].layers
    groups = same_work([ana, ben, student("cy", "bea-overfit")])
    assert groups == [SameWork("same_models", ("ana", "ben"), TASKS)]


def first_layer(result: Result, task_id: str, **changes: Any) -> Result:
    layers = result.tasks[task_id].layers
    return with_task(result, task_id, layers=(replace(layers[0], **changes), *layers[1:]))


@pytest.mark.parametrize("change", [
    lambda r: with_task(r, "cifar10", optimizer="sgd"),
    lambda r: with_task(r, "cifar10", loss="sparse_categorical_crossentropy"),
    lambda r: with_task(r, "transfer", epochs=31, planned_epochs=31),
    lambda r: with_task(r, "scratch", batch_size=64),
    lambda r: with_task(r, "scratch", params=56516),
    lambda r: first_layer(r, "transfer", type="RandomRotation"),
    lambda r: first_layer(r, "scratch", output_shape="(None, 16, 16, 3)"),
    lambda r: first_layer(r, "transfer", params=1),
    lambda r: first_layer(r, "transfer", trainable=True),
    lambda r: with_task(r, "scratch", layers=r.tasks["scratch"].layers[:-1]),
])  # fmt: skip
def test_one_difference_in_one_task_is_not_the_same_work(change: Any) -> None:
    assert same_work([student("ana"), change(student("ben"))]) == []


def test_a_run_stopped_at_its_time_limit_compares_by_its_planned_epochs() -> None:
    ana = with_task(student("ana"), "scratch", planned_epochs=22)
    ben = with_task(student("ben"), "scratch", epochs=9, planned_epochs=22, stopped_by="cpu")
    assert same_work([ana, ben]) == [SameWork("same_models", ("ana", "ben"), TASKS)]


def test_a_failed_task_is_left_out_of_the_comparison() -> None:
    ana = student("ana")
    ben = with_task(failed(student("ben"), "cifar10"), "cifar10", batch_size=7)
    assert same_work([ana, ben]) == [SameWork("same_models", ("ana", "ben"), TASKS[:2])]


def test_at_least_one_task_both_trained() -> None:
    ana = failed(failed(student("ana"), "transfer"), "cifar10")  # scratch only
    ben = failed(failed(student("ben"), "scratch"), "cifar10")  # transfer only
    assert same_work([ana, ben]) == []
    nothing = [failed(failed(failed(student(k), "scratch"), "transfer"), "cifar10")
               for k in ("cy", "dee")]  # fmt: skip
    assert same_work(nothing) == []  # different hashes, and no trained task


def test_one_who_trained_fewer_tasks_is_listed_with_each_match() -> None:
    ana = student("ana")
    cy = with_task(student("cy"), "cifar10", batch_size=16)  # differs from ana in cifar10
    ben = failed(student("ben"), "cifar10")  # the same as both where it was trained
    dee = student("dee")
    assert same_work([ana, ben, cy, dee]) == [
        SameWork("same_models", ("ana", "ben", "dee"), TASKS),
        SameWork("same_models", ("ben", "cy"), TASKS[:2]),
    ]


def test_reference_like_models_are_left_out() -> None:
    pair = [student("ana"), renamed_layers(student("ben"))]
    assert same_work(pair, reference=student("reference")) == []
    other = student("reference", "bea-overfit")
    assert same_work(pair, reference=other) == [SameWork("same_models", ("ana", "ben"), TASKS)]
    # identical files are listed whatever the reference looks like
    twins = [student("ana", digest="abc"), student("ben", digest="abc")]
    assert same_work(twins, reference=student("reference")) == [
        SameWork("identical", ("ana", "ben"), submission_hash="abc")
    ]


def test_maximal_cliques() -> None:
    # 0-1-2 a triangle, 2-3 an edge, 4 alone
    graph = {0: {1, 2}, 1: {0, 2}, 2: {0, 1, 3}, 3: {2}, 4: set()}
    assert sorted(maximal_cliques(graph)) == [(0, 1, 2), (2, 3), (4,)]


def summary_html(tmp_path: Path, results: list[Result], reference: Result | None = None) -> str:
    layout = Layout(tmp_path, "tiny")
    if reference is not None:
        write_json_atomic(layout.reference_result, reference)
    return class_summary_pages(results, layout)[0]


def in_language(result: Result, language: str) -> Result:
    return replace(result, assignment=replace(result.assignment, language=language))


def test_summary_lists_the_same_work(tmp_path: Path) -> None:
    results = [student("ana"), renamed_layers(student("ben")), student("cy", "bea-overfit")]
    html = summary_html(tmp_path, results, reference=student("ref", "fatima-strong-scratch"))
    section = html.split("Same work to look at</h2>")[1].split("<h2>")[0]
    expected = ("Name ana", "(ana)", "Name ben", "(ben)", "Nothing was penalised",
                "in scratch, transfer, cifar10", "match your reference solution")  # fmt: skip
    for shown in expected:
        assert shown in section, shown
    assert "Name cy" not in section
    spanish = [in_language(r, "es") for r in results]
    html = summary_html(tmp_path / "es", spanish)
    section = html.split("Trabajos iguales que revisar</h2>")[1].split("<h2>")[0]
    for shown in ("Name ana", "Name ben", "No se ha penalizado nada", "no tenía solución de "
                  "referencia", "Mismas capas"):  # fmt: skip
        assert shown in section, shown


def test_summary_of_identical_files(tmp_path: Path) -> None:
    html = summary_html(tmp_path, [student("ana", digest="abc"), student("ben", digest="abc")])
    assert "Identical files (submission hash abc)" in html


def test_no_section_when_nothing_is_the_same(tmp_path: Path) -> None:
    results = [student("ana"), student("cy", "bea-overfit"), student("dee", "elif-tiny")]
    html = summary_html(tmp_path, results)
    assert "Name ana" in html and "Name cy" in html  # the summary itself is there
    assert "Same work" not in html and "Nothing was penalised" not in html
    spanish = summary_html(tmp_path / "es", [in_language(r, "es") for r in results])
    assert "Trabajos iguales" not in spanish
