"""A training child's CPU-time budget, and the checkpoint it leaves after every epoch.

The budget counts the process's CPU time (user + system, all its threads: the scheduler's
exact count, `time.process_time`) from the moment the student's module is imported, never
the wall clock: a loaded machine makes training slower, not more expensive. A watchdog
thread started before any student code ends the process with SIGXCPU once the budget is
spent; the grader's own saves are not charged (`Budget.paused`). Behind it, RLIMIT_CPU is
lowered here to the budget plus `SAVE_ALLOWANCE` (the kernel's own, tick-sampled count):
code that silences the watchdog buys no more than that, and an unprivileged process cannot
raise the limit again.

After each completed epoch the model is saved to `epoch-<n>.keras` (Keras' zip format: a
JSON config and HDF5 weights, loaded in safe mode, never unpickled) and `progress.json`, a
`TrainReport` of the epochs so far, names it: a child stopped at its budget or at the
wall-clock backstop is scored from there by the host. The file is written from an exact
copy of the model in a thread of its own (`CheckpointWriter`), while the next epoch trains.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from grader import codec
from grader.checkreport import StepTimes
from grader.protocol import History, TrainFacts, TrainReport

SAVE_ALLOWANCE = 120  # CPU-seconds of the grader's saves a training may need (not charged)
WATCH_SECONDS = 0.05  # how often the watchdog looks: a stop lands within ~0.1 CPU-second
PROGRESS = "progress.json"
CURVES = ("loss", "accuracy", "val_loss", "val_accuracy")
# bound before student code runs (it could patch the modules); the watchdog uses only these
_cpu, _thread_cpu = time.process_time, time.thread_time
_sleep, _kill, _pid = time.sleep, os.kill, os.getpid()


def checkpoint_name(epochs: int) -> str:
    """The file holding the model after `epochs` completed epochs."""
    return f"epoch-{epochs}.keras"


class Budget:
    """The CPU time a training may use from now on; SIGXCPU ends the process there."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = _cpu()
        self.uncharged = 0.0  # the pausing threads' own CPU time in `paused` blocks
        self._pausing = 0  # `paused` blocks running now (a checkpoint thread's among them)
        self._lock = threading.Lock()
        _lower_cpu_limit(math.ceil(self.started + seconds + SAVE_ALLOWANCE))
        threading.Thread(target=self._watch, name="grader-cpu-budget", daemon=True).start()

    def charged(self) -> float:
        """CPU-seconds charged so far."""
        return round(max(0.0, _cpu() - self.started - self.uncharged), 2)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Run the grader's own work (saving a model) without charging it: the time of the
        thread doing it is refunded, the process's other threads (e.g. tf.data fetching the
        next batches meanwhile) are charged as usual. The budget does not end inside."""
        with self._lock:
            self._pausing += 1
        begin = _thread_cpu()
        try:
            yield
        finally:
            with self._lock:
                self.uncharged += _thread_cpu() - begin
                self._pausing -= 1

    def _watch(self) -> None:
        while True:
            _sleep(WATCH_SECONDS)
            if not self._pausing and self.charged() > self.seconds:
                _kill(_pid, _OVER_BUDGET)  # default action: the process ends, signalled


# Windows (a student's unsandboxed self-check) has no SIGXCPU: os.kill ends the process there
_OVER_BUDGET = getattr(signal, "SIGXCPU", signal.SIGTERM)


def _lower_cpu_limit(wanted: int) -> None:
    """Lower RLIMIT_CPU to `wanted` CPU-seconds (never raise it): the kernel's backstop.

    `resource` is imported here, not by `grader.shims` (a sandboxed worker cannot see it),
    and only here: the host imports this module for its constants, on Windows too. Grading
    always has it (children are started under rlimits); only a self-check on a machine
    without rlimits (Windows, unsandboxed: the student's own code) goes without.
    """
    try:
        import resource
    except ImportError:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    hard = wanted if hard == resource.RLIM_INFINITY else min(hard, wanted)
    resource.setrlimit(resource.RLIMIT_CPU, (max(1, hard - 1), hard))


def checkpoints(
    out: Path, budget: Budget, facts: Callable[[History, float], TrainFacts], model: Any
) -> Any:
    """A Keras callback saving `model` and `progress.json` after each completed epoch.

    `facts(history, cpu_seconds)` makes the report of a model trained for `history`.
    `model` is the student's whole model: `fit` may train only its head (base features).
    """
    import keras

    class Checkpoints(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.curves: dict[str, list[float]] = {k: [] for k in CURVES}
            self.writer = CheckpointWriter(model, out, budget)

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            for key in CURVES:
                self.curves[key].append(float((logs or {}).get(key, math.nan)))
            try:
                history = History(**{k: tuple(v) for k, v in self.curves.items()})
            except codec.DecodeError:  # NaN (training fails on it) or a missing curve
                return
            self.writer.save(facts(history, budget.charged()))

        def on_train_end(self, logs: dict | None = None) -> None:
            self.writer.wait()

    return Checkpoints()


class CheckpointWriter:
    """Saves each epoch's checkpoint, from a copy of the model in a thread of its own when
    the model can be copied exactly: the epoch's weights are copied at the epoch's end
    (~1 ms) and the file (~25 ms a save) is written while the next epoch trains.

    A copy is used only when it has the model's config and weight shapes (a Sequential or
    functional model; a subclassed one is saved as it is, in the training's own thread).
    The checkpoint then holds no optimizer state: it is only ever loaded to be scored.
    """

    def __init__(self, model: Any, out: Path, budget: Budget) -> None:
        self.model, self.out, self.budget = model, out, budget
        with budget.paused():
            self.copy = exact_copy(model)  # None: saved from the model itself
        self.thread: threading.Thread | None = None

    def save(self, facts: TrainFacts) -> None:
        """Checkpoint the model as it is now, described by `facts`."""
        self.wait()  # one save at a time, in epoch order
        with self.budget.paused():
            if self.copy is None:
                save_checkpoint(self.model, self.out, facts)
                return
            self.copy.set_weights(self.model.get_weights())
        self.thread = threading.Thread(
            target=self._write, args=(facts,), name="grader-checkpoint", daemon=True
        )
        self.thread.start()

    def _write(self, facts: TrainFacts) -> None:
        with self.budget.paused():
            save_checkpoint(self.copy, self.out, facts)

    def wait(self) -> None:
        """Return once the last checkpoint is written."""
        if self.thread is not None:
            self.thread.join()
            self.thread = None


def exact_copy(model: Any) -> Any:
    """A copy of a Sequential or functional `model` with its config and weight shapes (its
    own variables), or None when it cannot be made or differs in either."""
    import keras
    from keras.src.models.functional import Functional  # what keras.Model(inputs, outputs) is

    if not isinstance(model, keras.Sequential | Functional):
        return None
    try:
        copy = type(model).from_config(model.get_config())  # as a checkpoint is loaded
        same = copy.get_config() == model.get_config()  # (from_config alters its argument)
    except Exception:  # noqa: BLE001 - e.g. a custom layer without from_config: saved as is
        return None
    shapes = [tuple(w.shape) for w in copy.weights] == [tuple(w.shape) for w in model.weights]
    return copy if same and shapes else None


def step_timer() -> Any:
    """A Keras callback timing each training and validation step in CPU time (self-check);
    after `fit`, its `times(epochs, batch_size)` is the measurement, or None (no step)."""
    import keras

    class StepTimer(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.marks: dict[str, list[float]] = {"train": [], "val": []}
            self.epoch = [0.0, 0.0]  # CPU at the epoch's begin and end

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.epoch[0] = _cpu()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            self.epoch[1] = _cpu()

        def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
            if not self.marks["train"]:
                self.marks["train"].append(_cpu())

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            self.marks["train"].append(_cpu())

        def on_test_begin(self, logs: dict | None = None) -> None:
            self.marks["val"] = [_cpu()]

        def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
            self.marks["val"].append(_cpu())

        def times(self, epochs: int, batch_size: int) -> StepTimes | None:
            train, val = self.marks["train"], self.marks["val"]
            (first_train, train_step), (first_val, val_step) = _steps(train), _steps(val)
            if first_train == 0:
                return None
            # around the steps: before the first, between training and validation, after
            steps = (train[-1] - train[0]) + (val[-1] - val[0] if val else 0.0)
            overhead = max(0.0, round(self.epoch[1] - self.epoch[0] - steps, 4))
            return StepTimes(
                first_train, train_step, first_val, val_step, epochs, batch_size, overhead
            )

    return StepTimer()


def _steps(marks: list[float]) -> tuple[float, float]:
    """(first step, each later step) from CPU marks: start, then the end of every step. With
    one step only, it stands for the later ones too (an overestimate: it includes tracing)."""
    if len(marks) < 2:
        return 0.0, 0.0
    first = marks[1] - marks[0]
    later = (marks[-1] - marks[1]) / (len(marks) - 2) if len(marks) > 2 else first
    return round(first, 4), round(later, 4)


def save_checkpoint(model: Any, out: Path, facts: TrainFacts) -> None:
    """Save the model, then name it in `progress.json`, then drop the previous checkpoint.

    A child killed at any moment leaves a `progress.json` naming a whole file.
    """
    epochs = facts.history.epochs
    try:
        model.save(out / checkpoint_name(epochs))
    except Exception:  # noqa: BLE001 - e.g. a layer without get_config: the final save says so
        return
    tmp = out / f".{PROGRESS}.tmp"
    tmp.write_text(json.dumps(codec.to_json(TrainReport(trained=facts)), allow_nan=False))
    os.replace(tmp, out / PROGRESS)
    with contextlib.suppress(OSError):
        (out / checkpoint_name(epochs - 1)).unlink()


def drop_checkpoints(out: Path) -> None:
    """Remove the checkpoints of a training that ended normally (its model is saved whole)."""
    for path in [*out.glob("epoch-*.keras"), out / PROGRESS]:
        with contextlib.suppress(OSError):
            path.unlink()
