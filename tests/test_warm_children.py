"""Warm children (issue 16): a worker started before its request imports TensorFlow and
waits; its clock starts when it gets the request; the relay starts each submission's next
child in the slot's other lane while the current one runs, and kills the ones never taken."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from grader import codec, protocol, sandbox
from grader.pipeline import relay as relay_module
from grader.pipeline.relay import Relay
from grader.sandbox import jobs, levels


class FakeStarts:
    """Starters that record which child started in which lane, and which were discarded."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.started: list[tuple[str, int]] = []
        self.discarded: list[str] = []
        monkeypatch.setattr(
            relay_module.jobs, "discard_job", lambda s: self.discarded.append(s.name)
        )

    def starter(self, name: str) -> Any:
        def start(lane: int) -> Any:
            self.started.append((name, lane))
            return SimpleNamespace(name=name, job=SimpleNamespace(lane=lane))

        return start

    def relay(self, names: list[str]) -> Relay:
        return Relay([(n, self.starter(n)) for n in names])


def test_each_child_warms_in_the_other_lane_while_the_one_before_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeStarts(monkeypatch)
    relay = fake.relay(["scratch", "transfer", "cifar10", "scoring"])
    taken = [relay.take(name).name for name in ["scratch", "transfer", "cifar10", "scoring"]]
    relay.close()
    assert taken == ["scratch", "transfer", "cifar10", "scoring"]
    # each one started once, before it was taken, lanes alternating: at most two a slot
    assert fake.started == [("scratch", 0), ("transfer", 1), ("cifar10", 0), ("scoring", 1)]
    assert fake.discarded == []


def test_children_never_taken_are_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeStarts(monkeypatch)
    relay = fake.relay(["scratch", "transfer", "scoring"])
    relay.take("scratch")  # transfer warms up
    relay.close()  # scratch failed to build: the batch goes on without the others
    assert fake.discarded == ["transfer"]
    relay = fake.relay(["scratch", "transfer", "scoring"])
    relay.take("scratch")
    relay.take("scoring")  # transfer skipped (taken from a checkpoint): its warm child dies
    assert fake.discarded == ["transfer", "transfer"]


@pytest.fixture
def bubblewrap() -> Iterator[tuple[sandbox.Sandbox, Path]]:
    if levels.detect_isolation(minimum=None) != sandbox.BUBBLEWRAP:
        pytest.skip("bubblewrap does not work on this machine")
    work = jobs.make_work_root()
    try:
        with sandbox.Sandbox(sandbox.Isolation(sandbox.BUBBLEWRAP)) as box:
            yield box, work
    finally:
        jobs.remove_work_root(work)


def _empty_scoring(job: jobs.Job) -> dict[str, Any]:
    request = protocol.EvalRequest(seed=1, out=job.inside(job.outputs), tasks={})
    return codec.to_json(request)


def test_a_warm_child_waits_and_its_clock_starts_with_its_request(
    bubblewrap: tuple[sandbox.Sandbox, Path],
) -> None:
    box, work = bubblewrap
    job = jobs.new_job(work, "warm", box, slot=0, lane=1)
    started = jobs.start_job(job, "grader.worker.evaluate", wall_seconds=2, memory_gb=4)
    time.sleep(4)  # longer than its wall time: a warm child is not yet on the clock
    assert started.child.proc.poll() is None, "the warm child should be waiting"
    assert not (job.outputs / "eval.json").exists()
    jobs.give_request(started, _empty_scoring(job), wall_seconds=60)
    outcome = jobs.finish_job(started)
    assert (outcome.returncode, outcome.timed_out) == (0, False), outcome.log_tail
    assert outcome.seconds < 3  # TensorFlow was imported while it waited
    report = json.loads((job.outputs / "eval.json").read_text())
    assert report["tasks"] == {}


def test_a_warm_child_not_needed_is_killed(bubblewrap: tuple[sandbox.Sandbox, Path]) -> None:
    box, work = bubblewrap
    job = jobs.new_job(work, "warm", box, slot=0, lane=1)
    started = jobs.start_job(job, "grader.worker.evaluate", wall_seconds=60, memory_gb=4)
    jobs.discard_job(started)
    assert started.child.proc.poll() is not None
    assert not box._live


def test_the_two_lanes_of_a_slot_run_as_different_uids() -> None:
    with sandbox.Sandbox(sandbox.Isolation(sandbox.RLIMITS)) as box:
        lanes = [jobs.Job(Path("/nonexistent"), box, slot=0, lane=lane) for lane in (0, 1)]
        uids = [box.child_uid(job.uid_slot) for job in lanes]
        other_slot = box.child_uid(jobs.Job(Path("/x"), box, slot=1).uid_slot)
    if uids[0] is None:
        pytest.skip("throw-away uids need root")
    assert len({*uids, other_slot}) == 3  # a child's end sweeps its uid: never the other's
