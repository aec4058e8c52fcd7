"""The sandbox never weakens silently (issue 14): each unusable level's cause and fix, the
minimum level grading may fall back to, and an interpreter the child uid cannot reach."""

from __future__ import annotations

import os
import site
import string
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader import assignment, cli, sandbox
from grader.errors import GradingError
from grader.messages import catalog
from grader.sandbox import causes, diskuse
from grader.sandbox.causes import Blocked, Facts
from grader.spec import load_assignment
from tests.spec_dicts import minimal, rejects, write

ROOT = Path(__file__).resolve().parents[1]
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="throw-away uids need root")
UID = 61999
BLOCKED = Blocked(Path("/root/.pyenv/versions/3.12.4/bin/python3.12"), Path("/root"), 0o700)


def facts(**changes: object) -> Facts:
    return Facts(uid=UID, kernel="6.8.0-generic", **changes)  # type: ignore[arg-type]


# Causes, from facts handed in ---------------------------------------------------------------


def test_a_missing_bwrap_is_named_with_the_package_to_install() -> None:
    said = causes.explain(causes.BUBBLEWRAP, "bwrap is not installed", facts(bwrap=None))
    assert "bubblewrap is not installed" in said and "apt-get install bubblewrap" in said


@pytest.mark.parametrize("level", causes.ORDER)
def test_a_folder_the_child_uid_cannot_pass_is_named_with_both_fixes(level: str) -> None:
    said = causes.explain(level, "Permission denied", facts(blocked=BLOCKED))
    assert f"uid {UID}" in said and str(BLOCKED.path) in said and "/root (mode 700)" in said
    assert "chmod o+x /root" in said and "-m venv" in said


@pytest.mark.parametrize(
    ("sysctl", "allowing"),
    [("kernel.unprivileged_userns_clone", "1"), ("user.max_user_namespaces", "15000")],
)
def test_disabled_user_namespaces_name_the_sysctl_and_the_value_that_allows_them(
    sysctl: str, allowing: str
) -> None:
    said = causes.explain(causes.BUBBLEWRAP, "bwrap: No permissions", facts(sysctls={sysctl: "0"}))
    assert f"{sysctl} = 0" in said and f"sysctl -w {sysctl}={allowing}" in said
    assert "bwrap: No permissions" in said  # what bwrap itself said stays visible


def test_apparmor_restricting_user_namespaces_names_the_sysctl_and_the_profile() -> None:
    sysctls = {causes.APPARMOR_USERNS: "1", "user.max_user_namespaces": "63000"}
    said = causes.explain(causes.BUBBLEWRAP, "bwrap: setting up uid map", facts(sysctls=sysctls))
    assert "kernel.apparmor_restrict_unprivileged_userns = 1" in said
    assert "/etc/apparmor.d/bwrap" in said and "userns" in said
    assert "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0" in said


def test_user_namespaces_allowed_leave_bwraps_own_words() -> None:
    sysctls = {causes.APPARMOR_USERNS: "0", "kernel.unprivileged_userns_clone": "1"}
    said = causes.explain(causes.BUBBLEWRAP, "bwrap: odd failure", facts(sysctls=sysctls))
    assert "bwrap: odd failure" in said and f"uid {UID}" in said and "sysctl" not in said


def test_a_kernel_without_landlock_and_an_old_landlock_abi_are_named() -> None:
    said = causes.explain(causes.LANDLOCK, "LandlockError", facts(landlock_abi=0))
    assert "6.8.0-generic" in said and "5.13" in said and "lsm=" in said
    note = causes.landlock_note(3, "6.1.0")
    assert note is not None and "ABI 3" in note and "TCP" in note and "6.7" in note
    assert causes.landlock_note(4, "6.8.0") is None and causes.landlock_note(0, "5.4") is None


def test_the_sysctls_are_read_where_the_kernel_has_them(tmp_path: Path) -> None:
    (tmp_path / "kernel").mkdir()
    (tmp_path / "kernel" / "apparmor_restrict_unprivileged_userns").write_text("1\n")
    assert causes.read_sysctls(tmp_path) == {causes.APPARMOR_USERNS: "1"}


