"""What an assignment is: the frozen dataclasses `assignment.toml` is read into."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.floor import DEFAULT_SHARE
from grader.records import ReferenceThreshold
from grader.spec_policy import Gradescope, LatePolicy

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
SOURCES = ("cifar10", "folder")  # dataset kinds: CIFAR-10, or a folder of photos by class
PIXEL_RANGES = ((0, 1), (0, 255))  # the pixel values models are handed
RESIZE_METHODS = ("stretch", "crop")  # how an image of another size is fitted (`grader.images`)
# The sandbox's isolation levels, strongest first (`grader.sandbox.LEVELS`), and the weakest
# one grading may use unless the instructor allows a weaker one (`grader.sandbox.causes`).
ISOLATION_LEVELS = ("bubblewrap", "landlock", "rlimits")
DEFAULT_MIN_ISOLATION = "landlock"
# Images per class each CIFAR-10 part holds: (train, test).
CIFAR10_COUNTS = (5000, 1000)


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
class Data:
    """Where the images come from and what the models are handed."""

    source: str = "cifar10"  # one of SOURCES
    path: str | None = None  # a folder source: a folder or .zip, relative to the assignment
    image_size: tuple[int, int] = (32, 32)  # (height, width) of every image models take
    resize: str = "stretch"  # one of RESIZE_METHODS: how other sizes are fitted
    pixel_range: tuple[int, int] = (0, 1)  # one of PIXEL_RANGES

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (*self.image_size, 3)

    @property
    def pixel_divisor(self) -> float:
        """What uint8 pixels are divided by on their way to a model (255: [0, 1])."""
        return 255.0 / self.pixel_range[1]


@dataclass(frozen=True)
class Split:
    """Which source images form one split, and how classes are relabelled.

    A per-class amount is a count of images, or (a float in (0, 1]) a share of each source
    class's images in the part it is drawn from.
    """

    name: str
    classes: tuple[str, ...]
    sources: tuple[tuple[str, ...], ...]  # per class, the source classes it is drawn from
    train_per_class: int | float
    val_per_class: int | float
    test_per_class: int | float


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
    """The instructor's pre-trained model, handed to every student: trained once by the
    grader from a builder (`file` a .py: `function`, `split`, `training`), or a `.keras`
    file saved with its weights (`input_shape`, `pixel_range` declared, checked against it).
    """

    file: str
    function: str | None
    split: str | None
    training: Training | None
    input_shape: tuple[int, ...] | None = None
    pixel_range: tuple[int, int] | None = None

    @property
    def from_file(self) -> bool:
        return self.file.endswith(".keras")


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
    data: Data = Data()  # the images: CIFAR-10 at 32x32 in [0, 1] unless the spec says
    min_isolation: str = DEFAULT_MIN_ISOLATION  # grading never runs at a weaker level
    # What trained models depend on (spec minus checks, titles and policies; base code): a
    # change elsewhere re-scores stored results without retraining.
    training_hash: str = ""
    base_hash: str = ""  # what the base model depends on: its table, code and the seed
    late: LatePolicy | None = None  # due date and late penalty (None: none)
    gradescope: Gradescope = Gradescope()  # what Gradescope shows students

    @property
    def max_score(self) -> float:
        return sum(c.points for t in self.tasks.values() for c in t.checks)


SUBSETS = ("train", "val", "test")


def drawn(split: Split, subset: str, source_class: str, available: int) -> int:
    """How many images `source_class` gives `subset` of `split`, when its part holds
    `available`: a count is shared among the class's sources, a share taken of each."""
    amount = getattr(split, f"{subset}_per_class")
    if isinstance(amount, float):
        return int(amount * available)
    for sources in split.sources:
        if source_class in sources:
            return share_count(amount, len(sources), sources.index(source_class))
    raise ValueError(f"{source_class} is not a source of split {split.name}")


def part_of(subset: str, has_test: bool) -> str:
    """The source part a subset draws from: hidden test from `test` when the source has it."""
    return "test" if subset == "test" and has_test else "train"


def overdrawn(
    splits: dict[str, Split], available: dict[tuple[str, str], int], has_test: bool = True
) -> str | None:
    """The first source class the splits draw too many images of, with the counts.

    Splits draw disjoint images, so together they must fit in what each (part, class) of
    the source holds (`available`).
    """
    used: dict[tuple[str, str], list[str]] = {}
    for s in splits.values():
        for sources in s.sources:
            for cls in sources:
                for subset in SUBSETS:
                    key = (part_of(subset, has_test), cls)
                    n = drawn(s, subset, cls, available.get(key, 0))
                    if n:
                        used.setdefault(key, []).append(f"{s.name}.{subset} {n}")
    for (part, cls), uses in used.items():
        total = sum(int(u.rsplit(" ", 1)[1]) for u in uses)
        if total > available.get((part, cls), 0):
            return (
                f"class {cls!r} has {available.get((part, cls), 0)} images in {part}/ and the "
                f"splits draw {total} ({', '.join(uses)})"
            )
    return None


def cifar10_available() -> dict[tuple[str, str], int]:
    """What CIFAR-10 holds per (part, class)."""
    train, test = CIFAR10_COUNTS
    return {(p, c): n for c in CIFAR10_CLASSES for p, n in (("train", train), ("test", test))}


def share_count(total: int, parts: int, index: int) -> int:
    """How many of `total` images source class `index` of `parts` contributes."""
    return total // parts + (1 if index < total % parts else 0)
