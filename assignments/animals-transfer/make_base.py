"""Train the pre-trained base model and save it, without its classifier, as base_model.keras.

The base learns on seven CIFAR-10 classes that are NOT in the assignment (no bird, cat or
horse), so what students see is genuine transfer: features learnt on other pictures, reused
for ave / caballo / gato. Like `keras.applications.X(include_top=False)`, the saved model is
a feature extractor: it takes 64x64 RGB pixels in [0, 255] (what Keras'
`image_dataset_from_directory` yields), rescales them itself, averages them down to 32x32,
and returns a 4x4x128 feature map, with no pooling and no Dense layer. A temporary head
(augmentation, global average pooling, dropout and a 7-way softmax) exists only while
training and is thrown away.

Usage (from the repository root; about 20 minutes on two cores):
    nice -n 10 .venv/bin/python assignments/animals-transfer/make_base.py [--zip PATH]
"""

from __future__ import annotations

import argparse
import io
import time
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
DEFAULT_ZIP = HERE.parents[1].parent / "shared" / "data" / "cifar10.zip"
SEED = 20261213
BASE_CLASSES = ["airplane", "automobile", "deer", "dog", "frog", "ship", "truck"]
IMAGE_SIZE = (64, 64)
BLOCKS = (32, 64, 128)  # filters of each conv block; each block halves the image side


def load_split(
    zip_path: Path, train_per_class: int, val_per_class: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Seeded, disjoint train / validation draws from CIFAR-10's training part (32x32 uint8)."""
    rng = np.random.default_rng(SEED)
    parts: dict[str, tuple[list[np.ndarray], list[int]]] = {"train": ([], []), "val": ([], [])}
    with zipfile.ZipFile(zip_path) as archive:
        names = sorted(n for n in archive.namelist() if n.endswith(".jpg"))
        for label, cifar_class in enumerate(BASE_CLASSES):
            members = [n for n in names if n.startswith(f"train/{cifar_class}/")]
            picks = rng.choice(len(members), size=train_per_class + val_per_class, replace=False)
            for position, index in enumerate(picks):
                part = "train" if position < train_per_class else "val"
                with Image.open(io.BytesIO(archive.read(members[index]))) as image:
                    parts[part][0].append(np.asarray(image.convert("RGB")))
                parts[part][1].append(label)
    return (
        np.stack(parts["train"][0]),
        np.array(parts["train"][1], dtype="int32"),
        np.stack(parts["val"][0]),
        np.array(parts["val"][1], dtype="int32"),
    )


def as_dataset(x, y, batch_size: int, shuffle: bool):
    """A tf.data pipeline that upscales to 64x64 (bilinear) and keeps pixels in [0, 255]."""
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        data = data.shuffle(len(x), seed=SEED, reshuffle_each_iteration=True)
    data = data.batch(batch_size)
    return data.map(lambda images, labels: (tf.image.resize(images, IMAGE_SIZE), labels))


def conv_block(number: int, filters: int) -> list:
    """Two 3x3 convolutions (each with batch normalisation and ReLU), then 2x2 max pooling."""
    from keras import layers

    stack = []
    for conv in (1, 2):
        stack += [
            layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"block{number}_conv{conv}"),
            layers.BatchNormalization(name=f"block{number}_bn{conv}"),
            layers.ReLU(name=f"block{number}_relu{conv}"),
        ]
    return [*stack, layers.MaxPooling2D(name=f"block{number}_pool")]


def build_base():
    """The feature extractor that is saved: rescaling, 2x2 averaging, then conv blocks.

    The photos hold no more detail than CIFAR-10's 32x32 (they were upscaled from it), so the
    base averages 64x64 back to 32x32 first: the same features at a quarter of the cost.
    """
    import keras
    from keras import layers

    stack = [
        keras.Input((*IMAGE_SIZE, 3)),
        layers.Rescaling(1 / 255, name="rescaling"),
        layers.AveragePooling2D(2, name="downsample"),
    ]
    for number, filters in enumerate(BLOCKS, start=1):
        stack += conv_block(number, filters)
    return keras.Sequential(stack, name="base_model")


def build_trainer(base, classes: int):
    """The base plus augmentation and a temporary classifier, used only for training."""
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input((*IMAGE_SIZE, 3)),
            layers.RandomFlip("horizontal", seed=SEED, name="flip"),
            layers.RandomTranslation(0.1, 0.1, seed=SEED, name="shift"),
            base,
            layers.GlobalAveragePooling2D(name="pool"),
            layers.Dropout(0.3, seed=SEED, name="dropout"),
            layers.Dense(classes, activation="softmax", name="classifier"),
        ],
        name="base_trainer",
    )


def train(args: argparse.Namespace):
    """Train base + temporary head with fixed seeds; returns the trained base."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    x_train, y_train, x_val, y_val = load_split(args.zip, args.train_per_class, args.val_per_class)
    print(f"base data: {len(x_train)} train, {len(x_val)} validation images", flush=True)
    base = build_base()
    trainer = build_trainer(base, len(BASE_CLASSES))
    steps = args.epochs * -(-len(x_train) // args.batch_size)
    # Cosine decay to zero: no plateau detection on a noisy validation set, and the last
    # epoch, trained at a small learning rate, is the one saved.
    schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate, decay_steps=steps)
    trainer.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = trainer.fit(
        as_dataset(x_train, y_train, args.batch_size, shuffle=True),
        validation_data=as_dataset(x_val, y_val, 256, shuffle=False),
        epochs=args.epochs,
        verbose=2,
    )
    final = history.history["val_accuracy"][-1]
    print(f"final validation accuracy on the 7 base classes: {final:.4f}")
    return base


def main() -> None:
    """Train, then save only the feature extractor (its trained weights included)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zip", type=Path, default=DEFAULT_ZIP, help="CIFAR-10 zip")
    parser.add_argument("--out", type=Path, default=HERE / "base_model.keras")
    parser.add_argument("--train-per-class", type=int, default=4800)
    parser.add_argument("--val-per-class", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    args = parser.parse_args()
    start = time.monotonic()
    base = train(args)
    base.save(args.out)
    base.summary()
    size = args.out.stat().st_size / 1e6
    print(f"saved {args.out} ({size:.2f} MB) in {time.monotonic() - start:.0f} s")


if __name__ == "__main__":
    main()
