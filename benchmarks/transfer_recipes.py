"""Which transfer recipes beat a frozen head on the shipped assignment (issue 10, item 1).

Plain Keras in one process, on the split and base model `make grade` cached under OUT:
a frozen base with a new softmax head, fine-tuning its top layers or all of them at several
learning rates, and a strong CNN from scratch; each trained once with a fixed seed and
scored on the hidden test split. Run after `make grade`:

    nice python -m benchmarks.transfer_recipes --out build [recipe ...]

Not the grader (no sandbox, no early stopping): a quick way to see what the data and the
base allow, with the children's numeric settings (`NUMERICS`).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from grader.sandbox.levels import NUMERICS

os.environ.update(NUMERICS)

import keras  # noqa: E402  (after the numeric settings)
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

SHAPE = (32, 32, 3)


def newest(pattern: str, out: Path) -> Path:
    found = sorted(out.glob(pattern), key=lambda p: p.stat().st_mtime)
    if not found:
        raise SystemExit(f"nothing matches {out / pattern}: run `make grade` first")
    return found[-1]


def load_split(folder: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {
        part: (np.load(folder / f"x_{part}.npy") / 255.0, np.load(folder / f"y_{part}.npy"))
        for part in ("train", "val", "test")
    }


def head(body: list, classes: int, dropout: float = 0.0) -> keras.Model:
    top = [layers.Dropout(dropout)] if dropout else []
    return keras.Sequential(
        [keras.Input(SHAPE), *body, *top, layers.Dense(classes, activation="softmax")]
    )


def fine_tuned(base: keras.Model, top_layers: int | None) -> list:
    """The base without its output; its last `top_layers` (None: all) trainable."""
    kept = base.layers[:-1]
    for layer in kept if top_layers is None else kept[-top_layers:]:
        layer.trainable = True
    return kept


def strong_scratch() -> list:
    body: list = [layers.RandomFlip("horizontal"), layers.RandomTranslation(0.1, 0.1)]
    for filters in (32, 64):
        conv = [layers.Conv2D(filters, 3, padding="same", activation="relu") for _ in range(2)]
        body += [*conv, layers.MaxPooling2D()]
    body += [layers.Conv2D(128, 3, padding="same", activation="relu")]
    return [*body, layers.GlobalAveragePooling2D(), layers.Dropout(0.4)]


# name: (body from the frozen base, learning rate, epochs)
RECIPES = {
    "frozen-head": (lambda b: b.layers[:-1], 1e-3, 30),
    "fine-tune-top3-5e-4": (lambda b: fine_tuned(b, 3), 5e-4, 30),
    "fine-tune-top3-1e-4": (lambda b: fine_tuned(b, 3), 1e-4, 30),
    "fine-tune-top5-2e-4": (lambda b: fine_tuned(b, 5), 2e-4, 30),
    "fine-tune-all-1e-4": (lambda b: fine_tuned(b, None), 1e-4, 30),
    "fine-tune-all-3e-5": (lambda b: fine_tuned(b, None), 3e-5, 30),
    "strong-scratch": (lambda b: strong_scratch(), 1e-3, 40),
}


def run(name: str, data: dict, base_file: Path) -> str:
    keras.utils.set_random_seed(1)
    base = keras.models.load_model(base_file)
    base.trainable = False
    body, rate, epochs = RECIPES[name]
    model = head(list(body(base)), int(data["train"][1].max()) + 1, 0.3 if "tune" in name else 0)
    model.compile(
        optimizer=keras.optimizers.Adam(rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    start = time.perf_counter()
    model.fit(*data["train"], validation_data=data["val"], epochs=epochs, batch_size=32, verbose=0)
    acc = {part: model.evaluate(*data[part], verbose=0)[1] for part in data}
    return (
        f"{name:22s} test {acc['test']:.3f}  val {acc['val']:.3f}  train {acc['train']:.3f}  "
        f"gap {acc['train'] - acc['val']:+.3f}  {time.perf_counter() - start:.0f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.transfer_recipes")
    parser.add_argument("--out", type=Path, default=Path("build"))
    parser.add_argument("--split", default="vehicles")
    parser.add_argument("recipes", nargs="*", help=f"some of {', '.join(RECIPES)} (default: all)")
    args = parser.parse_args()
    unknown = set(args.recipes) - set(RECIPES)
    if unknown:
        parser.error(f"unknown recipes {sorted(unknown)}; choose from {list(RECIPES)}")
    data = load_split(newest(f"cache/splits/*/{args.split}", args.out))
    base_file = newest("cache/base/*/base.keras", args.out)
    for name in args.recipes or RECIPES:
        print(run(name, data, base_file), flush=True)


if __name__ == "__main__":
    main()
