"""Child process that imports a submission, builds one task's model and trains it.

This is the only place student code runs. It sees the training and validation arrays of
its task (never the hidden test split) and writes `model.keras` plus `train.json` into its
output folder; everything it writes is treated as untrusted by the grader.
Run as: python -m grader.worker.train REQUEST.json
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from grader import codec, labels
from grader.errors import ErrorKind, StudentError
from grader.protocol import Defaults, ErrorReport, History, TrainFacts, TrainReport, TrainRequest
from grader.worker import features, runtime
from grader.worker.budget import Budget, checkpoints, drop_checkpoints
from grader.worker.build import build, validate_model
from grader.worker.inspect import output_activation, unsavable
from grader.worker.loading import import_submission, load_base

QUICK_SAMPLE = 256  # images the self-check trains on: NaN, shape errors, steps to time (8 of 32)
SPLITS = ("x_train", "y_train", "x_val", "y_val")  # all this child gets: no test split


@dataclass(frozen=True)
class Settings:
    """How this model is trained: the assignment's defaults, overridden by TRAINING."""

    epochs: int
    batch_size: int
    early_stopping_patience: int


def main(argv: list[str]) -> int:
    return runtime.run(argv, TrainRequest, train, _failed, "train.json")


def _failed(raw: dict[str, Any], error: ErrorReport) -> TrainReport:
    return TrainReport(error=error)


def train(request: TrainRequest) -> TrainReport:
    """Import, build, check, compile and fit the student's model; save it for scoring.

    With a CPU budget (`request.limits.cpu_seconds`), everything from the import on is
    charged but the grader's saves, and each completed epoch leaves a checkpoint.
    """
    data = setup(request)
    cpu = Budget(request.limits.cpu_seconds) if request.limits.cpu_seconds else None
    module = import_submission(Path(request.submission))
    settings = training_settings(module, request)
    base = load_base(request.base_model) if request.call == "base" and request.base_model else None
    model = build(module, request, base)
    validate_model(model, request)
    out = Path(request.out)
    if base is not None:  # reuse is checked on the model as built
        with _uncharged(cpu):
            _save(model, out / "built.keras")
    loss, fmt = compile_model(model, request.defaults)
    plan = features.plan(model, data, settings.batch_size)  # the same, maybe much faster
    facts = _facts_of(model, settings, loss, fmt, plan.used)
    saver = [checkpoints(out, cpu, facts, model)] if cpu is not None else []
    history = fit(model, data, fmt, request, settings, saver, plan)
    charged = cpu.charged() if cpu else 0.0
    with _uncharged(cpu):
        _save(model, out / "model.keras")
    drop_checkpoints(out)
    return TrainReport(trained=facts(history, charged))


def _facts_of(
    model: Any, settings: Settings, loss: str, fmt: str, base_features: bool = False
) -> Callable[[History, float], TrainFacts]:
    """What the report says of this model once trained for a history (at a CPU cost)."""
    optimizer = type(model.optimizer).__name__.lower()
    params, activation = int(model.count_params()), output_activation(model)

    def facts(history: History, cpu_seconds: float) -> TrainFacts:
        return TrainFacts(
            history=history,
            batch_size=settings.batch_size,
            optimizer=optimizer,
            loss=loss,
            label_format=fmt,
            params=params,
            activation=activation,
            planned_epochs=settings.epochs,
            cpu_seconds=cpu_seconds,
            base_features=base_features,
        )

    return facts


def _uncharged(budget: Budget | None) -> contextlib.AbstractContextManager[None]:
    return budget.paused() if budget is not None else contextlib.nullcontext()


def setup(request: TrainRequest) -> dict[str, np.ndarray]:
    """Seeds, determinism and the GPU cap, before any student code; then the arrays."""
    import keras
    import tensorflow as tf

    runtime.claim_gpu(request.gpu_slot, request.gpu_memory_mb)
    keras.utils.set_random_seed(request.seed)
    tf.config.experimental.enable_op_determinism()
    sample = QUICK_SAMPLE if request.quick else None
    return _load_inputs(Path(request.data), request.pixel_divisor, sample)


def _load_inputs(folder: Path, divisor: float, sample: int | None = None) -> dict[str, np.ndarray]:
    """The training and validation arrays, pixels as the spec says ([0, 1] or [0, 255])."""
    arrays = {n: np.load(folder / f"{n}.npy", allow_pickle=False)[:sample] for n in SPLITS}
    for name in ("x_train", "x_val"):
        arrays[name] = arrays[name].astype(np.float32) / divisor
    return arrays


def training_settings(module: Any, request: TrainRequest) -> Settings:
    """The defaults, overridden by the submission's TRAINING[task] within the limits.

    Raises:
        StudentError: TRAINING is malformed, names an unknown key or a value out of range.
    """
    d, task = request.defaults, request.task
    settings = Settings(d.epochs, d.batch_size, d.early_stopping_patience)
    if request.call == "base_model":
        return settings
    overrides = getattr(module, "TRAINING", {})
    if not isinstance(overrides, dict) or not isinstance(overrides.get(task, {}), dict):
        received = f"{overrides!r:.200}"
        raise StudentError(
            ErrorKind.TRAINING_CONFIG, "training_config.not_dicts", task=task, received=received
        )
    for key, value in overrides.get(task, {}).items():
        settings = replace(settings, **{key: _setting(request, key, value)})
    return settings


def _setting(request: TrainRequest, key: Any, value: Any) -> int:
    limits, task = request.limits, request.task
    bounds = {
        "epochs": (1, limits.max_epochs),
        "batch_size": (1, limits.max_batch_size),
        "early_stopping_patience": (0, limits.max_epochs),
    }
    if key not in bounds:
        raise StudentError(
            ErrorKind.TRAINING_CONFIG,
            "training_config.unknown_key",
            task=task,
            key=repr(key),
            allowed=str(sorted(bounds)),
        )
    low, high = bounds[key]
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise StudentError(
            ErrorKind.TRAINING_CONFIG,
            "training_config.out_of_range",
            task=task,
            key=key,
            low=low,
            high=high,
            value=repr(value),
        )
    return value


def compile_model(model: Any, defaults: Defaults) -> tuple[str, str]:
    """Compile with the student's optimizer and loss (or the defaults); the label format."""
    import keras

    units = model.outputs[0].shape[-1]
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", True):
        config = {"learning_rate": defaults.learning_rate}
        optimizer = keras.optimizers.get({"class_name": defaults.optimizer, "config": config})
        loss: Any = "binary_crossentropy" if units == 1 else "sparse_categorical_crossentropy"
    else:
        optimizer, loss = model.optimizer, model.loss
    try:
        name = labels.loss_name(loss)
        fmt = labels.label_format(name, units)
    except labels.LabelFormatError as exc:
        raise StudentError(ErrorKind.UNSUPPORTED_LOSS, exc.message_id, **exc.params) from None
    try:  # recompiled with the student's own optimizer and loss, so History has `accuracy`
        model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    except Exception as exc:  # noqa: BLE001 - the student's optimizer or loss refused
        raise _training_failed(exc) from None
    return name, fmt


def _callbacks(settings: Settings) -> list[Any]:
    import keras

    # No progress is printed: the host reads it from `progress.json` (budget.checkpoints);
    # what this process prints is the student's too, so the host treats it as log text.
    callbacks: list[Any] = [keras.callbacks.TerminateOnNaN()]
    if settings.early_stopping_patience:
        stop = keras.callbacks.EarlyStopping(
            monitor="val_loss",
            patience=settings.early_stopping_patience,
            restore_best_weights=True,
        )
        callbacks.append(stop)
    return callbacks


def fit(
    model: Any,
    data: dict,
    fmt: str,
    request: TrainRequest,
    settings: Settings,
    extra: Sequence[Any] = (),
    plan: features.Plan | None = None,
) -> History:
    """`model.fit` on the training split, validated on the validation split (`extra`: more
    Keras callbacks, e.g. the per-epoch checkpoints; `plan`: `features.plan`, made here if
    not given: a frozen base's features are computed once and only the head is fitted).

    Raises:
        StudentError: training raised, or the loss became NaN.
    """
    n, plan = request.num_classes, plan or features.plan(model, data, settings.batch_size)
    model, data = plan.model, plan.data
    try:
        history = model.fit(
            data["x_train"],
            labels.encode(data["y_train"], fmt, n),
            validation_data=(data["x_val"], labels.encode(data["y_val"], fmt, n)),
            epochs=settings.epochs,
            batch_size=settings.batch_size,
            callbacks=[*_callbacks(settings), *extra],
            verbose=0,
            shuffle=True,
        )
    except Exception as exc:  # noqa: BLE001 - e.g. a shape mismatch inside the student's layers
        raise _training_failed(exc) from None
    return _curves(history.history)


def _curves(logs: dict[str, Any]) -> History:
    keys = ("loss", "accuracy", "val_loss", "val_accuracy")
    curves = {k: tuple(float(v) for v in logs.get(k, [])) for k in keys}
    bad = next((i for i, v in enumerate(curves["loss"]) if not math.isfinite(v)), None)
    if bad is not None or len(curves["loss"]) == 0:
        raise StudentError(ErrorKind.NAN_LOSS, "nan_loss", epoch=(bad or 0) + 1)
    try:
        return History(**curves)
    except codec.DecodeError as exc:  # e.g. a History patched by the submission
        raise StudentError(ErrorKind.BAD_OUTPUT, "bad_output.training", error=str(exc)) from None


def _training_failed(exc: BaseException) -> StudentError:
    return StudentError(ErrorKind.TRAINING_ERROR, "training_error", error=runtime.describe(exc))


def _save(model: Any, path: Path) -> None:
    try:
        model.save(path)
    except Exception as exc:  # noqa: BLE001 - e.g. a custom layer without get_config()
        raise unsavable(exc) from None


if __name__ == "__main__":
    os.umask(0o077)  # whatever the child writes is its own
    runtime.leave(main(sys.argv[1:]))
