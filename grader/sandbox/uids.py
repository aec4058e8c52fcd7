"""Throw-away uids for children when the grader runs as root, and sweeping what they leave.

The process-count limit holds only for a real unprivileged uid, and every process a job
leaves behind (a `setsid` daemon included), and every file it left in a folder all uids
may write to (`strays`), can be found by its uid and removed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from pathlib import Path
from types import TracebackType

from grader import shims
from grader.sandbox import strays, unseen

FIRST_UID = 61000
UID_RANGE = 4096
# Under /run where there is one: one folder per machine, where /tmp may be private to a
# service (systemd's PrivateTmp) and two graders would lease, then sweep, the same uid.
LEASE_DIR = Path("/run/grader-uid-leases" if Path("/run").is_dir() else "/tmp/grader-uid-leases")


class UidLeases:
    """The throw-away uids one grading run holds: one per parallel slot, leased lazily.

    Each uid is leased with a lock file until `close`, so two graders running at once (a
    batch and a self-check, say) never share one: the sweep kills by uid.
    """

    def __init__(self) -> None:
        self._uids: dict[int, int] = {}  # slot -> uid
        self._fds: list[int] = []  # open descriptors holding the locks
        self._lock = threading.Lock()  # slots are leased from parallel grading threads

    def uid(self, slot: int) -> int | None:
        """The slot's uid, or None when we are not root (children then run as we do)."""
        shims.require_sandboxing()  # grading, detection, `doctor`: Linux only, said clearly
        if os.geteuid() != 0:
            return None
        with self._lock:
            if slot not in self._uids:
                self._uids[slot] = self._lease()
            return self._uids[slot]

    def leased(self) -> tuple[int, ...]:
        """The uids held now."""
        with self._lock:
            return tuple(self._uids.values())

    def close(self) -> None:
        """Release every lease (closing a lock file drops its lock); idempotent."""
        with self._lock:
            for fd in self._fds:
                shims.release(fd)
            self._fds.clear()
            self._uids.clear()

    def __enter__(self) -> UidLeases:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _lease(self) -> int:
        LEASE_DIR.mkdir(mode=0o755, exist_ok=True)
        taken = set(self._uids.values())
        for uid in range(FIRST_UID, FIRST_UID + UID_RANGE):
            if uid in taken:
                continue
            fd = os.open(LEASE_DIR / str(uid), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                shims.lock_exclusive(fd, wait=False)
            except OSError:
                os.close(fd)
                continue
            self._fds.append(fd)
            sweep(uid)  # what a killed grader's children left under it: not this run's
            return uid
        raise RuntimeError(f"all {UID_RANGE} throw-away uids from {FIRST_UID} are in use")


def sweep(uid: int | None, patience: float = 15.0) -> None:
    """Kill every process left under a child's throw-away uid (daemons included), and reap
    them: an unreaped zombie still counts against that uid's process limit. Then delete
    the files it left in /tmp, /var/tmp, /dev/shm and the like, and its System V shared
    memory segments (which outlive it in the host's IPC namespace)."""
    if uid is None:
        return
    deadline = time.monotonic() + patience
    while (pids := sweepable_pids(uid)) and time.monotonic() < deadline:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)
        _reap(pids)
    strays.remove(uid)
    unseen.remove_segments(uid)


def pids_of_uid(uid: int) -> list[int]:
    """Every process running under `uid`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def sweepable_pids(uid: int) -> list[int]:
    """The processes under `uid` a sweep can end: all but zombies another process must
    reap (a parent that is not us, e.g. a test process that became a subreaper): killing
    them does nothing and waiting for them would stall every job of that uid."""
    return [pid for pid in pids_of_uid(uid) if not _foreign_zombie(pid)]


def _foreign_zombie(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    return fields[0] == "Z" and int(fields[1]) != os.getpid()


def _reap(pids: list[int]) -> None:
    """Collect zombies of killed orphans re-parented to us (we are a subreaper).

    Only these pids: waiting on any child would steal exit codes from parallel jobs.
    """
    for pid in pids:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
