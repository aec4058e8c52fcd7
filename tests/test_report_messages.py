"""The report's texts: every id in every language, numbers the language's way, and nothing in
the report code or templates tied to one assignment's task ids (fast, no PDF)."""

from __future__ import annotations

import ast
import re
import string

from grader.checks import KINDS
from grader.messages import LANGUAGES, catalog, feedback, text
from grader.report.i18n import STRINGS, say
from grader.tomlcompat import tomllib
from tests.conftest import ROOT

FEEDBACK_PARAMS = {"observed": 0.6425, "threshold": 0.67, "short": 0.0275, "other": "scratch",
                   "epoch": 4, "task": "transfer", "accuracy": 0.6808, "other_accuracy": 0.6917,
                   "diff": -0.0108}  # fmt: skip


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_message_id_has_every_language() -> None:
    incomplete = [i for i, texts in catalog().items() if set(texts) != set(LANGUAGES)]
    assert incomplete == []


def test_every_check_kind_has_feedback_with_the_same_fields_in_each_language() -> None:
    for kind in KINDS.values():
        assert kind.feedback_id() in feedback.TEXTS, kind.name
    for message_id, texts in feedback.TEXTS.items():
        assert set(texts) == set(LANGUAGES), message_id
        assert fields(texts["en"]) == fields(texts["es"]), message_id
        assert fields(texts["en"]) <= set(FEEDBACK_PARAMS), message_id
        for language in LANGUAGES:
            text(message_id, language, **FEEDBACK_PARAMS)  # renders


def test_feedback_numbers_are_written_the_languages_way() -> None:
    params = {"observed": 0.6426, "threshold": 0.67, "short": 0.0274}
    assert "0,643, 0,027 por debajo del mínimo de 0,670" in text(
        "feedback.min_test_accuracy", "es", **params
    )
    assert "0.643, 0.027 below the required 0.670" in text(
        "feedback.min_test_accuracy", "en", **params
    )
    big = {"observed": 703786.0, "threshold": 500000.0}
    assert "703.786 parámetros, más de 500.000" in text("feedback.max_params", "es", **big)
    assert "703,786 parameters, more than 500,000" in text("feedback.max_params", "en", **big)
    assert "(diferencia -0,013)" in text(
        "feedback.beats_scratch", "es", observed=-0.0133, threshold=0.01, other="scratch"
    )


def test_report_words_exist_in_every_language_with_the_same_fields() -> None:
    assert set(STRINGS) == set(LANGUAGES)
    english = STRINGS["en"]
    for language, words in STRINGS.items():
        assert set(words) == set(english), language
        for key, value in words.items():
            assert fields(value) == fields(english[key]), (language, key)


def test_report_words_format_numbers_the_languages_way() -> None:
    counts = {"total": 500000, "trainable": 195, "frozen": 60480}
    assert say("es", "total_params", **counts) == (
        "500.000 parámetros (195 entrenables, 60.480 congelados)"
    )
    assert say("en", "total_params", **counts) == (
        "500,000 parameters (195 trainable, 60,480 frozen)"
    )


def assignment_task_ids() -> set[str]:
    ids = set()
    for path in [*ROOT.glob("assignments/*/assignment.toml"),
                 *ROOT.glob("tests/fixtures/assignments/*/assignment.toml")]:  # fmt: skip
        ids |= set(tomllib.loads(path.read_text(encoding="utf-8")).get("tasks", {}))
    return ids


def test_no_task_id_is_hard_coded_in_report_code_or_templates() -> None:
    ids = assignment_task_ids()
    assert {"scratch", "transfer", "cifar10"} <= ids
    found = []
    for path in sorted((ROOT / "grader" / "report").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in ids:
                found.append(f"{path.name}:{node.lineno}: {node.value!r}")
    alternatives = "|".join(map(re.escape, sorted(ids)))
    quoted = re.compile(rf"""["']({alternatives})["']""")
    # The report's templates; `new-assignment.*` write a new spec's own tasks (`grader.scaffold`).
    for path in sorted((ROOT / "templates").iterdir()):
        if path.name.startswith("new-assignment."):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found += [f"{path.name}:{number}: {m[0]}" for m in quoted.finditer(line)]
    assert found == []
