"""Throw-away uids for children when the grader runs as root, and sweeping what they leave.

The process-count limit holds only for a real unprivileged uid, and every process a job
leaves behind (a `setsid` daemon included) can be found by its uid and killed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import threading
import time
from pathlib import Path

FIRST_UID = 61000


def child_uid(slot: int) -> int | None:
    """A separate unprivileged uid per parallel slot, when we are root and can switch.

    Each uid is leased with a lock file for the grader's lifetime, so two graders running at
    once (a batch and a self-check, say) never share one: the sweep kills by uid.
    """
    if os.geteuid() != 0:
        return None
    with _lease_lock:
        if slot not in _leases:
            _leases[slot] = _lease_uid()
        return _leases[slot]


_leases: dict[int, int] = {}
_lease_files: list[int] = []  # open descriptors holding the locks
_lease_lock = threading.Lock()
LEASE_DIR = Path("/tmp/grader-uid-leases")
UID_RANGE = 4096


def _lease_uid() -> int:
    LEASE_DIR.mkdir(mode=0o755, exist_ok=True)
    taken = set(_leases.values())
    for uid in range(FIRST_UID, FIRST_UID + UID_RANGE):
        if uid in taken:
            continue
        fd = os.open(LEASE_DIR / str(uid), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        _lease_files.append(fd)
        return uid
    raise RuntimeError(f"all {UID_RANGE} throw-away uids from {FIRST_UID} are in use")


def sweep(uid: int | None, patience: float = 5.0) -> None:
    """Kill every process left under a child's throw-away uid (daemons included), and reap
    them: an unreaped zombie still counts against that uid's process limit."""
    if uid is None:
        return
    deadline = time.monotonic() + patience
    while (pids := pids_of_uid(uid)) and time.monotonic() < deadline:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)
        _reap(pids)


def pids_of_uid(uid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def _reap(pids: list[int]) -> None:
    """Collect zombies of killed orphans re-parented to us (we are a subreaper).

    Only these pids: waiting on any child would steal exit codes from parallel jobs.
    """
    for pid in pids:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
