"""No isolation at all: a student's self-check of their own code on their own machine.

The worker runs as a plain child process: no uid switch, no namespaces, no rlimits, so it
works wherever Python does (Windows and macOS included). It keeps what makes the numbers
match the instructor's (the children's numeric settings) and the wall-clock deadline.
Grading never runs here: this level is not one of `levels.ALL_LEVELS`, so `detect` and
`--isolation` never offer it; only a self-check from a student kit builds it by hand.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox import process
from grader.sandbox.levels import PROJECT_ROOT, Gpus, Level, child_environment
from grader.sandbox.output import start_reader
from grader.sandbox.process import Child, Limits, Mount, Outcome
from grader.sandbox.runner import Interrupted, Isolation, Sandbox

UNCONFINED = "unconfined"
NO_MEMORY_CAP = "none"
NOTICE = (
    "running unsandboxed: this is your own code on your own machine; "
    "the instructor's grading is sandboxed"
)


class Unconfined(Level):
    """The child runs as the student, with the student's environment and interpreter."""

    name = UNCONFINED

    def problem(self, uid: int | None) -> str | None:
        return None  # a plain child process always starts

    def wrap(
        self,
        command: list[str],
        *,
        mounts: Sequence[Mount],
        workdir: Path,
        gpus: Gpus,
        uid: int | None,
    ) -> tuple[list[str], dict[str, str]]:
        scratch = next((str(m.host) for m in mounts if m.writable and m.inside == "/tmp"), None)
        return [sys.executable, *command[1:]], self.environment(str(workdir), gpus, scratch)

    def environment(self, home: str, gpus: Gpus = (), tmp: str | None = None) -> dict[str, str]:
        """The student's own environment (Windows needs SYSTEMROOT and the like) with the
        grading children's settings on top; PATH stays the student's."""
        settings = child_environment(str(PROJECT_ROOT), home, gpus, tmp)
        settings.pop("PATH")
        if sys.platform == "win32":
            settings.update(USERPROFILE=home, TEMP=settings["TMPDIR"], TMP=settings["TMPDIR"])
        return {**os.environ, **settings}


@dataclass(frozen=True)
class UnconfinedIsolation(Isolation):
    """The isolation of a student's self-check: none, and CPU only (the instructor's
    numbers are CPU numbers)."""

    level: str = UNCONFINED
    memory_cap: str = NO_MEMORY_CAP

    @property
    def mechanism(self) -> Level:
        return Unconfined()

    def describe(self) -> str:
        return NOTICE


class UnconfinedSandbox(Sandbox):
    """Runs each child as a plain process of the student's, within its wall-clock time."""

    def __init__(self) -> None:
        super().__init__(UnconfinedIsolation())

    def child_uid(self, slot: int) -> int | None:
        return None  # children run as the student

    def start(
        self,
        module: str,
        request_inside: str,
        *,
        mounts: Sequence[Mount],
        workdir: Path,
        limits: Limits,
        slot: int,
        warm: bool = False,
    ) -> Child:
        if self._stopping.is_set():
            raise Interrupted
        command = process.python_command(module, request_inside)
        argv, env = self._level.wrap(command, mounts=mounts, workdir=workdir, gpus=(), uid=None)
        child = _launch(argv, env, workdir)
        with self._lock:
            self._live.add(child)
        return child

    def finish(
        self,
        child: Child,
        *,
        mounts: Sequence[Mount],
        workdir: Path,
        limits: Limits,
        slot: int,
        since: float | None = None,
    ) -> Outcome:
        writable = [m.host for m in mounts if m.writable] or [workdir]
        try:
            ending = process.watch(child, limits, writable, since=since)
        finally:
            self.discard(child, slot)
        if self._stopping.is_set():
            raise Interrupted
        code = child.proc.returncode if child.proc.returncode is not None else -9
        return process.outcome(child, ending, code, out_of_memory=False, since=since)

    def discard(self, child: Child, slot: int) -> None:
        _kill(child.proc)
        with self._lock:
            self._live.discard(child)
        child.reader.join(timeout=5)

    def stop_all(self) -> None:
        self._stopping.set()
        with self._lock:
            for child in self._live:
                _kill(child.proc, wait=False)


def _launch(argv: list[str], env: dict[str, str], workdir: Path) -> Child:
    """Start the child in its own process group (session on POSIX), output drained."""
    started = time.monotonic()
    if sys.platform == "win32":
        group = {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    else:
        group = {"start_new_session": True}
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=workdir,
        env=env,
        close_fds=True,
        **group,  # type: ignore[call-overload]
    )
    assert proc.stdout is not None
    tail, reader = start_reader(proc.stdout)
    return Child(proc, started, tail, reader)


def _kill(proc: subprocess.Popen[bytes], wait: bool = True) -> None:
    """Kill the child and, on POSIX, what it started in its session."""
    with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
        if sys.platform == "win32":
            proc.kill()
        else:
            os.killpg(proc.pid, signal.SIGKILL)
    if wait:
        proc.wait()
