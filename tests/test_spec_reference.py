"""The `assignment.toml` reference (`grader.spec_keys`) is held to the spec reader: the same
keys, the same defaults, the same bounds; the generated documents are current. No TensorFlow.
"""

from __future__ import annotations

import ast
import copy
import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from grader import checks, cli, spec_keys, spec_reference, spec_schema
from grader.assignment import (
    CIFAR10_CLASSES,
    Assignment,
    BaseModel,
    Data,
    Limits,
    Reference,
    Task,
    Training,
)
from grader.spec import load_assignment
from grader.spec_policy import Gradescope, LatePolicy
from grader.spec_reader import field_names
from grader.spec_schema import REQUIRED, Derived, Range, Table
from grader.tomlcompat import tomllib
from tests.spec_dicts import WHERE, at, dotted, put, rejects, variant, write

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "assignment-reference.md"
T = {t.path + ("/file" if t is spec_keys.BASE_FILE else ""): t for t in spec_keys.TABLES}
BASE_KEYS = set(spec_keys.BASE_BUILDER.names()) | set(spec_keys.BASE_FILE.names())

# (a) Key sets ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "accepted"),
    [
        ("", field_names(Assignment, besides=("directory", "spec_hash", "training_hash",
                                                "base_hash"))),
        ("data", field_names(Data)),
        ("tasks.<id>", field_names(Task, besides=("id",))),
        ("tasks.<id>.defaults", field_names(Training)),
        ("base_model.training", field_names(Training)),
        ("tasks.<id>.limits", field_names(Limits)),
        ("reference", field_names(Reference, besides=("content_hash",))),
        ("late", field_names(LatePolicy)),
        ("gradescope", field_names(Gradescope)),
        ("tasks.<id>.checks", {k for kind in checks.KINDS.values() for k in kind.spec_keys()}),
    ],
)  # fmt: skip
def test_dataclass_tables_document_exactly_their_fields(table: str, accepted: Any) -> None:
    assert set(T[table].names()) == set(accepted)


def test_both_base_model_forms_together_document_its_fields() -> None:
    assert set(field_names(BaseModel)) == BASE_KEYS


def known_keys(tmp_path: Path, spec: dict[str, Any], where: tuple[str | int, ...]) -> set[str]:
    """The keys the reader accepts at `where`: a typo'd key is refused with their list."""
    put(spec, where, "zzz_not_a_key", 1)
    message = rejects(tmp_path, spec)
    match = re.search(r"known keys (\[.*?\]) \(typo\?\)", message)
    assert match, message
    return set(ast.literal_eval(match[1]))


@pytest.mark.parametrize("table", list(WHERE))
def test_every_table_documents_exactly_what_the_reader_accepts(tmp_path: Path, table: str) -> None:
    accepted = set()
    for kind in checks.KINDS if table == "tasks.<id>.checks" else ["min_test_accuracy"]:
        spec = variant(table)
        if table == "tasks.<id>.checks":
            spec["tasks"]["scratch"]["checks"][0]["kind"] = kind
        accepted |= known_keys(tmp_path, spec, WHERE[table])
    assert accepted == (BASE_KEYS if table == "base_model" else set(T[table].names()))


@pytest.mark.parametrize(
    ("form", "other"), [(spec_keys.BASE_BUILDER, spec_keys.BASE_FILE),
                        (spec_keys.BASE_FILE, spec_keys.BASE_BUILDER)]
)  # fmt: skip
def test_each_base_model_form_refuses_the_other_forms_keys(
    tmp_path: Path, form: Table, other: Table
) -> None:
    spec = variant("base_model")
    if form is spec_keys.BASE_FILE:
        spec["base_model"] = {"file": "m.keras"}
    for key in set(other.names()) - set(form.names()):
        attempt = copy.deepcopy(spec)
        attempt["base_model"][key] = [32, 32, 3] if key == "input_shape" else "x"
        assert f"`base_model.{key}` must be unset" in rejects(tmp_path, attempt)


def test_every_check_kind_is_described() -> None:
    assert set(spec_keys.KIND_MEANINGS) == set(checks.KINDS)
    assert spec_keys.CHECK.keys[0].choices == tuple(checks.KINDS)


# (b) Defaults and required keys -----------------------------------------------------------

