"""Assignment specs: `assignment.toml` read once into frozen, validated dataclasses."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.errors import SpecError

CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
CHECK_KINDS = ("min_test_accuracy", "max_gap", "max_params", "reuses_base", "beats_scratch")
OPTIMIZERS = ("adam", "sgd", "rmsprop", "adamw", "nadam")
LANGUAGES = ("en", "es")
TRAINING_KEYS = ("epochs", "batch_size", "early_stopping_patience")


@dataclass(frozen=True)
class Split:
    """Which CIFAR-10 images form one split, and how classes are relabelled."""

    name: str
    classes: tuple[str, ...]
    sources: tuple[tuple[str, ...], ...]  # per class, the CIFAR-10 classes it is drawn from
    train_per_class: int
    val_per_class: int
    test_per_class: int


@dataclass(frozen=True)
class Training:
    """How a model is trained when the submission does not say otherwise."""

    epochs: int
    batch_size: int
    optimizer: str
    learning_rate: float
    early_stopping_patience: int  # 0 = no early stopping


@dataclass(frozen=True)
class Limits:
    """Hard limits: a submission over one of them gets an error, not points."""

    max_epochs: int
    max_params: int
    max_seconds: int
    max_batch_size: int
    memory_gb: float
    startup_seconds: int  # allowance for importing TensorFlow and building, on top of max_seconds


@dataclass(frozen=True)
class Check:
    """One graded requirement of a task."""

    kind: str
    threshold: float
    points: float
    compare_to: str | None = None  # for beats_scratch: the task to beat


@dataclass(frozen=True)
class Task:
    """One model a student builds: which function, which data, how it is graded."""

    id: str
    title: str
    function: str
    split: str
    uses_base: bool
    defaults: Training
    limits: Limits
    checks: tuple[Check, ...]


@dataclass(frozen=True)
class BaseModel:
    """The instructor's pre-trained model, trained once and handed to every student."""

    file: str
    function: str
    split: str
    positive_class: str
    training: Training


@dataclass(frozen=True)
class Assignment:
    """A whole assignment, immutable once loaded."""

    id: str
    title: str
    language: str
    seed: int
    directory: Path
    splits: dict[str, Split]
    tasks: dict[str, Task]
    base_model: BaseModel | None
    allow_custom_objects: bool
    spec_hash: str

    @property
    def max_score(self) -> float:
        return sum(c.points for t in self.tasks.values() for c in t.checks)


class _Reader:
    """Reads one TOML table, remembering where it is so errors can name the key."""

    def __init__(self, path: Path, table: dict[str, Any], where: str = "") -> None:
        self.path, self.table, self.where = path, table, where

    def fail(self, key: str, value: Any, expected: str) -> SpecError:
        name = f"{self.where}.{key}" if self.where else key
        return SpecError(f"{self.path}: `{name}` must be {expected}. Received: {name}={value!r}")

    def get(
        self,
        key: str,
        kind: type | tuple[type, ...],
        default: Any = ...,
        *,
        check=None,
        expected: str = "",
    ) -> Any:
        if key not in self.table:
            if default is ...:
                raise self.fail(key, "<missing>", expected or f"set ({_type_name(kind)})")
            return default
        value = self.table[key]
        ok = isinstance(value, kind) and not (isinstance(value, bool) and kind in (int, float))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok or (check is not None and not check(value)):
            raise self.fail(key, value, expected or _type_name(kind))
        return value

    def sub(self, key: str, default: Any = ...) -> _Reader:
        table = self.get(key, dict, {} if default is not ... else ..., expected="a table")
        return _Reader(self.path, table, f"{self.where}.{key}" if self.where else key)

    def reject_unknown(self, allowed: tuple[str, ...]) -> None:
        for key in self.table:
            if key not in allowed:
                raise self.fail(
                    key, self.table[key], f"one of the known keys {list(allowed)} (typo?)"
                )


def _type_name(kind: type | tuple[type, ...]) -> str:
    names = {
        int: "an integer",
        float: "a number",
        str: "a string",
        bool: "true or false",
        list: "a list",
        dict: "a table",
    }
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _positive(v: float) -> bool:
    return v > 0


