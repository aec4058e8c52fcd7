"""The baseline `make bench` compares against: one plain process, no sandbox, no checks.

It trains the same three models of one submission, with the same data, epochs, batch size
and early stopping, then scores them on the test split, as a student's own script would.
Run as: python -m benchmarks.plain_baseline SPLITS_DIR BASE_KERAS SUBMISSION_PY ASSIGNMENT_DIR
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

started = time.monotonic()

import keras  # noqa: E402
import numpy as np  # noqa: E402

from grader import labels  # noqa: E402
from grader.spec import load_assignment  # noqa: E402


def main(splits: Path, base_path: Path, submission: Path, assignment_dir: Path) -> None:
    print(f"imports: {time.monotonic() - started:.1f} s")
    assignment = load_assignment(assignment_dir)
    spec = importlib.util.spec_from_file_location("submission", submission)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for task in assignment.tasks.values():
        task_started = time.monotonic()
        keras.utils.set_random_seed(assignment.seed)
        arrays = {
            n: np.load(splits / task.split / f"{n}.npy")
            for n in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
        }
        n = len(assignment.splits[task.split].classes)
        if task.uses_base:
            base = keras.models.load_model(base_path, compile=False)
            base.trainable = False
            model = getattr(module, task.function)(base, n)
        else:
            model = getattr(module, task.function)((32, 32, 3), n)
        if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", True):
            units = model.outputs[0].shape[-1]  # uncompiled: the grader's defaults, as it does
            config = {"learning_rate": task.defaults.learning_rate}
            model.compile(
                optimizer=keras.optimizers.get(
                    {"class_name": task.defaults.optimizer, "config": config}
                ),
                loss="binary_crossentropy" if units == 1 else "sparse_categorical_crossentropy",
            )
        fmt = labels.label_format(labels.loss_name(model.loss), n)
        model.compile(optimizer=model.optimizer, loss=model.loss, metrics=["accuracy"])
        settings = {
            "epochs": task.defaults.epochs,
            "batch_size": task.defaults.batch_size,
            "early_stopping_patience": task.defaults.early_stopping_patience,
        }
        settings.update(getattr(module, "TRAINING", {}).get(task.id, {}))
        callbacks = []
        if settings["early_stopping_patience"]:
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    patience=settings["early_stopping_patience"], restore_best_weights=True
                )
            )
        x = {k: arrays[k].astype("float32") / 255 for k in ("x_train", "x_val", "x_test")}
        model.fit(
            x["x_train"],
            labels.encode(arrays["y_train"], fmt, n),
            validation_data=(x["x_val"], labels.encode(arrays["y_val"], fmt, n)),
            epochs=settings["epochs"],
            batch_size=settings["batch_size"],
            verbose=0,
            callbacks=callbacks,
        )
        accuracy = np.mean(np.argmax(model.predict(x["x_test"], verbose=0), 1) == arrays["y_test"])
        seconds = time.monotonic() - task_started
        print(f"{task.id}: test accuracy {accuracy:.3f} ({seconds:.1f} s)")
    print(f"plain script wall time: {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main(*map(Path, sys.argv[1:5]))
