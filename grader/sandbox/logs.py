"""A child's log as people read it: the start-up noise of TensorFlow and its neighbours left out.

Every child prints the same lines before it does anything (absl's first-log notice, oneDNN
and CPU-feature notices, CUDA probes on a machine without a GPU, Fontconfig's missing
config); in the last lines of a failed task's log they hide the traceback that says what
went wrong. Only lines known to be such noise are dropped: a warning from the student's
own code, or a TensorFlow error raised while training, stays. Everything else a child
prints is log text, whatever it starts with: the grader takes no message from it (a
training's progress is read from the checkpoint file the worker saves each epoch).
"""

from __future__ import annotations

import re

from grader.safetext import clean

# absl / glog style (`I0000 00:00:1796193502.480332   21626 port.cc:153] ...`) and the older
# TensorFlow style (`2024-05-01 12:00:00.123456: I tensorflow/core/util/port.cc:113] ...`)
_LOGGED = r"(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF]) "
# the source files whose lines are start-up noise, whatever they say
_NOISY_SOURCES = (
    r"port\.cc",  # oneDNN custom operations are on
    r"cpu_feature_guard\.cc",  # this binary is optimized to use available CPU instructions
    r"cuda_\w+\.cc",  # cuda_dnn, cuda_fft, cuda_blas, cuda_executor, cuda_driver: no GPU
    r"gpu_\w+\.cc",
    r"node_def_util\.cc",  # NodeDef mentions attribute ... (tf.data of a newer build)
    r"dso_loader\.cc",  # could not load dynamic library (CUDA)
)
# what such a line (or a line of its own) says when it is start-up noise
_NOISY_TEXTS = (
    r"oneDNN custom operations are on",
    r"This TensorFlow binary is optimized",
    r"TF-TRT Warning: ",
    r"Could not find cuda drivers on your machine",
    r"Unable to register cu(?:DNN|FFT|BLAS) factory",
    r"failed call to cuInit",
    r"computation placer already registered",
)
NOISE = re.compile(
    "|".join(
        [
            _LOGGED + r"(?:\S+/)?(?:" + "|".join(_NOISY_SOURCES) + r"):\d+\]",
            _LOGGED + r"\S+:\d+\] (?:" + "|".join(_NOISY_TEXTS) + ")",
            "(?:" + "|".join(_NOISY_TEXTS) + ")",
            r"WARNING: All log messages before absl::InitializeLog\(\) is called",
            r"To enable the following instructions: .* rebuild TensorFlow",
            r"Fontconfig (?:error|warning)",
        ]
    )
)


def is_noise(line: str) -> bool:
    """Whether `line` is start-up noise."""
    return NOISE.match(line.lstrip()) is not None


def readable_tail(log: str, lines: int = 30) -> str:
    """The last `lines` lines of a child's output that are not noise, without escape
    sequences or control characters (a report or a terminal shows them as text)."""
    kept = [clean(line, None) for line in log.splitlines() if not is_noise(line)]
    return "\n".join(kept[-lines:])