def _read_training(r: _Reader, fallback: Training | None = None) -> Training:
    r.reject_unknown(
        ("epochs", "batch_size", "optimizer", "learning_rate", "early_stopping_patience")
    )
    d = fallback
    return Training(
        epochs=r.get(
            "epochs", int, d.epochs if d else ..., check=_positive, expected="a positive integer"
        ),
        batch_size=r.get(
            "batch_size",
            int,
            d.batch_size if d else 32,
            check=_positive,
            expected="a positive integer",
        ),
        optimizer=r.get(
            "optimizer",
            str,
            d.optimizer if d else "adam",
            check=lambda v: v in OPTIMIZERS,
            expected=f"one of {list(OPTIMIZERS)}",
        ),
        learning_rate=r.get(
            "learning_rate",
            float,
            d.learning_rate if d else 0.001,
            check=lambda v: 0 < v < 10,
            expected="a number in (0, 10)",
        ),
        early_stopping_patience=r.get(
            "early_stopping_patience",
            int,
            d.early_stopping_patience if d else 0,
            check=lambda v: v >= 0,
            expected="an integer >= 0",
        ),
    )


def _read_split(r: _Reader, name: str) -> Split:
    r.reject_unknown(("classes", "relabel", "train_per_class", "val_per_class", "test_per_class"))
    classes = r.get(
        "classes",
        list,
        check=lambda v: (
            len(v) >= 2 and len(set(v)) == len(v) and all(isinstance(c, str) for c in v)
        ),
        expected="a list of at least two distinct class names",
    )
    relabel = r.sub("relabel", {})
    sources = []
    for cls in classes:
        src = relabel.get(
            cls,
            list,
            [cls],
            check=lambda v: len(v) > 0 and all(c in CIFAR10_CLASSES for c in v),
            expected=f"a list of CIFAR-10 classes {CIFAR10_CLASSES}",
        )
        if cls not in relabel.table and cls not in CIFAR10_CLASSES:
            raise r.fail("classes", cls, "CIFAR-10 class names, or names given a `relabel` entry")
        sources.append(tuple(src))
    relabel.reject_unknown(tuple(classes))
    flat = [c for src in sources for c in src]
    if len(flat) != len(set(flat)):
        raise r.fail("relabel", relabel.table, "a mapping where each CIFAR-10 class is used once")
    counts = {
        k: r.get(k, int, check=lambda v: 0 <= v <= 5000, expected="an integer in [0, 5000]")
        for k in ("train_per_class", "val_per_class", "test_per_class")
    }
    return Split(name, tuple(classes), tuple(sources), **counts)


def _read_check(r: _Reader, task_id: str, tasks: dict[str, Any]) -> Check:
    r.reject_unknown(("kind", "threshold", "points", "compare_to"))
    kind = r.get(
        "kind", str, check=lambda v: v in CHECK_KINDS, expected=f"one of {list(CHECK_KINDS)}"
    )
    bounded = kind in ("min_test_accuracy", "max_gap", "beats_scratch")
    threshold = r.get(
        "threshold",
        float,
        check=(lambda v: -1 <= v <= 1) if bounded else _positive,
        expected="an accuracy in [-1, 1]" if bounded else "a positive number",
    )
    compare_to = r.get(
        "compare_to",
        str,
        "scratch" if kind == "beats_scratch" else None,
        check=lambda v: v in tasks and v != task_id,
        expected=f"another task id {list(tasks)}",
    )
    points = r.get("points", float, check=lambda v: v >= 0, expected="a number >= 0")
    return Check(kind, threshold, points, compare_to)


def _read_task(r: _Reader, task_id: str, tasks: dict[str, Any], splits: dict[str, Split]) -> Task:
    r.reject_unknown(("title", "function", "split", "uses_base", "defaults", "limits", "checks"))
    defaults = _read_training(r.sub("defaults"))
    lim = r.sub("limits")
    lim.reject_unknown(
        (
            "max_epochs",
            "max_params",
            "max_seconds",
            "max_batch_size",
            "memory_gb",
            "startup_seconds",
        )
    )
    limits = Limits(
        max_epochs=lim.get("max_epochs", int, check=_positive, expected="a positive integer"),
        max_params=lim.get("max_params", int, check=_positive, expected="a positive integer"),
        max_seconds=lim.get("max_seconds", int, check=_positive, expected="a positive integer"),
        max_batch_size=lim.get(
            "max_batch_size", int, 512, check=_positive, expected="a positive integer"
        ),
        memory_gb=lim.get(
            "memory_gb",
            float,
            6.0,
            check=lambda v: v >= 3,
            expected="a number of GiB >= 3 (TensorFlow needs about 2.5)",
        ),
        startup_seconds=lim.get(
            "startup_seconds",
            int,
            90,
            check=lambda v: v >= 10,
            expected="an integer >= 10 (importing TensorFlow takes ~6 s)",
        ),
    )
    if defaults.epochs > limits.max_epochs:
        raise r.fail(
            "defaults.epochs", defaults.epochs, f"at most limits.max_epochs={limits.max_epochs}"
        )
    raw_checks = r.get("checks", list, [], expected="an array of tables [[tasks.<id>.checks]]")
    checks = tuple(
        _read_check(_Reader(r.path, c, f"{r.where}.checks[{i}]"), task_id, tasks)
        for i, c in enumerate(raw_checks)
    )
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
        checks=checks,
    )


