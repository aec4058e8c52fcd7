"""What an assignment is: the frozen dataclasses `assignment.toml` is read into."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.checks import Check

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
OPTIMIZERS = ("adam", "sgd", "rmsprop", "adamw", "nadam")
LANGUAGES = ("en", "es")


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
    borderline: str = "flag"  # what a borderline check earns: checks.BORDERLINE_POLICIES

    @property
    def max_score(self) -> float:
        return sum(c.points for t in self.tasks.values() for c in t.checks)


def overdrawn(splits: dict[str, Split]) -> str | None:
    """The first CIFAR-10 class the splits draw too many images of, with the counts.

    Splits draw disjoint images, so together they must fit in CIFAR-10 (5,000 training and
    1,000 test images per class).
    """
    used = {c: [0, 0] for c in CIFAR10_CLASSES}
    for s in splits.values():
        for sources in s.sources:
            for i, cifar_class in enumerate(sources):
                used[cifar_class][0] += share_count(s.train_per_class, len(sources), i)
                used[cifar_class][0] += share_count(s.val_per_class, len(sources), i)
                used[cifar_class][1] += share_count(s.test_per_class, len(sources), i)
    for cifar_class, (train, test) in used.items():
        if train > 5000 or test > 1000:
            return f"{cifar_class}: {train} train+val, {test} test"
    return None


def share_count(total: int, parts: int, index: int) -> int:
    """How many of `total` images source class `index` of `parts` contributes."""
    return total // parts + (1 if index < total % parts else 0)
