"""Notebook submissions: definitions kept, top-level training, plots and magics dropped."""

from __future__ import annotations

import builtins
import json
from pathlib import Path
from unittest.mock import MagicMock

import pytest

from grader.messages import Message
from grader.notebook import (
    ConvertedNotebook,
    NotebookError,
    notebook_json_to_module,
    notebook_to_module,
)
from tests.conftest import FIXTURES

NOTEBOOKS = FIXTURES / "notebooks"
CALL = "top-level call (training/plotting code does not run during grading)"


def convert(*cells: str) -> ConvertedNotebook:
    return notebook_json_to_module(
        json.dumps({"cells": [{"cell_type": "code", "source": c} for c in cells]})
    )


def rows(converted: ConvertedNotebook) -> tuple[tuple[int, int, str, str], ...]:
    """(cell, line, code, English reason) of every dropped line."""
    return tuple((d.cell, d.line, d.code, d.reason) for d in converted.dropped)


def run(source: str) -> tuple[dict, dict[str, MagicMock]]:
    """Exec a module with every import faked, so nothing real (TensorFlow) is loaded."""
    fakes: dict[str, MagicMock] = {}

    def fake_import(name: str, *args: object, **kwargs: object) -> MagicMock:
        return fakes.setdefault(name.split(".")[0], MagicMock(name=name))

    namespace: dict = {"__builtins__": {**vars(builtins), "__import__": fake_import}}
    exec(compile(source, "submission.py", "exec"), namespace)  # noqa: S102 - test data
    return namespace, fakes


def test_definitions_are_kept_and_training_dropped() -> None:
    epochs = 'TRAINING["scratch"]["epochs"]'
    converted = notebook_to_module(NOTEBOOKS / "good.ipynb")
    namespace, fakes = run(converted.source)
    for name in ("build_scratch", "build_transfer", "build_cifar10", "TRAINING", "plt"):
        assert name in namespace
    for name in ("model", "history", "x_train"):
        assert name not in namespace
    assert namespace["TRAINING"]["scratch"] == {"epochs": 3}
    assert all(fake.mock_calls == [] for fake in fakes.values()), "import ran student code"
    assert rows(converted) == (
        (1, 1, "%matplotlib inline", "IPython magic"),
        (1, 2, "!pip install -q keras", "shell command"),
        (5, 1, "(x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()", CALL),
        (5, 2, "model = build_scratch((32, 32, 3), 3)", CALL),
        (5, 3, f"history = model.fit(x_train, y_train, epochs={epochs})", CALL),
        (5, 4, 'plt.plot(history.history["loss"])', CALL),
        (5, 5, "plt.show()", CALL),
    )


def test_cell_lines_keep_their_place_below_the_cell_comment() -> None:
    notebook = json.loads((NOTEBOOKS / "good.ipynb").read_text(encoding="utf-8"))
    cell_2 = "".join(notebook["cells"][2]["source"]).split("\n")
    lines = notebook_to_module(NOTEBOOKS / "good.ipynb").source.split("\n")
    header = lines.index("# --- cell 2 ---")
    assert lines[header + 1 : header + 1 + len(cell_2)] == cell_2
    assert "# --- cell 5 ---" not in lines  # nothing of it is kept
    cell_1 = lines[lines.index("# --- cell 1 ---") + 1 :]
    assert cell_1[:4] == ["", "", "import keras", "from keras import layers"]


def test_constants_may_use_constants_imports_and_container_calls() -> None:
    converted = convert(
        "import keras\nEPOCHS = 5\nTRAINING = {'scratch': {'epochs': EPOCHS * 2}}\n"
        "ACT = keras.activations.relu\nSHAPE = tuple([32, 32, 3])\nBASE = dict(lr=-1e-3)\n"
        "data = keras.datasets.cifar10.load_data()\nN = len(data)\nSAME = data\nDTYPE = float"
    )
    namespace, _ = run(converted.source)
    assert namespace["TRAINING"] == {"scratch": {"epochs": 10}}
    assert namespace["SHAPE"] == (32, 32, 3) and namespace["BASE"] == {"lr": -1e-3}
    assert "ACT" in namespace and namespace["DTYPE"] is float
    assert [(d.line, d.reason) for d in converted.dropped] == [
        (7, CALL),
        (8, CALL),
        (9, "not a constant (only imports, definitions and constants are kept)"),
    ]


def test_statements_sharing_a_line_are_judged_one_by_one() -> None:
    converted = convert("import os; model.fit(x); EPOCHS = 3", "X = os.sep; Y = 2")
    assert "import os; EPOCHS = 3\n" in converted.source
    assert [d.code for d in converted.dropped] == ["model.fit(x)"]  # `os` is used: not moved


