"""One child job: its folders, its request file, running it, and reading back what it left."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from grader.sandbox import Limits, Mount, Outcome, Sandbox, logs, workroot
from grader.sandbox.childio import read_child_file
from grader.sandbox.process import Child

MODEL_MAX_BYTES = 256 * 2**20
REQUEST = "request.json"
LANE_STRIDE = 1000  # uid slots of a parallel slot's second lane: slot + LANE_STRIDE


@dataclass(frozen=True)
class Job:
    """A job folder: `in/` (read-only for the child); `out/`, `tmp/` and `shm/` its only
    writable places, all three counted by the write cap (`Limits.scratch_bytes`).

    `slot` is the parallel slot (which GPU); `lane` which of the slot's two uids runs it, so
    that a warm child can wait while the slot's other child runs (each child's end sweeps
    every process of its uid)."""

    root: Path
    sandbox: Sandbox
    slot: int
    lane: int = 0

    @property
    def uid_slot(self) -> int:
        """The sandbox slot whose throw-away uid runs this job's child."""
        return self.slot + self.lane * LANE_STRIDE

    @property
    def inputs(self) -> Path:
        return self.root / "in"

    @property
    def outputs(self) -> Path:
        return self.root / "out"

    @property
    def scratch(self) -> Path:
        """The child's /tmp (and TMPDIR) under every level."""
        return self.root / "tmp"

    @property
    def shared_memory(self) -> Path:
        """The child's /dev/shm under bubblewrap (the other levels give it none)."""
        return self.root / "shm"

    @property
    def mounts(self) -> list[Mount]:
        """The job's folders as a bubblewrapped child sees them."""
        return [
            Mount(self.inputs, "/job/in"),
            Mount(self.outputs, "/job/out", writable=True),
            Mount(self.scratch, "/tmp", writable=True),
            Mount(self.shared_memory, "/dev/shm", writable=True),
        ]

    def inside(self, host: Path) -> str:
        """Where the child sees a file of this job."""
        return self.sandbox.isolation.mechanism.inside(host, self.mounts)


def make_work_root() -> Path:
    """The run's folder for job folders (0o711: any child uid passes, none lists it); the
    folders of dead runs are removed first. Give it back with `remove_work_root`."""
    return workroot.make()


def remove_work_root(root: Path) -> None:
    """Delete the run's work folder and release its lock."""
    workroot.remove(root)


def new_job(work_root: Path, label: str, sandbox: Sandbox, slot: int, lane: int = 0) -> Job:
    """Fresh, unguessable job folders that only the job's own uid (and root) may enter.

    Explicit modes, whatever the instructor's umask: the job folder and `in/` are root's,
    searchable/readable by the child's group only (its uid's own gid); the writable
    folders belong to the child. Other children, other local users and a stale copy
    left by a killed run see nothing, though `in/` holds hard links to shared arrays.
    """
    job = Job(Path(tempfile.mkdtemp(prefix=f"{label}-", dir=work_root)), sandbox, slot, lane)
    uid = sandbox.child_uid(job.uid_slot)
    _private(job.root, uid, 0o710)
    job.inputs.mkdir()
    _private(job.inputs, uid, 0o750)
    for folder in (job.outputs, job.scratch, job.shared_memory):
        folder.mkdir(mode=0o700)
        folder.chmod(0o700)
        if uid is not None:
            os.chown(folder, uid, uid)
    return job


def link_inputs(job: Job, files: dict[str, Path]) -> None:
    """Make each file visible in `in/` under a new name (hard link, else copy). A hard
    link shares its source's mode, so files are 0o644: `in/`'s folders guard them."""
    uid = job.sandbox.child_uid(job.uid_slot)
    for name, source in files.items():
        target = job.inputs / name
        _private_folders(job.inputs, target.parent, uid)
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
        target.chmod(0o644)


def _private(folder: Path, uid: int | None, mode: int) -> None:
    """Give `folder` to root and the child's group with `mode` (0o700 when children run as
    the grader itself: no group to share with)."""
    if uid is None:
        folder.chmod(0o700)
        return
    os.chown(folder, -1, uid)
    folder.chmod(mode)


