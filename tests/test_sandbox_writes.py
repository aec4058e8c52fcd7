"""Where a child can write, at every level this machine offers: only into folders the write
cap counts, nothing left behind; the work folder private and cleaned up after a killed run.

Children here run `python -m timeit STATEMENT` (no worker); at the Landlock level the
statement applies the rules a worker would (`Landlock.worker_rules`) before it writes.
"""

from __future__ import annotations

import fcntl
import functools
import os
import signal
import stat
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader import sandbox
from grader.errors import GradingError
from grader.sandbox import diskuse, jobs, levels, reach, strays, uids, unseen, workroot
from grader.sandbox.levels import Bubblewrap, Landlock, Rlimits

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="throw-away uids need root")
CAP = 64 * 2**20
WRITE_MIB = 160  # well past the cap: 100 MB+ into one place
LIMITS = sandbox.Limits(wall_seconds=60, memory_bytes=4 * 2**30, scratch_bytes=CAP)
SHARED = ("/dev/shm", "/tmp", "/var/tmp")
PLACES = (*SHARED, "$HOME", "$TMPDIR", "$CWD")
# Where each level refuses the write; everywhere else it lands in a folder the cap counts.
REFUSED = {"bubblewrap": {"/var/tmp"}, "landlock": set(SHARED), "rlimits": set()}


@functools.cache
def _available() -> list[str]:
    with uids.UidLeases() as leases:
        uid = leases.uid(0)
        return [level.name for level in levels.ALL_LEVELS if level.works(uid)]


@pytest.fixture
def work() -> Iterator[Path]:
    root = jobs.make_work_root()
    yield root
    jobs.remove_work_root(root)


def _filler(place: str, marker: str, rules: dict[str, list[str]] | None) -> str:
    """A child that writes WRITE_MIB into `place`, then waits to be stopped."""
    confine = f"from grader.sandbox import landlock; landlock.restrict(*{rules!r})\n"
    return (
        "import os, time\n"
        + (confine if rules else "")
        + f"where = {place!r}.replace('$HOME', os.environ['HOME'])"
        ".replace('$TMPDIR', os.environ['TMPDIR']).replace('$CWD', os.getcwd())\n"
        "try:\n"
        f"    with open(os.path.join(where, {marker!r}), 'wb') as f:\n"
        f"        for _ in range({WRITE_MIB}):\n"
        "            f.write(b'x' * 2**20); f.flush()\n"
        "except OSError as e:\n"
        "    print('REFUSED', e, flush=True); os._exit(0)\n"
        "print('WROTE', flush=True); time.sleep(50)\n"
    )


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("level", levels.LEVELS)
def test_a_child_writing_anywhere_is_stopped_or_refused(level: str, place: str, work: Path) -> None:
    if level not in _available():
        pytest.skip(f"{level} does not work on this machine")
    if level == sandbox.RLIMITS and place in SHARED and os.geteuid() != 0:
        pytest.skip("without root, children run as the grader: their shared files are not told")
    marker = f"fill-{uuid.uuid4().hex}"
    with sandbox.Sandbox(sandbox.Isolation(level)) as box:
        job = jobs.new_job(work, "fill", box, slot=0)
        rules = None
        if level == sandbox.LANDLOCK:
            rules = Landlock().worker_rules(job.mounts, ())["landlock"]
            rules = (rules["read"], rules["write"])
        statement = _filler(place, marker, rules)
        outcome = box.run(
            "timeit", statement, mounts=job.mounts, workdir=job.outputs, limits=LIMITS, slot=0
        )
        uid = box.child_uid(0)
    refused = "REFUSED" in outcome.log_tail
    assert (refused, outcome.disk_exceeded) == (place in REFUSED[level], not refused), outcome
    assert not outcome.timed_out
    assert not [p for p in SHARED if (Path(p) / marker).exists()]  # nothing left outside
    if uid is not None:
        assert not list(strays.owned(uid))


