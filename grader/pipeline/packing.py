"""How many submissions train at once (`--jobs auto`): what the cores, the memory and the
GPUs allow, said in one line and recorded in each result's provenance.

Each child's TensorFlow uses a fixed number of intra-op threads (`NUMERICS`: the order of
every sum depends on it, so it never follows the machine), so packing changes how many
children run side by side, never a number they compute.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from grader.sandbox import memcap
from grader.sandbox.childenv import NUMERICS
from grader.spec import Assignment

THREADS_PER_CHILD = int(NUMERICS["TF_NUM_INTRAOP_THREADS"])


@dataclass(frozen=True)
class Packing:
    """The number of submissions graded at once, and what decided it."""

    jobs: int
    cores: int
    memory_gb: float | None  # the machine's (None: unknown)
    child_memory_gb: float  # the largest task's memory limit
    gpus: int
    threads_per_child: int = THREADS_PER_CHILD
    chosen_by: str = "auto"  # auto | --jobs

    def describe(self) -> str:
        """`jobs: 1 (2 cores ÷ 2 TensorFlow threads a child; 23 GB ÷ 6 GB a child: 3)`."""
        if self.chosen_by != "auto":
            return f"jobs: {self.jobs} (--jobs; {self._machine()})"
        if self.gpus:
            return f"jobs: {self.jobs} (one per GPU; {self._machine()})"
        return f"jobs: {self.jobs} ({self._machine()})"

    def _machine(self) -> str:
        text = f"{self.cores} cores ÷ {self.threads_per_child} TensorFlow threads a child"
        if self.memory_gb is not None:
            text += f"; {self.memory_gb:.0f} GB ÷ {self.child_memory_gb:g} GB a child"
        return text

    def provenance(self) -> dict[str, str]:
        return {"jobs": str(self.jobs), "cores": str(self.cores), "gpus": str(self.gpus),
                "threads_per_child": str(self.threads_per_child),
                "chosen_by": self.chosen_by}  # fmt: skip


def choose_packing(assignment: Assignment, gpus: tuple[str, ...], requested: int | None) -> Packing:
    """`requested` jobs if given; else one per GPU, else as many as both the cores (each
    child's threads) and the memory (each child's limit) allow, at least one."""
    cores = usable_cores()
    memory = machine_memory_gb()
    child = max((t.limits.memory_gb for t in assignment.tasks.values()), default=1.0)
    gpu_count = memcap.gpu_count(gpus)
    facts = Packing(jobs=1, cores=cores, memory_gb=memory, child_memory_gb=child, gpus=gpu_count)
    if requested is not None:
        return replace(facts, jobs=max(1, requested), chosen_by="--jobs")
    if gpu_count:
        return replace(facts, jobs=gpu_count)
    by_cores = cores // THREADS_PER_CHILD
    by_memory = int(memory // child) if memory is not None else by_cores
    return replace(facts, jobs=max(1, min(by_cores, by_memory)))


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system says)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def machine_memory_gb() -> float | None:
    """The machine's physical memory, None where the system does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
    except (AttributeError, OSError, ValueError):
        return None
