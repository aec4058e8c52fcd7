"""A training child's epoch count while it runs, for the console: read from the
`progress.json` the worker saves after each completed epoch, never from what it prints.

Student code runs in the worker's process, so whatever the child prints or writes could be
forged. The file is read like every child output (no links followed, size capped, decoded
strictly); the console gets two numbers the grader checked (1 <= epoch <= planned <= the
task's max_epochs) in words the grader wrote. It is polled every POLL_SECONDS and shown only
when the count grows: at most that rate, and at most max_epochs messages, per child.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from grader.pipeline import timelimit
from grader.sandbox import jobs
from grader.worker.budget import PROGRESS

POLL_SECONDS = 0.25
Stamp = tuple[int, int, int]


@contextlib.contextmanager
def epochs_shown(job: jobs.Job, max_epochs: int, show: Callable[[str], None]) -> Iterator[None]:
    """Around running `job`: `show("epoch N/M")` each time its completed epochs grow."""
    stop = threading.Event()
    poller = threading.Thread(
        target=_poll, args=(job, max_epochs, show, stop), name="grader-epochs", daemon=True
    )
    poller.start()
    try:
        yield
    finally:
        stop.set()
        poller.join()


def epoch_count(job: jobs.Job, max_epochs: int) -> tuple[int, int] | None:
    """(completed, planned) epochs of the child's last checkpoint, or None (none, or a file
    that is not a valid report within the task's limits)."""
    facts = timelimit.read_progress(job, max_epochs)
    if facts is None:
        return None
    done, planned = facts.history.epochs, facts.planned_epochs
    return (done, planned) if 1 <= done <= planned <= max_epochs else None


def _poll(
    job: jobs.Job, max_epochs: int, show: Callable[[str], None], stop: threading.Event
) -> None:
    shown, seen = 0, None
    while not stop.wait(POLL_SECONDS):
        stamp = _stamp(job.outputs / PROGRESS)
        if stamp is None or stamp == seen:
            continue  # not written yet, or unchanged: not read again
        seen = stamp
        count = epoch_count(job, max_epochs)
        if count is not None and count[0] > shown:
            shown = count[0]
            show(f"epoch {count[0]}/{count[1]}")


def _stamp(path: Path) -> Stamp | None:
    """What changes when the file is replaced or rewritten (its link is not followed)."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns
