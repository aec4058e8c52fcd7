"""Memory caps: the choice per machine, GPU plumbing, and a real memory cgroup.

No GPU here: the GPU cases check what a child would be given (devices, environment,
request); the cgroup cap, which GPU machines use, is tried for real where this process may
create a memory cgroup (it can in CI's containers), forced on with `memory_cap="cgroup"`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader import sandbox
from grader.pipeline.grading import grade_assignment
from grader.sandbox import jobs, memcap
from grader.sandbox.levels import Bubblewrap, Rlimits
from tests.conftest import FIXTURES

GPUS = ("/dev/nvidia0", "/dev/nvidiactl", "/dev/nvidia-uvm")


@pytest.mark.parametrize(
    ("forced", "gpus", "cgroup_works", "expected"),
    [
        (None, (), True, memcap.ADDRESS_SPACE),  # no GPU: the address-space limit fits
        (None, GPUS, True, memcap.CGROUP),
        (None, GPUS, False, memcap.TENSORFLOW),
        (memcap.CGROUP, (), True, memcap.CGROUP),
        (memcap.ADDRESS_SPACE, GPUS, True, memcap.ADDRESS_SPACE),
    ],
)
def test_the_memory_cap_fits_the_machine(
    forced: str | None, gpus: tuple, cgroup_works: bool, expected: str
) -> None:
    assert memcap.choose(forced, gpus, cgroup_works) == expected


def test_forcing_a_cgroup_where_none_can_be_made_says_why() -> None:
    with pytest.raises(ValueError, match="write access to its own cgroup"):
        memcap.choose(memcap.CGROUP, (), cgroup_works=False)


def test_children_on_a_gpu_machine_see_the_devices(tmp_path: Path) -> None:
    mounts = [sandbox.Mount(tmp_path, "/job/out", writable=True)]
    argv, _ = Bubblewrap().wrap(["python"], mounts=mounts, workdir=tmp_path, gpus=GPUS, uid=None)
    for device in GPUS:
        assert argv[argv.index(device) - 1] == "--dev-bind"
    setenv = {argv[i + 1]: argv[i + 2] for i, arg in enumerate(argv) if arg == "--setenv"}
    assert setenv.get("CUDA_VISIBLE_DEVICES") != ""  # GPUs are not hidden inside
    assert Bubblewrap().environment("/tmp")["CUDA_VISIBLE_DEVICES"] == ""
    assert "CUDA_VISIBLE_DEVICES" not in Rlimits().environment("/tmp", GPUS)
    isolation = sandbox.Isolation(sandbox.LANDLOCK, memcap.TENSORFLOW, GPUS)
    with sandbox.Sandbox(isolation) as box:
        request = jobs.worker_request(jobs.Job(tmp_path, box, 0), {"task": "t"}, memory_gb=2)
    assert request["gpu_memory_mb"] == 2048
    assert set(GPUS) <= set(request["landlock"]["write"])
    with sandbox.Sandbox(sandbox.Isolation(sandbox.BUBBLEWRAP)) as box:
        plain = jobs.Job(tmp_path, box, 0)
        assert jobs.worker_request(plain, {"task": "t"}, memory_gb=2) == {"task": "t"}


@pytest.fixture(scope="module")
def cgroup_batch(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    parent = memcap.find_parent()
    if parent is None:
        pytest.skip("this process may not create a memory cgroup here (see `grader doctor`)")
    tmp = tmp_path_factory.mktemp("memcap")
    assignment = tmp / "assignment"
    shutil.copytree(FIXTURES / "hostile" / "assignment", assignment)
    spec = assignment / "assignment.toml"
    spec.write_text(
        spec.read_text().replace("max_seconds = 10,", "max_seconds = 10, memory_gb = 3,")
    )
    folder = tmp / "submissions"
    shutil.copytree(FIXTURES / "hostile" / "zz-honest", folder / "honest")
    shutil.copytree(FIXTURES / "memcap" / "memory-hog", folder / "memory-hog")
    results = grade_assignment(
        assignment, submissions=folder, out_dir=tmp / "out", data_dir=data_dir,
        jobs_count=2, memory_cap=memcap.CGROUP,
    )  # fmt: skip
    return {"parent": parent, "results": {r.student: r.to_json() for r in results}}


@pytest.mark.slow
def test_a_memory_cgroup_stops_a_child_that_fills_memory(cgroup_batch: dict) -> None:
    hog = cgroup_batch["results"]["memory-hog"]["tasks"]["scratch"]
    assert hog["error_kind"] == "crash", hog["error"]
    assert "used more memory than its limit" in hog["error"]


@pytest.mark.slow
def test_training_works_under_a_memory_cgroup(cgroup_batch: dict) -> None:
    honest = cgroup_batch["results"]["honest"]
    assert honest["tasks"]["scratch"]["status"] == "ok", honest["tasks"]["scratch"]["error"]
    assert honest["provenance"]["memory_cap"] == memcap.CGROUP


@pytest.mark.slow
def test_no_job_cgroup_is_left_behind(cgroup_batch: dict) -> None:
    assert list(cgroup_batch["parent"].path.glob("grader-*")) == []
