"""grader: trains, checks and reports on students' Keras assignments."""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"
# Loaded on first use, by name: a worker child imports this package next to student code and
# must load nothing else of the grader; `import grader` stays cheap (no TensorFlow, no numpy).
_EXPORTS = {"check": "grader.pipeline.studentcheck"}  # name -> the module defining it


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
