"""Feasibility check in plain Keras: does transfer clearly beat a CNN trained from scratch?

Reads the photo folder `data/` (make_data.py) the way Keras' `image_dataset_from_directory`
does (decode to RGB, bilinear resize to 64x64, pixels left in [0, 255]), draws the same
50 train + 25 validation photos per class with a fixed seed, and tests on all 300 test
photos. It trains, for each seed:

    scratch:  Rescaling(1/255) + 3 conv blocks + HEAD, 30 epochs
    transfer: base_model.keras, frozen       + HEAD, 20 epochs
    HEAD = Flatten -> Dense(64, relu) -> Dropout(0.3) -> Dense(3, softmax)

with Adam (learning rate 1e-3), batch size 32 and sparse labels, and prints the test
accuracy of the model as it is after the last epoch. No grader code is involved.

Usage (from the repository root; a few minutes on two cores):
    nice -n 10 .venv/bin/python assignments/animals-transfer/calibrate_plain.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SPLIT_SEED = 20261213
TRAIN_PER_CLASS, VAL_PER_CLASS = 50, 25
IMAGE_SIZE = (64, 64)
EPOCHS = {"scratch": 30, "transfer": 20}


def read_images(paths: list[Path]) -> np.ndarray:
    """Decode and resize like `image_dataset_from_directory`: RGB, bilinear, float [0, 255]."""
    import tensorflow as tf

    images = []
    for path in paths:
        raw = tf.io.decode_image(path.read_bytes(), channels=3, expand_animations=False)
        images.append(tf.image.resize(raw, IMAGE_SIZE).numpy())
    return np.stack(images)


def load_folder(data: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Train / val / test arrays; train and val drawn per class from data/train with a seed."""
    rng = np.random.default_rng(SPLIT_SEED)
    classes = sorted(p.name for p in (data / "train").iterdir() if p.is_dir())
    files: dict[str, list[tuple[Path, int]]] = {"train": [], "val": [], "test": []}
    for label, name in enumerate(classes):
        photos = sorted((data / "train" / name).iterdir())
        order = rng.permutation(len(photos))
        files["train"] += [(photos[i], label) for i in order[:TRAIN_PER_CLASS]]
        files["val"] += [(photos[i], label) for i in order[TRAIN_PER_CLASS:][:VAL_PER_CLASS]]
        files["test"] += [(p, label) for p in sorted((data / "test" / name).iterdir())]
    return {
        part: (read_images([p for p, _ in pairs]), np.array([y for _, y in pairs], "int32"))
        for part, pairs in files.items()
    }


def head(classes: int) -> list:
    """The classifier head both models share."""
    from keras import layers

    return [
        layers.Flatten(),
        layers.Dense(64, activation="relu"),
        layers.Dropout(0.3),
        layers.Dense(classes, activation="softmax"),
    ]


def build(kind: str, base_path: Path, classes: int):
    """The scratch CNN, or the frozen pre-trained base with the same head."""
    import keras
    from keras import layers

    if kind == "transfer":
        base = keras.models.load_model(base_path)
        base.trainable = False
        return keras.Sequential([keras.Input((*IMAGE_SIZE, 3)), base, *head(classes)])
    convs = []
    for filters in (32, 64, 128):
        convs += [
            layers.Conv2D(filters, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
        ]
    return keras.Sequential(
        [keras.Input((*IMAGE_SIZE, 3)), layers.Rescaling(1 / 255), *convs, *head(classes)]
    )


def run(kind: str, seed: int, splits: dict, base_path: Path) -> dict[str, float]:
    """Train one model with one seed; returns its final train / val / test accuracy."""
    import keras

    keras.utils.set_random_seed(seed)
    model = build(kind, base_path, classes=int(splits["train"][1].max()) + 1)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    x, y = splits["train"]
    model.fit(x, y, validation_data=splits["val"], epochs=EPOCHS[kind], batch_size=32, verbose=0)
    return {part: model.evaluate(*splits[part], verbose=0)[1] for part in ("train", "val", "test")}


def main() -> None:
    """Train scratch and transfer models for each seed and print their accuracies."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--base", type=Path, default=HERE / "base_model.keras")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    splits = load_folder(args.data)
    print("model     seed  train   val  test", flush=True)
    tests: dict[str, list[float]] = {"scratch": [], "transfer": []}
    for kind in tests:
        for seed in args.seeds:
            acc = run(kind, seed, splits, args.base)
            tests[kind].append(acc["test"])
            row = " ".join(f"{acc[part]:.3f}" for part in ("train", "val", "test"))
            print(f"{kind:9} {seed:4}  {row}", flush=True)
    for kind, values in tests.items():
        print(f"{kind}: mean test accuracy {np.mean(values):.3f} (min {min(values):.3f})")
    margin = np.mean(tests["transfer"]) - np.mean(tests["scratch"])
    print(f"transfer - scratch, mean test accuracy: {margin:+.3f}")


if __name__ == "__main__":
    main()