def _private_folders(root: Path, folder: Path, uid: int | None) -> None:
    """Create `folder` below `root`, every level readable by the child's group only."""
    for level in reversed([folder, *folder.parents]):
        if level == root or root not in level.parents:
            continue
        level.mkdir(exist_ok=True)
        _private(level, uid, 0o750)


def run_job(
    job: Job,
    module: str,
    request: dict[str, Any],
    *,
    wall_seconds: float,
    memory_gb: float,
    cpu_seconds: float | None = None,
) -> Outcome:
    """Write the request into `in/` and run the worker module on it (`cpu_seconds`: the
    child's whole CPU time, RLIMIT_CPU; by default a multiple of `wall_seconds`)."""
    _write_request(job, worker_request(job, request, memory_gb))
    started = start_job(job, module, wall_seconds=wall_seconds, memory_gb=memory_gb,
                        cpu_seconds=cpu_seconds)  # fmt: skip
    return finish_job(started)


@dataclass
class StartedJob:
    """A job's child, launched; `finish_job` or `discard_job` it. Without its request yet
    (`give_request`) it is warm: TensorFlow imported, waiting, no student code run."""

    job: Job
    child: Child
    limits: Limits
    memory_gb: float
    given: float | None = None  # when it got its request: its wall clock starts there


def start_job(
    job: Job,
    module: str,
    *,
    wall_seconds: float,
    memory_gb: float,
    cpu_seconds: float | None = None,
) -> StartedJob:
    """Launch the worker module on the job (its request given now or later)."""
    limits = Limits(wall_seconds, int(memory_gb * 2**30), cpu_seconds=cpu_seconds)
    request, given_now = job.inside(job.inputs / REQUEST), (job.inputs / REQUEST).exists()
    child = job.sandbox.start(module, request, mounts=job.mounts, workdir=job.outputs,
                              limits=limits, slot=job.uid_slot, warm=not given_now)  # fmt: skip
    given = child.started if given_now else None
    return StartedJob(job, child, limits, memory_gb, given)


def give_request(started: StartedJob, request: dict[str, Any], wall_seconds: float) -> None:
    """Hand a warm child its request; its `wall_seconds` run from now."""
    started.job.sandbox.foreground(started.job.uid_slot)  # before it can start training
    _write_request(started.job, worker_request(started.job, request, started.memory_gb))
    started.limits = replace(started.limits, wall_seconds=wall_seconds)
    started.given = time.monotonic()


def finish_job(started: StartedJob) -> Outcome:
    """Wait for the job's child to end (within its limits) and say how it ended."""
    job = started.job
    return job.sandbox.finish(
        started.child,
        mounts=job.mounts,
        workdir=job.outputs,
        limits=started.limits,
        slot=job.uid_slot,
        since=started.given,
    )


def discard_job(started: StartedJob) -> None:
    """Kill a job's child that is not needed after all."""
    started.job.sandbox.discard(started.child, started.job.uid_slot)


def _write_request(job: Job, request: dict[str, Any]) -> None:
    """Write the request whole, then give it its name: a waiting child never reads half."""
    part = job.inputs / f".{REQUEST}.part"
    part.write_text(json.dumps(request))
    part.chmod(0o644)
    os.replace(part, job.inputs / REQUEST)


def worker_request(job: Job, request: dict[str, Any], memory_gb: float) -> dict[str, Any]:
    """The request plus what the worker applies to itself: Landlock rules, and on a GPU
    machine the GPU it trains on (its slot's) with that GPU's memory capped (a cgroup caps
    host memory only)."""
    isolation = job.sandbox.isolation
    extra = isolation.mechanism.worker_rules(job.mounts, isolation.gpus)
    if isolation.gpus:
        extra["gpu_memory_mb"] = int(memory_gb * 1024)
        extra["gpu_slot"] = job.slot
    return {**request, **extra}


def take_output(job: Job, name: str, destination: Path, max_bytes: int = MODEL_MAX_BYTES) -> Path:
    """Copy a file out of the child's folder safely (no links followed, size capped)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(read_child_file(job.outputs / name, max_bytes))
    return destination


def log_tail(outcome: Outcome, lines: int = 30) -> str:
    """The child's last output lines, without start-up noise, cleaned of escapes."""
    return logs.readable_tail(outcome.log_tail, lines)
