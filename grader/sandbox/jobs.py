"""One child job: its folders, its request file, running it, and reading back what it left."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.sandbox import Limits, Mount, Outcome, Sandbox, logs, memcap
from grader.sandbox.childio import read_child_file

MODEL_MAX_BYTES = 256 * 2**20


@dataclass(frozen=True)
class Job:
    """A job folder: `in/` (read-only for the child) and `out/` (its only writable place)."""

    root: Path
    sandbox: Sandbox
    slot: int

    @property
    def inputs(self) -> Path:
        return self.root / "in"

    @property
    def outputs(self) -> Path:
        return self.root / "out"

    @property
    def mounts(self) -> list[Mount]:
        """The job's folders as a bubblewrapped child sees them."""
        return [Mount(self.inputs, "/job/in"), Mount(self.outputs, "/job/out", writable=True)]

    def inside(self, host: Path) -> str:
        """Where the child sees a file of this job."""
        return self.sandbox.isolation.mechanism.inside(host, self.mounts)


def make_work_root() -> Path:
    """A private folder for job folders, in the system temp dir so that any child uid can
    reach it: traversable (0o711) but not listable, so job folders cannot be found."""
    root = Path(tempfile.mkdtemp(prefix="grader-work-"))
    root.chmod(0o711)
    return root


def new_job(work_root: Path, label: str, sandbox: Sandbox, slot: int) -> Job:
    """Fresh, unguessable job folders; the output folder belongs to the child's uid."""
    job = Job(Path(tempfile.mkdtemp(prefix=f"{label}-", dir=work_root)), sandbox, slot)
    job.root.chmod(0o711)
    job.inputs.mkdir()
    job.outputs.mkdir()
    job.inputs.chmod(0o755)  # explicit modes: the instructor's umask must not hide inputs
    job.outputs.chmod(0o700)
    uid = sandbox.child_uid(slot)
    if uid is not None:
        os.chown(job.outputs, uid, uid)
    return job


def link_inputs(job: Job, files: dict[str, Path]) -> None:
    """Make each file visible in `in/` under a new name (hard link, else copy)."""
    for name, source in files.items():
        target = job.inputs / name
        _readable_folders(job.inputs, target.parent)
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
        target.chmod(0o644)


def _readable_folders(root: Path, folder: Path) -> None:
    """Create `folder` below `root`, every level world-readable whatever the umask."""
    for level in reversed([folder, *folder.parents]):
        if level == root or root not in level.parents:
            continue
        level.mkdir(exist_ok=True)
        level.chmod(0o755)


def run_job(
    job: Job,
    module: str,
    request: dict[str, Any],
    *,
    wall_seconds: float,
    memory_gb: float,
    cpu_seconds: float | None = None,
    on_line: Callable[[str], None] | None = None,
) -> Outcome:
    """Write the request into `in/` and run the worker module on it (`cpu_seconds`: the
    child's whole CPU time, RLIMIT_CPU; by default a multiple of `wall_seconds`)."""
    request_file = job.inputs / "request.json"
    request_file.write_text(json.dumps(worker_request(job, request, memory_gb)))
    request_file.chmod(0o644)
    return job.sandbox.run(
        module,
        job.inside(request_file),
        mounts=job.mounts,
        workdir=job.outputs,
        limits=Limits(wall_seconds, int(memory_gb * 2**30), cpu_seconds=cpu_seconds),
        slot=job.slot,
        on_line=on_line,
    )


def worker_request(job: Job, request: dict[str, Any], memory_gb: float) -> dict[str, Any]:
    """The request plus what the worker applies to itself: Landlock rules, a GPU memory cap."""
    isolation = job.sandbox.isolation
    extra = isolation.mechanism.worker_rules(job.mounts, isolation.gpus)
    if isolation.memory_cap == memcap.TENSORFLOW:
        extra["gpu_memory_mb"] = int(memory_gb * 1024)
    return {**request, **extra}


def take_output(job: Job, name: str, destination: Path, max_bytes: int = MODEL_MAX_BYTES) -> Path:
    """Copy a file out of the child's folder safely (no links followed, size capped)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(read_child_file(job.outputs / name, max_bytes))
    return destination


def log_tail(outcome: Outcome, lines: int = 30) -> str:
    """The child's last output lines, without progress chatter and start-up noise."""
    return logs.readable_tail(outcome.log_tail, lines)