def test_the_blocking_folder_is_found_with_its_mode() -> None:
    top = Path(tempfile.mkdtemp(prefix="grader-test-"))  # every parent open (not tmp_path's)
    try:
        home = top / "home"
        python = home / "venv" / "bin" / "python"
        python.parent.mkdir(parents=True)
        python.write_text("")
        top.chmod(0o755)
        home.chmod(0o750)
        assert causes.find_blocked(UID, [python]) == Blocked(python, home, 0o750)
        home.chmod(0o751)
        assert causes.find_blocked(UID, [python]) is None
        assert causes.find_blocked(None, [python]) is None  # children run as the grader
    finally:
        diskuse.remove_tree(top)


# The minimum level ---------------------------------------------------------------------------


def test_a_level_at_or_above_the_minimum_is_chosen() -> None:
    tried = {causes.BUBBLEWRAP: "bwrap is not installed", causes.LANDLOCK: None}
    assert causes.choose(tried, causes.LANDLOCK, facts(bwrap=None)) == causes.LANDLOCK
    assert causes.choose({causes.BUBBLEWRAP: None}, causes.BUBBLEWRAP, facts()) == "bubblewrap"


def test_falling_below_the_minimum_is_refused_with_every_cause_and_how_to_allow_it() -> None:
    tried = {causes.BUBBLEWRAP: "bwrap is not installed", causes.LANDLOCK: "x", "rlimits": None}
    with pytest.raises(GradingError) as refused:
        causes.choose(tried, causes.DEFAULT_MINIMUM, facts(bwrap=None, landlock_abi=0))
    message = str(refused.value)
    assert "is rlimits, below the allowed minimum landlock" in message
    assert "- bubblewrap: bubblewrap is not installed" in message
    assert "- landlock: this kernel (6.8.0-generic) offers no Landlock" in message
    assert "--min-isolation rlimits" in message and 'min_isolation = "rlimits"' in message
    assert causes.choose(tried, causes.RLIMITS, facts()) == causes.RLIMITS  # allowed
    assert causes.choose(tried, None, facts()) == causes.RLIMITS


def test_no_working_level_names_each_cause() -> None:
    tried = dict.fromkeys(causes.ORDER, "[Errno 13] Permission denied")
    with pytest.raises(GradingError) as refused:
        causes.choose(tried, causes.RLIMITS, facts(blocked=BLOCKED))
    assert str(refused.value).count("chmod o+x /root") == 3


def test_a_forced_level_below_the_minimum_says_how_to_allow_it() -> None:
    causes.check_forced(causes.LANDLOCK, causes.LANDLOCK)
    causes.check_forced(causes.RLIMITS, None)
    with pytest.raises(GradingError, match="--min-isolation rlimits"):
        causes.check_forced(causes.RLIMITS, causes.LANDLOCK)


def test_doctor_says_each_level_the_one_used_and_a_refusal() -> None:
    found = {causes.BUBBLEWRAP: "bubblewrap is not installed.", causes.LANDLOCK: None}
    lines = causes.doctor_lines(found, facts(landlock_abi=3), causes.LANDLOCK)
    assert lines[:2] == ["bubblewrap: bubblewrap is not installed.", "landlock: works"]
    assert "ABI 3" in lines[2] and lines[3] == "isolation level: landlock"
    lines = causes.doctor_lines(
        {**found, causes.LANDLOCK: "no", "rlimits": None}, facts(), "landlock"
    )
    assert lines[-1] == (
        "isolation level: rlimits (below min_isolation landlock: grading refuses it without "
        "--min-isolation rlimits)"
    )
    lines = causes.doctor_lines({"rlimits": "[Errno 13]"}, facts(), "rlimits")
    assert lines[-1].startswith("isolation level: none works here")


def test_the_names_agree_everywhere() -> None:
    assert causes.ORDER == sandbox.LEVELS == assignment.ISOLATION_LEVELS
    assert causes.DEFAULT_MINIMUM == assignment.DEFAULT_MIN_ISOLATION == sandbox.LANDLOCK


@pytest.mark.parametrize("message_id", sorted(i for i in catalog() if i.startswith("isolation.")))
def test_every_isolation_message_has_both_languages_with_the_same_fields(message_id: str) -> None:
    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    texts = catalog()[message_id]
    assert set(texts) == {"en", "es"} and fields(texts["es"]) == fields(texts["en"])


# The spec and the command line ---------------------------------------------------------------


def test_min_isolation_is_read_from_the_spec(tmp_path: Path) -> None:
    assert load_assignment(write(tmp_path, minimal())).min_isolation == "landlock"
    loaded = load_assignment(write(tmp_path, {**minimal(), "min_isolation": "rlimits"}))
    assert loaded.min_isolation == "rlimits"
    message = rejects(tmp_path, {**minimal(), "min_isolation": "docker"})
    assert "`min_isolation` must be one of ['bubblewrap', 'landlock', 'rlimits']" in message


