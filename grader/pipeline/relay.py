"""One submission's children in a relay: each one warms up while the one before it runs.

A child's fixed cost is mostly importing TensorFlow (seconds). Started before its request
exists, a worker imports it and waits (grader/worker/runtime.py), in its own fresh sandbox
and job folder, with no student code run; so the next child of a submission is started as
soon as the current one gets its request, and its import overlaps that child's training.
Isolation is unchanged: every child is still a new process of its own, in a sandbox never
reused, and one runs student code at a time. The two children of a slot use its two lanes
(uids), because a child's end sweeps every process of its uid.

In a batch the relay goes on across submissions: while one is scored, the first training
child of the slot's next submission warms up (its submission is copied in when it gets its
request), carried over in the slot's `Carry`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from grader.sandbox import jobs
from grader.sandbox.diskuse import remove_tree

Starter = Callable[[int], jobs.StartedJob]  # lane -> a started (warm) child
NEXT = "(next submission)"  # the relay's name for the next submission's first child


@dataclass
class Carry:
    """A slot's warm child for its next submission's first task, between two submissions."""

    task: str = ""
    started: jobs.StartedJob | None = None
    wanted: bool = True  # False once no submission is left to start: none is warmed up

    def discard(self) -> None:
        """Kill the carried child (the batch is over)."""
        if self.started is not None:
            jobs.discard_job(self.started)
            remove_tree(self.started.job.root)
        self.started = None


class Relay:
    """The children one submission needs, in the order it runs them, by name."""

    def __init__(self, order: list[tuple[str, Starter]], carry: Carry | None = None) -> None:
        """`order`: (name, starter) of each child in turn; with a `carry`, the carried child
        is taken for the first one (when it is for that task and still alive), and a warm
        child named NEXT is handed over to the carry on `close`."""
        self._order = order
        self._warm: dict[str, jobs.StartedJob] = {}  # at most one: the next child
        self._carry = carry
        self._adopted: list[jobs.StartedJob] = []  # job folders outside the submission's
        if carry is not None and carry.started is not None:
            carried, carry.started = carry.started, None
            if order and order[0][0] == carry.task and carried.child.proc.poll() is None:
                self._warm[carry.task] = carried
                self._adopted.append(carried)
            else:
                jobs.discard_job(carried)
                remove_tree(carried.job.root)

    def then(self, name: str, starter: Starter) -> None:
        """One more child after the others (NEXT: handed over to the carry on `close`)."""
        self._order.append((name, starter))

    def take(self, name: str) -> jobs.StartedJob:
        """The child `name` (warm if it was started before, else started now), and the one
        after it started in the other lane. Call it once the previous child has ended."""
        self._skip_to(name)
        started = self._warm.pop(name, None) or self._starter(name)(0)
        following = self._following(name)
        if following is not None:
            self._warm[following[0]] = following[1](1 - started.job.lane)
        return started

    def close(self) -> None:
        """Kill the warm children nobody took (a task failed before, nothing to score), but
        hand the next submission's over to the carry; remove the adopted job folders."""
        for name, started in self._warm.items():
            if name == NEXT and self._carry is not None:
                self._carry.started = started
            else:
                jobs.discard_job(started)
        self._warm.clear()
        for started in self._adopted:
            remove_tree(started.job.root)

    def _skip_to(self, name: str) -> None:
        """Discard the warm children of names before `name`: none of them will be taken."""
        for skipped in [n for n in self._warm if n not in (name, NEXT)]:
            jobs.discard_job(self._warm.pop(skipped))

    def _starter(self, name: str) -> Starter:
        return dict(self._order)[name]

    def _following(self, name: str) -> tuple[str, Starter] | None:
        names = [n for n, _ in self._order]
        index = names.index(name) + 1
        return self._order[index] if index < len(self._order) else None
