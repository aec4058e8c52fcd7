"""The isolation levels, one class each, tried strongest first: bubblewrap, Landlock, rlimits."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

from grader.sandbox import causes, reach, uids
from grader.sandbox.causes import BUBBLEWRAP as BUBBLEWRAP
from grader.sandbox.causes import DEFAULT_MINIMUM
from grader.sandbox.causes import LANDLOCK as LANDLOCK
from grader.sandbox.causes import RLIMITS as RLIMITS
from grader.sandbox.childenv import NUMERICS as NUMERICS
from grader.sandbox.childenv import Gpus as Gpus
from grader.sandbox.childenv import child_environment as child_environment
from grader.sandbox.process import PYTHON, Mount
from grader.sandbox.reach import PROBE_IMPORTS, probe

GRADER_PACKAGE = Path(__file__).resolve().parent.parent
PROJECT_ROOT = GRADER_PACKAGE.parent
# The grader code a child may see, relative to the package: the workers and everything they
# import (tests/test_sandbox.py checks that the list is closed under imports). Nothing else:
# a child has no business reading how it is graded. A file not written yet is skipped.
WORKER_CODE = (
    "__init__.py",
    "codec.py",
    "errors.py",
    "protocol.py",
    "checkreport.py",
    "redact.py",
    "labels.py",
    "scoring.py",
    "stats.py",
    "worker",
    "sandbox/__init__.py",  # imports no other grader module (loads its names lazily)
    "sandbox/landlock.py",
)
CODE_INSIDE = "/opt/grader"  # the child's PYTHONPATH under bubblewrap
SYSTEM_FOLDERS = ("/usr", "/lib", "/lib64", "/bin", "/etc", "/proc", "/sys", "/dev")


def worker_code() -> list[Path]:
    """The host paths of WORKER_CODE that exist."""
    return [GRADER_PACKAGE / name for name in WORKER_CODE if (GRADER_PACKAGE / name).exists()]


def python_paths() -> list[Path]:
    """Folders the interpreter and its packages live in, to be visible read-only."""
    roots = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent.parent}
    return sorted(p for p in roots if p.exists())


class Level:
    """One isolation level. These defaults fit a level without namespaces: the child sees
    host paths, runs in its working folder and imports our code from the project folder."""

    name: ClassVar[str]

    def works(self, uid: int | None) -> bool:
        """Whether this level works here, tried as a child running as `uid` would."""
        return self.problem(uid) is None

    def problem(self, uid: int | None) -> str | None:
        """Why this level cannot start the grader's Python as `uid` here (None: it can)."""
        raise NotImplementedError

    def wrap(
        self,
        command: list[str],
        *,
        mounts: Sequence[Mount],
        workdir: Path,
        gpus: Gpus,
        uid: int | None,
    ) -> tuple[list[str], dict[str, str]]:
        """The argv and environment that run `command` confined at this level."""
        return command, self.environment(str(workdir), gpus, _scratch(mounts, host=True))

    def environment(self, home: str, gpus: Gpus = (), tmp: str | None = None) -> dict[str, str]:
        """The child's environment, as the child sees it."""
        return child_environment(str(PROJECT_ROOT), home, gpus, tmp)

    def inside(self, host: Path, mounts: Sequence[Mount]) -> str:
        """Where the child sees the host path `host` (one of `mounts` or inside one)."""
        return str(host)

    def worker_rules(self, mounts: Sequence[Mount], gpus: Gpus) -> dict[str, Any]:
        """What the worker must apply to itself before it imports student code."""
        return {}

    def exit_code(self, returncode: int) -> int:
        """The child's own exit code (negative: killed by that signal)."""
        return returncode


class Rlimits(Level):
    """Resource limits and the throw-away uid only (see README, Isolation)."""

    name = RLIMITS

    def problem(self, uid: int | None) -> str | None:
        return probe([PYTHON, "-c", PROBE_IMPORTS], uid, env={"PYTHONPATH": str(PROJECT_ROOT)})


class Landlock(Level):
    """The worker confines itself with Landlock before it imports student code."""

    name = LANDLOCK

    def problem(self, uid: int | None) -> str | None:
        code = f"{PROBE_IMPORTS}; grader.sandbox.landlock.restrict([], [])"
        return probe([PYTHON, "-c", code], uid, env={"PYTHONPATH": str(PROJECT_ROOT)})

    def worker_rules(self, mounts: Sequence[Mount], gpus: Gpus) -> dict[str, Any]:
        """Read: the system, Python, the worker code, the read-only mounts. Write: the rest
        (so not /tmp, /var/tmp or /dev/shm: TMPDIR points into the job's counted folder)."""
        code = [str(p) for p in python_paths() + worker_code()]
        read = [*SYSTEM_FOLDERS, *code, *(str(m.host) for m in mounts if not m.writable)]
        write = [*(str(m.host) for m in mounts if m.writable), "/dev/null", *gpus]
        return {"landlock": {"read": read, "write": write}}


class Bubblewrap(Level):
    """New namespaces; the child sees only Python, the worker code and its mounts."""

    name = BUBBLEWRAP

    def problem(self, uid: int | None) -> str | None:
        if not shutil.which("bwrap"):
            return "bwrap is not installed"
        argv = self.prefix([], uid, self.environment("/"))
        return probe([*argv, "--chdir", "/", "--", PYTHON, "-c", PROBE_IMPORTS], uid)

    def wrap(
        self,
        command: list[str],
        *,
        mounts: Sequence[Mount],
        workdir: Path,
        gpus: Gpus,
        uid: int | None,
    ) -> tuple[list[str], dict[str, str]]:
        tmp = _scratch(mounts, host=False) or self.inside(workdir, mounts)
        prefix = self.prefix(mounts, uid, self.environment(tmp, gpus), gpus)
        argv = prefix + ["--chdir", self.inside(workdir, mounts), "--"] + command
        return argv, {"PATH": "/usr/bin:/bin"}  # bwrap itself: the child's is set inside

    def environment(self, home: str, gpus: Gpus = (), tmp: str | None = None) -> dict[str, str]:
        return child_environment(CODE_INSIDE, home, gpus, tmp)

    def inside(self, host: Path, mounts: Sequence[Mount]) -> str:
        for mount in mounts:
            if host == mount.host or mount.host in host.parents:
                return str(PurePosixPath(mount.inside) / host.relative_to(mount.host))
        raise ValueError(f"{host} is in no folder the child sees")

    def exit_code(self, returncode: int) -> int:
        # bubblewrap's init reports a signal as 128 + n
        return 128 - returncode if returncode > 128 else returncode

    def prefix(
        self,
        mounts: Sequence[Mount],
        uid: int | None,
        env: dict[str, str] | None = None,
        gpus: Gpus = (),
    ) -> list[str]:
        """The bwrap argv up to the command: namespaces, what the child sees, who it is."""
        argv = [*_BWRAP_BASE, *_system_binds()]
        for device in gpus:
            argv += ["--dev-bind", device, device]
        for path in worker_code():
            argv += ["--ro-bind", str(path), code_inside(path)]
        for m in mounts:  # /tmp and /dev/shm among them: host folders the write cap counts
            argv += ["--bind" if m.writable else "--ro-bind", str(m.host), m.inside]
        # The root and /dev are unsized tmpfs (/dev/shm a folder of it unless mounted over):
        # both read-only, so the child writes only to its mounts. Not recursive: the device
        # nodes and the binds inside stay as they are.
        argv += ["--remount-ro", "/dev", "--remount-ro", "/"]
        if uid is not None:
            argv += ["--uid", str(uid), "--gid", str(uid)]
        for key, value in (env or {}).items():
            argv += ["--setenv", key, value]
        return argv


# Namespaces, /usr, a fresh /proc and /dev; /tmp stays read-only unless a writable mount of
# the job is bound there.
_BWRAP_BASE = (
    "bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--clearenv",
    "--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev",
    "--dir", "/tmp", "--dir", "/job",
)  # fmt: skip


def code_inside(host: Path) -> str:
    """Where a bubblewrapped child sees a file of the grader package."""
    return f"{CODE_INSIDE}/grader/{host.relative_to(GRADER_PACKAGE).as_posix()}"


def _system_binds() -> list[str]:
    """The system folders a dynamically linked Python needs, and Python itself."""
    argv = []
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
    return argv


def _scratch(mounts: Sequence[Mount], host: bool) -> str | None:
    """The job's writable folder the child sees as /tmp (host path or path inside), if any."""
    for m in mounts:
        if m.writable and m.inside == "/tmp":
            return str(m.host) if host else m.inside
    return None


ALL_LEVELS: tuple[Level, ...] = (Bubblewrap(), Landlock(), Rlimits())  # strongest first
LEVELS = tuple(level.name for level in ALL_LEVELS)


def named(name: str) -> Level:
    """The level called `name` (as stored in results and given to --isolation)."""
    for level in ALL_LEVELS:
        if level.name == name:
            return level
    raise ValueError(f"Unknown isolation level {name!r}; use one of {LEVELS}.")


def detect_isolation(forced: str | None = None, minimum: str | None = DEFAULT_MINIMUM) -> str:
    """The strongest level that works here, found by trying each (about a second), never
    one below `minimum` (None: any); `forced` is used as given (the caller's choice).

    Raises:
        ValueError: `forced` or `minimum` names no level.
        GradingError: a child uid cannot reach the interpreter, no level can start it, or
            only a level below `minimum` can; the message names each cause and its fix.
    """
    for name in (forced, minimum):
        if name is not None:
            named(name)  # an unknown name fails before anything is tried
    with uids.UidLeases() as leases:  # tried as a child runs: as a throw-away uid
        uid = leases.uid(0)
        reach.require(uid, _needed())
        if forced is not None:
            return forced  # as given: a forced level's own failures show in its children
        tried = problems(uid)
        return causes.choose(tried, minimum, causes.read_facts(uid, _needed()))


def problems(uid: int | None, every: bool = False) -> dict[str, str | None]:
    """Each level's problem as `uid` (None: it works), strongest first; up to the first
    that works unless `every`."""
    found: dict[str, str | None] = {}
    for level in ALL_LEVELS:
        found[level.name] = problem = level.problem(uid)
        if problem is None and not every:
            break
    return found


def diagnose() -> tuple[dict[str, str | None], causes.Facts]:
    """Every level's cause and fix (None: it works here), and the facts read (`doctor`)."""
    with uids.UidLeases() as leases:
        uid = leases.uid(0)
        tried = problems(uid, every=True)
        facts = causes.read_facts(uid, _needed())
    return {n: p and causes.explain(n, p, facts) for n, p in tried.items()}, facts


def _needed() -> list[Path]:
    """What every child must reach: the interpreter, its folders, the worker code."""
    return [Path(PYTHON), *python_paths(), *worker_code()]