def test_decorators_and_blocks() -> None:
    converted = convert(
        "import keras\n@keras.saving.register_keras_serializable()\nclass Block:\n    pass\n"
        "for epoch in range(3):\n    print(epoch)\nif __name__ == '__main__':\n    main()"
    )
    assert "@keras.saving.register_keras_serializable()\nclass Block:" in converted.source
    assert [d.reason for d in converted.dropped] == [
        "top-level `for` block (only imports, definitions and constants are kept)",
        'the `if __name__ == "__main__":` block does not run during grading',
    ]
    # stored by id too, the keyword a parameter, so a report words it in its own language
    assert [d.reason_message for d in converted.dropped] == [
        Message("notebook.block", {"keyword": "for"}),
        Message("notebook.main_block", {}),
    ]


def test_time_cell_magic_keeps_its_python_and_bash_cells_go() -> None:
    converted = convert(
        "%%time\ndef build_scratch():\n    return 1\nmodel = build_scratch()",
        "%%bash\nls -la\nfor x in *; do echo $x; done",
    )
    namespace, _ = run(converted.source)
    assert namespace["build_scratch"]() == 1 and "model" not in namespace
    assert [(d.cell, d.line, d.reason) for d in converted.dropped] == [
        (1, 1, "IPython cell magic"),
        (1, 4, CALL),
        (2, 1, "IPython cell magic (the whole cell is not Python)"),
    ]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("files = !ls", "shell command"),
        ("t = %timeit -o f()", "IPython magic"),
        ("?keras.Sequential", "IPython help"),
        ("keras.Sequential??", "IPython help"),
        ("%load_ext autoreload", "IPython magic"),
    ],
)
def test_ipython_lines_are_dropped(line: str, reason: str) -> None:
    converted = convert(f"X = 1\n{line}\nY = 2")
    assert rows(converted) == ((1, 2, line.strip(), reason),)
    assert run(converted.source)[0]["Y"] == 2


def test_indented_magic_leaves_a_pass() -> None:
    converted = convert("def f():\n    !nvidia-smi\n\nN = 1")
    assert run(converted.source)[0]["f"]() is None


def test_magic_lookalikes_in_strings_and_expressions_are_kept() -> None:
    converted = convert('HELP = """\n%not a magic\n!not shell\n"""\nREST = (10\n        % 3)')
    assert "%not a magic\n!not shell" in converted.source
    assert converted.dropped == ()
    assert run(converted.source)[0]["REST"] == 1


def test_try_import_block_is_kept_and_a_dropped_one_binds_nothing() -> None:
    converted = convert(
        "try:\n    import scipy\nexcept ImportError:\n    scipy = None",
        "try:\n    import tqdm\n    tqdm.tqdm(range(3))\nexcept ImportError:\n    pass\n"
        "BAR = tqdm.tqdm",
    )
    assert "import scipy" in converted.source and "tqdm" not in converted.source
    assert [(d.cell, d.line) for d in converted.dropped] == [(2, 1), (2, 6)]


def test_late_future_import_moves_to_the_top() -> None:
    converted = convert("import os", "from __future__ import annotations\nX: list[int] = [1]")
    code = [line for line in converted.source.split("\n") if not line.startswith("#")]
    assert code[0].startswith("from __future__ import annotations")
    compile(converted.source, "submission.py", "exec", dont_inherit=True)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("not-json.ipynb", "not-json.ipynb is not valid JSON (line 1, column 12)"),
        ("not-json.ipynb", "Re-save the notebook from Jupyter, or submit submission.py instead."),
        ("no-code.ipynb", "has no code cells: put the functions the assignment asks for"),
        ("syntax-error.ipynb", "code cell 2 is not valid Python (line 1: expected ':')"),
        ("syntax-error.ipynb", "in 'def build_scratch(a, b)'"),
    ],
)
def test_broken_notebooks_say_what_to_fix(name: str, message: str) -> None:
    with pytest.raises(NotebookError) as info:
        notebook_to_module(NOTEBOOKS / name)
    assert message in str(info.value)
    assert info.value.message.id.startswith("bad_notebook.")  # by id for the report's language


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "not a Jupyter notebook"),
        ('{"cells": [{"cell_type": "code", "source": 3}]}', "code cell 1 has a source"),
        ('{"cells": [{"cell_type": "code", "source": "x = !ls\\n  y = 1"}]}', "line 2"),
        ('{"cells": [{"cell_type": "code", "source": "class A:\\n    return 1"}]}', "outside"),
    ],
)
def test_bad_cells_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(NotebookError, match=message):
        notebook_json_to_module(text)


def test_non_utf8_file(tmp_path: Path) -> None:
    (tmp_path / "submission.ipynb").write_bytes(b'{"cells": ["\xff"]}')
    with pytest.raises(NotebookError, match="not UTF-8"):
        notebook_to_module(tmp_path / "submission.ipynb")
