"""The Sandbox of one grading run: detecting the isolation, running children, Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from grader.sandbox import memcap, process, strays, uids
from grader.sandbox.levels import Level, detect_isolation, named
from grader.sandbox.process import Child, Limits, Mount, Outcome
from grader.sandbox.uids import UidLeases, sweep

WARM_NICE = 10  # a warm child's import yields to the training beside it (~10% of a core)


class Interrupted(Exception):
    """The grader is stopping (Ctrl-C): the child was killed and nothing may be recorded."""


@dataclass(frozen=True)
class Isolation:
    """How children run here: the isolation level, how memory is capped, the GPUs they see."""

    level: str  # a name in LEVELS, as stored in results
    memory_cap: str = memcap.ADDRESS_SPACE
    gpus: tuple[str, ...] = ()
    cgroup: memcap.CgroupParent | None = None  # where memory-capped child cgroups go

    @property
    def mechanism(self) -> Level:
        """The level's implementation: how it wraps, maps paths and confines."""
        return named(self.level)

    def describe(self) -> str:
        gpus = f"{len(self.gpus)} GPU device(s)" if self.gpus else "CPU only"
        return f"{self.level}, memory cap: {self.memory_cap}, {gpus}"


def detect(level: str | None = None, memory_cap: str | None = None) -> Isolation:
    """The strongest isolation this machine allows, with `level`/`memory_cap` if forced."""
    gpus = memcap.gpu_devices()
    if "CUDA_VISIBLE_DEVICES" in os.environ and not os.environ["CUDA_VISIBLE_DEVICES"].strip():
        gpus = ()  # the instructor hid the GPUs
    wants_cgroup = memory_cap == memcap.CGROUP or (memory_cap is None and bool(gpus))
    cgroup = memcap.find_parent() if wants_cgroup else None  # probed only when it could be used
    cap = memcap.choose(memory_cap, gpus, cgroup is not None)
    return Isolation(detect_isolation(level), cap, gpus, cgroup if cap == memcap.CGROUP else None)


class Sandbox:
    """Runs the children of one grading run: leases their uids, tracks the live ones so that
    Ctrl-C can kill them, and releases the uids on `close`."""

    def __init__(self, isolation: Isolation) -> None:
        self.isolation = isolation
        self._level = isolation.mechanism  # fails early on an unknown level name
        self._uids = UidLeases()
        self._live: set[Child] = set()
        self._lock = threading.Lock()  # children start and end in parallel grading threads
        self._stopping = threading.Event()

    def run(
        self,
        module: str,
        request_inside: str,
        *,
        mounts: Sequence[Mount],
        workdir: Path,
        limits: Limits,
        slot: int,
    ) -> Outcome:
        """Run `python -m module request` confined; never raises for child failures.

        Args:
            module: the worker module, e.g. "grader.worker.train".
            request_inside: path of the request file as the child sees it.
            mounts: host folders the child may see, in order.
            workdir: the child's current folder (host path, one of `mounts` under bubblewrap).
            limits: resource limits.
            slot: parallel slot, which picks the child's throw-away uid.

        What the child prints is kept as `Outcome.log_tail` (bounded) and passed on to no one.

        Raises:
            Interrupted: `stop_all` was called; the child, if started, is dead.
        """
        child = self.start(module, request_inside, mounts=mounts, workdir=workdir,
                           limits=limits, slot=slot)  # fmt: skip
        return self.finish(child, mounts=mounts, workdir=workdir, limits=limits, slot=slot)

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
        """Launch a child (as for `run`) without waiting for it: `finish` or `discard` it.

        A worker whose request file is not there yet imports TensorFlow and waits for it
        (grader/worker/runtime.py): a `warm` child, started while another one trains. It
        starts at WARM_NICE when this grader can undo that (root, a uid of its own): its
        import then takes the cores the training leaves idle, not the training's share;
        `foreground` gives it full priority again with its request.
        """
        if self._stopping.is_set():
            raise Interrupted
        uid = self.child_uid(slot)
        if uid is not None and uids.sweepable_pids(uid):  # the last job's sweep ran out of time
            sweep(uid, patience=60.0)  # (a fork bomb on a busy machine): a clean start only
        command = process.python_command(module, request_inside)
        argv, env = self._level.wrap(
            command, mounts=mounts, workdir=workdir, gpus=self.isolation.gpus, uid=uid
        )
        nice = WARM_NICE if warm and uid is not None else 0
        return self._start(argv, env, workdir, limits, uid, nice)

    def foreground(self, slot: int) -> None:
        """Give the slot's child (a warm one, now given its request) full priority again."""
        uid = self.child_uid(slot)
        if uid is not None:
            with contextlib.suppress(OSError):  # nothing of that uid left: nothing to do
                os.setpriority(os.PRIO_USER, uid, 0)

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
        """Watch a started child to its end (its wall clock counted from `since`, else from
        its launch), kill what is left of it, and say how it ended.

        Raises:
            Interrupted: `stop_all` was called; the child is dead.
        """
        uid = self.child_uid(slot)
        writable = [m.host for m in mounts if m.writable] or [workdir]
        try:
            ending = process.watch(child, limits, writable, strays.counter(uid), since)
        finally:
            out_of_memory = self._retire(child, uid)
        child.reader.join(timeout=5)
        if self._stopping.is_set():
            raise Interrupted  # a pipe still held open by an escaped process must not hang us
        code = child.proc.returncode if child.proc.returncode is not None else -9
        return process.outcome(child, ending, self._level.exit_code(code), out_of_memory, since)

    def discard(self, child: Child, slot: int) -> None:
        """Kill a started child that is not needed after all (a warm one), and its uid's."""
        self._retire(child, self.child_uid(slot))
        child.reader.join(timeout=5)

    def child_uid(self, slot: int) -> int | None:
        """The slot's throw-away uid (None when the grader is not root), leased on first use."""
        return self._uids.uid(slot)

    def stop_all(self) -> None:
        """Kill every running child and refuse to start new ones (Ctrl-C)."""
        self._stopping.set()
        with self._lock:
            for child in self._live:
                process.kill(child.proc, wait=False)

    def close(self) -> None:
        """Release the uid leases; idempotent. Call it once no child runs."""
        self._uids.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _start(
        self,
        argv: list[str],
        env: dict[str, str],
        workdir: Path,
        limits: Limits,
        uid: int | None,
        nice: int = 0,
    ) -> Child:
        """Launch a child in its memory cgroup (if any) and track it for `stop_all`."""
        cgroup = self._new_cgroup(limits, workdir)
        try:
            child = process.launch(
                argv, env, workdir=workdir, limits=limits, memory_cap=self.isolation.memory_cap,
                cgroup=cgroup, uid=uid, nice=nice,
            )  # fmt: skip
        except BaseException:
            self._remove_cgroup(cgroup)
            raise
        with self._lock:
            self._live.add(child)
            if self._stopping.is_set():  # stop_all ran while it started: it missed this one
                process.kill(child.proc, wait=False)
        return child

    def _retire(self, child: Child, uid: int | None) -> bool:
        """Kill what is left of a child and its uid; whether its memory cgroup killed it."""
        process.kill(child.proc)
        sweep(uid)
        parent = self.isolation.cgroup
        out_of_memory = bool(child.cgroup and parent and parent.oom_kills(child.cgroup))
        self._remove_cgroup(child.cgroup)
        with self._lock:
            self._live.discard(child)
        return out_of_memory

    def _new_cgroup(self, limits: Limits, workdir: Path) -> Path | None:
        """A memory cgroup for one child, when memory is capped that way."""
        if self.isolation.memory_cap != memcap.CGROUP or self.isolation.cgroup is None:
            return None
        name = f"grader-{os.getpid()}-{workdir.parent.name}"
        return self.isolation.cgroup.create(name, limits.memory_bytes)

    def _remove_cgroup(self, cgroup: Path | None) -> None:
        if cgroup is not None and self.isolation.cgroup is not None:
            self.isolation.cgroup.remove(cgroup)
