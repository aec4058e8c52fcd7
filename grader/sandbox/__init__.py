"""Runs a worker in a child process with hard limits, in bubblewrap when the machine allows it."""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox import memcap, uids

BUBBLEWRAP, LANDLOCK, RLIMITS = "bubblewrap", "landlock", "rlimits"
LEVELS = (BUBBLEWRAP, LANDLOCK, RLIMITS)  # strongest first
PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
LOG_TAIL_BYTES = 16_000
SCRATCH_TMPFS_BYTES = 256 * 2**20  # the child's /tmp under bubblewrap
WATCH_INTERVAL = 0.25
PR_SET_CHILD_SUBREAPER, PR_SET_DUMPABLE = 36, 4


_live: set[subprocess.Popen] = set()
_live_lock = threading.Lock()
_stopping = threading.Event()


class Interrupted(Exception):
    """The grader is stopping (Ctrl-C): the child was killed and nothing may be recorded."""


def stop_all() -> None:
    """Kill every running child and refuse to start new ones."""
    _stopping.set()
    with _live_lock:
        for proc in list(_live):
            _kill_group(proc, wait=False)


def allow_children() -> None:
    """Start accepting children again (a new run after an interrupted one, same process)."""
    _stopping.clear()


@dataclass(frozen=True)
class Isolation:
    """How children run here: the isolation level, how memory is capped, the GPUs they see."""

    level: str
    memory_cap: str = memcap.ADDRESS_SPACE
    gpus: tuple[str, ...] = ()
    cgroup: memcap.CgroupParent | None = None  # where memory-capped child cgroups go

    def describe(self) -> str:
        gpus = f"{len(self.gpus)} GPU device(s)" if self.gpus else "CPU only"
        return f"{self.level}, memory cap: {self.memory_cap}, {gpus}"


def detect(level: str | None = None, memory_cap: str | None = None) -> Isolation:
    """The strongest isolation this machine allows, with `level`/`memory_cap` if forced."""
    gpus = memcap.gpu_devices()
    if "CUDA_VISIBLE_DEVICES" in os.environ and not os.environ["CUDA_VISIBLE_DEVICES"].strip():
        gpus = ()  # the instructor hid the GPUs
    wants_cgroup = memory_cap == memcap.CGROUP or (memory_cap is None and bool(gpus))
    cgroup = memcap.find_parent() if wants_cgroup else None  # probed only when it could be used
    cap = memcap.choose(memory_cap, gpus, cgroup is not None)
    return Isolation(detect_isolation(level), cap, gpus, cgroup if cap == memcap.CGROUP else None)


@dataclass(frozen=True)
class Limits:
    """Resource limits of one child."""

    wall_seconds: float
    memory_bytes: int
    max_processes: int = 512  # TensorFlow alone starts dozens of threads; they count here
    max_file_bytes: int = 256 * 2**20
    max_open_files: int = 1024
    scratch_bytes: int = 512 * 2**20  # all files in the writable folder together


@dataclass(frozen=True)
class Mount:
    """A host folder the child sees at `inside` (read-only unless writable)."""

    host: Path
    inside: str
    writable: bool = False


@dataclass(frozen=True)
class Outcome:
    """How a child ended."""

    returncode: int
    timed_out: bool
    seconds: float
    log_tail: str
    disk_exceeded: bool = False
    out_of_memory: bool = False  # killed by its memory cgroup