# Storage with no name in any folder, held while the child waits to be stopped.
HOLDERS = {
    "memfd": "fds = [os.memfd_create('m') for _ in range(4)]\n"
    "for fd in fds:\n"
    "    for _ in range(40): os.write(fd, b'x' * 2**20)\n",
    "unlinked": "f = open('gone', 'wb'); os.unlink('gone')\n"
    f"for _ in range({WRITE_MIB}): f.write(b'x' * 2**20); f.flush()\n",
    "sysv": "import ctypes; libc = ctypes.CDLL(None, use_errno=True)\n"
    "libc.shmget.restype = ctypes.c_int; libc.shmat.restype = ctypes.c_void_p\n"
    "for _ in range(2):\n"
    "    sid = libc.shmget(0, 100 * 2**20, 0o1600)\n"  # IPC_PRIVATE, IPC_CREAT | 0600
    "    at = libc.shmat(sid, None, 0); ctypes.memset(at, 1, 100 * 2**20); libc.shmdt(at)\n",
}


@ROOT_ONLY
@pytest.mark.parametrize("kind", HOLDERS)
@pytest.mark.parametrize("level", levels.LEVELS)
def test_storage_without_a_name_counts_too(level: str, kind: str, work: Path) -> None:
    """Deleted-but-open files, memfds and (in the host's IPC namespace) System V segments."""
    if level not in _available():
        pytest.skip(f"{level} does not work on this machine")
    if level == sandbox.BUBBLEWRAP and kind == "sysv":
        pytest.skip("bubblewrap's own IPC namespace: freed with the child, not counted")
    statement = f"import os, time\n{HOLDERS[kind]}print('HELD', flush=True); time.sleep(50)\n"
    with sandbox.Sandbox(sandbox.Isolation(level)) as box:
        job = jobs.new_job(work, "hold", box, slot=0)
        outcome = box.run(
            "timeit", statement, mounts=job.mounts, workdir=job.outputs, limits=LIMITS, slot=0
        )
        uid = box.child_uid(0)
    assert outcome.disk_exceeded and not outcome.timed_out, outcome
    assert uid is not None and unseen.segments(uid) == [] and unseen.bytes_held(uid) == 0


def test_shared_memory_and_tmp_are_job_folders_under_bubblewrap(tmp_path: Path) -> None:
    """Bound to host folders the watch counts; /dev itself read-only; TMPDIR inside."""
    job_mounts = [
        sandbox.Mount(tmp_path / "in", "/job/in"),
        sandbox.Mount(tmp_path / "out", "/job/out", True),
        sandbox.Mount(tmp_path / "tmp", "/tmp", True),
        sandbox.Mount(tmp_path / "shm", "/dev/shm", True),
    ]
    argv, _ = Bubblewrap().wrap(
        ["python"], mounts=job_mounts, workdir=tmp_path / "out", gpus=(), uid=None
    )
    binds = {argv[i + 2]: argv[i + 1] for i, arg in enumerate(argv) if arg == "--bind"}
    assert binds == {"/job/out": str(tmp_path / "out"), "/tmp": str(tmp_path / "tmp"),
                     "/dev/shm": str(tmp_path / "shm")}  # fmt: skip
    assert "--tmpfs" not in argv and "--size" not in argv  # no unsized or separate scratch
    remounts = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--remount-ro"]
    assert remounts == ["/dev", "/"]
    binds_end = max(argv.index(f"{tmp_path}/shm"), argv.index(f"{tmp_path}/tmp"))
    assert binds_end < argv.index("--remount-ro")  # /dev read-only after /dev/shm is bound
    assert argv[argv.index("TMPDIR") + 1] == "/tmp"


