"""What a self-check child tells the host: every problem of one task, the steps it checked
and skipped, the model it built, and the CPU time of its short epoch.

Pure, like `protocol` (whose report conventions it follows): a child that ran student code
wrote it, so every class checks its own bounds when it is decoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grader.codec import DecodeError
from grader.protocol import MAX_COUNT, ErrorReport, History, Reuse, check_counts, clip_text


@dataclass(frozen=True)
class BuiltModel:
    """What the self-check learns of a built model before training it."""

    params: int
    activation: str  # the last layer's (compared with the loss)
    loss: str = ""  # as compiled ("": a loss the grader cannot feed labels to)
    custom_layers: tuple[str, ...] = ()  # classes grading would refuse
    base_reuse: Reuse | None = None  # transfer tasks: reuse of the base, as built

    def __post_init__(self) -> None:
        check_counts(self, "params")
        clip_text(self, activation=40, loss=80)
        object.__setattr__(self, "custom_layers", tuple(c[:80] for c in self.custom_layers[:20]))


@dataclass(frozen=True)
class StepTimes:
    """CPU-seconds the self-check measured on its short epoch, to estimate a whole training:
    the first training and validation steps (Keras traces its functions there), each step
    after them, and an epoch's own cost around its steps (data iterators, callbacks), with the
    epochs and batch size the submission asks for."""

    first_train: float
    train_step: float
    first_val: float
    val_step: float
    epochs: int
    batch_size: int
    epoch_overhead: float = 0.0

    def __post_init__(self) -> None:
        check_counts(self, "epochs", "batch_size")
        for name in ("first_train", "train_step", "first_val", "val_step", "epoch_overhead"):
            if not 0 <= getattr(self, name) < MAX_COUNT:  # also refuses NaN
                raise DecodeError(f"{name}: {getattr(self, name)!r:.40} is not a duration")


@dataclass(frozen=True)
class CheckReport:
    """A self-check child's answer: every problem it found, not only the first.

    `checked` names the steps (`errors.Step` values) it ran to the end, passed unless a
    problem's kind names the step; `skipped` maps each step it could not run to the steps
    whose problems it waits on. A step in neither was not reached (the child stopped).
    """

    problems: tuple[ErrorReport, ...] = ()
    checked: tuple[str, ...] = ()
    skipped: dict[str, tuple[str, ...]] = field(default_factory=dict)
    built: BuiltModel | None = None
    trained: History | None = None
    times: StepTimes | None = None  # the short epoch's CPU time per step (time estimate)
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if len(self.problems) > 40 or len(self.checked) > 20 or len(self.skipped) > 20:
            raise DecodeError("check report: more problems or steps than a task has")
        skipped = {k[:40]: tuple(v[:40] for v in needs[:20]) for k, needs in self.skipped.items()}
        object.__setattr__(self, "checked", tuple(c[:40] for c in self.checked))
        object.__setattr__(self, "skipped", skipped)
