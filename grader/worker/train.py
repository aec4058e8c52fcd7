"""Child process that imports a submission, builds one task's model and trains it.

This is the only place student code runs. It sees the training and validation arrays of
its task (never the hidden test split) and writes `model.keras` plus `train.json` into its
output folder; everything it writes is treated as untrusted by the grader.
Run as: python -m grader.worker.train REQUEST.json
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import math
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from grader import labels

QUICK_SAMPLE = 64  # images the self-check trains on: enough for two steps, NaN and shape errors


class TaskError(Exception):
    """A problem with the submission, reported to the student as `kind` + message."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def main(request_path: str) -> int:
    request = json.loads(Path(request_path).read_text())
    confine(request)
    out = Path(request["out"])
    started = time.monotonic()
    try:
        report = train(request)
        report["status"] = "ok"
    except TaskError as exc:
        report = {"status": "error", "error_kind": exc.kind, "error": str(exc)}
    report["seconds"] = round(time.monotonic() - started, 2)
    (out / "train.json").write_text(json.dumps(report))
    return 0


def confine(request: dict[str, Any]) -> None:
    """At the Landlock level, restrict this process before anything else is imported."""
    if request.get("landlock"):
        from grader.sandbox import landlock

        landlock.restrict(request["landlock"]["read"], request["landlock"]["write"])


def limit_gpu_memory(request: dict[str, Any]) -> None:
    """Where memory is capped by TensorFlow (a GPU, no cgroup), cap each GPU's memory.

    Must run before anything touches a GPU. A no-op on machines without one.
    """
    if not request.get("gpu_memory_mb"):
        return
    import tensorflow as tf

    config = [tf.config.LogicalDeviceConfiguration(memory_limit=request["gpu_memory_mb"])]
    for gpu in tf.config.list_physical_devices("GPU"):
        tf.config.set_logical_device_configuration(gpu, config)


def train(request: dict[str, Any]) -> dict[str, Any]:
    import keras
    import tensorflow as tf

    limit_gpu_memory(request)
    keras.utils.set_random_seed(request["seed"])
    tf.config.experimental.enable_op_determinism()
    quick = bool(request.get("quick"))  # self-check: the same steps, a few training steps only
    data = _load_inputs(Path(request["data"]), sample=QUICK_SAMPLE if quick else None)
    module = import_submission(Path(request["submission"]))
    settings = _training_settings(module, request)
    base = _load_base(request) if request["call"] == "base" else None
    model = _build(module, request, base)
    _validate_model(model, request)
    extras: dict[str, Any] = {"activation": _output_activation(model)}
    if quick:  # what the self-check warns about before grading would refuse it
        from grader.worker.evaluate import count_reused, custom_classes_in

        extras["custom_layers"] = sorted(custom_classes_in(_config(model)))
        if base is not None:
            extras["base_reuse"] = count_reused(base, model)
    elif base is not None:  # the grader checks reuse against the model as built, before fit
        _save(model, Path(request["out"]) / "built.keras")
    loss, fmt = _compile(model, request, settings)
    history = _fit(model, data, fmt, request, {**settings, "epochs": 1} if quick else settings)
    if not quick:
        _save(model, Path(request["out"]) / "model.keras")
    return {
        "history": history,
        "epochs": len(history["loss"]),
        "batch_size": settings["batch_size"],
        "optimizer": _optimizer_name(model),
        "loss": loss,
        "label_format": fmt,
        "params": int(model.count_params()),
        **extras,
    }


def _save(model: Any, path: Path) -> None:
    try:
        model.save(path)
    except Exception as exc:  # noqa: BLE001 - e.g. a custom layer without get_config()
        raise _unsavable(exc) from None


def _config(model: Any) -> dict[str, Any]:
    """The model's serialized config, as saving would write it (the self-check's view)."""
    import keras

    try:
        return keras.saving.serialize_keras_object(model)
    except Exception as exc:  # noqa: BLE001 - the same failure saving would hit when graded
        raise _unsavable(exc) from None


def _unsavable(exc: BaseException) -> TaskError:
    return TaskError(
        "save_error",
        f"The trained model could not be saved: {_describe(exc)}. A custom layer needs a "
        "`get_config()` returning every argument of its `__init__`.",
    )


def _output_activation(model: Any) -> str:
    """The last layer's activation name (`linear` when it has none)."""
    activation = getattr(model.layers[-1], "activation", None) if model.layers else None
    return str(getattr(activation, "__name__", "linear"))


