"""The environment a child starts with: scrubbed, with the numeric settings pinned."""

from __future__ import annotations

import os

Gpus = tuple[str, ...]
# The settings that fix training's arithmetic, recorded in every result's provenance (handout,
# "Same grade on every machine"; tests/test_determinism.py). oneDNN picks its kernels, and so
# the order of every sum, from the CPU's vector unit: capped at AVX2, every AVX2 or AVX-512
# CPU runs its AVX2 kernels. Sums split across threads depend on the thread pool's size:
# fixed, not the machine's core count. Identity across real CPUs is not proven (handout).
NUMERICS = {
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "TF_NUM_INTRAOP_THREADS": "2",
    "TF_DETERMINISTIC_OPS": "1",
}


def child_environment(
    pythonpath: str, home: str, gpus: Gpus = (), tmp: str | None = None
) -> dict[str, str]:
    """A scrubbed environment: nothing of the grader's reaches the child but GPU choice.
    HOME and TMPDIR point into folders counted by the write cap (`tmp`: HOME if None)."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": tmp or home,
        "PYTHONPATH": pythonpath,
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        **NUMERICS,
        "KERAS_BACKEND": "tensorflow",
        "MPLBACKEND": "Agg",
        "CUDA_VISIBLE_DEVICES": "",
        "KERAS_HOME": f"{home}/.keras",
    }
    if gpus:
        del env["CUDA_VISIBLE_DEVICES"]
    keep = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") + (("CUDA_VISIBLE_DEVICES",) if gpus else ())
    for key in keep:  # machine quirks and the instructor's GPU choice, not secrets
        if key in os.environ:
            env[key] = os.environ[key]
    return env
