"""Assignment specs: `assignment.toml` read once into frozen, validated dataclasses.

The dataclasses live in `grader.assignment` and check kinds in `grader.checks`; both are
imported from here too.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from grader import assignment as model
from grader import checks, spec_checks, spec_data, spec_policy
from grader.assignment import (  # noqa: F401  (re-exported: the spec's public names)
    CIFAR10_CLASSES,
    LANGUAGES,
    OPTIMIZERS,
    Assignment,
    BaseModel,
    Check,
    Data,
    Limits,
    Reference,
    Relative,
    Split,
    Task,
    Training,
    share_count,
)
from grader.errors import SpecError
from grader.spec_reader import TableReader, field_names
from grader.tomlcompat import tomllib


def load_assignment(directory: Path | str, *, reference_required: bool = True) -> Assignment:
    """Read and validate `DIRECTORY/assignment.toml`.

    `reference_required=False` accepts a `[reference]` whose path is missing (a student's
    copy of the assignment, in a self-check): relative thresholds then stay unresolved.

    Raises:
        SpecError: the file is missing, is not TOML, or breaks a rule; the message names
            the file, the key, the value received and what is expected.
    """
    directory = Path(directory).resolve()
    path = directory / "assignment.toml"
    raw, data = _read_toml(path)
    r = TableReader(path, data)
    besides = ("directory", "spec_hash", "training_hash", "base_hash")
    r.reject_unknown(field_names(Assignment, besides=besides))
    data_spec = spec_data.read_data(r.sub("data", {}), directory)
    splits = _read_splits(r, data_spec, directory)
    tasks_table = r.sub("tasks")
    tasks = {
        t: _read_task(tasks_table.sub(t), t, tasks_table.table, splits) for t in tasks_table.table
    }
    if not tasks:
        raise r.fail("tasks", {}, "at least one [tasks.<id>] table")
    base = None
    if "base_model" in data:
        base = spec_data.read_base(r.sub("base_model"), splits, directory, data_spec)
    if base is None and any(t.uses_base for t in tasks.values()):
        raise r.fail("base_model", "<missing>", "a [base_model] table, since a task has uses_base")
    base_code = b"" if base is None else (directory / base.file).read_bytes()  # read once
    reference = None
    if "reference" in data:
        reference = spec_checks.read_reference(r.sub("reference"), directory, reference_required)
    spec_checks.check_relative_has_reference(path, tasks, reference)
    return Assignment(
        **_read_header(r, directory),
        directory=directory,
        splits=splits,
        tasks=tasks,
        base_model=base,
        allow_custom_objects=r.get("allow_custom_objects", bool, False),
        borderline=r.get(
            "borderline",
            str,
            "flag",
            check=lambda v: v in checks.BORDERLINE_POLICIES,
            expected=f"one of {list(checks.BORDERLINE_POLICIES)}",
        ),
        learning_floor=spec_checks.read_learning_floor(r),
        min_isolation=r.get(
            "min_isolation",
            str,
            model.DEFAULT_MIN_ISOLATION,
            check=lambda v: v in model.ISOLATION_LEVELS,
            expected=f"one of {list(model.ISOLATION_LEVELS)}",
        ),
        spec_hash=_spec_hash(raw, base_code),
        training_hash=_training_hash(data, base_code),
        base_hash=_base_hash(data, base, base_code),
        reference=reference,
        data=data_spec,
        late=spec_policy.read_late(r),
        gradescope=spec_policy.read_gradescope(r),
    )


def _read_toml(path: Path) -> tuple[bytes, dict[str, Any]]:
    try:
        raw = path.read_bytes()
        return raw, tomllib.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise SpecError(
            f"{path}: no assignment spec here. Pass --assignment DIR, a folder "
            "holding assignment.toml."
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: not valid TOML: {exc}") from None


def _read_header(r: TableReader, directory: Path) -> dict[str, Any]:
    """The assignment's id, title, language and seed."""
    return {
        "id": r.get("id", str, directory.name, check=lambda v: v.replace("-", "").isalnum(),
                    expected="letters, digits and dashes"),
        "title": r.get("title", str, directory.name),
        "language": r.get("language", str, "en", check=lambda v: v in LANGUAGES,
                          expected=f"one of {list(LANGUAGES)}"),
        "seed": r.get("seed", int, check=lambda v: 0 <= v < 2**32,
                      expected="an integer in [0, 2**32)"),
    }  # fmt: skip


def _read_splits(r: TableReader, data_spec: Data, directory: Path) -> dict[str, Split]:
    table = r.sub("splits")
    known = spec_data.source_classes(data_spec, directory)
    kind = "CIFAR-10 classes" if data_spec.source == "cifar10" else f"classes in {data_spec.path}"
    splits = {n: _read_split(table.sub(n), n, known, kind) for n in table.table}
    if not splits:
        raise r.fail("splits", {}, "at least one [splits.<name>] table")
    # A folder's counts are checked when it is read (`data.select_images`).
    overdrawn = None
    if data_spec.source == "cifar10":
        overdrawn = model.overdrawn(splits, model.cifar10_available())
    if overdrawn is not None:
        raise r.fail("splits", overdrawn, "at most what CIFAR-10 holds over all splits")
    return splits


