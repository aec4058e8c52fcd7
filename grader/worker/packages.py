"""The packages a submission may import while it is graded, besides Python's standard library.

Pinned in pyproject.toml, listed in the handout ("What is installed") and by `grader doctor`;
tests/test_environment.py checks that the three agree and that a sandboxed child imports
each one. Run as `python -m grader.worker.packages REQUEST.json`, a child imports them all
and reports each one's version or error (`grader doctor`).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
from dataclasses import dataclass

from grader.errors import ErrorKind, StudentError
from grader.protocol import Confinement, ErrorReport
from grader.worker import runtime

# import name -> distribution (what pip installs), in the order the handout lists them
PACKAGES = {
    "keras": "keras",
    "tensorflow": "tensorflow-cpu",
    "numpy": "numpy",
    "pandas": "pandas",
    "sklearn": "scikit-learn",
    "scipy": "scipy",
    "matplotlib": "matplotlib",
    "seaborn": "seaborn",
    "PIL": "pillow",
    "tqdm": "tqdm",
}


def available() -> str:
    """`keras, tensorflow, numpy, ..., sklearn (scikit-learn), PIL (Pillow), ...`."""
    return ", ".join(
        name if dist in (name, "tensorflow-cpu") else f"{name} ({dist})"
        for name, dist in PACKAGES.items()
    )


def installed_version(name: str) -> str | None:
    """The installed version of the package imported as `name`, or None."""
    # TensorFlow is `tensorflow-cpu` by default, `tensorflow` from the gpu extra or on macOS
    for dist in (PACKAGES[name], *(("tensorflow",) if name == "tensorflow" else ())):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def missing_module_error(exc: BaseException, file: str) -> StudentError | None:
    """For an import of a module that is not installed here: the error naming it and what
    is installed instead (Keras and TensorFlow modules: the Keras 2 diagnoses' own)."""
    name = getattr(exc, "name", None) if isinstance(exc, ModuleNotFoundError) else None
    if not name or name.split(".")[0] in ("keras", "tensorflow"):
        return None
    return StudentError(ErrorKind.IMPORT_ERROR, "import_error.missing_module", file=file,
                        where=runtime.where(exc), module=name, available=available())  # fmt: skip


@dataclass(frozen=True)
class ProbeRequest:
    """A probe child's job: only where to write its report (and what confines it)."""

    out: str
    landlock: Confinement | None = None
    gpu_memory_mb: int | None = None
    gpu_slot: int | None = None


@dataclass(frozen=True)
class ProbeReport:
    """Each package's version as imported in the child, or the error importing it raised."""

    imported: dict[str, str]
    failed: dict[str, str]
    error: ErrorReport | None = None


def probe(request: ProbeRequest) -> ProbeReport:
    """Import every package as a submission would, in this (confined) process."""
    imported, failed = {}, {}
    for name in PACKAGES:
        try:
            module = importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - the report names whatever went wrong
            failed[name] = f"{type(exc).__name__}: {runtime.first_line(exc)}"
        else:
            imported[name] = str(getattr(module, "__version__", "") or installed_version(name))
    return ProbeReport(imported, failed)


def _failed(raw: dict, error: ErrorReport) -> ProbeReport:
    return ProbeReport({}, {}, error)


if __name__ == "__main__":
    runtime.leave(runtime.run(sys.argv[1:], ProbeRequest, probe, _failed, "packages.json"))
