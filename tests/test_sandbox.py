"""The sandbox on its own: each isolation level's plumbing, and one Sandbox running children.

Children here run `python -m timeit STATEMENT`: a one-statement child needing no worker.
"""

from __future__ import annotations

import ast
import fcntl
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader import sandbox
from grader.sandbox import jobs, levels, memcap, process, uids
from grader.sandbox.levels import GRADER_PACKAGE, WORKER_CODE, Bubblewrap, Landlock, Rlimits

GPUS = ("/dev/nvidia0",)
LIMITS = sandbox.Limits(wall_seconds=30, memory_bytes=4 * 2**30)
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="throw-away uids need root")


def _job_mounts(root: Path) -> list[sandbox.Mount]:
    return [sandbox.Mount(root / "in", "/job/in"), sandbox.Mount(root / "out", "/job/out", True)]


def _code_binds(argv: list[str]) -> dict[Path, str]:
    """The bind mounts of grader code in a bwrap argv: host path -> path inside."""
    binds = {}
    for i, arg in enumerate(argv):
        if arg in ("--bind", "--ro-bind", "--dev-bind"):
            host = Path(argv[i + 1])
            if host == GRADER_PACKAGE or GRADER_PACKAGE in host.parents:
                binds[host] = argv[i + 2]
    return binds


def test_bubblewrap_binds_only_the_worker_code(tmp_path: Path) -> None:
    argv = Bubblewrap().prefix(_job_mounts(tmp_path), uid=None)
    binds = _code_binds(argv)
    expected = [GRADER_PACKAGE / n for n in WORKER_CODE if (GRADER_PACKAGE / n).exists()]
    assert sorted(binds) == sorted(expected)
    for host, inside in binds.items():
        assert inside == f"/opt/grader/grader/{host.relative_to(GRADER_PACKAGE).as_posix()}"
    sources = {Path(argv[i + 1]) for i, arg in enumerate(argv) if arg.endswith("bind")}
    assert not sources & {GRADER_PACKAGE, *GRADER_PACKAGE.parents}  # no folder holding it all
    assert GRADER_PACKAGE / "pipeline" not in binds
    assert GRADER_PACKAGE / "spec.py" not in binds


def test_worker_code_not_written_yet_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(levels, "WORKER_CODE", (*WORKER_CODE, "not-written-yet.py"))
    binds = _code_binds(Bubblewrap().prefix([], uid=None))
    assert GRADER_PACKAGE / "not-written-yet.py" not in binds
    assert GRADER_PACKAGE / "labels.py" in binds
    rules = Landlock().worker_rules(_job_mounts(tmp_path), ())
    assert str(GRADER_PACKAGE / "not-written-yet.py") not in rules["landlock"]["read"]