def _read_limits(r: TableReader) -> Limits:
    r.reject_unknown(field_names(Limits))
    return Limits(
        max_epochs=r.positive("max_epochs"),
        max_params=r.positive("max_params"),
        max_seconds=r.positive("max_seconds"),
        max_batch_size=r.positive("max_batch_size", 512),
        memory_gb=r.get("memory_gb", float, 6.0, check=lambda v: v >= 3,
                        expected="a number of GiB >= 3 (TensorFlow needs about 2.5)"),
        startup_seconds=r.get("startup_seconds", int, 90, check=lambda v: v >= 10,
                              expected="an integer >= 10 (importing TensorFlow takes ~6 s)"),
        on_timeout=r.get("on_timeout", str, "score", check=lambda v: v in model.ON_TIMEOUT,
                         expected=f"one of {list(model.ON_TIMEOUT)}"),
    )  # fmt: skip


def _read_split(r: TableReader, name: str, known: tuple[str, ...], kind: str) -> Split:
    r.reject_unknown(("classes", "relabel", "train_per_class", "val_per_class", "test_per_class"))
    classes = r.get(
        "classes",
        list,
        list(known) if "relabel" not in r.table else ...,
        check=lambda v: (
            len(v) >= 2 and len(set(v)) == len(v) and all(isinstance(c, str) for c in v)
        ),
        expected="a list of at least two distinct class names",
    )
    sources = _read_sources(r, classes, known, kind)
    amounts = {k: spec_data.read_amount(r, k) for k in SUBSET_KEYS}
    return Split(name, tuple(classes), sources, **amounts)


SUBSET_KEYS = ("train_per_class", "val_per_class", "test_per_class")


def _read_sources(
    r: TableReader, classes: list[str], known: tuple[str, ...], kind: str
) -> tuple[tuple[str, ...], ...]:
    """Per class of a split, the source classes it is drawn from (`relabel`, else itself)."""
    relabel = r.sub("relabel", {})
    sources = []
    for cls in classes:
        src = relabel.get(
            cls,
            list,
            [cls],
            check=lambda v: len(v) > 0 and all(c in known for c in v),
            expected=f"a list of {kind} {list(known)}",
        )
        if cls not in relabel.table and cls not in known:
            raise r.fail(
                "classes", cls, f"{kind} {list(known)}, or names given a `relabel` entry"
            )  # fmt: skip
        sources.append(tuple(src))
    relabel.reject_unknown(classes)
    flat = [c for src in sources for c in src]
    if len(flat) != len(set(flat)):
        raise r.fail("relabel", relabel.table, "a mapping where each source class is used once")
    return tuple(sources)


def _read_task(
    r: TableReader, task_id: str, tasks: dict[str, Any], splits: dict[str, Split]
) -> Task:
    r.reject_unknown(field_names(Task, besides=("id",)))
    defaults, limits = spec_data.read_training(r.sub("defaults")), _read_limits(r.sub("limits"))
    if defaults.epochs > limits.max_epochs:
        raise r.fail(
            "defaults.epochs", defaults.epochs, f"at most limits.max_epochs={limits.max_epochs}"
        )
    raw_checks = r.get("checks", list, [], expected="an array of tables [[tasks.<id>.checks]]")
    return Task(
        id=task_id,
        title=r.get("title", str, task_id),
        function=r.get("function", str, check=str.isidentifier, expected="a Python function name"),
        split=r.get(
            "split", str, check=lambda v: v in splits, expected=f"one of the splits {list(splits)}"
        ),
        uses_base=r.get("uses_base", bool, False),
        defaults=defaults,
        limits=limits,
        checks=tuple(
            spec_checks.read_check(r.item("checks", i, c), task_id, tasks)
            for i, c in enumerate(raw_checks)
        ),
    )


# Keys that only decide how trained models are scored or shown, or how strong a sandbox they
# need: changing them re-scores.
SCORING_ONLY = (
    "title",
    "language",
    "borderline",
    "learning_floor",
    "reference",
    "min_isolation",
    "late",
    "gradescope",
)
SCORING_ONLY_IN_TASK = ("title", "checks")


def _training_hash(data: dict[str, Any], base_code: bytes) -> str:
    """A hash of what the trained models depend on: the spec without its checks, titles and
    policies (`SCORING_ONLY`), plus the base model's code."""
    kept = {k: v for k, v in data.items() if k not in SCORING_ONLY}
    tasks = kept.get("tasks", {})
    kept["tasks"] = {
        task_id: {k: v for k, v in table.items() if k not in SCORING_ONLY_IN_TASK}
        for task_id, table in tasks.items()
    }
    return _hash_json(kept, base_code)


def _base_hash(data: dict[str, Any], base: BaseModel | None, base_code: bytes) -> str:
    """A hash of what the base model depends on: its table, its split's table, seed, code."""
    if base is None:
        return ""
    kept = {"base_model": data["base_model"]}
    if base.split is not None:  # trained by the grader: on this split, with this seed
        kept |= {"split": data["splits"][base.split], "seed": data.get("seed")}
        if "data" in data:  # absent: CIFAR-10 as before, and the same key as before
            kept["data"] = data["data"]
    return _hash_json(kept, base_code)


def _hash_json(data: dict[str, Any], base_code: bytes) -> str:
    return _spec_hash(json.dumps(data, sort_keys=True, default=str).encode(), base_code)


def _spec_hash(raw: bytes, base_code: bytes) -> str:
    """A hash of the spec's bytes and the base model's code (part of the spec)."""
    return hashlib.sha256(raw + base_code).hexdigest()[:16]
