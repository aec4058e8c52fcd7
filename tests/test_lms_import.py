"""`grader import`: Canvas and Moodle downloads (zips and folders) into submissions/."""

from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from grader.errors import GradingError
from grader.lms.canvas import parse_canvas_name, split_version
from grader.lms.moodle import parse_moodle_path
from grader.lms.roster import read_roster
from grader.lms.student import StudentInfo, info_from_toml
from grader.pipeline import importcommand, lmsimport
from grader.tomlcompat import tomllib
from tests.conftest import FIXTURES

LMS = FIXTURES / "lms"
GOOD = (FIXTURES / "submissions" / "e2e-good" / "submission.py").read_bytes()
NOTEBOOK = (FIXTURES / "submissions" / "e2e-notebook" / "submission.ipynb").read_bytes()


def zipped(folder: Path, target: Path, extra: dict[str, bytes] | None = None) -> Path:
    """`folder` as the LMS zips it (folder entries too), plus `extra` raw entries."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            name = path.relative_to(folder).as_posix()
            archive.writestr(
                name + "/" if path.is_dir() else name, b"" if path.is_dir() else path.read_bytes()
            )
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return target


def run_import(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    importcommand.add_parser(parser.add_subparsers(dest="command"))
    code = importcommand.run(parser.parse_args(["import", *argv]))
    return code, capsys.readouterr().out


def student(folder: Path) -> StudentInfo:
    return info_from_toml(tomllib.loads((folder / "student.toml").read_text("utf-8")))


@pytest.fixture(params=["zip", "folder"])
def canvas_download(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    source = LMS / "canvas-download"
    if request.param == "folder":
        return source
    return zipped(source, tmp_path / "submissions.zip", {".DS_Store": b"\0\0\0\1Bud1"})


def test_canvas_download(canvas_download: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "submissions"
    roster = str(LMS / "canvas-roster.csv")
    code, shown = run_import(
        capsys, "--from", "canvas", str(canvas_download), "--out", str(out), "--roster", roster
    )
    assert code == 1  # one ambiguous, one not in the roster, one roster entry without work
    assert sorted(p.name for p in out.iterdir()) == ["canvas-1006", "jnunez", "mpena", "zangstrom"]
    assert student(out / "jnunez") == StudentInfo(
        name="José Núñez",
        lms="canvas",
        lms_user_id="1001",
        sis_id="S1001",
        login_id="jnunez",
        section="Section A",
        late=False,
        submission_id="5001",
        source_file="nunezjose_1001_5001_submission.py",
    )
    assert (out / "jnunez" / "submission.py").read_bytes() == GOOD
    assert student(out / "zangstrom").late and student(out / "zangstrom").name == "Zoë Ångström"
    maria = student(out / "mpena")  # `_late_`, uploaded three times: the newest is taken
    assert (maria.name, maria.late) == ("María Peña Ruiz", True)
    assert maria.source_file == "penaruizmaria_late_1003_5003_transfer-2.ipynb"
    assert (out / "mpena" / "submission.ipynb").read_bytes() == NOTEBOOK
    assert not (out / "mpena" / "submission.py").exists()
    assert "took transfer-2.ipynb, the newest" in shown
    newcomer = student(out / "canvas-1006")  # not in the roster: imported all the same
    assert (newcomer.name, newcomer.sis_id, newcomer.lms_user_id) == ("newstudent", "", "1006")
    assert "asmith (smithanna): several candidate files: scratch.ipynb, submission.ipynb" in shown
    assert "in the roster, no submission in the download): fix" in shown
    assert "\n  Siobhán O'Brien\n" in shown
    assert "newstudent (canvas-1006): the submission is not in the roster" in shown
    strays = 3 if canvas_download.suffix == ".zip" else 2  # the zip adds a .DS_Store
    assert f"skipped {strays} stray files" in shown and "report.pdf" in shown
    assert "Points Possible" not in shown and "Test" not in shown


def test_file_option_picks_the_assignments_file(tmp_path: Path, capsys) -> None:
    out = tmp_path / "submissions"
    args = ["--from", "canvas", str(LMS / "canvas-download"), "--out", str(out)]
    code, shown = run_import(capsys, *args, "--file", "SUBMISSION.ipynb")
    assert code == 0  # no roster: nothing to match, and the --file settles Anna's two notebooks
    assert (out / "canvas-1004" / "submission.ipynb").read_bytes() == NOTEBOOK
    assert student(out / "canvas-1004").name == "smithanna"  # Canvas' lastfirst, no roster
    assert student(out / "canvas-1002").late


@pytest.mark.parametrize("kind", ["zip", "folder"])
def test_moodle_download(kind: str, tmp_path: Path, capsys) -> None:
    source = LMS / "moodle-download"
    download = source if kind == "folder" else zipped(source, tmp_path / "moodle.zip")
    out = tmp_path / "submissions"
    roster = str(LMS / "moodle-roster.csv")
    code, shown = run_import(
        capsys, "--from", "moodle", str(download), "--out", str(out), "--roster", roster
    )
    assert code == 0, shown
    assert sorted(p.name for p in out.iterdir()) == [f"2023000{n}" for n in range(1, 5)]
    zoe = student(out / "20230002")
    assert (zoe.name, zoe.email, zoe.lms, zoe.lms_user_id) == (
        "Zoë Ångström",
        "zoe.angstrom@example.edu",
        "moodle",
        "202",
    )
    assert (out / "20230001" / "submission.ipynb").read_bytes() == NOTEBOOK
    assert (out / "20230003" / "submission.py").read_bytes() == GOOD  # lab3.py, its only file
    assert student(out / "20230004").name == "Tomás García"  # the old flat naming
    assert "skipped 2 stray files" in shown  # the PNG and the online text


def test_moodle_without_roster_and_with_the_worksheet(tmp_path: Path, capsys) -> None:
    download = str(LMS / "moodle-download")
    code, _ = run_import(capsys, "--from", "moodle", download, "--out", str(tmp_path / "a"))
    assert code == 0
    assert student(tmp_path / "a" / "moodle-202").name == "Zoë Ångström"  # from the file name
    worksheet = tmp_path / "worksheet.csv"  # the grading worksheet: "Participant N", a username
    worksheet.write_text(
        "Identifier,Full name,Username,Email address,Status\n"
        "Participant 201,José Núñez,jnunez,jose@example.edu,Submitted\n"
        "Participant 202,Zoe Angstrom,zoe.a,zoe@example.edu,Submitted\n",
        encoding="utf-8",
    )
    args = ["--out", str(tmp_path / "b"), "--roster", str(worksheet)]
    code, shown = run_import(capsys, "--from", "moodle", download, *args)
    assert code == 1 and "Li Wei (moodle-203): the submission is not in the roster" in shown
    assert student(tmp_path / "b" / "zoe.a").name == "Zoe Angstrom"  # matched by participant


def test_folder_download(tmp_path: Path, capsys) -> None:
    download = tmp_path / "download"
    for name, data in {
        "ana/submission.py": GOOD,
        "ana/notes.pdf": b"%PDF",
        "ben.ipynb": NOTEBOOK,
        "carl/a.py": GOOD,
        "carl/b.py": GOOD,
        "readme.txt": b"hi",
        "_old/submission.py": GOOD,
        ".git/x.py": GOOD,
    }.items():
        (download / name).parent.mkdir(parents=True, exist_ok=True)
        (download / name).write_bytes(data)
    (download / "dan.py").symlink_to("/etc/passwd")  # never followed
    out = tmp_path / "submissions"
    code, shown = run_import(capsys, "--from", "folder", str(download), "--out", str(out))
    assert code == 1 and "carl (carl): several candidate files: a.py, b.py" in shown
    assert sorted(p.name for p in out.iterdir()) == ["ana", "ben"]
    assert "skipped 4 stray files" in shown and "dan.py" in shown
    assert "_old (_old): a name starting with '_'" in shown
    assert (out / "ben" / "submission.ipynb").read_bytes() == NOTEBOOK
    assert student(out / "ana") == StudentInfo(
        name="ana", lms="folder", source_file="ana/submission.py"
    )


def test_reimport_updates_only_the_changed_student(tmp_path: Path, capsys) -> None:
    download = tmp_path / "download"
    shutil.copytree(LMS / "canvas-download", download)
    out = tmp_path / "submissions"
    args = ["--from", "canvas", "--out", str(out), "--file", "submission.ipynb"]
    run_import(capsys, str(download), *args)
    files = sorted(p for p in out.rglob("*") if p.is_file())
    for path in files:
        os.utime(path, (1_000_000_000, 1_000_000_000))
    newer = download / "nunezjose_1001_5001_submission.py"  # José fixed his code
    newer.write_bytes(GOOD + b"# fixed\n")
    (download / "angstromzoe_LATE_1002_5002_submission.py").unlink()  # Zoë: not late now
    (download / "angstromzoe_1002_5007_submission.py").write_bytes(GOOD)
    code, shown = run_import(capsys, str(download), *args)
    assert code == 0 and "0 imported, 2 updated, 3 unchanged" in shown
    changed = {out / "canvas-1001" / "submission.py", out / "canvas-1002" / "student.toml"}
    for path in files:
        touched = path.stat().st_mtime != 1_000_000_000
        assert touched == (path in changed), path
    assert (out / "canvas-1001" / "submission.py").read_bytes() == GOOD + b"# fixed\n"
    assert not student(out / "canvas-1002").late
    assert sorted(os.listdir(out / "canvas-1001")) == ["student.toml", "submission.py"]


def test_unsafe_zips_are_refused_whole(tmp_path: Path, capsys) -> None:
    out = tmp_path / "submissions"
    for bad in ("../evil_1_2_submission.py", "/etc/x_1_2_submission.py"):
        archive = zipped(LMS / "canvas-download", tmp_path / "bad.zip", {bad: b"import os"})
        with pytest.raises(GradingError, match="a path outside the download"):
            run_import(capsys, "--from", "canvas", str(archive), "--out", str(out))
    link = zipfile.ZipInfo("evil_1_2_submission.py")
    link.external_attr = 0o120777 << 16
    with zipfile.ZipFile(tmp_path / "link.zip", "w") as writer:
        writer.writestr(link, "/etc/passwd")
    with pytest.raises(GradingError, match="a link: an LMS never writes one"):
        run_import(capsys, "--from", "canvas", str(tmp_path / "link.zip"), "--out", str(out))
    assert not out.exists()


def test_oversized_members(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lmsimport, "MAX_TOTAL_BYTES", 10**6)
    bomb = {"bomb_1_2_submission.py": b"\0" * (2 * 10**6)}  # a few kB compressed
    archive = zipped(LMS / "canvas-download", tmp_path / "bomb.zip", bomb)
    with pytest.raises(GradingError, match="zip bomb"):
        run_import(capsys, "--from", "canvas", str(archive), "--out", str(tmp_path / "a"))
    monkeypatch.setattr(lmsimport, "MAX_TOTAL_BYTES", 10**8)
    monkeypatch.setattr(lmsimport, "MAX_FILE_BYTES", 10**6)
    big = {
        "big_2001_3001_submission.py": b"#" * (2 * 10**6),
        "liar_2002_3002_submission.py": b"#" * (2 * 10**6),
    }
    archive = zipped(LMS / "canvas-download", tmp_path / "big.zip", big)
    declare_size(archive, "liar_2002_3002_submission.py", 100)  # inflates past what it says
    out = tmp_path / "submissions"
    code, shown = run_import(
        capsys, "--from", "canvas", str(archive), "--out", str(out), "--file", "submission.ipynb"
    )
    assert code == 1 and "unreadable (not imported):" in shown
    assert "canvas-2001 (big): submission.py is 1.9 MB, over the 1 MB a submission" in shown
    assert "canvas-2002 (liar): submission.py could not be read (Bad CRC-32" in shown
    assert sorted(p.name for p in out.iterdir()) == [f"canvas-100{n}" for n in (1, 2, 3, 4, 6)]


def declare_size(archive: Path, member: str, size: int) -> None:
    """Make the zip's central directory declare `size` bytes for `member` (a forged zip)."""
    data = bytearray(archive.read_bytes())
    start = data.index(b"PK\x01\x02")
    while True:
        name_length = int.from_bytes(data[start + 28 : start + 30], "little")
        if data[start + 46 : start + 46 + name_length] == member.encode():
            data[start + 24 : start + 28] = size.to_bytes(4, "little")
            archive.write_bytes(bytes(data))
            return
        start = data.index(b"PK\x01\x02", start + 46)


