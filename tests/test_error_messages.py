"""The error catalog (grader/messages/errors.py): complete, and in step with the code using it."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from grader.messages import LANGUAGES, Message, catalog, render
from grader.messages.errors import TEXTS
from grader.pipeline.training import CHILD_MESSAGES

GRADER = Path(__file__).resolve().parent.parent / "grader"
USERS = [
    *sorted((GRADER / "worker").glob("*.py")),
    GRADER / "pipeline" / "training.py",
    GRADER / "pipeline" / "evaluation.py",
    GRADER / "pipeline" / "sandboxscoring.py",
    GRADER / "pipeline" / "basemodel.py",
    GRADER / "labels.py",
]
# Where the message id sits in each kind of call: StudentError(kind, id, **params),
# Message(id, {params}), LabelFormatError(english, id, **params), and
# student_error(exc, kind, id, **params) (which adds `error`, or names a diagnosis instead).
ID_POSITION = {"StudentError": 1, "Message": 0, "LabelFormatError": 1, "student_error": 2}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def uses() -> list[tuple[str, str, set[str] | None]]:
    """(where, message id, parameter names or None when not literal) of every literal use."""
    found = []
    for path in USERS:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            position = ID_POSITION.get(name or "")
            if position is None or len(node.args) <= position:
                continue
            arg = node.args[position]
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                continue
            params = _param_names(node, name)
            if name == "student_error" and params is not None:
                params |= {"error"}
            found.append((f"{path.name}:{node.lineno}", arg.value, params))
    return found


def _param_names(node: ast.Call, name: str | None) -> set[str] | None:
    if name == "Message":
        if len(node.args) < 2:
            return set()
        params = node.args[1]
        if isinstance(params, ast.Dict) and all(isinstance(k, ast.Constant) for k in params.keys):
            return {k.value for k in params.keys if isinstance(k, ast.Constant)}
        return None
    if any(k.arg is None for k in node.keywords):  # **params
        return None
    return {k.arg for k in node.keywords if k.arg is not None}


@pytest.mark.parametrize("message_id", sorted(TEXTS))
def test_every_message_has_every_language_with_the_same_placeholders(message_id: str) -> None:
    texts = TEXTS[message_id]
    assert set(texts) == set(LANGUAGES)
    assert placeholders(texts["es"]) == placeholders(texts["en"])


def test_the_code_uses_only_known_ids_with_their_parameters() -> None:
    found = uses()
    assert len(found) > 30  # the scan sees the call sites
    for where, message_id, params in found:  # errors.py, or another catalog a worker may use
        assert message_id in CHILD_MESSAGES, f"{where}: unknown message id {message_id!r}"
        if params is not None:
            assert params == placeholders(catalog()[message_id]["en"]), where


def test_every_message_is_used() -> None:
    used = {message_id for _, message_id, _ in uses()}
    assert set(TEXTS) <= used, sorted(set(TEXTS) - used)


def test_numbers_follow_the_language() -> None:
    message = Message(
        "too_many_params", {"function": "build_scratch", "params": 1574915, "max_params": 100000}
    )
    assert "has 1,574,915 parameters; this task allows at most 100,000." in render(message, "en")
    assert "tiene 1.574.915 parámetros" in render(message, "es")
    timeout = Message("timeout", {"limit": 12, "seconds": 13.4})
    assert "limit of 12 s (stopped after 13 s)" in render(timeout, "en")


def test_english_texts_are_the_stored_ones() -> None:
    """Result files store the English text: it must read exactly as before message ids."""
    config = Message("training_config.not_dicts", {"task": "scratch", "received": "[1]"})
    assert render(config, "en") == (
        "TRAINING must be a dict of dicts, e.g. TRAINING = {'scratch': {'epochs': 10}}. "
        "Received: [1]"
    )
    crash = Message("crash.exit", {"code": 3, "detail": "train.json was not written"})
    assert render(crash, "en") == (
        "The training process stopped early: it exited with code 3 before saving the model "
        "(train.json was not written). Do not call sys.exit/os._exit in your submission; see "
        "the log below."
    )
    output = Message(
        "wrong_output_shape",
        {"function": "build_scratch", "units": 10, "n": 3, "classes": "other, automobile, truck"},
    )
    assert render(output, "en") == (
        "`build_scratch` returned a model whose output has 10 units; this task has 3 classes "
        "(other, automobile, truck). End the model with Dense(3, activation='softmax')."
    )
