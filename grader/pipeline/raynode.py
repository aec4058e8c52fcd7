"""The node side of the Ray backend (`raybackend`): what one Ray task does on its node.

A task gets the run's shared inputs (`Shared`, put in Ray's object store once by the driver)
and one submission's files (`Parcel`, read on the driver by the safe staging walk). The
shared inputs are written once per node into a private folder keyed by the split and the
base model (under a file lock, put in place by one rename), and the submission is graded
there by `grade_submission` through the same sandboxed children as a local run: student
code never runs in the Ray worker itself. Only the result's JSON text goes back; the driver
alone writes results. Nothing here imports `ray` at module level (it is an optional extra).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any

from grader import codec, manifest, sandbox, shims
from grader.atomic import write_atomic
from grader.errors import GradingError
from grader.layout import Layout
from grader.pipeline.basemodel import MODEL_FILE, TrainedBase
from grader.pipeline.provenance import grader_hash
from grader.pipeline.run import Run
from grader.pipeline.submission import grade_submission
from grader.records import SplitCounts
from grader.sandbox import causes, jobs
from grader.sandbox.diskuse import remove_tree
from grader.spec import Assignment

Files = tuple[tuple[bytes, bytes | None], ...]  # (relative path, content; None: a folder)
Say = Callable[[str, str, str], None]
TASK_LOCK = "task.lock"  # held by the task grading in an `out-*` folder


@dataclass(frozen=True)
class Shared:
    """What every submission's grading shares: put in the object store once per batch."""

    assignment: Assignment  # thresholds already resolved by the driver's reference grading
    split_key: str
    splits: Files  # the split folder's files (hidden test labels too: host side only)
    data_fingerprint: str
    counts: dict[str, SplitCounts]
    base: TrainedBase | None
    base_bytes: bytes | None
    isolation: str  # the driver's level and memory cap: the same on every node
    memory_cap: str
    mode: str
    packing: dict[str, str]
    stack: dict[str, str]  # the driver's grader code and numeric libraries (`stack`)


@dataclass(frozen=True)
class Parcel:
    """One submission: its folder's name and the files the safe walk copied."""

    name: str
    files: Files


