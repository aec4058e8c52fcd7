"""The self-check's child for one task: run it in the grading sandbox, read every problem found.

The child (`grader.worker.check`) reports each problem with the step it belongs to, the
steps it checked and those it skipped with what they wait on. A child killed part-way
(time, memory, disk) leaves what it had found; its death is a problem of the step it was on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from grader import checkreport, codec
from grader.errors import ChildOutputError, ErrorKind, Step
from grader.messages import Message
from grader.pipeline import timelimit
from grader.pipeline.submissions import Staged
from grader.pipeline.training import (
    Failure,
    child_failure,
    crash_message,
    ended_early,
    staged_job,
    task_request,
    unusable,
)
from grader.records import BaseReuse
from grader.sandbox import Outcome, jobs
from grader.sandbox.childio import read_child_json
from grader.spec import Task

if TYPE_CHECKING:  # the run imports the training module: a real import would be a cycle
    from grader.pipeline.run import Run

QUICK_SECONDS = 60  # a self-check trains a few steps only
REPORT_MAX_BYTES = 2**20
STEPS = tuple(Step)


@dataclass(frozen=True)
class QuickFacts:
    """What the self-check learned of the model built (the check kinds' hints read it)."""

    params: int
    custom_layers: tuple[str, ...]
    activation: str
    base_reuse: BaseReuse | None
    loss: str  # "": not compiled (a loss the grader cannot feed labels to)


@dataclass(frozen=True)
class Problem:
    """One problem, under the step it is shown at."""

    step: Step
    kind: ErrorKind
    message: Message


@dataclass(frozen=True)
class TaskCheck:
    """One task's quick check: every problem found, the steps checked, those skipped."""

    problems: tuple[Problem, ...] = ()
    checked: frozenset[Step] = frozenset()
    skipped: Mapping[Step, tuple[Step, ...]] = field(default_factory=dict)
    facts: QuickFacts | None = None
    log_tail: str = ""
    times: checkreport.StepTimes | None = None  # CPU time per step of the short epoch
    images: tuple[int, int] = (0, 0)  # training and validation images of the whole split

    def at(self, step: Step) -> list[Problem]:
        """The problems shown at `step`."""
        return [p for p in self.problems if p.step is step]


def check_task(run: Run, staged: Staged, task: Task, work: Path, slot: int) -> TaskCheck:
    """Build the task's model and train a few steps in the sandbox grading uses; never raises."""
    if staged.failure is not None:
        return _failed(staged.failure)
    job = staged_job(run, staged, task, work, slot)
    outcome = jobs.run_job(
        job,
        "grader.worker.check",
        codec.to_json(task_request(run, job, task, quick=True)),
        wall_seconds=QUICK_SECONDS + task.limits.startup_seconds,
        memory_gb=task.limits.memory_gb,
    )
    counts = run.counts[task.split]
    return replace(read_check(job, outcome), images=timelimit.split_images(counts))


def read_check(job: jobs.Job, outcome: Outcome) -> TaskCheck:
    """What the child found; the way it ended is a problem if it did not end by itself."""
    tail = jobs.log_tail(outcome)
    died = ended_early(outcome, QUICK_SECONDS)
    try:
        raw = read_child_json(job.outputs / "check.json", max_bytes=REPORT_MAX_BYTES)
        check = from_report(codec.from_json(checkreport.CheckReport, raw), tail)
    except ChildOutputError as exc:  # no report: the child died before its first step ended
        return _failed(died or (ErrorKind.CRASH, crash_message(outcome, str(exc))), tail)
    except (codec.DecodeError, ValueError) as exc:
        return _failed(unusable(str(exc)), tail)
    if died is None and outcome.returncode != 0:
        died = ErrorKind.CRASH, crash_message(outcome, f"exit code {outcome.returncode}")
    return check if died is None else _stopped(check, died)


def from_report(report: checkreport.CheckReport, log_tail: str = "") -> TaskCheck:
    """The report's problems (ids and kinds a child may report only), steps and facts.

    Raises:
        ValueError: a step name that is not one of the grader's.
    """
    problems = []
    for error in report.problems:
        kind, message = child_failure(error)
        problems.append(Problem(kind.step, kind, message))
    if report.trained is not None and report.trained.epochs > 1:
        kind, message = unusable(f"history has {report.trained.epochs} epochs")
        problems.append(Problem(Step.TRAINS, kind, message))
    skipped = {Step(s): tuple(Step(n) for n in needs) for s, needs in report.skipped.items()}
    return TaskCheck(
        problems=tuple(problems),
        checked=frozenset(Step(s) for s in report.checked),
        skipped=skipped,
        facts=_facts(report.built),
        times=report.times,
        log_tail=log_tail,
    )


def _facts(built: checkreport.BuiltModel | None) -> QuickFacts | None:
    if built is None:
        return None
    return QuickFacts(
        built.params, built.custom_layers, built.activation, built.base_reuse, built.loss
    )


def _stopped(check: TaskCheck, failure: Failure) -> TaskCheck:
    """A child killed part-way: its death is a problem of the step after the last it ended."""
    done = check.checked | check.skipped.keys() | {p.step for p in check.problems}
    last = max((STEPS.index(s) for s in done), default=-1)
    step = STEPS[min(last + 1, STEPS.index(Step.TRAINS))]
    return replace(check, problems=(*check.problems, Problem(step, *failure)))


def _failed(failure: Failure, log_tail: str = "") -> TaskCheck:
    kind, message = failure
    return TaskCheck(problems=(Problem(kind.step, kind, message),), log_tail=log_tail)
