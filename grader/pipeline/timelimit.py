"""How long a task may train: its CPU-time budget and wall-clock backstop, and a training
stopped at one (the model of its last completed epoch scored, or zero, as the spec says).

`max_seconds` is read as seconds of a training that keeps its `THREADS` compute threads busy
(TensorFlow's intra-op pool, pinned in `sandbox.levels.NUMERICS`): the budget is
`max_seconds x THREADS` CPU-seconds, counted on the child's process (all threads, user +
system) by the kernel. The same model gets the same budget on an idle machine and on a
loaded one; only the wall-clock backstop, `WALL_FACTOR` times longer, depends on the load,
and it is there for code that waits instead of computing.
"""

from __future__ import annotations

import math
import signal
from dataclasses import replace
from pathlib import Path
from typing import Literal

from grader import checkreport, codec, protocol
from grader.errors import ChildOutputError, ErrorKind
from grader.messages import Message, render
from grader.records import SplitCounts, TaskRecord
from grader.sandbox import Outcome, jobs
from grader.sandbox.childio import read_child_json
from grader.sandbox.levels import NUMERICS
from grader.spec import Limits
from grader.worker.budget import PROGRESS, SAVE_ALLOWANCE, checkpoint_name

THREADS = int(NUMERICS["TF_NUM_INTRAOP_THREADS"])
# The backstop, in multiples of max_seconds (plus startup_seconds). A model that keeps only
# one of its two threads busy needs 2 x max_seconds to use its budget on an idle machine, and
# three times that where other work takes two thirds of the cores: 6 x. Only code that waits
# (a sleep, a hang) or a machine loaded beyond that meets the backstop.
WALL_FACTOR = 6
PROGRESS_MAX_BYTES = 2**20
CLOSE = 0.8  # a self-check estimate above this share of the budget is a warning: it is rough
Stop = Literal["cpu", "wall"]
Failure = tuple[ErrorKind, Message]


def cpu_budget(limits: Limits) -> float:
    """The CPU-seconds a task's training may use, from the student's import on."""
    return float(limits.max_seconds * THREADS)


def wall_backstop(limits: Limits) -> float:
    """The wall-clock seconds after which a training child is stopped whatever its CPU use."""
    return float(limits.startup_seconds + WALL_FACTOR * limits.max_seconds)


def process_cpu(limits: Limits) -> float:
    """RLIMIT_CPU of the whole child: the budget, start-up (TensorFlow's import, before the
    budget starts) at `THREADS` threads, and the grader's own saves."""
    return cpu_budget(limits) + THREADS * limits.startup_seconds + SAVE_ALLOWANCE


def stopped_by(outcome: Outcome) -> Stop | None:
    """Which time limit ended the child, if one did: the CPU budget (SIGXCPU), the backstop."""
    if outcome.timed_out:
        return "wall"
    if outcome.returncode == -signal.SIGXCPU:
        return "cpu"
    return None


def read_progress(job: jobs.Job, max_epochs: int) -> protocol.TrainFacts | None:
    """The facts of the last completed epoch a stopped child saved, or None (no epoch)."""
    try:
        raw = read_child_json(job.outputs / PROGRESS, max_bytes=PROGRESS_MAX_BYTES)
        facts = codec.from_json(protocol.TrainReport, raw).trained
    except (ChildOutputError, codec.DecodeError):
        return None
    if facts is None or facts.history.epochs > max_epochs:
        return None
    return facts


def take_checkpoint(job: jobs.Job, epochs: int, destination: Path) -> bool:
    """Copy the model saved after `epochs` epochs out of the child's folder (False: unusable)."""
    try:
        jobs.take_output(job, checkpoint_name(epochs), destination)
    except ChildOutputError:
        return False
    return True


def no_epoch(stop: Stop, limits: Limits) -> Failure:
    """Stopped before one epoch was complete: nothing to score."""
    if stop == "cpu":
        return ErrorKind.TIMEOUT, Message("limits.cpu_no_epoch", _budget_params(limits))
    return ErrorKind.TIMEOUT, Message("limits.wall_no_epoch", {"seconds": wall_backstop(limits)})


def stopped(record: TaskRecord, stop: Stop, limits: Limits) -> TaskRecord:
    """A trained record (of its last completed epoch) as stopped at `stop`: flagged and
    scored, or failed with no points (`on_timeout = "zero"`)."""
    params: dict[str, float | int] = {"epochs": record.epochs}
    params["planned"] = record.planned_epochs or record.epochs
    params |= _budget_params(limits) if stop == "cpu" else {"seconds": wall_backstop(limits)}
    suffix = "" if stop == "cpu" else "_wall"
    if limits.on_timeout == "zero":
        failed = record.failed(ErrorKind.TIMEOUT, Message(f"limits.zero{suffix}", params))
        return replace(failed, stopped_by=stop)
    message = Message(f"limits.stopped{suffix}", params)
    return replace(record, stopped_by=stop, limit_message=message, limit_note=render(message, "en"))


def _budget_params(limits: Limits) -> dict[str, float | int]:
    return {"budget": cpu_budget(limits), "limit": limits.max_seconds, "threads": THREADS}


def split_images(counts: SplitCounts) -> tuple[int, int]:
    """The training and validation images of a split (what one epoch goes through)."""
    return sum(counts.train), sum(counts.val)


def estimate(
    times: checkreport.StepTimes, train_images: int, val_images: int
) -> tuple[float, float]:
    """(CPU-seconds of one epoch, of the whole training) estimated from the self-check's steps:
    every epoch's steps and its own overhead at the measured cost, plus the first steps'
    tracing once."""
    steps = math.ceil(train_images / times.batch_size), math.ceil(val_images / times.batch_size)
    epoch = steps[0] * times.train_step + steps[1] * times.val_step + times.epoch_overhead
    tracing = max(0.0, times.first_train - times.train_step)
    tracing += max(0.0, times.first_val - times.val_step) if val_images else 0.0
    return epoch, times.epochs * epoch + tracing


def estimate_verdict(
    times: checkreport.StepTimes, limits: Limits, train_images: int, val_images: int
) -> tuple[str, Message]:
    """The self-check's row about time: "ok", "warning" (close to the budget, or over it when
    the last epoch is scored), "problem" (over it when such a model earns zero)."""
    epoch, total = estimate(times, train_images, val_images)
    budget = cpu_budget(limits)
    params: dict[str, float | int] = {"estimate": total, "budget": budget, "epoch": epoch}
    params["planned"] = times.epochs
    if total <= CLOSE * budget:
        return "ok", Message("limits.selfcheck_ok", params)
    if total <= budget:
        return "warning", Message("limits.selfcheck_close", params)
    params |= _budget_params(limits)
    tracing = total - times.epochs * epoch
    fits = math.floor((budget - tracing) / epoch) if epoch > 0 else 0
    params["epochs"] = max(0, min(times.epochs - 1, fits))  # completed before the stop
    if limits.on_timeout == "zero":
        return "problem", Message("limits.selfcheck_over_zero", params)
    return "warning", Message("limits.selfcheck_over", params)
