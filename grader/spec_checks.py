"""The grading part of a spec: a task's checks, the `[reference]` solution they may be
relative to (`threshold = { reference = -0.05 }`: its value for the same check, plus -0.05),
and the `learning_floor` below which checks that do not measure learning earn nothing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from grader import checks, floor
from grader.assignment import Check, Reference, Relative, Task
from grader.errors import SpecError
from grader.spec_reader import TableReader, field_names

# How far a relative threshold may sit from the reference solution's value
OFFSET = checks.Bounds(-1.0, 1.0, "an offset in [-1, 1] from the reference solution's value")
# What a reference folder must hold: a submission's files (grader.pipeline.submissions)
SUBMISSION_FILES = ("submission.py", "submission.ipynb")


def read_check(r: TableReader, task_id: str, tasks: dict[str, Any]) -> Check:
    """One check; which keys it takes and its threshold's bounds come from its kind."""
    name = r.get("kind", str, check=lambda v: v in checks.KINDS,
                 expected=f"one of {list(checks.KINDS)}")  # fmt: skip
    kind = checks.KINDS[name]
    r.reject_unknown(kind.spec_keys())
    threshold = _read_limit(r, "threshold", kind)
    points = r.get("points", float, check=lambda v: v >= 0, expected="a number >= 0")
    partial_from = _read_limit(r, "partial_from", kind) if "partial_from" in r.table else None
    if partial_from is not None and not _ramp_ok(kind, partial_from, threshold):
        side = "above" if kind.at_most else "below"
        shown = threshold if isinstance(threshold, float) else r.table["threshold"]
        expected = f"{kind.bounds.expected}, {side} the threshold {shown}"
        if isinstance(partial_from, Relative):
            expected = f"an offset {side} the threshold's offset {shown}"
        raise r.fail("partial_from", r.table["partial_from"], expected)
    if not kind.compares:
        return Check(name, threshold, points, partial_from=partial_from)
    others = [t for t in tasks if t != task_id]
    expected = f"the id of the task this check compares with, one of {others}"
    other = r.get("compare_to", str, expected=expected)
    if other not in tasks or other == task_id:
        raise r.fail("compare_to", other, f"another task id {list(tasks)}")
    return Check(name, threshold, points, other, partial_from)


def _read_limit(r: TableReader, key: str, kind: type[checks.CheckKind]) -> float | Relative:
    """A threshold or ramp start: a number in the kind's bounds, or `{ reference = offset }`."""
    if not isinstance(r.table.get(key), dict):
        value: float = r.get(key, float, check=kind.bounds.contains, expected=kind.bounds.expected)
        return value
    if not kind.relative:
        raise r.fail(key, r.table[key], f"a number ({kind.name} counts exactly: a threshold "
                     "relative to the reference solution is for measured accuracies)")  # fmt: skip
    table = r.sub(key)
    table.reject_unknown(("reference",))
    return Relative(table.get("reference", float, check=OFFSET.contains, expected=OFFSET.expected))


def _ramp_ok(
    kind: type[checks.CheckKind], start: float | Relative, threshold: float | Relative
) -> bool:
    """A ramp start on the failing side of the threshold; a relative one against a number is
    checked once the reference's value is known (`grader.thresholds.resolve`)."""
    if isinstance(start, Relative) and isinstance(threshold, Relative):
        start, threshold = start.offset, threshold.offset  # the same value + each offset
        return start > threshold if kind.at_most else start < threshold
    if isinstance(start, float) and isinstance(threshold, float):
        return kind.ramp_start_ok(start, threshold)
    return True


def read_learning_floor(r: TableReader) -> float:
    """`learning_floor`: a share of the way from chance to a perfect score (`grader.floor`).

    Raises:
        SpecError: not a share in [0, 1), e.g. 2 meant as "twice chance".
    """
    expected = (
        "a share in [0, 1) of the way from chance to a perfect score, not a multiple of "
        "chance: 0.1 (the default) puts the floor at 0.19 for 10 classes and 0.40 for 3 "
        "(never above a task's min_test_accuracy threshold); 0 turns it off"
    )
    share: float = r.get("learning_floor", float, floor.DEFAULT_SHARE,
                         check=lambda v: 0 <= v < 1, expected=expected)  # fmt: skip
    return share


def read_reference(r: TableReader, directory: Path, required: bool) -> Reference:
    """The instructor's solution: a .py, a .ipynb or a submission folder in the assignment."""
    r.reject_unknown(field_names(Reference, besides=("content_hash",)))
    where = 'inside the assignment folder, e.g. "reference/submission.py"'
    path = r.get("path", str, check=lambda v: (directory / v).resolve().is_relative_to(directory),
                 expected=f"a relative path {where}")  # fmt: skip
    target = directory / path
    if not target.exists():
        if not required:
            return Reference(path, None)
        raise r.fail("path", path, f"an existing file or folder {where} (in {directory}): put "
                     "your own solution there, written like a student's submission")  # fmt: skip
    if target.is_dir() and not any((target / name).is_file() for name in SUBMISSION_FILES):
        raise r.fail("path", path, f"a folder holding one of {list(SUBMISSION_FILES)}")
    if target.is_file() and target.suffix not in (".py", ".ipynb"):
        raise r.fail("path", path, "a .py file, a .ipynb notebook or a submission folder")
    return Reference(path, _content_hash(target))


def check_relative_has_reference(
    path: Path, tasks: dict[str, Task], reference: Reference | None
) -> None:
    """A relative threshold needs a reference solution to be relative to."""
    relative = [f"tasks.{t.id}.checks[{i}]" for t in tasks.values()
                for i, c in enumerate(t.checks) if c.relative]  # fmt: skip
    if relative and reference is None:
        raise SpecError(
            f"{path}: `{relative[0]}` has a threshold relative to the reference solution "
            "({ reference = offset }), but the assignment has no [reference] table. Add one "
            'naming your solution (`[reference]` with `path = "reference/submission.py"`), or '
            "write the threshold as a number."
        )


def _content_hash(target: Path) -> str:
    """A file's content hash, or a folder's over every file (names included), as for a
    submission: a changed reference solution is graded again."""
    files = [target] if target.is_file() else sorted(
        p for p in target.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )  # fmt: skip
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.relative_to(target.parent).as_posix().encode() + b"\0")
        digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