def _load_inputs(folder: Path, sample: int | None = None) -> dict[str, np.ndarray]:
    arrays = {
        n: np.load(folder / f"{n}.npy", allow_pickle=False)[:sample]
        for n in ("x_train", "y_train", "x_val", "y_val")
    }
    for name in ("x_train", "x_val"):
        arrays[name] = arrays[name].astype(np.float32) / 255.0
    return arrays


def import_submission(path: Path) -> Any:
    sys.path.insert(0, str(path.parent))  # a submission may import its own helper modules
    spec = importlib.util.spec_from_file_location("submission", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["submission"] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise TaskError(
            "syntax_error",
            f"{path.name} has a syntax error at line {exc.lineno}: "
            f"{exc.msg}. Fix it, then run the self-check (python -m grader check).",
        ) from None
    except BaseException as exc:  # noqa: BLE001 - anything at import time is the student's error
        raise TaskError(
            "import_error",
            f"Importing {path.name} failed: {_describe(exc)}. "
            "Keep training, plotting and data loading out of module level; "
            "the module should only define functions and constants.",
        ) from None
    return module


def _training_settings(module: Any, request: dict[str, Any]) -> dict[str, int]:
    defaults, limits, task = request["defaults"], request["limits"], request["task"]
    settings = {
        "epochs": defaults["epochs"],
        "batch_size": defaults["batch_size"],
        "early_stopping_patience": defaults["early_stopping_patience"],
    }
    if request["call"] == "base_model":
        return settings
    overrides = getattr(module, "TRAINING", {})
    if not isinstance(overrides, dict) or not isinstance(overrides.get(task, {}), dict):
        raise TaskError(
            "training_config",
            f"TRAINING must be a dict of dicts, e.g. TRAINING = "
            f"{{'{task}': {{'epochs': 10}}}}. Received: {overrides!r:.200}",
        )
    bounds = {
        "epochs": (1, limits["max_epochs"]),
        "batch_size": (1, limits["max_batch_size"]),
        "early_stopping_patience": (0, limits["max_epochs"]),
    }
    for key, value in overrides.get(task, {}).items():
        if key not in bounds:
            raise TaskError(
                "training_config",
                f"TRAINING['{task}'] has an unknown key {key!r}; allowed keys: {sorted(bounds)}.",
            )
        low, high = bounds[key]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise TaskError(
                "training_config",
                f"TRAINING['{task}']['{key}'] must be an integer "
                f"from {low} to {high} (the assignment's limit). Received: {value!r}",
            )
        settings[key] = value
    return settings


def _load_base(request: dict[str, Any]) -> Any:
    import keras

    base = keras.models.load_model(request["base_model"], compile=False)
    base.trainable = False
    for layer in base.layers:
        layer.trainable = False
    return base


def _build(module: Any, request: dict[str, Any], base: Any) -> Any:
    name, shape, n = request["function"], tuple(request["input_shape"]), request["num_classes"]
    expected = {
        "shape": "(input_shape, num_classes)",
        "base": "(base_model, num_classes)",
        "base_model": "(input_shape)",
    }[request["call"]]
    fn = getattr(module, name, None)
    if not callable(fn):
        raise TaskError(
            "missing_function",
            f"The submission does not define `{name}{expected}`. "
            f"Add `def {name}{expected}:` returning a keras.Model (check the spelling).",
        )
    args = {"shape": (shape, n), "base": (base, n), "base_model": (shape,)}[request["call"]]
    try:
        inspect.signature(fn).bind(*args)
    except (TypeError, ValueError):
        raise TaskError(
            "bad_signature",
            f"`{name}` must accept {expected}; it is defined as "
            f"`{name}{_signature(fn)}`. Change its parameters to {expected}.",
        ) from None
    try:
        return fn(*args)
    except BaseException as exc:  # noqa: BLE001 - the student's function failed
        raise TaskError("build_error", f"`{name}{expected}` raised {_describe(exc)}.") from None


def _validate_model(model: Any, request: dict[str, Any]) -> None:
    import keras

    name, shape, n = request["function"], tuple(request["input_shape"]), request["num_classes"]
    if not isinstance(model, keras.Model):
        raise TaskError(
            "not_a_model",
            f"`{name}` returned {type(model).__name__}, not a "
            "keras.Model. End the function with `return model`.",
        )
    if not model.built or not getattr(model, "inputs", None):
        try:
            model.build((None, *shape))
        except Exception as exc:  # noqa: BLE001
            raise TaskError(
                "wrong_input_shape",
                f"The model from `{name}` cannot take inputs "
                f"of shape {shape}: {_describe(exc)}. Start it with "
                f"keras.Input(shape={shape}).",
            ) from None
    _check_shapes(model, name, shape, n, request["classes"])
    params = model.count_params()
    if params > request["limits"]["max_params"]:
        raise TaskError(
            "too_many_params",
            f"The model from `{name}` has {params:,} parameters; "
            f"this task allows at most {request['limits']['max_params']:,}. Use fewer "
            "filters or a smaller Dense layer, or pool before Flatten.",
        )


def _check_shapes(model: Any, name: str, shape: tuple, n: int, classes: list[str]) -> None:
    inputs = getattr(model, "inputs", None) or []
    if len(inputs) != 1 or tuple(inputs[0].shape[1:]) != shape:
        got = [tuple(i.shape[1:]) for i in inputs]
        raise TaskError(
            "wrong_input_shape",
            f"`{name}` returned a model whose input shape is "
            f"{got[0] if len(got) == 1 else got}; images here are {shape}. Start "
            f"the model with keras.Input(shape={shape}).",
        )
    outputs = model.outputs
    units = outputs[0].shape[-1] if len(outputs) == 1 and len(outputs[0].shape) == 2 else None
    if units != n and not (n == 2 and units == 1):
        got = [tuple(o.shape[1:]) for o in outputs]
        raise TaskError(
            "wrong_output_shape",
            f"`{name}` returned a model whose output has "
            f"{units if units is not None else got} units; this task has {n} classes "
            f"({', '.join(classes)}). End the model with Dense({n}, "
            "activation='softmax').",
        )


def _compile(model: Any, request: dict[str, Any], settings: dict[str, int]) -> tuple[str, str]:
    import keras

    units = model.outputs[0].shape[-1]
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", True):
        d = request["defaults"]
        optimizer = keras.optimizers.get(
            {"class_name": d["optimizer"], "config": {"learning_rate": d["learning_rate"]}}
        )
        loss: Any = "binary_crossentropy" if units == 1 else "sparse_categorical_crossentropy"
    else:
        optimizer, loss = model.optimizer, model.loss
    try:
        name = labels.loss_name(loss)
        fmt = labels.label_format(name, units)
    except labels.LabelFormatError as exc:
        raise TaskError("unsupported_loss", str(exc)) from None
    # Recompiled with the student's own optimizer and loss, so History always has `accuracy`.
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    return name, fmt


class _Progress:
    """Prints one machine-readable line per epoch, which the grader shows as progress."""

    def __init__(self, epochs: int) -> None:
        import keras

        outer = self

        class Callback(keras.callbacks.Callback):
            def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
                print(f"GRADER-PROGRESS epoch {epoch + 1}/{outer.epochs}", flush=True)

        self.epochs, self.callback = epochs, Callback()


def _fit(model: Any, data: dict, fmt: str, request: dict, settings: dict) -> dict[str, list]:
    import keras

    n = request["num_classes"]
    callbacks = [keras.callbacks.TerminateOnNaN(), _Progress(settings["epochs"]).callback]
    if settings["early_stopping_patience"]:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss",
                patience=settings["early_stopping_patience"],
                restore_best_weights=True,
            )
        )
    try:
        history = model.fit(
            data["x_train"],
            labels.encode(data["y_train"], fmt, n),
            validation_data=(data["x_val"], labels.encode(data["y_val"], fmt, n)),
            epochs=settings["epochs"],
            batch_size=settings["batch_size"],
            callbacks=callbacks,
            verbose=0,
            shuffle=True,
        )
    except Exception as exc:  # noqa: BLE001 - e.g. a shape mismatch inside the student's layers
        raise TaskError("training_error", f"Training failed: {_describe(exc)}.") from None
    keys = ("loss", "accuracy", "val_loss", "val_accuracy")
    curves = {k: [float(v) for v in history.history.get(k, [])] for k in keys}
    bad = next((i for i, v in enumerate(curves["loss"]) if not math.isfinite(v)), None)
    if bad is not None or len(curves["loss"]) == 0:
        raise TaskError(
            "nan_loss",
            f"The training loss became NaN at epoch {(bad or 0) + 1}. "
            "Lower the learning rate, and check that the last layer's activation "
            "matches the loss (softmax with categorical losses, sigmoid with binary).",
        )
    return curves


def _optimizer_name(model: Any) -> str:
    return type(model.optimizer).__name__.lower()


def _describe(exc: BaseException) -> str:
    """`Type: message` plus the submission line that raised it, for the student."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "submission" in f.filename]
    where = f" (submission line {frames[-1].lineno}: `{frames[-1].line}`)" if frames else ""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300] if text else ''}{where}"


def _signature(fn: Any) -> str:
    try:
        return str(inspect.signature(fn))
    except (TypeError, ValueError):
        return "(...)"


if __name__ == "__main__":
    os.umask(0o077)
    sys.exit(main(sys.argv[1]))