OBJECTS: dict[str, Callable[[Assignment], Any]] = {
    "": lambda a: a,
    "data": lambda a: a.data,
    "splits.<name>": lambda a: a.splits["vehicles"],
    "base_model": lambda a: a.base_model,
    "base_model.training": lambda a: a.base_model.training,
    "tasks.<id>": lambda a: a.tasks["scratch"],
    "tasks.<id>.defaults": lambda a: a.tasks["scratch"].defaults,
    "tasks.<id>.limits": lambda a: a.tasks["scratch"].limits,
    "tasks.<id>.checks": lambda a: a.tasks["scratch"].checks[0],
    "late": lambda a: a.late,
    "gradescope": lambda a: a.gradescope,
}
# Defaults computed from the rest of the spec, each checked its own way.
DERIVED: dict[tuple[str, str], Callable[[Assignment], bool]] = {
    ("", "id"): lambda a: a.id == a.directory.name,
    ("", "title"): lambda a: a.title == a.directory.name,
    ("", "data"): lambda a: a.data == Data(),
    ("splits.<name>", "classes"): lambda a: a.splits["vehicles"].classes == CIFAR10_CLASSES,
    ("splits.<name>", "relabel"): lambda a: (
        a.splits["vehicles"].sources == tuple((c,) for c in CIFAR10_CLASSES)
    ),
    ("splits.<name>.relabel", "<class>"): lambda a: (
        a.splits["vehicles"].sources == tuple((c,) for c in a.splits["vehicles"].classes)
    ),
    ("tasks.<id>", "title"): lambda a: a.tasks["scratch"].title == "scratch",
    ("tasks.<id>.checks", "compare_to"): lambda a: a.tasks["scratch"].checks[0].compare_to is None,
    ("", "gradescope"): lambda a: a.gradescope == Gradescope(),
}


def as_toml(value: Any) -> Any:
    return [as_toml(v) for v in value] if isinstance(value, tuple) else value


def defaulted() -> Iterator[tuple[str, spec_schema.Key]]:
    for table in spec_keys.TABLES:
        for key in table.keys:
            if key.default is not REQUIRED:
                yield table.path, key


def test_every_derived_default_is_checked() -> None:
    derived = {(path, k.name) for path, k in defaulted() if isinstance(k.default, Derived)}
    assert derived == set(DERIVED)


@pytest.mark.parametrize(("table", "key"), list(defaulted()), ids=lambda v: getattr(v, "name", v))
def test_a_default_is_what_the_loaded_assignment_holds(
    tmp_path: Path, table: str, key: spec_schema.Key
) -> None:
    spec = variant("tasks.<id>.checks" if table == "tasks.<id>.checks" else table)
    if table == "data":
        spec.pop("data", None)
    loaded = load_assignment(write(tmp_path, spec))
    if isinstance(key.default, Derived):
        assert DERIVED[(table, key.name)](loaded)
    else:
        assert as_toml(getattr(OBJECTS[table](loaded), key.name)) == key.default


def required() -> Iterator[tuple[str, str]]:
    for path, where in WHERE.items():
        for key in T[path].keys:
            if key.default is REQUIRED and key.name in at(variant(path), where):
                yield path, key.name


@pytest.mark.parametrize(("table", "key"), list(required()))
def test_a_required_key_cannot_be_left_out(tmp_path: Path, table: str, key: str) -> None:
    spec = variant(table)
    del at(spec, WHERE[table])[key]
    message = rejects(tmp_path, spec)
    assert f"`{dotted(WHERE[table], key)}` must be" in message, message


# (c) Bounds -----------------------------------------------------------------------------


def edges(r: Range) -> tuple[list[float], list[float]]:
    """(just outside, the boundary inside) of a range: open ends nudged by the smallest step."""
    step = 1 if r.integer else 1e-6
    outside, inside = [], []
    for end, is_open, sign in ((r.low, r.low_open, 1), (r.high, r.high_open, -1)):
        if math.isinf(end):
            continue
        outside.append(end if is_open else end - sign * step)
        inside.append(end + sign * step if is_open else end)
    cast = int if r.integer else float
    return [cast(v) for v in outside], [cast(v) for v in inside]


def bounded() -> Iterator[Any]:
    for table in spec_keys.TABLES:
        for key in table.keys:
            for r in key.ranges:
                outside, inside = edges(r)
                for value in outside + inside:
                    shown = [value, value] if r.per_item else value
                    name = f"{table.path}.{key.name}={shown}"
                    yield pytest.param(table.path, key.name, shown, value in inside, id=name)
    for name, kind in checks.KINDS.items():
        r = Range(kind.bounds.low, kind.bounds.high, not kind.bounds.low_inclusive, False,
                  integer=False)  # fmt: skip
        outside, inside = edges(r)
        for value in outside + inside:
            yield pytest.param(name, "threshold", value, value in inside, id=f"{name}={value}")


