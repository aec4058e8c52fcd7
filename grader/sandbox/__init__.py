"""How a child runs, in bubblewrap when the machine allows it; knows nothing of grading.

A worker imports `grader.sandbox.landlock`, which runs this file first inside the sandbox:
so it imports no other module of the grader, and each name below is loaded on first use.
`__init__.pyi` declares the same names for type checkers.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {  # name -> the submodule defining it
    "BUBBLEWRAP": "levels",
    "LANDLOCK": "levels",
    "RLIMITS": "levels",
    "LEVELS": "levels",
    "PROJECT_ROOT": "levels",
    "WORKER_CODE": "levels",
    "detect_isolation": "levels",
    "diagnose": "levels",
    "LOG_TAIL_BYTES": "process",
    "Limits": "process",
    "Mount": "process",
    "Outcome": "process",
    "harden_grader_process": "process",
    "Interrupted": "runner",
    "Isolation": "runner",
    "Sandbox": "runner",
    "detect": "runner",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:  # also how `from grader.sandbox import landlock` finds a module
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