def test_grade_and_check_take_min_isolation() -> None:
    parser = cli.build_parser()
    assert parser.parse_args(["grade", "--min-isolation", "rlimits"]).min_isolation == "rlimits"
    assert parser.parse_args(["check", "s.py"]).min_isolation is None
    with pytest.raises(SystemExit):
        parser.parse_args(["grade", "--min-isolation", "docker"])


@ROOT_ONLY
def test_the_command_line_overrides_the_spec_for_a_forced_level(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox, "harden_grader_process", lambda: None)  # not pytest itself
    spec = write(tmp_path, minimal())
    forced = ["grade", "--assignment", str(spec), "--isolation", "rlimits"]
    with pytest.raises(GradingError, match="--min-isolation rlimits"):
        cli._start(cli.build_parser().parse_args(forced))
    allowed = cli.build_parser().parse_args([*forced, "--min-isolation", "rlimits"])
    assert cli._start(allowed)["isolation"] == "rlimits"
    (spec / "assignment.toml").write_text(
        'min_isolation = "rlimits"\n' + (spec / "assignment.toml").read_text()
    )
    assert cli._start(cli.build_parser().parse_args(forced))["isolation"] == "rlimits"
    stricter = cli.build_parser().parse_args([*forced, "--min-isolation", "landlock"])
    with pytest.raises(GradingError, match="below the allowed minimum isolation landlock"):
        cli._start(stricter)


def _grader(python: str | Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run `python -m grader args` from the project; its exit code and all it printed."""
    done = subprocess.run(
        [str(python), "-m", "grader", *args], cwd=ROOT, capture_output=True, text=True,
        timeout=300, env={**os.environ, **(env or {})},
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr


def test_a_missing_bwrap_below_a_bubblewrap_minimum_refuses_to_grade(tmp_path: Path) -> None:
    code, said = _grader(
        sys.executable, "grade", "--out", str(tmp_path / "out"), "--submissions",
        str(tmp_path / "none"), "--min-isolation", "bubblewrap", env={"PATH": "/nonexistent"},
    )  # fmt: skip
    assert code == cli.USAGE and "Traceback" not in said, said
    assert "- bubblewrap: bubblewrap is not installed. Fix: `apt-get install bubblewrap`" in said
    if "below the allowed minimum bubblewrap" in said:  # else no level works here at all
        assert "--min-isolation landlock" in said or "--min-isolation rlimits" in said


# An interpreter under a folder the child uid cannot pass -------------------------------------


@pytest.fixture
def hidden_python() -> Iterator[tuple[Path, Path]]:
    """(python, folder): a virtual environment made inside a folder only root may enter (as
    /root is), seeing this interpreter's packages and the project through a .pth file."""
    folder = Path(tempfile.mkdtemp(prefix="grader-private-home-"))  # mode 700, owned by root
    try:
        venv = folder / "venv"
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
        python = venv / "bin" / "python"
        packages = subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
        seen = "\n".join([*site.getsitepackages(), str(ROOT)])
        (Path(packages) / "grader-test.pth").write_text(seen)
        yield python, folder
    finally:
        diskuse.remove_tree(folder)


@ROOT_ONLY
@pytest.mark.parametrize("command", ["doctor", "grade"])
def test_an_interpreter_the_child_uid_cannot_reach_grades_or_says_the_fix(
    hidden_python: tuple[Path, Path], tmp_path: Path, command: str
) -> None:
    python, folder = hidden_python
    assert os.stat(folder).st_mode & 0o777 == 0o700
    args = [command] if command == "doctor" else [
        command, "--out", str(tmp_path / "out"), "--submissions", str(tmp_path / "none"),
        "--min-isolation", "rlimits",  # even with every level allowed: never a silent fallback
    ]  # fmt: skip
    code, said = _grader(python, *args)
    assert "Traceback" not in said and "PermissionError" not in said, said
    if code != cli.OK and "isolation: " not in said:  # refused: with the folder and the fix
        assert code in (cli.FAILED, cli.USAGE), said
        assert str(folder) in said and f"chmod o+x {folder}" in said, said
        assert "-m venv" in said or "Move the virtual environment" in said, said
    else:  # it works: then at a level the child uid really reaches the interpreter through
        assert "isolation: bubblewrap" in said or "isolation level: bubblewrap" in said, said
