"""Child process of the self-check: every independent problem of one task, in one run.

Grading stops a task at its first problem; a self-check that did the same needed a round per
problem. Here each step runs whenever what it needs is there: TRAINING is checked even when
the function is missing, every invalid TRAINING entry is named (the defaults stand in for
it), a model with a wrong output or too many parameters is still checked for its input,
saving and loss, and a few steps are trained whatever its size. A step is skipped only when
it cannot run without an earlier one — no module, no model, a model that cannot take the
task's images or whose output or loss labels cannot be fed — and the report says which.
Findings are written as the check goes, so a child killed while training still tells the rest.
Run as: python -m grader.worker.check REQUEST.json
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from grader import codec
from grader.checkreport import BuiltModel, CheckReport, StepTimes
from grader.errors import Step, StudentError
from grader.protocol import ErrorReport, History, TrainRequest
from grader.worker import runtime
from grader.worker.budget import step_timer
from grader.worker.build import build, model_problems, usable_model
from grader.worker.inspect import (
    count_reused,
    custom_classes_in,
    output_activation,
    serialized_config,
)
from grader.worker.loading import import_submission, load_base
from grader.worker.train import Settings, compile_model, fit, setup, training_settings

REPORT = "check.json"
STEPS = tuple(step for step in Step if step is not Step.SCORES)  # the quick check's steps
BLOCKS_TRAINING = (Step.INPUT_SHAPE, Step.OUTPUT_SHAPE, Step.LOSS)  # images or labels unfit


def main(argv: list[str]) -> int:
    return runtime.run(argv, TrainRequest, check, _failed, REPORT)


def _failed(raw: dict[str, Any], error: ErrorReport) -> CheckReport:
    return CheckReport(problems=(error,))


@dataclass
class Findings:
    """What the check found so far; `save` writes it where the host reads it."""

    out: Path
    problems: list[StudentError] = field(default_factory=list)
    checked: list[Step] = field(default_factory=list)
    skipped: dict[Step, tuple[Step, ...]] = field(default_factory=dict)
    built: BuiltModel | None = None
    trained: History | None = None
    times: StepTimes | None = None

    def attempt(self, steps: Iterable[Step], work: Callable[..., Any], *args: Any) -> Any:
        """`work(*args)`, or None after recording its problem; `steps` count as checked (up to
        the one that failed)."""
        return self.run(steps, work, *args)[1]

    def passes(self, steps: Iterable[Step], work: Callable[..., Any], *args: Any) -> bool:
        """`attempt`, telling whether `work` raised no problem."""
        return self.run(steps, work, *args)[0]

    def run(self, steps: Iterable[Step], work: Callable[..., Any], *args: Any) -> tuple[bool, Any]:
        steps = tuple(steps)
        try:
            value = work(*args)
        except StudentError as exc:
            self.problems.append(exc)
            self.mark(s for s in steps if STEPS.index(s) <= STEPS.index(exc.kind.step))
            return False, None
        self.mark(steps)
        return True, value

    def mark(self, steps: Iterable[Step]) -> None:
        self.checked += [s for s in steps if s not in self.checked]

    def failed(self, steps: Iterable[Step]) -> tuple[Step, ...]:
        """The steps among `steps` with a problem."""
        found = {p.kind.step for p in self.problems}
        return tuple(s for s in steps if s in found)

    def skip_rest(self, needs: tuple[Step, ...]) -> CheckReport:
        """Every step neither checked nor failed yet waits on `needs`; the final report."""
        for step in STEPS:
            if step not in self.checked and step not in self.failed(STEPS):
                self.skipped[step] = needs
        return self.report()

    def report(self) -> CheckReport:
        return CheckReport(
            problems=tuple(runtime.error_report(p) for p in self.problems),
            checked=tuple(s.value for s in self.checked),
            skipped={s.value: tuple(n.value for n in needs) for s, needs in self.skipped.items()},
            built=self.built,
            trained=self.trained,
            times=self.times,
        )

    def save(self) -> None:
        """Write the findings so far (atomically: a killed child leaves a whole file)."""
        partial = self.out / f"{REPORT}.part"
        partial.write_text(json.dumps(codec.to_json(self.report()), allow_nan=False))
        os.replace(partial, self.out / REPORT)


def check(request: TrainRequest) -> CheckReport:
    """Import, check TRAINING, build, check the model, compile, train one short epoch."""
    found = Findings(Path(request.out))
    data = setup(request)
    found.save()  # an empty report: the host knows the child lived to import the submission
    module = found.attempt([], import_submission, Path(request.submission))
    if module is None:
        return found.skip_rest((Step.IMPORTS,))
    settings = lenient_settings(module, request, found)
    found.save()
    base = load_base(request.base_model) if request.call == "base" and request.base_model else None
    steps = (Step.IMPORTS, Step.RETURNS_MODEL)
    built, model = found.run(steps, build, module, request, base)
    if not built:
        return found.skip_rest(found.failed(steps))
    usable = (Step.RETURNS_MODEL, Step.INPUT_SHAPE)
    if not found.passes(usable, usable_model, model, request):
        return found.skip_rest(found.failed(usable))
    found.problems += model_problems(model, request)
    found.mark([Step.INPUT_SHAPE, Step.OUTPUT_SHAPE, Step.PARAMS])
    return _inspect_and_train(found, model, base, data, request, settings)


def _inspect_and_train(
    found: Findings, model: Any, base: Any, data: dict, request: TrainRequest, settings: Settings
) -> CheckReport:
    config = found.attempt([Step.SAVES], serialized_config, model)
    compiled = found.attempt([Step.LOSS], compile_model, model, request.defaults)
    found.built = BuiltModel(
        params=int(model.count_params()),
        activation=output_activation(model),
        loss=compiled[0] if compiled else "",
        custom_layers=tuple(sorted(custom_classes_in(config))) if config is not None else (),
        base_reuse=count_reused(base, model) if base is not None else None,
    )
    blocking = found.failed(BLOCKS_TRAINING + (Step.TRAINS,))
    if compiled is None or blocking:
        return found.skip_rest(blocking)
    found.save()
    one_epoch, timer = replace(settings, epochs=1), step_timer()  # timed: the estimate's steps
    found.trained = found.attempt(
        [Step.TRAINS], fit, model, data, compiled[1], request, one_epoch, [timer]
    )
    found.times = timer.times(settings.epochs, settings.batch_size)
    return found.report()


def lenient_settings(module: Any, request: TrainRequest, found: Findings) -> Settings:
    """TRAINING's valid entries over the defaults; each invalid entry is a problem of its own
    (grading stops at the first), and its default stands in so the rest can be checked."""
    found.mark([Step.TRAINING_CONFIG])
    defaults = training_settings(SimpleNamespace(), request)
    try:
        return training_settings(module, request)
    except StudentError as exc:
        if exc.message_id == "training_config.not_dicts":
            found.problems.append(exc)
            return defaults
    settings = defaults
    for key, value in getattr(module, "TRAINING", {}).get(request.task, {}).items():
        entry = SimpleNamespace(TRAINING={request.task: {key: value}})
        one = found.attempt([], training_settings, entry, request)
        if one is not None:
            settings = replace(settings, **{key: getattr(one, key)})
    return settings


if __name__ == "__main__":
    os.umask(0o077)  # whatever the child writes is its own
    runtime.leave(main(sys.argv[1:]))
