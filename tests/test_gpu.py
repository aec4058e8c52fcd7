"""The GPU when there is one (issue 14): each parallel child trains on its slot's GPU with
that GPU's memory capped, and the jobs count follows the GPUs.

No GPU here: these check what a child is handed (the request, TensorFlow's device calls,
seen through stand-ins for `tf.config`) and how many jobs a GPU machine would run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader import sandbox
from grader.sandbox import jobs, memcap
from grader.worker import runtime

TWO_GPUS = ("/dev/nvidia0", "/dev/nvidia1", "/dev/nvidia-uvm", "/dev/nvidiactl")


@pytest.mark.parametrize("cap", [memcap.CGROUP, memcap.TENSORFLOW])
@pytest.mark.parametrize("slot", [0, 1, 3])
def test_a_child_on_a_gpu_machine_is_told_its_slot_and_memory_cap(
    tmp_path: Path, cap: str, slot: int
) -> None:
    isolation = sandbox.Isolation(sandbox.BUBBLEWRAP, cap, TWO_GPUS)
    with sandbox.Sandbox(isolation) as box:
        request = jobs.worker_request(jobs.Job(tmp_path, box, slot), {"task": "t"}, memory_gb=3)
    assert request == {"task": "t", "gpu_slot": slot, "gpu_memory_mb": 3072}


def test_a_child_on_the_cpu_is_told_nothing_about_gpus(tmp_path: Path) -> None:
    with sandbox.Sandbox(sandbox.Isolation(sandbox.BUBBLEWRAP)) as box:
        request = jobs.worker_request(jobs.Job(tmp_path, box, 2), {"task": "t"}, memory_gb=3)
    assert request == {"task": "t"}


class FakeConfig:
    """What `claim_gpu` asks of `tf.config`, recorded."""

    def __init__(self, gpus: list[str]) -> None:
        self.gpus = gpus
        self.visible: list[str] | None = None
        self.capped: dict[str, int] = {}

    def list_physical_devices(self, kind: str) -> list[str]:
        assert kind == "GPU"
        return list(self.gpus)

    def set_visible_devices(self, devices: list[str], kind: str) -> None:
        self.visible = devices

    def set_logical_device_configuration(self, device: str, config: list) -> None:
        self.capped[device] = config[0].memory_limit


@pytest.fixture
def fake_config(monkeypatch: pytest.MonkeyPatch) -> FakeConfig:
    tf = pytest.importorskip("tensorflow")
    fake = FakeConfig(["GPU:0", "GPU:1"])
    for name in ("list_physical_devices", "set_visible_devices"):
        monkeypatch.setattr(tf.config, name, getattr(fake, name))
    monkeypatch.setattr(
        tf.config, "set_logical_device_configuration", fake.set_logical_device_configuration
    )
    return fake


@pytest.mark.parametrize(("slot", "gpu"), [(0, "GPU:0"), (1, "GPU:1"), (2, "GPU:0"), (5, "GPU:1")])
def test_parallel_children_take_the_gpus_in_turn_each_capped(
    fake_config: FakeConfig, slot: int, gpu: str
) -> None:
    runtime.claim_gpu(slot, 2048)
    assert fake_config.visible == [gpu]
    assert fake_config.capped == {gpu: 2048}


def test_without_a_gpu_or_a_request_nothing_is_configured(fake_config: FakeConfig) -> None:
    runtime.claim_gpu(None, None)
    assert fake_config.visible is None and fake_config.capped == {}
    fake_config.gpus = []
    runtime.claim_gpu(1, 2048)
    assert fake_config.visible is None and fake_config.capped == {}


@pytest.mark.parametrize(
    ("devices", "environ", "count"),
    [
        ((), {}, 0),
        (TWO_GPUS, {}, 2),
        (("/dev/nvidia0", "/dev/nvidiactl"), {}, 1),
        (TWO_GPUS, {"CUDA_VISIBLE_DEVICES": "1"}, 1),  # the instructor's choice
        (TWO_GPUS, {"CUDA_VISIBLE_DEVICES": "0,1,"}, 2),
    ],
)
def test_the_jobs_count_follows_the_gpus(
    devices: tuple[str, ...], environ: dict[str, str], count: int
) -> None:
    assert memcap.gpu_count(devices, environ) == count
