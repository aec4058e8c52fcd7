"""The grading catalog (grader/messages/grading.py): complete in every language, and every id
the checks, notebook, staging and self-check code uses is in it."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from grader.checks import KINDS
from grader.errors import Step
from grader.messages import LANGUAGES, Message, catalog, render
from grader.messages.grading import TEXTS

GRADER = Path(__file__).resolve().parent.parent / "grader"
USERS = [GRADER / "checks.py", *sorted((GRADER / "notebook").glob("*.py"))] + [
    GRADER / "pipeline" / f"{name}.py"
    for name in ("submissions", "submission", "selfcheck", "provenance", "resume", "summary")
]
PREFIXES = ("check", "notebook", "bad_notebook", "bad_submission", "missing_file", "name",
            "step", "selfcheck", "feedback")  # fmt: skip
ID = re.compile(rf"(?:{'|'.join(PREFIXES)})(?:\.[a-z_]+)*")
# Calls that take a message id first, then its parameters as keywords or a dict.
ID_CALLS = {"Message", "say", "NotebookError"}


def fields(text: str) -> dict[str, str]:
    """Placeholder name -> format spec."""
    return {name: spec or "" for _, name, spec, _ in string.Formatter().parse(text) if name}


def built_ids() -> set[str]:
    """Ids the code builds from names (f-strings): one per self-check step and check kind."""
    return {f"step.{step.value}" for step in Step} | {f"check.{k}.required" for k in KINDS}


def literal_uses() -> list[tuple[str, str, set[str] | None]]:
    """(where, id, keyword parameter names or None) of every string constant shaped like an id."""
    found = []
    for path in USERS:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = {id(n.args[0]): n for n in ast.walk(tree) if isinstance(n, ast.Call) and n.args}
        pieces = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
        for node in ast.walk(tree):
            if id(node) in pieces:
                continue  # part of an f-string: see `built_ids`
            if isinstance(node, ast.Constant) and _is_id(node.value):
                call = calls.get(id(node))
                found.append((f"{path.name}:{node.lineno}", node.value, _params(call)))
    return found


def _is_id(value: object) -> bool:
    if not isinstance(value, str) or not ID.fullmatch(value):
        return False
    return "." in value or value == "missing_file"


def _params(call: ast.Call | None) -> set[str] | None:
    name = call and (getattr(call.func, "id", None) or getattr(call.func, "attr", None))
    if call is None or name not in ID_CALLS or any(k.arg is None for k in call.keywords):
        return None
    if len(call.args) > 1:
        params = call.args[1]
        if not isinstance(params, ast.Dict) or not all(
            isinstance(k, ast.Constant) for k in params.keys
        ):
            return None
        return {k.value for k in params.keys if isinstance(k, ast.Constant)}
    return {k.arg for k in call.keywords if k.arg is not None}


@pytest.mark.parametrize("message_id", sorted(TEXTS))
def test_every_id_has_every_language_with_the_same_placeholders(message_id: str) -> None:
    texts = TEXTS[message_id]
    assert set(texts) == set(LANGUAGES)
    english = fields(texts["en"])
    for language in LANGUAGES:
        assert fields(texts[language]) == english, language
        params = {name: 1234.5 if spec else "x" for name, spec in english.items()}
        render(Message(message_id, params), language)  # the format specs are valid


def test_every_id_the_code_uses_exists_with_its_parameters() -> None:
    uses = literal_uses()
    assert len(uses) > 40  # the scan finds them
    for where, message_id, params in uses:
        assert message_id in catalog(), f"{where}: {message_id} is in no catalog"
        if params is not None:
            missing = set(fields(catalog()[message_id]["en"])) - params
            assert not missing, f"{where}: {message_id} lacks {missing}"
    for message_id in built_ids():
        assert message_id in TEXTS, message_id


def test_every_check_kind_has_feedback() -> None:
    for kind in KINDS.values():
        assert kind.feedback_id() in catalog(), kind.feedback_id()
