"""What a result was computed from and with, and whether a stored result can be reused."""

from __future__ import annotations

import functools
import hashlib
import platform
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from grader import __version__
from grader.errors import Fault, RecordError
from grader.records import SCHEMA, Provenance, Result, read_result
from grader.sandbox import levels

if TYPE_CHECKING:  # the run grades the reference solution with this module: no cycle
    from grader.pipeline.run import Run

# A stored result's trained tasks are reused only when all of these are unchanged.
# `base_model` holds the base model's content hash: a result trained against another base
# model (retrained after its cache was damaged, say) is not reused.
REUSE_KEYS = ("grader_version", "grader_hash", "schema", "training_hash", "split_key",
              "submission_hash", "numerics", "base_model")  # fmt: skip
# These only change how trained tasks are scored: a change re-scores without retraining.
RESCORE_KEYS = ("spec_hash", "reference_hash")
GRADER = Path(__file__).resolve().parent.parent  # the `grader` package
REPORT_ONLY = ("report",)  # subpackages that only render stored results: not part of reuse
# Modules that never decide a result's training or scoring (LMS formats, commands, late
# penalties and overrides, re-applied on every run): a change to them retrains nothing.
NOT_DECIDING = ("lms", "adjust.py", "overrides.py", "pipeline/adjusting.py",
                "pipeline/lmsimport.py", "pipeline/importcommand.py", "pipeline/lmsexport.py",
                "pipeline/exportcommand.py", "pipeline/gradescope.py",
                "pipeline/gradescopecommand.py", "pipeline/doctorcommand.py",
                "pipeline/raybackend.py", "pipeline/raynode.py",  # where, not how: same numbers
                "messages/adjustments.py", "messages/similarity.py")  # fmt: skip


def provenance(run: Run, folder: Path | None) -> Provenance:
    """Everything needed to tell whether a stored result is still valid, and to reproduce it."""
    return Provenance(
        grader_version=__version__,
        grader_hash=grader_hash(),
        schema=SCHEMA,
        spec_hash=run.assignment.spec_hash,
        training_hash=run.assignment.training_hash,
        data_fingerprint=run.data_fingerprint,
        split_key=run.split_key,
        submission_hash="" if folder is None else submission_hash(folder),
        seed=run.assignment.seed,
        isolation=run.isolation.level,
        memory_cap=run.isolation.memory_cap,
        tensorflow=_version("tensorflow-cpu") or _version("tensorflow"),
        keras=_version("keras"),
        numpy=_version("numpy"),
        python=platform.python_version(),
        cpu=cpu_description(),
        numerics=dict(levels.NUMERICS),
        base_model=None if run.base is None else run.base.provenance(),
        reference_hash=reference_hash(run),
        packing=run.packing,
        date=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


def reusable(path: Path, expected: Provenance) -> Result | None:
    """The stored result at `path` when it was trained from the same submission, spec, data
    and grader code; None when it differs, or is missing, unreadable, too old or too new.
    Its checks may still need re-scoring: see `rescore_reason`."""
    return check_reuse(path, expected)[0]


def check_reuse(path: Path, expected: Provenance) -> tuple[Result | None, str | None]:
    """(the stored result, None) when it can be reused; else (None, why not), the reason
    None when there is no stored result at all. The reason is a progress line."""
    if not path.exists():
        return None, None
    try:
        stored = read_result(path)
    except RecordError as exc:
        return None, f"stored result unreadable ({str(exc).splitlines()[0][:80]}): regrading"
    reason = stale_reason(stored.provenance, expected) or failed_in_grader(stored)
    return (stored, None) if reason is None else (None, reason)


def failed_in_grader(stored: Result) -> str | None:
    """Why a stored result must be graded again although nothing it was made from changed:
    a task failed for the grader's or the machine's reasons (a grader bug, a scoring child
    that died), not the student's. Such a failure says nothing about the submission."""
    for task_id, record in stored.tasks.items():
        kind = record.error_kind
        if kind is not None and kind.fault is not Fault.STUDENT:
            return f"{task_id} failed in the grader last time ({kind.code}): regrading"
    return None


def stale_reason(stored: Provenance, expected: Provenance) -> str | None:
    """Why a result made with `stored` cannot stand for one made with `expected` (None: it can)."""
    changed = [k for k in REUSE_KEYS if getattr(stored, k) != getattr(expected, k)]
    if not changed:
        return None
    key = changed[0]
    old, new = getattr(stored, key), getattr(expected, key)
    old_hash, new_hash = str(old)[:4], str(new)[:4]  # (`base_model` is a dict, not a hash)
    if key == "submission_hash" and not old:
        return "the last grading of this submission failed in the grader: regrading"
    reasons = {
        "grader_hash": f"graded by other grader code (hash {old_hash} → {new_hash}): regrading",
        "grader_version": f"graded by grader {old} (now {new}): regrading",
        "schema": f"stored in result schema {old} (now {new}): regrading",
        "training_hash": "assignment spec changed (data, training or limits): regrading",
        "split_key": "data split changed: regrading",
        "submission_hash": "submission changed: regrading",
        "numerics": "trained with other numeric settings: regrading",
        "base_model": "trained against another base model: regrading",
    }
    return reasons.get(key, f"{key} changed: regrading")


def rescore_reason(stored: Provenance, expected: Provenance) -> str | None:
    """Why a reusable result must be scored again (its checks, points, titles or reference
    changed; its trained tasks still stand), as a progress line; None when it need not be."""
    changed = [k for k in RESCORE_KEYS if getattr(stored, k) != getattr(expected, k)]
    if not changed:
        return None
    if changed == ["reference_hash"]:
        return "the reference solution changed: re-scored without retraining"
    return "assignment checks or titles changed: re-scored without retraining"


def reference_hash(run: Run) -> str | None:
    """The reference solution relative thresholds come from (None: none are, in this run)."""
    reference = run.assignment.reference
    resolved = any(c.reference is not None for t in run.assignment.tasks.values() for c in t.checks)
    return reference.content_hash if reference is not None and resolved else None


def submission_hash(folder: Path) -> str:
    """Content hash of every regular file of a submission (names included), read by the
    safe walk that stages it (links never followed, caps checked before reading); a
    submission refused for a cap hashes to what was listed before the refusal."""
    from grader.pipeline import staging  # the only user in this module

    try:
        return staging.copy_tree(folder, None).hash
    except staging.Refused as exc:
        return exc.digest


@functools.cache
def grader_hash() -> str:
    """Content hash of the grader's own code that decides a result (reports excluded), so a
    changed grader regrades even when its version number was not bumped."""
    digest = hashlib.sha256()
    for path in sorted(GRADER.rglob("*.py")):
        relative = path.relative_to(GRADER)
        if decides_results(relative):
            digest.update(relative.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def decides_results(relative: PurePath) -> bool:
    """Whether the grader's file at `relative` (to the package) is part of `grader_hash`: not
    the reports, the modules in NOT_DECIDING, nor data an installed wheel carries beside the
    code (`_assignments/`: the shipped assignments' own files, hashed in their specs)."""
    top = relative.parts[0]
    if top in REPORT_ONLY or (top.startswith("_") and not top.startswith("__")):
        return False
    return not any(relative.as_posix() == n or top == n for n in NOT_DECIDING)


@functools.cache
def cpu_description() -> str:
    """The CPU model and its vector extensions: TensorFlow's kernels depend on them, which
    `levels.NUMERICS` pins (tests/test_determinism.py checks that it does on this machine)."""
    model, flags = platform.machine(), set[str]()
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
