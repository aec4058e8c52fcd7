"""`--jobs auto`: submissions graded at once from the cores, the memory and the GPUs, said in
one line and recorded in provenance (`grader.pipeline.packing`)."""

from __future__ import annotations

import pytest

from grader import cli
from grader.pipeline import packing
from grader.sandbox.childenv import NUMERICS
from grader.spec import load_assignment
from tests.conftest import FIXTURES

TINY = load_assignment(FIXTURES / "assignments" / "tiny")  # tasks limited to 6 GB each


def machine(monkeypatch: pytest.MonkeyPatch, cores: int, memory_gb: float | None) -> None:
    monkeypatch.setattr(packing, "usable_cores", lambda: cores)
    monkeypatch.setattr(packing, "machine_memory_gb", lambda: memory_gb)


def test_each_child_keeps_its_fixed_threads() -> None:
    assert packing.THREADS_PER_CHILD == int(NUMERICS["TF_NUM_INTRAOP_THREADS"]) == 2


@pytest.mark.parametrize(
    ("cores", "memory_gb", "jobs"),
    [(2, 24, 1), (1, 24, 1), (8, 64, 4), (16, 64, 8), (24, 64, 10), (64, 8, 1), (8, None, 4)],
)
def test_auto_packs_by_cores_and_memory(
    monkeypatch: pytest.MonkeyPatch, cores: int, memory_gb: float | None, jobs: int
) -> None:
    """Two threads a child; 6 GB a child (the tiny assignment's tasks)."""
    machine(monkeypatch, cores, memory_gb)
    chosen = packing.choose_packing(TINY, (), None)
    assert chosen.jobs == jobs and chosen.chosen_by == "auto"
    assert f"{cores} cores ÷ 2 TensorFlow threads a child" in chosen.describe()


def test_gpus_and_an_explicit_number_win(monkeypatch: pytest.MonkeyPatch) -> None:
    machine(monkeypatch, 32, 256)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    gpus = ("/dev/nvidia0", "/dev/nvidia1", "/dev/nvidiactl")
    assert packing.choose_packing(TINY, gpus, None).jobs == 2
    forced = packing.choose_packing(TINY, (), 3)
    assert (forced.jobs, forced.chosen_by) == (3, "--jobs")
    assert forced.provenance() == {"jobs": "3", "cores": "32", "gpus": "0",
                                   "threads_per_child": "2", "chosen_by": "--jobs"}  # fmt: skip


def test_the_command_line_takes_auto_or_a_number() -> None:
    parse = cli.build_parser().parse_args
    assert parse(["grade"]).jobs is None and parse(["grade", "--jobs", "auto"]).jobs is None
    assert parse(["grade", "--jobs", "3"]).jobs == 3
    for wrong in ("0", "-1", "many"):
        with pytest.raises(SystemExit):
            parse(["grade", "--jobs", wrong])


@pytest.mark.slow
def test_a_graded_result_records_its_packing(graded_tiny: dict) -> None:
    (result, *_) = graded_tiny["results"].values()
    assert result.provenance.packing is not None
    assert result.provenance.packing["jobs"] == "2"  # the fixture grades with jobs_count=2
    assert result.provenance.packing["chosen_by"] == "--jobs"
    notes = [m for _, task, m in graded_tiny["messages"] if task == "packing"]
    assert notes == ["jobs: 2 (--jobs; " + notes[0].split("(--jobs; ")[1]]