def test_tmpdir_points_into_the_job_at_the_host_levels(tmp_path: Path) -> None:
    mounts = [sandbox.Mount(tmp_path / "out", "/job/out", True),
              sandbox.Mount(tmp_path / "tmp", "/tmp", True)]  # fmt: skip
    for level in (Landlock(), Rlimits()):
        _, env = level.wrap(["python"], mounts=mounts, workdir=tmp_path / "out", gpus=(), uid=None)
        assert env["TMPDIR"] == str(tmp_path / "tmp")
        assert env["HOME"] == str(tmp_path / "out")
    rules = Landlock().worker_rules(mounts, ())["landlock"]
    assert rules["write"] == [str(tmp_path / "out"), str(tmp_path / "tmp"), "/dev/null"]
    assert not {"/tmp", "/var/tmp", "/dev/shm"} & set(rules["write"])


# --- trees a child shapes: any depth ---------------------------------------------------


def _deep_tree(root: Path, depth: int) -> None:
    """`depth` folders inside one another (far past PATH_MAX), a file at the bottom."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(depth):
        os.mkdir("deep", dir_fd=fd)
        inner = os.open("deep", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = inner
    file = os.open("f", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=fd)
    os.write(file, b"x" * 2**20)
    os.close(file)
    os.close(fd)


def test_a_deep_tree_counts_as_over_any_cap_and_is_removed(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    _deep_tree(tree, 3000)  # shutil.rmtree raises RecursionError here
    assert diskuse.tree_bytes(tree) == diskuse.TOO_DEEP
    diskuse.remove_tree(tree)
    assert not tree.exists()


def test_tree_bytes_counts_blocks_and_entries_and_follows_no_link(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "big").write_bytes(b"x" * 4 * 2**20)
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "data").write_bytes(b"y" * 2**20)
    (tree / "link").symlink_to(outside)
    for n in range(100):
        (tree / f"empty-{n}").touch()
    used = diskuse.tree_bytes(tree)
    assert 2**20 + 100 * diskuse.ENTRY_BYTES <= used < 2 * 2**20 + 200 * diskuse.ENTRY_BYTES
    diskuse.remove_tree(tree)
    assert not tree.exists() and (outside / "big").stat().st_size == 4 * 2**20


# --- the work folder ---------------------------------------------------------------------


def _stale_root(folder: Path, locked_by: list[int] | None = None) -> Path:
    root = Path(tempfile.mkdtemp(prefix=workroot.PREFIX, dir=folder))
    fd = os.open(root / workroot.LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    if locked_by is None:
        os.close(fd)
    else:
        fcntl.flock(fd, fcntl.LOCK_EX)
        locked_by.append(fd)
    (root / "eval-x" / "in").mkdir(parents=True)
    (root / "eval-x" / "in" / "y_test.npy").write_bytes(b"labels")
    return root


def test_stale_work_folders_go_and_live_ones_stay(tmp_path: Path) -> None:
    held: list[int] = []
    dead, live = _stale_root(tmp_path), _stale_root(tmp_path, held)
    legacy_old, legacy_new = _stale_root(tmp_path), _stale_root(tmp_path)
    for legacy in (legacy_old, legacy_new):
        (legacy / workroot.LOCK_NAME).unlink()
    os.utime(legacy_old, (0, 0))
    (tmp_path / f"{workroot.PREFIX}link").symlink_to(live)
    try:
        removed = workroot.remove_stale(tmp_path)
    finally:
        os.close(held[0])
    assert sorted(removed) == sorted([dead, legacy_old])
    assert not dead.exists() and not legacy_old.exists()
    assert live.exists() and legacy_new.exists() and (tmp_path / f"{workroot.PREFIX}link").exists()


def test_a_killed_runs_work_folder_is_removed_at_the_next_start() -> None:
    code = "from grader.sandbox import jobs; print(jobs.make_work_root(), flush=True); input()"
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        cwd=sandbox.PROJECT_ROOT,
    )  # fmt: skip
    assert child.stdout is not None
    killed = Path(child.stdout.readline().strip())
    assert killed.is_dir()
    mine = jobs.make_work_root()  # the other run is alive: its folder stays
    try:
        assert killed.is_dir()
    finally:
        jobs.remove_work_root(mine)
    child.send_signal(signal.SIGKILL)
    child.wait()
    mine = jobs.make_work_root()
    try:
        assert not killed.exists()
        assert mine.is_dir()
    finally:
        jobs.remove_work_root(mine)
    assert not mine.exists()


def test_the_work_folder_is_locked_and_not_listable(work: Path) -> None:
    assert stat.S_IMODE(work.stat().st_mode) == 0o711
    fd = os.open(work / workroot.LOCK_NAME, os.O_RDONLY)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)
    assert workroot.remove_stale(work.parent).count(work) == 0


@ROOT_ONLY
def test_job_folders_are_open_to_their_own_uid_only(work: Path, tmp_path: Path) -> None:
    source = tmp_path / "y_test.npy"
    source.write_bytes(b"labels")
    with sandbox.Sandbox(sandbox.Isolation(sandbox.RLIMITS)) as box:
        job = jobs.new_job(work, "eval", box, slot=0)
        jobs.link_inputs(job, {"task/y_test.npy": source})
        uid = box.child_uid(0)
        for folder in (job.root, job.inputs, job.inputs / "task"):
            info = folder.stat()
            assert (info.st_uid, info.st_gid) == (0, uid), folder
            assert stat.S_IMODE(info.st_mode) & 0o007 == 0, folder  # nothing for others
        for folder in (job.outputs, job.scratch, job.shared_memory):
            info = folder.stat()
            assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (uid, 0o700), folder
        target = job.inputs / "task" / "y_test.npy"
        peek = f"import os; print(open({str(target)!r}, 'rb').read(), flush=True); os._exit(0)"
        other = jobs.new_job(work, "other", box, slot=1)  # another child's uid
        mine = box.run("timeit", peek, mounts=[], workdir=job.outputs, limits=LIMITS, slot=0)
        theirs = box.run("timeit", peek, mounts=[], workdir=other.outputs, limits=LIMITS, slot=1)
    assert "b'labels'" in mine.log_tail
    assert "PermissionError" in theirs.log_tail and "labels" not in theirs.log_tail


# --- the interpreter every child runs ------------------------------------------------------


@pytest.fixture
def locked() -> Iterator[Path]:
    """A folder only its owner may enter, in the system temp folder (every parent open)."""
    folder = Path(tempfile.mkdtemp(prefix="grader-test-home-"))
    folder.chmod(0o700)
    yield folder
    diskuse.remove_tree(folder)


def test_a_folder_others_cannot_search_is_named(locked: Path) -> None:
    (locked / "venv" / "bin").mkdir(parents=True)
    python = locked / "venv" / "bin" / "python"
    stranger = 65533
    assert reach.unreachable(stranger, [python]) == (python, locked)
    locked.chmod(0o701)
    assert reach.unreachable(stranger, [python]) is None
    reach.require(stranger, [python])
    locked.chmod(0o700)
    with pytest.raises(GradingError, match=f"chmod o\\+x {locked}"):
        reach.require(stranger, [python])
    reach.require(None, [python])  # children run as the grader: nothing to check


@ROOT_ONLY
def test_detection_stops_on_an_interpreter_the_child_uid_cannot_reach(
    locked: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (locked / "python").symlink_to(sys.executable)
    monkeypatch.setattr(levels, "PYTHON", str(locked / "python"))
    with uids.UidLeases() as leases:
        uid = leases.uid(0)
        assert "Permission denied" in (Rlimits().problem(uid) or "")  # run as that uid
    with pytest.raises(GradingError) as raised:
        levels.detect_isolation()
    message = str(raised.value)
    assert str(locked) in message and f"chmod o+x {locked}" in message
    monkeypatch.setattr(levels, "PYTHON", sys.executable)
    assert levels.detect_isolation(minimum=sandbox.RLIMITS) in sandbox.LEVELS
