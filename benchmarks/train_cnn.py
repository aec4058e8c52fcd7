"""A realistic training job for timing numeric settings: the `alvaro-pequeno` scratch CNN,
3 epochs on 2,000 images (random pixels: the arithmetic, not the data, sets the time).

Run by `python -m benchmarks.determinism --cost` in a fresh child per setting.
"""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

SUBMISSION = Path(__file__).resolve().parent.parent / "submissions" / "alvaro-pequeno"
IMAGES, EPOCHS = 2000, 3


def main() -> None:
    spec = importlib.util.spec_from_file_location("submission", SUBMISSION / "submission.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    keras.utils.set_random_seed(0)
    tf.config.experimental.enable_op_determinism()
    rng = np.random.default_rng(0)
    x = rng.random((IMAGES, 32, 32, 3), dtype=np.float32)
    y = keras.utils.to_categorical(rng.integers(0, 3, IMAGES), 3)
    model = module.build_scratch((32, 32, 3), 3)
    started, cpu = time.monotonic(), time.process_time()
    model.fit(x, y, batch_size=32, epochs=EPOCHS, validation_split=0.2, verbose=0)
    wall, cpu = time.monotonic() - started, time.process_time() - cpu
    print(json.dumps({"seconds": round(wall, 2), "cpu_seconds": round(cpu, 2)}))


if __name__ == "__main__":
    main()