def _imported_modules(path: Path) -> set[str]:
    """Every `grader.*` module a file imports, at module level or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name == "grader" or name.startswith("grader.")}


def _module_files(name: str) -> list[Path]:
    """The files importing `name` executes (its packages' __init__ too); [] if no module."""
    parts = name.split(".")[1:]
    files = [GRADER_PACKAGE.joinpath(*parts[:i], "__init__.py") for i in range(len(parts))]
    module = GRADER_PACKAGE.joinpath(*parts)
    for candidate in (module.with_suffix(".py"), module / "__init__.py"):
        if candidate.is_file():
            return [*files, candidate]
    return []  # an attribute (`from grader.sandbox import Limits`), not a module


def test_worker_code_holds_everything_the_workers_import() -> None:
    visible = [GRADER_PACKAGE / n for n in WORKER_CODE]

    def covered(path: Path) -> bool:
        return any(path == v or v in path.parents for v in visible)

    code = [p for v in visible for p in ([v] if v.is_file() else sorted(v.rglob("*.py")))]
    assert GRADER_PACKAGE / "worker" / "train.py" in code
    for path in code:
        for name in _imported_modules(path):
            missing = [f for f in _module_files(name) if not covered(f)]
            assert not missing, f"{path.name} imports {name}: add {missing} to WORKER_CODE"


def test_a_worker_importing_landlock_loads_no_other_grader_module() -> None:
    code = (
        "import sys; from grader.sandbox import landlock; "
        "print(sorted(m for m in sys.modules if m.startswith('grader')))"
    )
    env = {"PYTHONPATH": str(sandbox.PROJECT_ROOT), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([process.PYTHON, "-c", code], capture_output=True, text=True, env=env)
    assert done.stdout.strip() == "['grader', 'grader.sandbox', 'grader.sandbox.landlock']"


def test_the_type_stub_declares_exactly_the_lazy_names() -> None:
    stub = ast.parse((GRADER_PACKAGE / "sandbox" / "__init__.pyi").read_text())
    declared = {
        alias.asname: node.module
        for node in stub.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    lazy = {name: f"grader.sandbox.{module}" for name, module in sandbox._EXPORTS.items()}
    assert declared == lazy
    assert all(getattr(sandbox, name) is not None for name in sandbox.__all__)


def test_each_level_says_where_the_child_sees_a_job_file(tmp_path: Path) -> None:
    mounts = _job_mounts(tmp_path)
    data, out = tmp_path / "in" / "submission" / "submission.py", tmp_path / "out"
    assert Bubblewrap().inside(data, mounts) == "/job/in/submission/submission.py"
    assert Bubblewrap().inside(out, mounts) == "/job/out"
    with pytest.raises(ValueError, match="in no folder the child sees"):
        Bubblewrap().inside(tmp_path / "elsewhere", mounts)
    for level in (Landlock(), Rlimits()):
        assert level.inside(data, mounts) == str(data)
        assert level.inside(out, mounts) == str(out)


def test_only_landlock_gives_the_worker_rules_to_apply(tmp_path: Path) -> None:
    mounts = _job_mounts(tmp_path)
    rules = Landlock().worker_rules(mounts, GPUS)["landlock"]
    assert str(tmp_path / "in") in rules["read"]
    assert str(GRADER_PACKAGE / "worker") in rules["read"]
    assert str(GRADER_PACKAGE / "sandbox" / "landlock.py") in rules["read"]
    assert str(GRADER_PACKAGE) not in rules["read"]
    assert str(GRADER_PACKAGE / "spec.py") not in rules["read"]
    assert str(tmp_path / "out") not in rules["read"]
    assert rules["write"] == [str(tmp_path / "out"), "/dev/null", *GPUS]
    assert Bubblewrap().worker_rules(mounts, GPUS) == {}
    assert Rlimits().worker_rules(mounts, GPUS) == {}


def test_levels_by_name_strongest_first() -> None:
    assert sandbox.LEVELS == ("bubblewrap", "landlock", "rlimits")
    assert [levels.named(name).name for name in sandbox.LEVELS] == list(sandbox.LEVELS)
    assert isinstance(sandbox.Isolation(sandbox.RLIMITS).mechanism, Rlimits)
    assert sandbox.detect_isolation(sandbox.LANDLOCK) == sandbox.LANDLOCK
    with pytest.raises(ValueError, match="Unknown isolation level 'docker'"):
        sandbox.detect_isolation("docker")
    with pytest.raises(ValueError, match="Unknown isolation level"):
        sandbox.Sandbox(sandbox.Isolation("docker"))


def test_bubblewrap_reports_a_signal_as_a_negative_code() -> None:
    assert Bubblewrap().exit_code(128 + 9) == -9
    assert Bubblewrap().exit_code(1) == 1
    assert Rlimits().exit_code(137) == 137


def test_the_child_environment_is_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_SECRET", "x")
    for level in (Bubblewrap(), Landlock(), Rlimits()):
        env = level.environment("/home/child")
        assert "GRADER_SECRET" not in env
        assert env["HOME"] == "/home/child"
    assert Bubblewrap().environment("/tmp")["PYTHONPATH"] == "/opt/grader"
    assert Rlimits().environment("/tmp")["PYTHONPATH"] == str(sandbox.PROJECT_ROOT)
    argv, env = Bubblewrap().wrap(
        ["python"], mounts=_job_mounts(Path("/w")), workdir=Path("/w/out"), gpus=(), uid=None
    )
    assert env == {"PATH": "/usr/bin:/bin"}  # bwrap's own; the child's is set inside
    assert argv[argv.index("--chdir") + 1] == "/job/out"
    assert argv[-2:] == ["--", "python"]


@pytest.fixture
def box() -> Iterator[sandbox.Sandbox]:
    with sandbox.Sandbox(sandbox.Isolation(sandbox.RLIMITS)) as opened:
        yield opened


def _run(
    box: sandbox.Sandbox,
    statement: str,
    folder: Path,
    limits: sandbox.Limits = LIMITS,
) -> sandbox.Outcome:
    return box.run("timeit", statement, mounts=[], workdir=folder, limits=limits, slot=0)


def test_a_child_runs_and_its_output_and_code_come_back(
    box: sandbox.Sandbox, tmp_path: Path
) -> None:
    statement = "import os; print('GRADER-PROGRESS 1/1'); print('hi', flush=True); os._exit(7)"
    outcome = _run(box, statement, tmp_path)
    assert (outcome.returncode, outcome.timed_out, outcome.disk_exceeded) == (7, False, False)
    assert outcome.log_tail == "GRADER-PROGRESS 1/1\nhi\n"  # all of it log text


def test_a_child_is_killed_at_its_deadline(box: sandbox.Sandbox, tmp_path: Path) -> None:
    limits = sandbox.Limits(wall_seconds=1, memory_bytes=LIMITS.memory_bytes)
    outcome = _run(box, "import time; time.sleep(60)", tmp_path, limits=limits)
    assert outcome.timed_out
    assert outcome.returncode == -9
    assert outcome.seconds < 10


def test_stop_all_refuses_new_children(
    box: sandbox.Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def launched(*args: object, **kwargs: object) -> None:
        pytest.fail("a child was started after stop_all")

    monkeypatch.setattr(process, "launch", launched)
    box.stop_all()
    with pytest.raises(sandbox.Interrupted):
        _run(box, "pass", tmp_path)


def test_stop_all_kills_running_children(box: sandbox.Sandbox, tmp_path: Path) -> None:
    raised = []

    def run() -> None:
        try:
            _run(box, "import time; time.sleep(60)", tmp_path)
        except sandbox.Interrupted as exc:
            raised.append(exc)

    thread = threading.Thread(target=run)
    begun = time.monotonic()
    thread.start()
    while not box._live and time.monotonic() - begun < 20:  # the child is started
        time.sleep(0.05)
    assert box._live
    box.stop_all()
    thread.join(timeout=20)
    assert not thread.is_alive() and raised
    assert time.monotonic() - begun < 30


def test_two_sandboxes_never_share_a_uid() -> None:
    rlimits = sandbox.Isolation(sandbox.RLIMITS)
    with sandbox.Sandbox(rlimits) as one, sandbox.Sandbox(rlimits) as two:
        ones = {one.child_uid(slot) for slot in range(2)}
        twos = {two.child_uid(slot) for slot in range(2)}
        if os.geteuid() == 0:
            assert len(ones) == 2 and len(twos) == 2 and not ones & twos
        else:
            assert ones == twos == {None}
        assert one.child_uid(1) in ones  # stable per slot


@ROOT_ONLY
def test_close_releases_the_uid_leases() -> None:
    box = sandbox.Sandbox(sandbox.Isolation(sandbox.RLIMITS))
    uid = box.child_uid(0)
    fd = os.open(uids.LEASE_DIR / str(uid), os.O_RDWR)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        box.close()
        box.close()  # idempotent
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free for another grader now
    finally:
        os.close(fd)


def test_a_bubblewrapped_child_sees_only_the_worker_code_and_writes_only_its_folders() -> None:
    if levels.detect_isolation(minimum=None) != sandbox.BUBBLEWRAP:
        pytest.skip("bubblewrap does not work on this machine")
    statement = (
        "import os, grader.worker.train, grader.worker.evaluate, grader.sandbox.landlock; "
        "seen = sorted(os.listdir('/opt/grader/grader')); print('SEEN', seen, flush=True); "
        "os._exit(0 if 'pipeline' not in seen and 'spec.py' not in seen else 3)"
    )
    vandal = (
        "import os\n"
        "for path in ('/opt/grader/grader/x.py', '/opt/grader/x.py', '/job/x', '/x'):\n"
        "    try: open(path, 'w').close(); print('WROTE', path, flush=True); os._exit(3)\n"
        "    except OSError: pass\n"
        "open('/tmp/x', 'w').close(); open('/job/out/x', 'w').close(); os._exit(0)"
    )
    work = jobs.make_work_root()
    try:
        with sandbox.Sandbox(sandbox.Isolation(sandbox.BUBBLEWRAP)) as box:
            job = jobs.new_job(work, "probe", box, slot=0)
            where = {"mounts": job.mounts, "workdir": job.outputs, "limits": LIMITS, "slot": 0}
            seen = box.run("timeit", statement, **where)  # type: ignore[arg-type]
            wrote = box.run("timeit", vandal, **where)  # type: ignore[arg-type]
    finally:
        jobs.remove_work_root(work)
    assert seen.returncode == 0, seen.log_tail
    assert "'labels.py'" in seen.log_tail and "'worker'" in seen.log_tail
    assert wrote.returncode == 0, wrote.log_tail  # only /tmp and its own folder are writable


def test_job_inputs_are_readable_whatever_the_umask(tmp_path: Path) -> None:
    """An instructor's umask 077 must not hide a job's inputs from the child's uid (its
    group: nobody else's; tests/test_sandbox_writes.py runs the children)."""

    source = tmp_path / "x.npy"
    source.write_bytes(b"data")
    old = os.umask(0o077)
    try:
        with sandbox.Sandbox(sandbox.Isolation(sandbox.RLIMITS)) as box:
            job = jobs.new_job(tmp_path, "umask", box, slot=0)
            jobs.link_inputs(job, {"task/deeper/x.npy": source})
            uid = box.child_uid(0)
    finally:
        os.umask(old)
    for folder in (job.inputs, job.inputs / "task", job.inputs / "task" / "deeper"):
        info = folder.stat()
        if uid is None:
            assert info.st_mode & 0o777 == 0o700, folder
        else:
            assert (info.st_mode & 0o777, info.st_gid) == (0o750, uid), folder
    assert (job.inputs / "task" / "deeper" / "x.npy").stat().st_mode & 0o777 == 0o644


def test_a_sweep_does_not_wait_for_zombies_another_process_must_reap() -> None:
    """A zombie whose parent is not the grader (e.g. a test process that became a
    subreaper) cannot be killed or reaped by us: a sweep must not stall on it."""
    parent = subprocess.Popen(
        [sys.executable, "-c", "import os, time\nif os.fork() == 0: os._exit(0)\ntime.sleep(30)"]
    )
    try:
        deadline = time.monotonic() + 10
        zombies: list[int] = []
        while not zombies and time.monotonic() < deadline:
            time.sleep(0.05)
            children = Path(f"/proc/{parent.pid}/task/{parent.pid}/children").read_text().split()
            zombies = [int(pid) for pid in children if uids._foreign_zombie(int(pid))]
        assert zombies, "the grandchild did not become a zombie"
        assert zombies[0] in uids.pids_of_uid(os.getuid())
        assert zombies[0] not in uids.sweepable_pids(os.getuid())
        assert parent.pid in uids.sweepable_pids(os.getuid())
    finally:
        parent.kill()
        parent.wait()


def test_a_costly_look_at_disk_use_is_made_less_often(tmp_path: Path) -> None:
    """The watch looks at a child's disk use every WATCH_INTERVAL, but waits longer after a
    look that took long (a /tmp of thousands of entries): at most ~2% of a core goes to it,
    not to the training beside it. A cheap look is still made every WATCH_INTERVAL."""

    def watched(cost: float) -> list[float]:
        looks: list[float] = []

        def extra() -> int:
            looks.append(time.monotonic())
            time.sleep(cost)
            return 0

        argv = [sys.executable, "-c", "import time; time.sleep(1.6)"]
        limits = process.Limits(wall_seconds=30, memory_bytes=2**31)
        child = process.launch(argv, dict(os.environ), workdir=tmp_path, limits=limits,
                               memory_cap=memcap.CGROUP, cgroup=None, uid=None)  # fmt: skip
        ending = process.watch(child, limits, [tmp_path], extra)
        child.reader.join(timeout=5)
        assert not (ending.timed_out or ending.disk_exceeded)
        return looks

    assert len(watched(cost=0.0)) >= 3  # ~6 looks in 1.6 s
    assert len(watched(cost=0.05)) <= 2  # 0.05 s a look: the next one 2.5 s later
