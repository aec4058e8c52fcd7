"""One submission's children in a relay: each one warms up while the one before it runs.

A child's fixed cost is mostly importing TensorFlow (seconds). Started before its request
exists, a worker imports it and waits (grader/worker/runtime.py), in its own fresh sandbox
and job folder, with no student code run; so the next child of a submission is started as
soon as the current one gets its request, and its import overlaps that child's training.
Isolation is unchanged: every child is still a new process of its own, in a sandbox never
reused, and one runs student code at a time. The two children of a slot use its two lanes
(uids), because a child's end sweeps every process of its uid.
"""

from __future__ import annotations

from collections.abc import Callable

from grader.sandbox import jobs

Starter = Callable[[int], jobs.StartedJob]  # lane -> a started (warm) child


class Relay:
    """The children one submission needs, in the order it runs them, by name."""

    def __init__(self, order: list[tuple[str, Starter]]) -> None:
        self._order = order
        self._warm: dict[str, jobs.StartedJob] = {}  # at most one: the next child

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
        """Kill the warm children nobody took (a task failed before, nothing to score)."""
        for started in self._warm.values():
            jobs.discard_job(started)
        self._warm.clear()

    def _skip_to(self, name: str) -> None:
        """Discard the warm children of names before `name`: none of them will be taken."""
        for skipped in [n for n in self._warm if n != name]:
            jobs.discard_job(self._warm.pop(skipped))

    def _starter(self, name: str) -> Starter:
        return dict(self._order)[name]

    def _following(self, name: str) -> tuple[str, Starter] | None:
        names = [n for n, _ in self._order]
        index = names.index(name) + 1
        return self._order[index] if index < len(self._order) else None
