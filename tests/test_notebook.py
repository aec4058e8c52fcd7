"""Notebook submissions: definitions kept, top-level training, plots and magics dropped."""

from __future__ import annotations

import json

import pytest

from grader.notebook import NotebookError, notebook_json_to_module, notebook_to_module
from tests.conftest import FIXTURES

NOTEBOOKS = FIXTURES / "notebooks"
GOOD = FIXTURES / "submissions" / "e2e-notebook" / "submission.ipynb"


def notebook(*cells: str) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "source": c} for c in cells]})


def test_definitions_are_kept_and_training_dropped() -> None:
    converted = notebook_to_module(GOOD)
    namespace: dict = {}
    exec(compile(converted.source, "submission.py", "exec"), namespace)  # noqa: S102 - test data
    for name in ("build_scratch", "build_transfer", "build_cifar10", "TRAINING"):
        assert name in namespace
    for name in ("model", "history", "x_train"):
        assert name not in namespace
    reasons = {(d.cell, d.line): d.reason for d in converted.dropped}
    assert reasons[(1, 1)] == "IPython magic"
    assert reasons[(1, 2)] == "shell command"
    assert "top-level code" in reasons[(5, 6)]
    assert [d.code for d in converted.dropped if d.cell == 5][2].startswith("history = model.fit(")


def test_constants_that_use_constants_and_imports_are_kept() -> None:
    converted = notebook_json_to_module(notebook(
        "import keras\nEPOCHS = 5\nTRAINING = {'scratch': {'epochs': EPOCHS * 2}}\n"
        "ACT = keras.activations.relu\nSHAPE = tuple([32, 32, 3])\nmodel = keras.Sequential()"
    ))  # fmt: skip
    assert "TRAINING = {'scratch': {'epochs': EPOCHS * 2}}" in converted.source
    assert "ACT = keras.activations.relu" in converted.source
    assert "SHAPE = tuple([32, 32, 3])" in converted.source
    assert "model = keras.Sequential()" not in converted.source
    assert converted.dropped[-1].code == "model = keras.Sequential()"


def test_cell_magic_drops_the_whole_cell() -> None:
    converted = notebook_json_to_module(notebook("%%time\nx = train()", "def f():\n    return 1"))
    assert "train()" not in converted.source and "def f()" in converted.source
    assert converted.dropped[0].reason == "IPython cell magic"


def test_magic_lookalike_inside_a_string_is_kept() -> None:
    converted = notebook_json_to_module(notebook('HELP = """\n%not a magic\n!not shell\n"""'))
    assert "%not a magic" in converted.source
    assert converted.dropped == ()


def test_try_import_block_is_kept() -> None:
    converted = notebook_json_to_module(notebook(
        "try:\n    import scipy\nexcept ImportError:\n    scipy = None"))  # fmt: skip
    assert "import scipy" in converted.source


def test_guarded_main_block_is_dropped() -> None:
    converted = notebook_json_to_module(notebook("if __name__ == '__main__':\n    main()"))
    assert "main()" not in converted.source


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("not-json.ipynb", "is not valid JSON (line 1, column 12)"),
        ("no-code.ipynb", "has no code cells: put build_scratch"),
        ("syntax-error.ipynb", "code cell 2 does not parse (line 1: expected ':')"),
    ],
)
def test_broken_notebooks_say_what_to_fix(name: str, message: str) -> None:
    with pytest.raises(NotebookError) as info:
        notebook_to_module(NOTEBOOKS / name)
    assert message in str(info.value)


def test_not_a_notebook() -> None:
    with pytest.raises(NotebookError, match="not a Jupyter notebook"):
        notebook_json_to_module("[1, 2]")
