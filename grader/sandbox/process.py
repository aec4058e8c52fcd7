"""One child process: launching it under limits, watching it, killing it, reading its end."""

from __future__ import annotations

import contextlib
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader import shims
from grader.sandbox import diskuse, memcap
from grader.sandbox.output import LOG_TAIL_BYTES as LOG_TAIL_BYTES  # re-exported
from grader.sandbox.output import Tail, start_reader

WATCH_INTERVAL = 0.25  # the shortest time between two looks at a child's disk use
# A look walks the job's folders and the shared ones (/tmp ...): on a machine whose /tmp
# holds thousands of entries it takes tens of ms, CPU the training beside it would use.
# The next look waits this many times as long as the last took: at most ~2% of a core.
WATCH_COST_FACTOR = 50
PR_SET_CHILD_SUBREAPER, PR_SET_DUMPABLE = 36, 4
PYTHON = str(Path(sys.prefix) / "bin" / "python")  # the grader's interpreter, venv included


@dataclass(frozen=True)
class Limits:
    """Resource limits of one child."""

    wall_seconds: float
    memory_bytes: int
    max_processes: int = 512  # TensorFlow alone starts dozens of threads; they count here
    max_file_bytes: int = 256 * 2**20
    max_open_files: int = 1024
    scratch_bytes: int = 512 * 2**20  # all files in the writable folder together
    cpu_seconds: float | None = None  # RLIMIT_CPU (whole process); None: from wall_seconds


@dataclass(frozen=True)
class Mount:
    """A host folder the child sees at `inside` (read-only unless writable)."""

    host: Path
    inside: str
    writable: bool = False


@dataclass(frozen=True)
class Outcome:
    """How a child ended."""

    returncode: int
    timed_out: bool
    seconds: float
    log_tail: str  # the last LOG_TAIL_BYTES of its output (each line cut: see `output`)
    disk_exceeded: bool = False
    out_of_memory: bool = False  # killed by its memory cgroup


@dataclass(frozen=True)
class Ending:
    """Why the watch stopped: the child exited, ran out of time, or wrote too much."""

    timed_out: bool = False
    disk_exceeded: bool = False


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one per process
class Child:
    """A launched child: its process, its start time, the tail of its output, its cgroup."""

    proc: subprocess.Popen[bytes]
    started: float
    tail: Tail
    reader: threading.Thread
    cgroup: Path | None = None  # its own memory cgroup, when memory is capped that way


def harden_grader_process() -> None:
    """Make the grader non-dumpable and the reaper of orphans its children leave behind
    (so that the sweep can reap them; the machine's init may never do it).

    Raises:
        PlatformUnsupported: this system lacks what grading needs (Windows): before any child.
    """
    shims.require_sandboxing()
    if sys.platform != "linux":
        return
    libc = shims.require_libc("prctl")
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def python_command(module: str, argument: str) -> list[str]:
    """`python -m module argument` with the grader's interpreter."""
    return [PYTHON, "-m", module, argument]


def launch(
    argv: list[str],
    env: dict[str, str],
    *,
    workdir: Path,
    limits: Limits,
    memory_cap: str,
    cgroup: Path | None,
    uid: int | None,
    nice: int = 0,
) -> Child:
    """Start `argv` in its own session, limited, as `uid`, `nice` lower in priority; its
    output drained in a thread (kept as a bounded tail: nothing the child prints is passed
    on)."""
    # Here, not in the forked child: there a missing `resource` would be a bare crash (and
    # an import after fork could wait forever on a lock another thread held).
    shims.require_rlimits()
    started = time.monotonic()
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=workdir,
        env=env,
        start_new_session=True,  # one process group to kill, detached from our terminal
        close_fds=True,
        preexec_fn=lambda: _child_setup(limits, memory_cap, cgroup, uid, nice),
    )
    assert proc.stdout is not None
    tail, reader = start_reader(proc.stdout)
    return Child(proc, started, tail, reader, cgroup)


def watch(
    child: Child,
    limits: Limits,
    folders: Sequence[Path],
    extra: Callable[[], int] | None = None,
    since: float | None = None,
) -> Ending:
    """Wait for the child; stop watching at its deadline or when `folders` (plus `extra()`
    bytes: what its uid left in /tmp and the like, `strays`) outgrow the scratch limit
    (the file-size rlimit caps each file, not their total, so it is polled).

    `since`: when its clock started (a warm child's: when it was given its request), else
    when it was launched."""
    deadline = (child.started if since is None else since) + limits.wall_seconds
    interval = WATCH_INTERVAL
    while True:
        try:
            child.proc.wait(timeout=min(interval, max(0.0, deadline - time.monotonic())))
            return Ending()
        except subprocess.TimeoutExpired:
            pass
        if time.monotonic() >= deadline:
            return Ending(timed_out=True)
        looked = time.monotonic()
        used = sum(diskuse.tree_bytes(f) for f in folders) + (extra() if extra else 0)
        if used > limits.scratch_bytes:
            return Ending(disk_exceeded=True)
        interval = max(WATCH_INTERVAL, WATCH_COST_FACTOR * (time.monotonic() - looked))


def kill(proc: subprocess.Popen[bytes], wait: bool = True) -> None:
    """Kill the child's whole process group (what escaped it is the sweep's job)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if wait:
        proc.wait()


def outcome(
    child: Child, ending: Ending, returncode: int, out_of_memory: bool, since: float | None = None
) -> Outcome:
    """The child's outcome, once it is dead and its output drained (`since`: as for `watch`)."""
    text = child.tail.text()
    seconds = round(time.monotonic() - (child.started if since is None else since), 2)
    return Outcome(returncode, ending.timed_out, seconds, text, ending.disk_exceeded, out_of_memory)


def _child_setup(
    limits: Limits, memory_cap: str, cgroup: Path | None, uid: int | None, nice: int = 0
) -> None:
    """Runs in the child between fork and exec: join the memory cgroup while still root,
    set the limits and the priority, then drop to the throw-away uid."""
    if cgroup is not None:
        memcap.join(cgroup)
    _apply_limits(limits, memory_cap)
    if nice:
        os.nice(nice)
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)


def _apply_limits(limits: Limits, memory_cap: str = memcap.ADDRESS_SPACE) -> None:
    cpu = int(limits.wall_seconds * (os.cpu_count() or 1)) + 60
    if limits.cpu_seconds is not None:  # a training child's budget (the worker lowers it)
        cpu = math.ceil(limits.cpu_seconds)
    rlimits = [
        ("CPU", cpu),
        ("NPROC", limits.max_processes),
        ("FSIZE", limits.max_file_bytes),
        ("NOFILE", limits.max_open_files),
        ("CORE", 0),
    ]
    # RLIMIT_AS counts reserved address space too (CUDA reserves plenty); RLIMIT_DATA only
    # writable private memory. Under a memory cgroup, the cgroup is the cap.
    if memory_cap == memcap.ADDRESS_SPACE:
        rlimits.append(("AS", limits.memory_bytes))
    elif memory_cap == memcap.TENSORFLOW:
        rlimits.append(("DATA", limits.memory_bytes))
    for name, value in rlimits:
        shims.set_rlimit(name, value)
