"""Result files: atomic JSON writes, provenance, and safe reads of what children leave."""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import os
import platform
import tempfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from grader import __version__
from grader.sandbox.childio import ChildOutputError, read_child_file, read_child_json  # noqa: F401

SCHEMA = 1


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so that readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, ensure_ascii=False, allow_nan=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def checked_count(value: Any) -> int:
    """A non-negative integer a child reported (a parameter or layer count)."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 10**12:
        raise ValueError(f"{value!r:.40} is not a count")
    return value


def checked_base_reuse(value: Any) -> dict[str, int] | None:
    """A child's base-reuse report ({base_layers, reused_layers, frozen_layers}), or None."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("base_reuse is not a table of counts")
    return {k: checked_count(value[k]) for k in ("base_layers", "reused_layers", "frozen_layers")}


def submission_hash(folder: Path) -> str:
    """Content hash of every file of a submission (names included)."""
    digest = hashlib.sha256()
    for path in sorted(
        p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    ):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def provenance(
    *,
    spec_hash: str,
    data_fingerprint: str,
    split_key: str,
    submission: str,
    seed: int,
    isolation: str,
    memory_cap: str,
    base_model: dict | None,
) -> dict[str, Any]:
    """Everything needed to tell whether a stored result is still valid, and to reproduce it."""
    return {
        "grader_version": __version__,
        "schema": SCHEMA,
        "spec_hash": spec_hash,
        "data_fingerprint": data_fingerprint,
        "split_key": split_key,
        "submission_hash": submission,
        "seed": seed,
        "isolation": isolation,
        "memory_cap": memory_cap,
        "tensorflow": _version("tensorflow-cpu") or _version("tensorflow"),
        "keras": _version("keras"),
        "numpy": _version("numpy"),
        "python": platform.python_version(),
        "cpu": cpu_description(),
        "base_model": base_model,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


@functools.cache
def cpu_description() -> str:
    """The CPU model and its vector extensions: TensorFlow's kernels, and so the last digits
    of every result, depend on them (same machine, same numbers; another CPU, close ones)."""
    model, flags = platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and model == platform.machine():
                model = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
    except OSError:
        pass
    vector = [f for f in ("avx", "avx2", "fma", "avx512f", "avx512_vnni", "amx_tile") if f in flags]
    return f"{model} ({' '.join(vector) or 'no AVX'})"


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


REUSE_KEYS = ("grader_version", "schema", "spec_hash", "split_key", "submission_hash")


def is_reusable(path: Path, expected: dict[str, Any]) -> bool:
    """True when a stored result was made from the same submission, spec, data and grader."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))["provenance"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return all(stored.get(k) == expected.get(k) for k in REUSE_KEYS)


def write_summary_csv(path: Path, results: list[dict[str, Any]], task_ids: list[str]) -> None:
    """One row per student: score, and per task status, test accuracy and gap."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header = ["student", "name", "score", "max_score", "status"]
    for task in task_ids:
        header += [f"{task}_status", f"{task}_test_accuracy", f"{task}_gap"]
    writer.writerow(header)
    for r in sorted(results, key=lambda r: r["student"]):
        row = [r["student"], r["name"], r["score"], r["max_score"], r["status"]]
        for task in task_ids:
            t = r["tasks"].get(task, {})
            m = t.get("metrics") or {}
            row += [t.get("status", "missing"), _fmt(m.get("test_accuracy")), _fmt(m.get("gap"))]
        writer.writerow(row)
    tmp = path.with_suffix(".csv.tmp")
    tmp.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(tmp, path)


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"
