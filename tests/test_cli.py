"""The command line: every documented option parses, and each outcome has its exit code."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest

from grader import cli, resources
from grader.errors import DataError
from grader.report import RenderSummary

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = ROOT / "assignments" / "transfer-learning"
RESULTS = Path(__file__).resolve().parent / "fixtures" / "results"


def test_every_documented_option_parses() -> None:
    parser = cli.build_parser()
    grade = parser.parse_args(
        ["grade", "--assignment", "a", "--submissions", "s", "--out", "o", "--data", "d",
         "--jobs", "2", "--only", "x", "y", "--force", "--isolation", "rlimits",
         "--memory-cap", "cgroup", "--no-reports"]
    )  # fmt: skip
    assert (grade.jobs, grade.only, grade.force, grade.no_reports) == (2, ["x", "y"], True, True)
    check = parser.parse_args(["check", "sub.ipynb", "--full", "--isolation", "landlock"])
    assert check.full and check.submission == Path("sub.ipynb")
    assert parser.parse_args(["report", "--out", "o"]).out == Path("o")
    assert parser.parse_args(["doctor"]).assignment == resources.default_assignment()


def test_report_without_results_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = cli.main(["report", "--assignment", str(ASSIGNMENT), "--out", str(tmp_path)])
    assert code == cli.USAGE
    assert "No results in" in capsys.readouterr().err


def test_report_exits_1_when_a_report_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    results = tmp_path / "transfer-learning" / "results"
    shutil.copytree(RESULTS, results)
    seen = []

    def render_all(layout: object, **options: object) -> RenderSummary:
        seen.append(layout)
        assert options == {"jobs": 6, "changed_only": False}  # one per result, on this machine
        return RenderSummary(errors=["bea-overfit.json: cannot be read\x1b[2J"])

    monkeypatch.setattr("grader.report.batch.render_all", render_all)
    monkeypatch.setattr("grader.report.batch.auto_jobs", lambda reports: reports)
    code = cli.main(["report", "--assignment", str(ASSIGNMENT), "--out", str(tmp_path)])
    assert code == cli.FAILED
    assert seen[0].results == results.resolve()  # type: ignore[attr-defined]
    err = capsys.readouterr().err
    assert "report error: bea-overfit.json: cannot be read" in err and "\x1b" not in err


def _raise(exc: BaseException) -> None:
    raise exc


def test_grader_errors_exit_2_and_bugs_exit_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    def doctor(exc: BaseException) -> None:
        monkeypatch.setitem(cli.COMMANDS, "doctor", lambda args: _raise(exc))

    doctor(DataError("no cifar10.zip in /data"))
    assert cli.main(["doctor"]) == cli.USAGE
    assert capsys.readouterr().err == "error: no cifar10.zip in /data\n"
    doctor(KeyError("oops"))
    assert cli.main(["doctor"]) == cli.BUG
    err = capsys.readouterr().err
    assert "internal error" in err and "please report" in err and "KeyError: 'oops'" in err
    doctor(KeyboardInterrupt())
    assert cli.main(["doctor"]) == cli.INTERRUPTED


def test_commands_take_namespaces() -> None:
    assert set(cli.COMMANDS) == {
        "grade",
        "check",
        "report",
        "doctor",
        "spec-reference",
        "handout",
        "new-assignment",
        "kit",
        "import",
        "export",
        "gradescope",
        "gradescope-run",
    }
    assert all(callable(command) for command in cli.COMMANDS.values())
    assert isinstance(cli.build_parser().parse_args(["doctor"]), argparse.Namespace)
