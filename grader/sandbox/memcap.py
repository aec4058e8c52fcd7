"""How a child's memory is capped: an address-space limit, a memory cgroup, or TensorFlow.

The address-space rlimit needs no privileges and works everywhere without a GPU. CUDA,
though, reserves far more address space than it uses, so on a machine with a GPU that
limit would stop every child at start-up. There the cap is a memory cgroup when this
process may create one (cgroup v1 `memory` hierarchy, or v2 with the memory controller
enabled for its children), which counts memory really used; failing that, TensorFlow's
per-GPU memory limit plus a data-segment rlimit for host memory. Each is found by trying.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path

ADDRESS_SPACE, CGROUP, TENSORFLOW = "address-space", "cgroup", "tensorflow"
MEMORY_CAPS = (ADDRESS_SPACE, CGROUP, TENSORFLOW)
CGROUP_ROOT = Path("/sys/fs/cgroup")
NVIDIA_DEVICES = "/dev/nvidia*"


def gpu_devices() -> tuple[str, ...]:
    """NVIDIA device nodes, which a child needs to see to use the GPU (none: CPU only)."""
    return tuple(sorted(glob.glob(NVIDIA_DEVICES)))


def gpu_count(devices: tuple[str, ...], environ: dict[str, str] | None = None) -> int:
    """How many GPUs children may use: the instructor's CUDA_VISIBLE_DEVICES when set, else
    one per /dev/nvidiaN node (not nvidiactl, nvidia-uvm...); 0 without device nodes."""
    if not devices:
        return 0
    chosen = (os.environ if environ is None else environ).get("CUDA_VISIBLE_DEVICES")
    if chosen is not None:
        return len([gpu for gpu in chosen.split(",") if gpu.strip()])
    return sum(bool(re.fullmatch(r"/dev/nvidia\d+", device)) for device in devices)


def choose(forced: str | None, gpus: tuple[str, ...], cgroup_works: bool) -> str:
    """The memory cap to use: `forced` if given, else the best one for this machine."""
    if forced is not None:
        if forced not in MEMORY_CAPS:
            raise ValueError(f"Unknown memory cap {forced!r}; use one of {MEMORY_CAPS}.")
        if forced == CGROUP and not cgroup_works:
            raise ValueError(
                "A memory cgroup cannot be created here: the grader needs write access to its "
                "own cgroup (v1 `memory` hierarchy, or v2 with +memory in cgroup.subtree_control). "
                "Run without --memory-cap to use the best cap this machine allows."
            )
        return forced
    if not gpus:
        return ADDRESS_SPACE
    return CGROUP if cgroup_works else TENSORFLOW


@dataclass(frozen=True)
class CgroupParent:
    """A cgroup under which this process may create one memory-capped cgroup per child."""

    path: Path
    version: int

    def create(self, name: str, limit_bytes: int) -> Path:
        folder = self.path / name
        folder.mkdir()
        try:
            if self.version == 1:
                _write(folder / "memory.limit_in_bytes", limit_bytes)
                _write_if_present(folder / "memory.memsw.limit_in_bytes", limit_bytes)  # no swap
            else:
                _write(folder / "memory.max", limit_bytes)
                _write_if_present(folder / "memory.swap.max", 0)
        except OSError:
            self.remove(folder)
            raise
        return folder

    def oom_kills(self, folder: Path) -> int:
        """How many processes the kernel killed in `folder` for exceeding its limit."""
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        try:
            for line in (folder / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def remove(self, folder: Path, patience: float = 5.0) -> None:
        """Kill whatever is left in `folder`, then delete it."""
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            for pid in _pids(folder):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            try:
                folder.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:  # busy until the killed processes are gone
                time.sleep(0.05)


def find_parent() -> CgroupParent | None:
    """This process's cgroup if a memory-capped child cgroup can be made in it (tried)."""
    for candidate in _candidates():
        try:
            candidate.remove(candidate.create(f"grader-probe-{os.getpid()}", 64 * 2**20))
        except OSError:
            continue
        return candidate
    return None


def join(folder: Path) -> None:
    """Move the calling process into `folder` (run in the child before it drops root)."""
    _write(folder / "cgroup.procs", os.getpid())


def _candidates() -> list[CgroupParent]:
    found = []
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        hierarchy, controllers, path = line.split(":", 2)
        relative = path.lstrip("/")
        if "memory" in controllers.split(","):
            found.append(CgroupParent(CGROUP_ROOT / "memory" / relative, 1))
        elif hierarchy == "0" and _v2_memory_delegated(CGROUP_ROOT / relative):
            found.append(CgroupParent(CGROUP_ROOT / relative, 2))
    return found


def _v2_memory_delegated(folder: Path) -> bool:
    """Whether children of `folder` get the memory controller (enabling it if we may)."""
    try:
        if "memory" in (folder / "cgroup.subtree_control").read_text().split():
            return True
        if "memory" not in (folder / "cgroup.controllers").read_text().split():
            return False
        _write(folder / "cgroup.subtree_control", "+memory")  # refused if we live in `folder`
        return True
    except OSError:
        return False


def _pids(folder: Path) -> list[int]:
    try:
        return [int(p) for p in (folder / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def _write(path: Path, value: int | str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, str(value).encode())
    finally:
        os.close(fd)


def _write_if_present(path: Path, value: int) -> None:
    if path.exists():
        _write(path, value)
