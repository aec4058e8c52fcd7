"""Importing the grader where POSIX-only modules and the C library are missing (as on Windows),
and grading there stopping with the platform's message (issue 14, item 5).

The import checks run in a child Python, so that this process keeps its own modules: there,
`import resource`, `import fcntl` and `import msvcrt` fail and `ctypes.CDLL` raises.
"""

from __future__ import annotations

import ast
import errno
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from grader import shims

PROJECT = Path(__file__).resolve().parent.parent
PACKAGE = PROJECT / "grader"
BLOCKED = ("resource", "fcntl", "msvcrt")
# Run first in the child: what a Windows Python lacks is made to fail the way it fails there.
WITHOUT_POSIX = textwrap.dedent(
    f"""
    import ctypes, ctypes.util, sys

    class NoSuchModule:
        def find_spec(self, name, path=None, target=None):
            if name in {BLOCKED!r}:
                raise ImportError(f"No module named {{name!r}} (blocked: as on Windows)")
            return None

    for name in {BLOCKED!r}:
        sys.modules.pop(name, None)
    sys.meta_path.insert(0, NoSuchModule())

    def no_library(*args, **kwargs):
        raise OSError("ctypes.CDLL: no C library here (blocked: as on Windows)")

    ctypes.CDLL = no_library
    ctypes.util.find_library = lambda name: None
    """
)


def run_without_posix(code: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    """Run `code` in a child Python after `WITHOUT_POSIX`; its output as text."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_POSIX + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=tmp,
        env=env,
        timeout=120,
    )


def test_the_blocking_itself_works(tmp_path: Path) -> None:
    done = run_without_posix(
        """
        import ctypes
        for name in ("resource", "fcntl"):
            try:
                __import__(name)
            except ImportError:
                print(name, "blocked")
        try:
            ctypes.CDLL(None)
        except OSError:
            print("CDLL blocked")
        """,
        tmp_path,
    )
    assert done.stdout.split("\n")[:3] == ["resource blocked", "fcntl blocked", "CDLL blocked"]


def test_cli_help_works_without_posix_modules(tmp_path: Path) -> None:
    done = run_without_posix(
        """
        from grader.cli import main
        for argv in (["--help"], ["check", "--help"]):
            try:
                main(argv)
            except SystemExit as exit:
                print("exit", exit.code)
        """,
        tmp_path,
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("exit 0") == 2, done.stdout
    assert "usage: grader [-h]" in done.stdout
    assert "usage: grader check [-h]" in done.stdout
    assert "student self-check" in done.stdout


PLATFORM_MESSAGE = "grading needs Linux"


def test_grading_stops_with_the_platform_message(tmp_path: Path) -> None:
    done = run_without_posix(
        """
        from pathlib import Path
        from grader.errors import GradingError
        from grader.sandbox import process, unseen, workroot
        from grader.sandbox.landlock import abi_version

        def attempt(name, call):
            try:
                call()
            except GradingError as exc:
                print(name, "|", exc)

        limits = process.Limits(wall_seconds=5, memory_bytes=2**30)
        attempt("harden", process.harden_grader_process)
        attempt("launch", lambda: process.launch(
            ["true"], {}, workdir=Path("."), limits=limits, memory_cap="address-space",
            cgroup=None, uid=None))
        attempt("workroot", workroot.make)
        attempt("segments", lambda: unseen.remove_segments(-1))
        attempt("rlimit", lambda: process._apply_limits(limits))
        print("landlock abi", abi_version())
        """,
        tmp_path,
    )
    assert "Traceback" not in done.stderr, done.stderr
    lines = dict(line.split(" | ", 1) for line in done.stdout.splitlines() if " | " in line)
    assert sorted(lines) == ["harden", "launch", "rlimit", "workroot"], done.stdout
    for message in lines.values():
        assert PLATFORM_MESSAGE in message and "self-check" in message
    assert "resource limits" in lines["launch"] and "file locks" in lines["workroot"]
    assert "landlock abi 0" in done.stdout  # no C library: no Landlock, no crash


def test_grade_command_says_why_and_exits_2(tmp_path: Path) -> None:
    done = run_without_posix(
        f"""
        from grader.cli import main
        print("exit", main(["grade", "--out", {str(tmp_path / "out")!r},
                            "--submissions", {str(tmp_path)!r}]))
        """,
        tmp_path,
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert "exit 2" in done.stdout, done.stdout + done.stderr
    assert PLATFORM_MESSAGE in done.stderr


# The locks, with each platform's module faked in this process.


class FakeMsvcrt(SimpleNamespace):
    """msvcrt.locking's semantics: byte ranges from the current position, locked by one
    descriptor at a time; a refused non-blocking lock raises EACCES."""

    LK_UNLCK, LK_LOCK, LK_NBLCK = 0, 1, 2

    def __init__(self) -> None:
        super().__init__(held={})

    def locking(self, fd: int, mode: int, nbytes: int) -> None:
        key = (os.fstat(fd).st_ino, os.lseek(fd, 0, os.SEEK_CUR), nbytes)
        if mode == self.LK_UNLCK:
            self.held.pop(key)
        elif self.held.setdefault(key, fd) != fd:
            raise PermissionError(errno.EACCES, "Permission denied")


def test_windows_locks_exclude_and_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeMsvcrt()
    monkeypatch.setattr(shims, "_module", {"fcntl": None, "msvcrt": fake}.get)
    path = tmp_path / "lock"
    first, second = (os.open(path, os.O_RDWR | os.O_CREAT) for _ in range(2))
    shims.lock_exclusive(first, wait=False)
    with pytest.raises(BlockingIOError):
        shims.lock_exclusive(second, wait=False)
    assert os.lseek(first, 0, os.SEEK_CUR) == 0  # the data at the start stays readable
    os.write(first, b"pid")
    shims.release(first)
    assert fake.held == {}
    shims.lock_exclusive(second)
    shims.release(second)


def test_without_any_lock_module_locking_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shims, "_module", lambda name: None)
    with pytest.raises(shims.PlatformUnsupported, match="file locks.*grading needs Linux"):
        shims.lock_exclusive(0)


def test_posix_locks_are_flock(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    first, second = (os.open(path, os.O_RDWR | os.O_CREAT) for _ in range(2))
    shims.lock_exclusive(first)
    with pytest.raises(BlockingIOError):
        shims.lock_exclusive(second, wait=False)
    shims.release(first)
    shims.lock_exclusive(second, wait=False)
    shims.release(second)


# Only grader/shims.py touches the POSIX-only modules and the C library; the two modules a
# sandboxed worker sees do it themselves (it sees no shims), inside functions only.
WORKER_SIDE = {"grader/worker/budget.py", "grader/sandbox/landlock.py"}


def _platform_uses(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name in BLOCKED]
        elif isinstance(node, ast.ImportFrom) and node.module in BLOCKED:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Attribute) and node.attr == "CDLL":
            found.append((node.lineno, "CDLL"))
    return found


def test_only_the_shims_touch_posix_modules() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PROJECT).as_posix()
        tree = ast.parse(path.read_text())
        if name == "grader/shims.py":
            continue
        uses = _platform_uses(tree)
        if name in WORKER_SIDE:  # allowed inside functions: nothing runs at import
            lazy = {line for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)
                    for line, _ in _platform_uses(f)}  # fmt: skip
            uses = [(line, what) for line, what in uses if line not in lazy]
        wrong += [f"{name}:{line}: {what}" for line, what in uses]
    assert not wrong, "\n".join(wrong)