def test_rosters(tmp_path: Path) -> None:
    rows = list(csv.reader(io.StringIO((LMS / "canvas-roster.csv").read_text("utf-8"))))
    semicolons = io.StringIO()  # as Excel saves CSV in many European locales
    csv.writer(semicolons, delimiter=";").writerows(rows)
    for encoding, notes in (("utf-8-sig", 0), ("cp1252", 1)):
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes(semicolons.getvalue().encode(encoding))
        roster = read_roster(path)
        assert len(roster.notes) == notes and roster.kind == "canvas"
        assert [e.name for e in roster.entries][:2] == ["José Núñez", "Zoë Ångström"]
        assert len(roster.entries) == 5  # no "Points Possible", no test student
    plain = tmp_path / "plain.csv"
    plain.write_text("id,name,email\nana,Ana Pérez,ana@example.edu\n", encoding="utf-8")
    assert read_roster(plain).by_key("ANA").email == "ana@example.edu"  # type: ignore[union-attr]
    moodle = read_roster(LMS / "moodle-roster.csv")
    assert [e.sis_id for e in moodle.by_name("jose  NUNEZ")] == ["20230001"]  # accents folded


def test_bad_roster_header(tmp_path: Path, capsys) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("Nombre,Correo\nAna,ana@example.edu\n", encoding="utf-8")
    with pytest.raises(GradingError) as caught:
        run_import(
            capsys,
            "--from",
            "canvas",
            str(LMS / "canvas-download"),
            "--out",
            str(tmp_path / "s"),
            "--roster",
            str(path),
        )
    message = str(caught.value)
    assert "has the columns [Nombre, Correo]" in message
    assert "Student, ID, SIS User ID" in message and "id, name, email" in message
    assert not (tmp_path / "s").exists()


def test_name_parsers() -> None:
    group = parse_canvas_name("team_3_LATE_77_88_my_model_v2-3.ipynb")
    assert group is not None and (group.lastfirst, group.late, group.user_id) == (
        "team_3",
        True,
        "77",
    )
    assert (group.original, group.base, group.version) == (
        "my_model_v2-3.ipynb",
        "my_model_v2.ipynb",
        3,
    )
    assert parse_canvas_name("notes.pdf") is None
    assert split_version("lab.py") == ("lab.py", 0)
    flat = parse_moodle_path(["Zoë Ångström_12_assignsubmission_file_lab_1.py"])
    assert flat is not None and (flat.full_name, flat.original) == ("Zoë Ångström", "lab_1.py")
    nested = parse_moodle_path(["wrap", "Ana B_3_assignsubmission_file_", "src", "a.py"])
    assert nested is not None and (nested.participant_id, nested.original) == ("3", "src/a.py")
    assert parse_moodle_path(["Ana B_3_assignsubmission_file_"]) is None
    assert importcommand.safe_id("José.Núñez@uni.es") == "Jose.Nunez@uni.es"
    assert importcommand.safe_id("-x") == "x" and importcommand.safe_id("../..") == ""