def stack() -> dict[str, str]:
    """What decides a result's numbers besides its inputs: the grader's code, the libraries
    and the Python running the children. Every node must match the driver's."""
    found = {"grader_hash": grader_hash(), "python": platform.python_version()}
    for package in ("tensorflow-cpu", "tensorflow", "keras", "numpy"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return found


def grade_on_node(shared: Shared, parcel: Parcel, relay: Any = None) -> str:
    """Grade one submission on this node; its `Result` as JSON text (a Ray task's body).

    Raises:
        GradingError: this node differs from the driver (grader code, libraries) or cannot
            give the driver's isolation; the driver records a grader error for it.
    """
    say = _sayer(relay)
    say(parcel.name, "-", f"grading on Ray node {_node_label()}")
    _check_stack(shared.stack)
    sandbox.harden_grader_process()
    root = node_root()
    splits_dir, base = materialize(shared, root)
    try:
        isolation = sandbox.detect(shared.isolation, shared.memory_cap)
    except ValueError as exc:
        raise GradingError(f"Ray node {_node_label()}: {exc}") from None
    out, held = _task_folder(root)
    try:
        with sandbox.Sandbox(isolation) as box:
            work = jobs.make_work_root()
            try:
                layout = Layout.for_output(out, shared.assignment.id, shared.mode)
                layout.make_private()
                run = Run(assignment=shared.assignment, layout=layout, splits_dir=splits_dir,
                          split_key=shared.split_key, data_fingerprint=shared.data_fingerprint,
                          sandbox=box, work=work, progress=say, counts=shared.counts, base=base,
                          packing=shared.packing)  # fmt: skip
                folder = write_parcel(parcel, out / "submissions")
                result = grade_submission(run, folder, slot=0, force=True)
            except BaseException:  # Ray cancelled the task: no child may outlive it
                box.stop_all()
                raise
            finally:
                jobs.remove_work_root(work)
    finally:
        remove_tree(out)
        shims.release(held)
    return json.dumps(codec.to_json(result), ensure_ascii=False, allow_nan=False)


def node_isolation(minimum: str) -> tuple[bool, str]:
    """(usable, one line): the strongest isolation this node gives, and whether it meets
    `minimum` (`doctor --backend ray`)."""
    found, _ = sandbox.diagnose()
    level = causes.strongest(found)
    if level is None:
        return False, "no isolation level works here: run `python -m grader doctor` on it"
    isolation = sandbox.detect(level)
    if not causes.allowed(level, minimum):
        return False, f"{isolation.describe()}; below the minimum {minimum}"
    return True, isolation.describe()


def node_root() -> Path:
    """This node's private folder for the materialized inputs and the per-task outputs."""
    root = Path(tempfile.gettempdir()) / f"grader-ray-{os.getuid()}"
    root.mkdir(mode=0o700, exist_ok=True)
    if root.is_symlink() or root.stat().st_uid != os.getuid():
        raise GradingError(f"{root} is not this user's own folder: remove it and run again.")
    root.chmod(0o700)  # hidden test labels go in here
    return root


def _task_folder(root: Path) -> tuple[Path, int]:
    """A task's own output folder, locked while it lives (the descriptor holding the lock);
    those of dead tasks (a killed worker) are removed first."""
    for folder in root.glob("out-*"):
        try:
            fd = os.open(folder / TASK_LOCK, os.O_RDWR)
        except FileNotFoundError:  # being made: its lock is taken before it gets its name
            continue
        try:
            shims.lock_exclusive(fd, wait=False)
            remove_tree(folder)
        except BlockingIOError:
            continue  # a live task's
        finally:
            shims.release(fd)
    out = Path(tempfile.mkdtemp(prefix="out-", dir=root))
    fd = os.open(out / f".{TASK_LOCK}", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    shims.lock_exclusive(fd)
    os.rename(out / f".{TASK_LOCK}", out / TASK_LOCK)
    return out, fd


def materialize(shared: Shared, root: Path) -> tuple[Path, TrainedBase | None]:
    """The split folder and the base model written into `root` once per node (checked
    against their hashes), shared by every task of this node with the same key."""
    key = f"{shared.split_key}-{shared.base.sha256[:16] if shared.base else 'no-base'}"
    folder = root / key
    fd = os.open(root / f"{key}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        shims.lock_exclusive(fd)  # one task of this node writes; the others wait, then read
        if folder.is_dir() and _damaged(folder / "splits"):  # a temp cleaner, say
            remove_tree(folder)
        if not folder.is_dir():
            staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root))
            _write_inputs(shared, staging)
            os.rename(staging, folder)
    finally:
        shims.release(fd)
    base = None if shared.base is None else replace(shared.base, path=folder / MODEL_FILE)
    return folder / "splits", base


def _damaged(splits: Path) -> str | None:
    """Why the split folder does not match its manifest (None: it does)."""
    recorded = manifest.recorded(splits)
    return "no manifest" if recorded is None else manifest.problem(splits, recorded.keys())


def _write_inputs(shared: Shared, staging: Path) -> None:
    splits = staging / "splits"
    write_files(shared.splits, splits)
    if (why := _damaged(splits)) is not None:
        raise GradingError(f"The split arrays sent to this node are damaged: {why}.")
    if shared.base is not None and shared.base_bytes is not None:
        write_atomic(staging / MODEL_FILE, shared.base_bytes, private=True)
        if manifest.file_sha256(staging / MODEL_FILE) != shared.base.sha256:
            raise GradingError("The base model sent to this node does not match its hash.")


def write_parcel(parcel: Parcel, parent: Path) -> Path:
    """The submission's files under `parent/<its folder's name>` (as the driver read them)."""
    parent.mkdir(mode=0o700)
    folder = parent / _safe_part(os.fsencode(parcel.name)).decode("utf-8", "surrogateescape")
    write_files(parcel.files, folder)
    return folder


def write_files(files: Files, target: Path) -> None:
    """Write (path, content) pairs under `target`; a path leaving it is refused."""
    out = os.fsencode(target)
    os.makedirs(out, 0o700, exist_ok=True)
    for relative, content in files:
        parts = [_safe_part(p) for p in relative.split(b"/")]
        path = os.path.join(out, *parts)
        if content is None:
            os.makedirs(path, 0o700, exist_ok=True)
            continue
        os.makedirs(os.path.dirname(path), 0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)


def _safe_part(part: bytes) -> bytes:
    if part in (b"", b".", b"..") or b"\0" in part or b"/" in part:
        raise GradingError(f"refused a path component {part!r} sent to this node")
    return part


def _check_stack(expected: dict[str, str]) -> None:
    here = stack()
    differ = [f"{k} {here.get(k)} (driver: {v})" for k, v in expected.items() if here.get(k) != v]
    if differ:
        raise GradingError(
            f"Ray node {_node_label()} grades with {', '.join(differ)}: its numbers would "
            "differ. Install the same grader and `.[grade,cpu]` on every node."
        )


def _sayer(relay: Any) -> Say:
    """Progress lines sent to the driver's relay (none without one); never raises."""
    if relay is None:
        return lambda *_: None

    def say(student: str, task: str, message: str) -> None:
        with contextlib.suppress(Exception):  # a lost line never fails a grading
            relay.say.remote(student, task, message)

    return say


def _node_label() -> str:
    import ray

    return f"{ray.util.get_node_ip_address()} ({ray.get_runtime_context().get_node_id()[:8]})"


class ProgressRelay:
    """An actor on the driver's node holding the nodes' progress lines until it drains them."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, str]] = []

    def say(self, student: str, task: str, message: str) -> None:
        self.lines.append((student, task, message))

    def drain(self) -> list[tuple[str, str, str]]:
        lines, self.lines = self.lines, []
        return lines