def harden_grader_process() -> None:
    """Make the grader non-dumpable and the reaper of orphans its children leave behind
    (so that the sweep can reap them; the machine's init may never do it)."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def detect_isolation(forced: str | None = None) -> str:
    """The strongest level that works here, found by trying each (well under a second)."""
    if forced is not None:
        if forced not in LEVELS:
            raise ValueError(f"Unknown isolation level {forced!r}; use one of {LEVELS}.")
        return forced
    if shutil.which("bwrap") and _probe(_bwrap_prefix([], uids.child_uid(0)) + ["/bin/true"]):
        return BUBBLEWRAP
    python = str(Path(sys.prefix) / "bin" / "python")
    probe = "from grader.sandbox import landlock; landlock.restrict([], [])"
    if _probe([python, "-c", probe], env={"PYTHONPATH": str(PROJECT_ROOT)}):
        return LANDLOCK
    return RLIMITS


def _probe(command: list[str], env: dict[str, str] | None = None) -> bool:
    try:
        done = subprocess.run(command, capture_output=True, timeout=10, env=env, **_drop_kwargs(0))
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def landlock_paths(inputs: Path, outputs: Path, gpus: tuple[str, ...]) -> dict[str, list[str]]:
    """What a Landlock-confined child may read and write: its Python, our code, its job."""
    system = ["/usr", "/lib", "/lib64", "/bin", "/etc", "/proc", "/sys", "/dev"]
    read = system + [str(p) for p in python_paths()] + [str(PROJECT_ROOT / "grader"), str(inputs)]
    return {"read": read, "write": [str(outputs), "/dev/null", *gpus]}


def _drop_kwargs(slot: int) -> dict:
    uid = uids.child_uid(slot)
    return {} if uid is None else {"user": uid, "group": uid, "extra_groups": []}


def python_paths() -> list[Path]:
    """Folders the interpreter and its packages live in, to be visible read-only."""
    roots = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent.parent}
    return sorted(p for p in roots if p.exists())


def _bwrap_prefix(
    mounts: list[Mount],
    uid: int | None,
    env: dict[str, str] | None = None,
    gpus: tuple[str, ...] = (),
) -> list[str]:
    argv = [
        "bwrap",
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        "--ro-bind",
        "/usr",
        "/usr",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",
        str(SCRATCH_TMPFS_BYTES),
        "--tmpfs",
        "/tmp",
        "--dir",
        "/job",
    ]
    for link in ("lib", "lib64", "bin", "sbin"):
        target = Path("/") / link
        if target.is_symlink():
            argv += ["--symlink", os.readlink(target), str(target)]
        elif target.is_dir():
            argv += ["--ro-bind", str(target), str(target)]
    for etc in ("/etc/ld.so.cache", "/etc/localtime", "/etc/ssl"):
        if Path(etc).exists():
            argv += ["--ro-bind", etc, etc]
    for path in python_paths():
        argv += ["--ro-bind", str(path), str(path)]
    for device in gpus:
        argv += ["--dev-bind", device, device]
    argv += ["--ro-bind", str(PROJECT_ROOT / "grader"), "/opt/grader/grader"]
    for m in mounts:
        argv += ["--bind" if m.writable else "--ro-bind", str(m.host), m.inside]
    if uid is not None:
        argv += ["--uid", str(uid), "--gid", str(uid)]
    for key, value in (env or {}).items():
        argv += ["--setenv", key, value]
    return argv


def child_environment(level: str, home: str, gpus: tuple[str, ...] = ()) -> dict[str, str]:
    """A scrubbed environment: nothing of the grader's reaches the child but GPU choice."""
    pythonpath = "/opt/grader" if level == BUBBLEWRAP else str(PROJECT_ROOT)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "PYTHONPATH": pythonpath,
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "TF_DETERMINISTIC_OPS": "1",
        "KERAS_BACKEND": "tensorflow",
        "MPLBACKEND": "Agg",
        "CUDA_VISIBLE_DEVICES": "",
        "KERAS_HOME": f"{home}/.keras",
    }
    if gpus:
        del env["CUDA_VISIBLE_DEVICES"]
    keep = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") + (("CUDA_VISIBLE_DEVICES",) if gpus else ())
    for key in keep:  # machine quirks and the instructor's GPU choice, not secrets
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def run(
    module: str,
    request_inside: str,
    *,
    mounts: list[Mount],
    workdir: Path,
    limits: Limits,
    isolation: Isolation,
    slot: int,
    on_line: Callable[[str], None] | None = None,
) -> Outcome:
    """Run `python -m module request` isolated as `isolation` says; never raises for child
    failures.

    Args:
        module: the worker module, e.g. "grader.worker.train".
        request_inside: path of the request file as the child sees it.
        mounts: host folders the child may see (bubblewrap), in order.
        workdir: the child's current folder (host path; in bubblewrap `/job/out` if mounted).
        limits: resource limits.
        isolation: the level, memory cap and GPUs (from `detect`).
        slot: parallel slot, which picks the child's throw-away uid.
        on_line: called with each line the child prints (for progress).
    """
    python = str(Path(sys.prefix) / "bin" / "python")
    command = [python, "-m", module, request_inside]
    uid, level, gpus = uids.child_uid(slot), isolation.level, isolation.gpus
    if level == BUBBLEWRAP:
        inner_env = child_environment(level, "/tmp", gpus)
        prefix = _bwrap_prefix(mounts, uid, inner_env, gpus)
        command = prefix + ["--chdir", "/job/out", "--"] + command
        env = {"PATH": "/usr/bin:/bin"}
    else:
        env = child_environment(level, str(workdir), gpus)
    if _stopping.is_set():
        raise Interrupted
    cgroup = _job_cgroup(isolation, limits, workdir)
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            env=env,
            start_new_session=True,
            close_fds=True,
            preexec_fn=lambda: _child_setup(limits, isolation.memory_cap, cgroup, uid),
        )
    except BaseException:
        _remove_cgroup(isolation, cgroup)
        raise
    tail: deque[bytes] = deque()
    reader = threading.Thread(target=_drain, args=(proc, tail, on_line), daemon=True)
    reader.start()
    with _live_lock:
        _live.add(proc)
    writable = [m.host for m in mounts if m.writable] or [workdir]
    timed_out = disk_exceeded = False
    try:
        timed_out, disk_exceeded = _watch(
            proc, started + limits.wall_seconds, writable, limits.scratch_bytes
        )
    finally:
        _kill_group(proc)
        uids.sweep(uid)
        out_of_memory = bool(cgroup and isolation.cgroup and isolation.cgroup.oom_kills(cgroup))
        _remove_cgroup(isolation, cgroup)
        with _live_lock:
            _live.discard(proc)
    reader.join(timeout=5)
    if _stopping.is_set():
        raise Interrupted  # a pipe still held open by an escaped process must not hang us
    text = b"".join(tail).decode("utf-8", "replace")[-LOG_TAIL_BYTES:]
    code = proc.returncode if proc.returncode is not None else -9
    if level == BUBBLEWRAP and code > 128:  # bubblewrap's init reports a signal as 128 + n
        code = 128 - code
    return Outcome(
        code,
        timed_out,
        round(time.monotonic() - started, 2),
        text,
        disk_exceeded,
        out_of_memory,
    )


