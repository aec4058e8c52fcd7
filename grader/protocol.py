"""What the host and its children say to each other: requests and reports, typed and bounded.

Pure (stdlib, `codec`, `errors`): the host writes a request with `codec.to_json`, a worker
reads it with `codec.from_json`, and back again for the report. A report comes from a child
that may have run student code, so every class checks its own bounds when it is built
(counts, lengths, finite numbers, strings clipped): decoding a report *is* its validation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from grader.codec import DecodeError

MAX_COUNT = 10**12  # parameter and layer counts a child may report
MAX_LAYERS = 2000
MAX_TEXT = 2000  # an error parameter's length
Call = Literal["shape", "base", "base_model"]  # how the student's function is called


def check_counts(obj: Any, *names: str) -> None:
    """Refuse counts a child cannot mean (negative, or absurdly large)."""
    for name in names:
        if not 0 <= getattr(obj, name) < MAX_COUNT:
            raise DecodeError(f"{name}: {getattr(obj, name)!r:.40} is not a count")


def clip_text(obj: Any, **limits: int) -> None:
    """Shorten string fields of a frozen dataclass in place (a child's text is untrusted)."""
    for name, limit in limits.items():
        object.__setattr__(obj, name, getattr(obj, name)[:limit])


@dataclass(frozen=True)
class Confinement:
    """Landlock rules a worker applies to itself before it imports student code."""

    read: tuple[str, ...]
    write: tuple[str, ...]


@dataclass(frozen=True)
class Defaults:
    """How a model is trained when the submission says nothing else."""

    epochs: int
    batch_size: int
    optimizer: str
    learning_rate: float
    early_stopping_patience: int


@dataclass(frozen=True)
class TrainLimits:
    """The hard limits the training worker enforces itself."""

    max_epochs: int
    max_params: int
    max_batch_size: int
    cpu_seconds: float = 0.0  # CPU-time budget from the student's import on (0: none)


@dataclass(frozen=True)
class TrainRequest:
    """One training child's job; `data` holds train and validation arrays, never the test."""

    task: str
    call: Call
    function: str
    classes: tuple[str, ...]
    input_shape: tuple[int, ...]
    seed: int
    defaults: Defaults
    limits: TrainLimits
    submission: str
    data: str
    out: str
    base_model: str | None = None
    quick: bool = False  # self-check: build, then one short epoch on a small sample
    allow_custom_objects: bool = False  # the assignment's rule, named when a model breaks it
    landlock: Confinement | None = None  # added by the sandbox at the Landlock level
    gpu_memory_mb: int | None = None  # added on a GPU machine: each child's GPU memory cap
    gpu_slot: int | None = None  # added on a GPU machine: the child's parallel slot (its GPU)
    pixel_divisor: float = 255.0  # uint8 pixels / this = what models are handed ([0, 1])

    @property
    def num_classes(self) -> int:
        return len(self.classes)


@dataclass(frozen=True)
class EvalTask:
    """One trained model to score, with its images (and labels, in safe mode only)."""

    function: str
    num_classes: int
    data: str
    model: str
    built_model: str | None = None  # transfer tasks: the model as built, before training
    base_model: str | None = None
    pixel_divisor: float = 255.0  # as in `TrainRequest`


@dataclass(frozen=True)
class EvalRequest:
    """One scoring child's job; with `submission`, in the student's sandbox and label-free."""

    seed: int
    out: str
    tasks: dict[str, EvalTask]
    submission: str | None = None
    landlock: Confinement | None = None
    gpu_memory_mb: int | None = None
    gpu_slot: int | None = None


@dataclass(frozen=True)
class ErrorReport:
    """A problem found in a child: an error kind's code, a message id and its parameters.

    The host parses `kind` with `ErrorKind.parse`: a student can replace a worker's classes.
    """

    kind: str
    message_id: str
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        clip_text(self, kind=40, message_id=80)
        if len(self.params) > 20:
            raise DecodeError("error params: more than 20")
        scalar = (bool, int, float, type(None))  # anything else is shown as (clipped) text
        params = {
            k[:40]: v if isinstance(v, scalar) else str(v)[:MAX_TEXT]
            for k, v in self.params.items()
        }
        object.__setattr__(self, "params", params)


@dataclass(frozen=True)
class Reuse:
    """Weighted base layers, those the built model holds unchanged, and its frozen layers."""

    base_layers: int
    reused_layers: int
    frozen_layers: int

    def __post_init__(self) -> None:
        check_counts(self, "base_layers", "reused_layers", "frozen_layers")


@dataclass(frozen=True)
class History:
    """Per-epoch curves from Keras' History: the same number (>= 1) of finite values each."""

    loss: tuple[float, ...]
    accuracy: tuple[float, ...]
    val_loss: tuple[float, ...]
    val_accuracy: tuple[float, ...]

    def __post_init__(self) -> None:
        epochs = len(self.loss)
        for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
            values = getattr(self, name)
            if epochs < 1 or len(values) != epochs or not all(map(math.isfinite, values)):
                raise DecodeError(f"history[{name!r}] is not {max(epochs, 1)} finite numbers")

    @property
    def epochs(self) -> int:
        return len(self.loss)


@dataclass(frozen=True)
class TrainFacts:
    """What a successful training child reports about the model it trained."""

    history: History
    batch_size: int
    optimizer: str
    loss: str
    label_format: str
    params: int
    activation: str = "linear"  # the last layer's
    planned_epochs: int = 0  # what training was set to run (`history` may hold fewer)
    cpu_seconds: float = 0.0  # CPU time charged to the budget when `history` ended
    base_features: bool = False  # the head trained on the frozen trunk's features, computed once

    def __post_init__(self) -> None:
        check_counts(self, "batch_size", "params", "planned_epochs")
        clip_text(self, optimizer=40, loss=80, label_format=10, activation=40)
        if not 0 <= self.cpu_seconds < MAX_COUNT:  # also refuses NaN
            raise DecodeError(f"cpu_seconds: {self.cpu_seconds!r:.40} is not a duration")


@dataclass(frozen=True)
class TrainReport:
    """A training child's answer: the facts of a trained model, or what went wrong."""

    trained: TrainFacts | None = None
    error: ErrorReport | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class Layer:
    """One row of a model's layer table."""

    name: str
    type: str
    output_shape: str
    params: int
    trainable: bool

    def __post_init__(self) -> None:
        check_counts(self, "params")
        clip_text(self, name=120, type=80, output_shape=80)


@dataclass(frozen=True)
class ModelFacts:
    """A trained model's parameter counts, layer table and, for transfer, base reuse."""

    params: int
    trainable_params: int
    non_trainable_params: int
    layers: tuple[Layer, ...]
    base_reuse: Reuse | None = None

    def __post_init__(self) -> None:
        check_counts(self, "params", "trainable_params", "non_trainable_params")
        if len(self.layers) > MAX_LAYERS:
            raise DecodeError(f"the layer table has more than {MAX_LAYERS:,} layers")


@dataclass(frozen=True)
class Metrics:
    """Accuracy, loss, 95 % interval, images per split (NaN: empty) and the gap (train - val)."""

    train_accuracy: float
    train_loss: float
    val_accuracy: float
    val_loss: float
    test_accuracy: float
    test_loss: float
    gap: float
    train_accuracy_interval: tuple[float, float] | None = None
    val_accuracy_interval: tuple[float, float] | None = None
    test_accuracy_interval: tuple[float, float] | None = None
    gap_interval: tuple[float, float] | None = None  # Newcombe, train and val independent
    train_n: int | None = None
    val_n: int | None = None
    test_n: int | None = None


@dataclass(frozen=True)
class Sample:
    """One test image (a small PNG, base64) with its true and predicted class."""

    true: int
    pred: int
    confidence: float
    image_png: str


@dataclass(frozen=True)
class Scores:
    """Figures computed from predictions and labels (by the safe-mode child or the host)."""

    metrics: Metrics
    confusion_matrix: tuple[tuple[int, ...], ...]
    samples: tuple[Sample, ...]
    test_correct: str = ""  # per test image, in order: '1' right, '0' wrong


@dataclass(frozen=True)
class EvalResult:
    """One task's scoring: facts and scores, or what failed (sandboxed: facts, `.npy` only)."""

    facts: ModelFacts | None = None
    scores: Scores | None = None
    error: ErrorReport | None = None


@dataclass(frozen=True)
class EvalReport:
    """A scoring child's answer, per task id of its request."""

    tasks: dict[str, EvalResult]
