"""Warm children (issue 16): a worker started before its request imports TensorFlow and
waits; its clock starts when it gets the request; the relay starts each submission's next
child in the slot's other lane while the current one runs, and kills the ones never taken."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from grader import codec, protocol, sandbox
from grader.pipeline import relay as relay_module
from grader.pipeline.relay import NEXT, Carry, Relay
from grader.sandbox import jobs, levels, uids
from grader.sandbox.runner import WARM_NICE
from tests.conftest import fixture_submissions


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
            alive = SimpleNamespace(proc=SimpleNamespace(poll=lambda: None))
            job = SimpleNamespace(lane=lane, root=Path("/nonexistent"))
            return SimpleNamespace(name=name, job=job, child=alive)

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


def test_a_warm_child_imports_at_a_lower_priority_until_it_gets_its_request(
    bubblewrap: tuple[sandbox.Sandbox, Path],
) -> None:
    """Its import takes what the training beside it leaves idle; its own work does not wait."""
    box, work = bubblewrap
    job = jobs.new_job(work, "warm", box, slot=0, lane=1)
    uid = box.child_uid(job.uid_slot)
    if uid is None:
        pytest.skip("a priority is lowered only where the grader can raise it again (root)")
    started = jobs.start_job(job, "grader.worker.evaluate", wall_seconds=60, memory_gb=4)
    worker = _worker_of(uid)
    assert os.getpriority(os.PRIO_PROCESS, worker) == WARM_NICE
    jobs.give_request(started, _empty_scoring(job), wall_seconds=60)
    assert os.getpriority(os.PRIO_PROCESS, worker) == 0  # still importing: it had 3 s to go
    outcome = jobs.finish_job(started)
    assert outcome.returncode == 0, outcome.log_tail


def _worker_of(uid: int) -> int:
    """The pid of the Python worker running as `uid` (bubblewrap's own processes aside)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for pid in uids.pids_of_uid(uid):
            with contextlib.suppress(OSError):
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                if argv[1:3] == [b"-m", b"grader.worker.evaluate"]:
                    return pid
        time.sleep(0.05)
    raise AssertionError(f"no worker process of uid {uid}")


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


def test_the_next_submissions_first_child_is_carried_over(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = FakeStarts(monkeypatch)
    carry = Carry(task="scratch")
    first = fake.relay(["scratch", "scoring"])
    first._carry = carry
    first.then(NEXT, fake.starter("next-scratch"))
    first.take("scratch")
    first.take("scoring")  # the next submission's first child warms up meanwhile
    first.close()
    assert carry.started is not None and fake.discarded == []
    assert fake.started[-1] == ("next-scratch", 0)  # the lane scoring (1) does not use
    root = tmp_path / "job"
    root.mkdir()
    carry.started.job.root = root
    second = Relay([("scratch", fake.starter("scratch")), ("scoring", fake.starter("s"))], carry)
    assert second.take("scratch").name == "next-scratch"  # not started again
    second.close()
    assert not root.exists()  # its job folder was outside the submission's: removed
    assert carry.started is None


def test_a_carried_child_for_another_task_is_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeStarts(monkeypatch)
    monkeypatch.setattr(relay_module, "remove_tree", lambda path: None)
    carry = Carry(task="scratch", started=fake.starter("carried")(0))
    Relay([("transfer", fake.starter("transfer"))], carry)  # scratch was checkpointed before
    assert fake.discarded == ["carried"] and carry.started is None


@pytest.mark.slow
def test_warm_and_carried_children_train_exactly_as_cold_ones(
    graded_tiny: dict,  # for the session's caches
    data_dir: Path,
    session_out: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two copies of one submission, graded in one slot: the first's first task in a cold
    child, the second's in the child carried over while the first was scored. Same numbers."""
    from grader.pipeline import submission
    from grader.pipeline.grading import grade_assignment
    from tests.conftest import FIXTURES

    folder = fixture_submissions(tmp_path, ["e2e-good"])
    shutil.copytree(folder / "e2e-good", folder / "e2e-good-copy")
    shutil.copytree(session_out / "cache", tmp_path / "out" / "cache")  # split, base, reference
    unknown_yet = []
    real = submission.start_training

    def start_training(run: Any, staged: Any, *args: Any, **kwargs: Any) -> Any:
        unknown_yet.append(staged is None)
        return real(run, staged, *args, **kwargs)

    monkeypatch.setattr(submission, "start_training", start_training)
    tiny, out = FIXTURES / "assignments" / "tiny", tmp_path / "out"
    results = grade_assignment(
        tiny, submissions=folder, out_dir=out, data_dir=data_dir, jobs_count=1
    )
    one, two = (r.to_json()["tasks"] for r in results)
    assert unknown_yet.count(True) == 1  # only the second submission's first child
    assert len(unknown_yet) == 6  # and no other child started twice
    for task in one:
        assert one[task]["status"] == "ok", one[task]
        for key in ("history", "metrics", "confusion_matrix", "params"):
            assert one[task][key] == two[task][key], (task, key)
