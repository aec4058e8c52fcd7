"""What an assignment is: the frozen dataclasses `assignment.toml` is read into."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.floor import DEFAULT_SHARE
from grader.records import ReferenceThreshold

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
ON_TIMEOUT = ("score", "zero")  # what a model stopped at its time limit earns
LANGUAGES = ("en", "es")


@dataclass(frozen=True)
class Relative:
    """A threshold relative to the reference solution: its observed value plus `offset`."""

    offset: float


@dataclass(frozen=True)
class Check:
    """One graded requirement of a task, as the spec states it; `kind` names a `KINDS` class.

    A `Relative` threshold or ramp start is made a number by `grader.thresholds.resolve`
    from the reference solution's measurements; `reference` then says where it came from.
    """

    kind: str
    threshold: float | Relative
    points: float
    compare_to: str | None = None  # for kinds that compare two tasks: the other task
    partial_from: float | Relative | None = None  # points grow linearly from here to threshold
    reference: ReferenceThreshold | None = None  # set when resolved from the reference solution

    @property
    def relative(self) -> bool:
        """Whether the threshold or the ramp start still waits for the reference's value."""
        return isinstance(self.threshold, Relative) or isinstance(self.partial_from, Relative)

    def number(self, value: float | Relative) -> float:
        """Its threshold or ramp start as a number (a relative one only once resolved)."""
        if isinstance(value, Relative):
            raise ValueError(f"{self.kind}: relative to the reference solution, not resolved yet")
        return value


@dataclass(frozen=True)
class Reference:
    """The instructor's own solution: graded once like a submission, never shown to students."""

    path: str  # inside the assignment folder: a .py, a .ipynb or a submission folder
    content_hash: str | None  # None: not in this copy of the assignment (a student's self-check)


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
    """Hard limits: a submission over one of them gets an error, not points; except time,
    where `on_timeout` says what a model stopped at its CPU budget earns."""

    max_epochs: int
    max_params: int
    max_seconds: int  # the CPU budget: max_seconds x the training threads, in CPU-seconds
    max_batch_size: int
    memory_gb: float
    startup_seconds: int  # allowance for importing TensorFlow and building, on top of max_seconds
    on_timeout: str = "score"  # ON_TIMEOUT: score the last completed epoch, or zero


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
    spec_hash: str  # everything in the spec: thresholds, points and titles included
    borderline: str = "flag"  # what a borderline check earns: checks.BORDERLINE_POLICIES
    # share of the way from chance to a perfect score below which a task's checks that do
    # not measure learning earn nothing (`grader.floor`; 0: off)
    learning_floor: float = DEFAULT_SHARE
    reference: Reference | None = None  # thresholds may be relative to it
    # What trained models depend on (spec minus checks, titles and policies; base code): a
    # change elsewhere re-scores stored results without retraining.
    training_hash: str = ""
    base_hash: str = ""  # what the base model depends on: its table, code and the seed

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