def _read_base(r: _Reader, splits: dict[str, Split], directory: Path) -> BaseModel:
    r.reject_unknown(("file", "function", "split", "positive_class", "training"))
    file = r.get("file", str, "base_model.py")
    if not (directory / file).is_file():
        raise r.fail("file", file, f"a Python file inside {directory}")
    split = r.get("split", str, check=lambda v: v in splits, expected=f"one of {list(splits)}")
    positive = r.get(
        "positive_class",
        str,
        check=lambda v: v in splits[split].classes,
        expected=f"a class of split {split!r}: {list(splits[split].classes)}",
    )
    if len(splits[split].classes) != 2:
        raise r.fail("split", split, "a split with exactly two classes (the base is binary)")
    return BaseModel(
        file,
        r.get("function", str, "build_base_model"),
        split,
        positive,
        _read_training(r.sub("training")),
    )


def load_assignment(directory: Path | str) -> Assignment:
    """Read and validate `DIRECTORY/assignment.toml`.

    Raises:
        SpecError: the file is missing, is not TOML, or breaks a rule; the message names
            the file, the key, the value received and what is expected.
    """
    directory = Path(directory).resolve()
    path = directory / "assignment.toml"
    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise SpecError(
            f"{path}: no assignment spec here. Pass --assignment DIR, a folder "
            "holding assignment.toml."
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: not valid TOML: {exc}") from None
    r = _Reader(path, data)
    r.reject_unknown(
        ("id", "title", "language", "seed", "allow_custom_objects", "splits", "base_model", "tasks")
    )
    splits_table = r.sub("splits")
    splits = {n: _read_split(splits_table.sub(n), n) for n in splits_table.table}
    if not splits:
        raise r.fail("splits", {}, "at least one [splits.<name>] table")
    _check_capacity(r, splits)
    tasks_table = r.sub("tasks")
    tasks = {
        t: _read_task(tasks_table.sub(t), t, tasks_table.table, splits) for t in tasks_table.table
    }
    if not tasks:
        raise r.fail("tasks", {}, "at least one [tasks.<id>] table")
    base = _read_base(r.sub("base_model"), splits, directory) if "base_model" in data else None
    if base is None and any(t.uses_base for t in tasks.values()):
        raise r.fail("base_model", "<missing>", "a [base_model] table, since a task has uses_base")
    return Assignment(
        id=r.get(
            "id",
            str,
            directory.name,
            check=lambda v: v.replace("-", "").isalnum(),
            expected="letters, digits and dashes",
        ),
        title=r.get("title", str, directory.name),
        language=r.get(
            "language",
            str,
            "en",
            check=lambda v: v in LANGUAGES,
            expected=f"one of {list(LANGUAGES)}",
        ),
        seed=r.get(
            "seed", int, check=lambda v: 0 <= v < 2**32, expected="an integer in [0, 2**32)"
        ),
        directory=directory,
        splits=splits,
        tasks=tasks,
        base_model=base,
        allow_custom_objects=r.get("allow_custom_objects", bool, False),
        spec_hash=_spec_hash(raw, directory, base),
    )


def _check_capacity(r: _Reader, splits: dict[str, Split]) -> None:
    """Splits draw disjoint images, so together they must fit in CIFAR-10 (5,000 + 1,000/class)."""
    used = {c: [0, 0] for c in CIFAR10_CLASSES}
    for s in splits.values():
        for sources in s.sources:
            for i, cifar_class in enumerate(sources):
                used[cifar_class][0] += share_count(s.train_per_class, len(sources), i)
                used[cifar_class][0] += share_count(s.val_per_class, len(sources), i)
                used[cifar_class][1] += share_count(s.test_per_class, len(sources), i)
    for cifar_class, (train, test) in used.items():
        if train > 5000 or test > 1000:
            raise r.fail(
                "splits",
                f"{cifar_class}: {train} train+val, {test} test",
                "at most 5,000 train+val and 1,000 test images per CIFAR-10 class over all splits",
            )


def share_count(total: int, parts: int, index: int) -> int:
    """How many of `total` images source class `index` of `parts` contributes."""
    return total // parts + (1 if index < total % parts else 0)


def _spec_hash(raw: bytes, directory: Path, base: BaseModel | None) -> str:
    digest = hashlib.sha256(raw)
    if base is not None:  # the base model's code is part of the spec
        digest.update((directory / base.file).read_bytes())
    return digest.hexdigest()[:16]