def _job_cgroup(isolation: Isolation, limits: Limits, workdir: Path) -> Path | None:
    """A memory cgroup for one child, when memory is capped that way."""
    if isolation.memory_cap != memcap.CGROUP or isolation.cgroup is None:
        return None
    name = f"grader-{os.getpid()}-{workdir.parent.name}"
    return isolation.cgroup.create(name, limits.memory_bytes)


def _remove_cgroup(isolation: Isolation, cgroup: Path | None) -> None:
    if cgroup is not None and isolation.cgroup is not None:
        isolation.cgroup.remove(cgroup)


def _watch(
    proc: subprocess.Popen, deadline: float, folders: list[Path], max_bytes: int
) -> tuple[bool, bool]:
    """Wait for the child; stop it at the deadline or when its folders outgrow `max_bytes`.

    The file-size rlimit caps each file, not their total, so the total is polled here.
    """
    while True:
        try:
            proc.wait(timeout=min(WATCH_INTERVAL, max(0.0, deadline - time.monotonic())))
            return False, False
        except subprocess.TimeoutExpired:
            pass
        if time.monotonic() >= deadline:
            return True, False
        if sum(_folder_bytes(f) for f in folders) > max_bytes:
            return False, True


def _folder_bytes(folder: Path) -> int:
    total = 0
    try:
        for entry in os.scandir(folder):
            if entry.is_dir(follow_symlinks=False):
                total += _folder_bytes(Path(entry.path))
            else:
                total += entry.stat(follow_symlinks=False).st_blocks * 512
    except OSError:
        pass
    return total


def _child_setup(limits: Limits, memory_cap: str, cgroup: Path | None, uid: int | None) -> None:
    """Runs in the child between fork and exec: join the memory cgroup while still root,
    set the limits, then drop to the throw-away uid."""
    if cgroup is not None:
        memcap.join(cgroup)
    _apply_limits(limits, memory_cap)
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)


def _apply_limits(limits: Limits, memory_cap: str = memcap.ADDRESS_SPACE) -> None:
    cpu = int(limits.wall_seconds * (os.cpu_count() or 1)) + 60
    rlimits = [
        (resource.RLIMIT_CPU, cpu),
        (resource.RLIMIT_NPROC, limits.max_processes),
        (resource.RLIMIT_FSIZE, limits.max_file_bytes),
        (resource.RLIMIT_NOFILE, limits.max_open_files),
        (resource.RLIMIT_CORE, 0),
    ]
    # RLIMIT_AS counts reserved address space too (CUDA reserves plenty); RLIMIT_DATA only
    # writable private memory. Under a memory cgroup, the cgroup is the cap.
    if memory_cap == memcap.ADDRESS_SPACE:
        rlimits.append((resource.RLIMIT_AS, limits.memory_bytes))
    elif memory_cap == memcap.TENSORFLOW:
        rlimits.append((resource.RLIMIT_DATA, limits.memory_bytes))
    for which, value in rlimits:
        resource.setrlimit(which, (value, value))


def _drain(proc: subprocess.Popen, tail: deque[bytes], on_line: Callable | None) -> None:
    """Keep only the last LOG_TAIL_BYTES of output, however much the child prints."""
    size = 0
    assert proc.stdout is not None
    for line in proc.stdout:
        tail.append(line)
        size += len(line)
        while size > LOG_TAIL_BYTES and len(tail) > 1:
            size -= len(tail.popleft())
        if on_line is not None and line.startswith(b"GRADER-PROGRESS"):
            on_line(line.decode("utf-8", "replace").strip())


def _kill_group(proc: subprocess.Popen, wait: bool = True) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if wait:
        proc.wait()