@pytest.mark.parametrize(("table", "key", "value", "accepted"), list(bounded()))
def test_a_bound_is_the_readers(
    tmp_path: Path, table: str, key: str, value: Any, accepted: bool
) -> None:
    if table in checks.KINDS:  # a check kind's threshold
        spec = variant("tasks.<id>.checks")
        spec["tasks"]["scratch"]["checks"][0] |= {"kind": table, "threshold": value}
        if checks.KINDS[table].compares:
            spec["tasks"]["other"] = copy.deepcopy(spec["tasks"]["scratch"]) | {"checks": []}
            spec["tasks"]["scratch"]["checks"][0]["compare_to"] = "other"
        where: tuple[str | int, ...] = WHERE["tasks.<id>.checks"]
    else:
        spec, where = variant(table), WHERE[table]
        put(spec, where, key, value)
        if table == "splits.<name>":  # a folder's counts are checked when it is read
            spec["data"] = {"source": "folder", "path": "photos"}  # so 1,000,000 loads
    if accepted:
        load_assignment(write(tmp_path, spec))
    else:
        assert f"`{dotted(where, key)}` must be" in rejects(tmp_path, spec)


# (d) The generated documents --------------------------------------------------------------


def test_the_reference_doc_is_current(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert DOC.read_text(encoding="utf-8") == spec_reference.document(), (
        "docs/assignment-reference.md is out of date: run `make spec-reference`"
    )
    assert cli.main(["spec-reference", "--output", str(DOC), "--check"]) == cli.OK
    stale = tmp_path / "reference.md"
    assert cli.main(["spec-reference", "--output", str(stale), "--check"]) == cli.FAILED
    assert f"{stale} is out of date: run `make spec-reference`" in capsys.readouterr().err
    assert cli.main(["spec-reference", "--output", str(stale)]) == cli.OK
    assert cli.main(["spec-reference", "--output", str(stale), "--check"]) == cli.OK


def test_the_cifar10_example_loads(tmp_path: Path) -> None:
    folder = tmp_path / "cats-dogs"
    folder.mkdir()
    (folder / "assignment.toml").write_text(spec_reference.CIFAR10_EXAMPLE)
    assert load_assignment(folder).tasks["scratch"].checks[0].threshold == 0.65


def undocumented(spec: dict[str, Any]) -> list[str]:
    """Keys of a parsed spec that the catalogue does not describe, by table."""
    found: list[str] = []

    def check(path: str, table: dict[str, Any], names: set[str]) -> None:
        found.extend(f"{path}.{k}" for k in table if k not in names)

    check("", spec, set(T[""].names()))
    check("data", spec.get("data", {}), set(T["data"].names()))
    for split in spec.get("splits", {}).values():
        check("splits.<name>", split, set(T["splits.<name>"].names()))
    check("base_model", spec.get("base_model", {}), BASE_KEYS)
    check("base_model.training", spec.get("base_model", {}).get("training", {}),
          set(T["base_model.training"].names()))  # fmt: skip
    for task in spec.get("tasks", {}).values():
        check("tasks.<id>", task, set(T["tasks.<id>"].names()))
        for sub in ("defaults", "limits"):
            check(f"tasks.<id>.{sub}", task.get(sub, {}), set(T[f"tasks.<id>.{sub}"].names()))
        for c in task.get("checks", []):
            check("tasks.<id>.checks", c, set(T["tasks.<id>.checks"].names()))
            for limit in (c.get("threshold"), c.get("partial_from")):
                if isinstance(limit, dict):
                    check("threshold", limit, {"reference"})
    check("reference", spec.get("reference", {}), set(T["reference"].names()))
    for table in ("late", "gradescope"):
        check(table, spec.get(table, {}), set(T[table].names()))
    return found


@pytest.mark.parametrize(
    "text",
    [spec_reference.CIFAR10_EXAMPLE, spec_reference.FOLDER_EXAMPLE,
     *(p.read_text() for p in sorted((ROOT / "assignments").glob("*/assignment.toml")))],
)  # fmt: skip
def test_examples_and_shipped_specs_use_only_documented_keys(text: str) -> None:
    assert undocumented(tomllib.loads(text)) == []
