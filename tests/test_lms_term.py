"""A whole term through the command line, as the README's five commands run it: a Canvas
download imported with its roster, graded (a late policy and an instructor override applied),
and exported to Canvas' and Moodle's grade files, which parse back with the expected rows."""

from __future__ import annotations

import csv
import shutil
import zipfile
from pathlib import Path

import pytest

from grader import cli
from tests.conftest import FIXTURES

pytestmark = pytest.mark.slow
LMS = FIXTURES / "lms"
LATE = """
[late]
due = 2026-11-30T23:59:00+01:00
per_day = 0.25
"""


def canvas_zip(target: Path) -> Path:
    """The fixture download zipped the way Canvas serves it (flat, junk included)."""
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted((LMS / "canvas-download").rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(LMS / "canvas-download").as_posix())
    return target


def term_assignment(tmp_path: Path) -> Path:
    """The tiny assignment under its own id (its own output folder, the session's caches),
    with a late policy: 25 % of the maximum a day."""
    folder = tmp_path / "tiny-term"
    shutil.copytree(FIXTURES / "assignments" / "tiny", folder)
    spec = folder / "assignment.toml"
    text = spec.read_text(encoding="utf-8").replace('id = "tiny"', 'id = "tiny-term"', 1)
    spec.write_text(text + LATE, encoding="utf-8")
    return folder


def rows(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), f"{path.name}: a byte-order mark, for Excel"
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_import_grade_export_round_trip(
    tmp_path: Path, data_dir: Path, session_out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assignment, submissions = term_assignment(tmp_path), tmp_path / "submissions"
    download = canvas_zip(tmp_path / "submissions.zip")
    roster = str(LMS / "canvas-roster.csv")
    imported = cli.main(["import", "--from", "canvas", str(download), "--out", str(submissions),
                         "--roster", roster, "--file", "submission.ipynb"])  # fmt: skip
    assert imported == 1, "an ambiguous student and an unmatched one are listed: exit 1"
    assert "asmith" in capsys.readouterr().out
    overrides = tmp_path / "overrides.toml"
    overrides.write_text('[jnunez]\npoints = -1\nreason = "used a test image to tune"\n')

    common = ["--assignment", str(assignment), "--out", str(session_out)]
    graded = cli.main(["grade", *common, "--submissions", str(submissions), "--data",
                       str(data_dir), "--only", "jnunez", "zangstrom", "--jobs", "2",
                       "--no-reports", "--overrides", str(overrides)])  # fmt: skip
    assert graded == 0
    summary = {r["student"]: r for r in rows(session_out / "tiny-term" / "summary.csv")}
    jose, zoe = summary["jnunez"], summary["zangstrom"]
    assert jose["name"] == "José Núñez" and zoe["name"] == "Zoë Ångström"
    assert float(jose["final_score"]) == max(0.0, float(jose["score"]) - 1)
    assert "used a test image to tune" in jose["adjustments"]
    maximum = float(zoe["max_score"])  # late flag without a time: one day, 25 % of the maximum
    assert zoe["late_days"] == "1" and jose["late_days"] == ""
    assert float(zoe["final_score"]) == max(0.0, float(zoe["score"]) - 0.25 * maximum)
    assert jose["same_work"].startswith("identical: zangstrom"), "one file, two students"

    canvas = tmp_path / "canvas.csv"
    exported = cli.main(["export", "--to", "canvas", "--output", str(canvas), *common,
                         "--submissions", str(submissions), "--column",
                         "Transfer learning (4521)"])  # fmt: skip
    assert exported == 1, "the imported students not graded yet are named: exit 1"
    assert "mpena" in capsys.readouterr().out
    by_login = {r["SIS Login ID"]: r for r in rows(canvas)}
    assert set(by_login) == {"jnunez", "zangstrom"}
    assert by_login["jnunez"]["ID"] == "1001" and by_login["zangstrom"]["SIS User ID"] == "S1002"
    for login, student in (("jnunez", jose), ("zangstrom", zoe)):
        assert float(by_login[login]["Transfer learning (4521)"]) == float(student["final_score"])

    moodle = tmp_path / "moodle.csv"
    cli.main(["export", "--to", "moodle", "--output", str(moodle), *common,
              "--submissions", str(submissions)])  # fmt: skip
    moodle_rows = rows(moodle)
    grade_column = next(k for k in moodle_rows[0] if k not in ("Full name", "Email address",
                        "Username", "ID number") and not k.startswith("Feedback"))  # fmt: skip
    by_id = {r["ID number"]: r for r in moodle_rows}
    assert float(by_id["S1001"][grade_column]) == float(jose["final_score"])
    feedback = next(v for k, v in by_id["S1002"].items() if k.startswith("Feedback"))
    assert "late" in feedback.lower()
