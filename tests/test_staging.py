"""Staging that trusts nothing (issue 12): links, pipes, huge and many files, odd names, deep
TOML and deep notebook cells are each one submission's result, never a crash or a huge read.

Fast (no training), except the last test, which grades a batch of such folders with the
one-task fixture assignment (every one fails before training).
"""

from __future__ import annotations

import csv
import json
import os
import threading
from pathlib import Path

import pytest

from grader.errors import ErrorKind, GradingError
from grader.messages import render
from grader.notebook import NotebookError, notebook_json_to_module
from grader.pipeline import staging, submissions
from grader.pipeline.folders import (
    MAX_NAME_BYTES,
    MAX_NAME_CHARS,
    display,
    name_problem,
    student_key,
    usable,
)
from grader.pipeline.provenance import submission_hash
from grader.pipeline.selfcheck import submission_folder
from grader.pipeline.staging import Limits, Refused
from grader.pipeline.submissions import read_student_name, stage
from tests.conftest import FIXTURES, fixture_submissions

SUBMISSIONS = FIXTURES / "submissions"
NOT_UTF8 = os.fsdecode(b"notes-\xff.txt")
GOLDEN = FIXTURES / "golden" / "tiny"


def _folder(tmp_path: Path, name: str = "ana", code: str = "x = 1\n") -> Path:
    folder = tmp_path / "submissions" / name
    folder.mkdir(parents=True)
    (folder / "submission.py").write_text(code)
    return folder


def _read_spy(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of every `os.read` from now on."""
    sizes: list[int] = []
    real = os.read

    def spy(fd: int, n: int) -> bytes:
        data = real(fd, n)
        sizes.append(len(data))
        return data

    monkeypatch.setattr(os, "read", spy)
    return sizes


# Hashes that left out student.toml (issue 15); the golden files' hashes held it.
WORK_HASHES = {"e2e-good": "602d3954fb572b1a", "e2e-notebook": "51fc801a5844ed28"}


@pytest.mark.parametrize("name", ["e2e-good", "e2e-notebook", "e2e-broken"])
def test_a_plain_submission_keeps_the_hash_it_always_had(name: str) -> None:
    golden = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    expected = WORK_HASHES.get(name, golden["provenance"]["submission_hash"])
    assert submission_hash(SUBMISSIONS / name) == expected


def test_student_toml_is_neither_hashed_nor_copied(tmp_path: Path) -> None:
    """Who the student is (name, email, late flag) is the grader's record: a re-import that
    changes it retrains nothing, two students' identical work hashes alike, and no child
    reads another field of it. A student.toml further down is the student's own file."""
    ana, bea = _folder(tmp_path, "ana"), _folder(tmp_path, "bea")
    (ana / "student.toml").write_text('name = "Ana"\nemail = "ana@uni.edu"\nlate = true\n')
    (bea / "student.toml").write_text('name = "Bea"\n')
    staged = stage(ana, tmp_path / "staged")
    assert staged.hash == submission_hash(ana) == submission_hash(bea)
    assert not (tmp_path / "staged" / "student.toml").exists()
    (ana / "notes").mkdir()
    (ana / "notes" / "student.toml").write_text("x = 1\n")
    assert submission_hash(ana) != submission_hash(bea)
    assert stage(ana, tmp_path / "again").folder.joinpath("notes", "student.toml").is_file()


def test_a_file_name_that_is_not_utf8_hashes_and_copies(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / NOT_UTF8).write_bytes(b"notes")
    staged = stage(folder, tmp_path / "staged")
    assert staged.failure is None
    assert (tmp_path / "staged" / NOT_UTF8).read_bytes() == b"notes"
    assert staged.hash == submission_hash(folder) != submission_hash(_folder(tmp_path, "bea"))
    assert display(NOT_UTF8) == "notes-\\xff.txt" and display("a\x1b[2Jb\r") == "a\\x1b[2Jb\\r"


@pytest.mark.parametrize(
    "target", ["/proc/self/mem", "/proc/kmsg", "/etc/passwd", "/nonexistent", "."]
)
def test_links_are_never_followed_hashed_or_copied(tmp_path: Path, target: str) -> None:
    plain = _folder(tmp_path, "plain")
    folder = _folder(tmp_path)
    os.symlink(target, folder / "link")
    staged = stage(folder, tmp_path / "staged")
    assert staged.failure is None
    assert sorted(os.listdir(tmp_path / "staged")) == ["submission.py"]
    assert staged.hash == submission_hash(plain)  # as if the link were not there


def test_a_pipe_is_skipped_without_being_opened(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    os.mkfifo(folder / "pipe")  # an open() without O_NONBLOCK would wait for a writer forever
    found: list[object] = []
    worker = threading.Thread(target=lambda: found.append(stage(folder, tmp_path / "staged")))
    worker.start()
    worker.join(60)  # a hang detector, not a timing assertion
    assert not worker.is_alive() and found[0].failure is None  # type: ignore[attr-defined]
    assert not (tmp_path / "staged" / "pipe").exists()


def test_a_sparse_2gb_file_is_refused_without_being_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path)
    with open(folder / "weights.bin", "wb") as fh:
        fh.truncate(2 * 2**30)  # no disk used
    reads = _read_spy(monkeypatch)
    staged = stage(folder, tmp_path / "staged")
    assert staged.failure is not None and staged.failure[0] is ErrorKind.BAD_SUBMISSION
    assert render(staged.failure[1], "en").startswith("weights.bin is 2,048.0 MB, more than the 20")
    render(staged.failure[1], "es")
    assert sum(reads) == 0 and staged.hash  # refused from its listing: a hash, no read
    assert submission_hash(folder) == staged.hash


def test_a_file_that_grows_after_it_was_listed_is_read_up_to_the_cap_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path)
    real_walk = staging.walk

    def walk_then_grow(root: Path, limits: Limits | None = None) -> staging.Tree:
        tree = real_walk(root, limits)
        (folder / "submission.py").write_bytes(b"#" * 50_000)
        return tree

    monkeypatch.setattr(staging, "walk", walk_then_grow)
    reads = _read_spy(monkeypatch)
    with pytest.raises(Refused) as refused:
        staging.copy_tree(folder, tmp_path / "staged", Limits(bytes=1_000))
    assert refused.value.message.id == "bad_submission.too_large"
    assert sum(reads) <= 1_001


def test_more_files_than_the_cap_are_refused_as_soon_as_it_is_passed(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    for n in range(60):
        (folder / f"f{n}").touch()
    with pytest.raises(Refused) as refused:
        staging.walk(folder, Limits(files=50))
    assert refused.value.message.params == {"limit": 50}
    assert len(staging.walk(folder, Limits(files=61)).files) == 61


def test_3000_files_get_a_too_many_files_result(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    for n in range(3_000):
        (folder / f"{n:04}.txt").touch()
    staged = stage(folder, tmp_path / "staged")
    assert staged.failure is not None and staged.failure[1].id == "staging.too_many_files"
    assert "more than 2,000 files and folders" in render(staged.failure[1], "en")
    assert not (tmp_path / "staged" / "0000.txt").exists()


def test_folders_nested_too_deep_are_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "/".join(["d"] * 40)).mkdir(parents=True)
    staged = stage(folder, tmp_path / "staged")
    assert staged.failure is not None and staged.failure[1].id == "staging.too_deep"


def test_a_linked_submission_py_is_named_as_a_link(tmp_path: Path) -> None:
    outside = _folder(tmp_path, "outside")
    folder = tmp_path / "submissions" / "ana"
    folder.mkdir()
    os.symlink(outside / "submission.py", folder / "submission.py")
    staged = stage(folder, tmp_path / "staged")
    assert staged.failure is not None and staged.failure[0] is ErrorKind.BAD_SUBMISSION
    assert render(staged.failure[1], "en").startswith("submission.py is a link (symbolic link)")
    render(staged.failure[1], "es")


def test_a_linked_submission_folder_is_refused(tmp_path: Path) -> None:
    real = _folder(tmp_path, "real")
    os.symlink(real, tmp_path / "submissions" / "ana")
    staged = stage(tmp_path / "submissions" / "ana", tmp_path / "staged")
    assert staged.failure is not None and staged.failure[1].id == "staging.folder_link"


@pytest.mark.parametrize("target", ["secret.toml", "/etc/shadow", "/proc/kmsg"])
def test_a_linked_student_toml_is_never_read(tmp_path: Path, target: str) -> None:
    secret = tmp_path / "secret.toml"
    secret.write_text('name = "root-only secret"\n')
    secret.chmod(0o600)
    folder = _folder(tmp_path)
    os.symlink(tmp_path / target, folder / "student.toml")
    name = read_student_name(folder)
    assert name.name == "ana" and name.warning is not None
    assert name.warning.id == "name.toml_not_file" and name.warning.params == {}


@pytest.mark.parametrize("deep", ["name = " + "[" * 2_000 + "]" * 2_000, "a = " + "{b = " * 900])
def test_deep_toml_gives_the_folder_name_with_a_warning(
    tmp_path: Path, deep: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path)
    (folder / "student.toml").write_text(deep)
    name = read_student_name(folder)
    assert name.name == "ana" and name.warning is not None
    assert name.warning.id == "name.toml_too_deep"
    monkeypatch.setattr(submissions, "TOML_MAX_NESTING", 10**6)  # the parser's own limit
    name = read_student_name(folder)
    assert name.name == "ana" and name.warning is not None
    assert name.warning.id in ("name.toml_too_deep", "name.bad_toml")


def test_a_large_student_toml_is_not_parsed(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "student.toml").write_text('name = "Ana"\n' + "# padding\n" * 10_000)
    name = read_student_name(folder)
    assert name.name == "ana" and name.warning is not None
    assert name.warning.id == "name.toml_too_large"


def test_control_characters_are_dropped_from_a_name(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "student.toml").write_text('name = "Ana\\u001b]52;c;aGk=\\u0007 García"')
    assert read_student_name(folder).name == "Ana]52;c;aGk= García"


def _notebook(*cells: str) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "source": c} for c in cells]})


def test_a_deeply_nested_if_is_dropped_or_named_never_a_crash() -> None:
    converted = notebook_json_to_module(_notebook("x = 1", "if " + "-" * 900 + "x:\n    pass"))
    assert [d.reason_message.id for d in converted.dropped] == ["notebook.block"]
    with pytest.raises(NotebookError) as error:
        notebook_json_to_module(_notebook("if " + "not " * 20_000 + "x:\n    pass"))
    assert error.value.message.id == "bad_notebook.cell_too_deep"
    assert error.value.message.params == {"filename": "submission.ipynb", "cell": 1}


def test_a_deep_notebook_cell_is_a_bad_notebook_result(tmp_path: Path) -> None:
    folder = tmp_path / "ana"
    folder.mkdir()
    # 50,000 unary minus signs: too deep for the parser of Python 3.11, 3.12 and 3.13 (3.12
    # and later parse 5,000, which is then a fair cell)
    (folder / "submission.ipynb").write_text(_notebook("x = " + "-" * 50_000 + "1"))
    staged = stage(folder, tmp_path / "staged")
    assert staged.failure is not None and staged.failure[0] is ErrorKind.BAD_NOTEBOOK
    render(staged.failure[1], "es")


def test_a_notebook_whose_module_breaks_the_cap_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(submissions, "MAX_BYTES", 300_000)  # the 20 MB case, scaled down
    folder = tmp_path / "ana"
    folder.mkdir()
    (folder / "submission.ipynb").write_text(_notebook(f"DATA = {'7' * 200_000!r}"))
    staged = stage(folder, tmp_path / "staged")
    assert staged.failure is not None and staged.failure[0] is ErrorKind.BAD_SUBMISSION
    assert staged.failure[1].id == "staging.converted_too_large"
    assert "brings the submission over 0 MB" in render(staged.failure[1], "en")
    submissions.copy_tree(tmp_path / "staged", tmp_path / "child")  # every later copy fits


@pytest.mark.parametrize(
    ("cells", "message_id"),
    [
        ([f"DATA = {'7' * 300_000!r}"], "bad_notebook.code_too_large"),
        (["x;" * 6_000, "y;" * 6_000], "bad_notebook.too_many_statements"),
    ],
    ids=["code", "statements"],
)
def test_a_notebook_too_large_to_parse_is_refused_before_it_is(
    tmp_path: Path, cells: list[str], message_id: str
) -> None:
    folder = tmp_path / "ana"
    folder.mkdir()
    (folder / "submission.ipynb").write_text(_notebook(*cells))
    staged = stage(folder, tmp_path / "staged")
    assert staged.failure is not None and staged.failure[0] is ErrorKind.BAD_SUBMISSION
    assert staged.failure[1].id == message_id
    render(staged.failure[1], "es")


def test_notebook_json_of_millions_of_values_is_not_parsed() -> None:
    text = '{"cells": [], "metadata": {"x": [' + "{}," * 1_000_000 + "{}]}}"
    with pytest.raises(NotebookError) as error:
        notebook_json_to_module(text)
    assert error.value.message.id == "bad_notebook.too_much_data"
    outputs = [{"output_type": "stream", "text": [f"epoch {i}\n" for i in range(300_000)]}]
    cell = {"cell_type": "code", "source": "x = 1", "outputs": outputs}
    assert notebook_json_to_module(json.dumps({"cells": [cell]}, indent=1)).source


@pytest.mark.parametrize(
    "name",
    [
        "x" * 240,
        os.fsdecode(b"ana-\xff"),
        "ana\x1b[2J",
        "-rf",
        "ana\n",
        "ünï cödé " * 12,
        "ana\u202egpj.exe",
        " ana",
    ],  # fmt: skip
)
def test_an_unusable_folder_name_gets_a_safe_key_and_a_rename_message(
    tmp_path: Path, name: str
) -> None:
    key = student_key(name)
    assert usable(key) and key != name and key == student_key(name)
    assert len(key) <= MAX_NAME_CHARS and len(key.encode()) <= MAX_NAME_BYTES
    message = name_problem(name)
    assert message is not None and message.params["key"] == key
    json.dumps(message.params, ensure_ascii=False).encode("utf-8")  # storable
    assert "rename the folder" in render(message, "en") and len(render(message, "en")) < 600
    render(message, "es")
    (tmp_path / "submissions").mkdir()
    folder = tmp_path / "submissions" / name
    folder.mkdir()
    staged = stage(folder, tmp_path / "staged")
    assert staged.student == key and staged.failure is not None
    assert staged.failure[1].id == "staging.bad_folder_name" and staged.hash


@pytest.mark.parametrize(
    "name", ["ana-garcia", "Núria Peña", "nu\u0301ria", "e2e_good.v2", "李", "O'Brien, Ana (2)"]
)
def test_usual_folder_names_are_their_own_key(name: str) -> None:
    assert usable(name) and student_key(name) == name and name_problem(name) is None


def test_the_self_check_refuses_a_linked_file(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    os.symlink(folder / "submission.py", tmp_path / "link.py")
    with pytest.raises(GradingError, match="not a link"):
        submission_folder(tmp_path / "link.py", tmp_path / "tmp")


@pytest.mark.slow  # reads the real CIFAR-10 archive; nothing trains
def test_a_batch_of_hostile_folders_writes_a_result_for_each(
    data_dir: Path, tmp_path: Path
) -> None:
    from grader.pipeline.grading import grade_assignment

    folder = fixture_submissions(tmp_path, ["missing-file"])
    long, odd = "x" * 240, os.fsdecode(b"bea-\xff")
    for name in (long, odd, "links"):
        (folder / name).mkdir()
        (folder / name / "submission.py").write_text("syntax error here")
    (folder / odd / NOT_UTF8).write_text("notes")
    for target in ("/proc/self/mem", "/proc/kmsg", "/etc/shadow"):
        os.symlink(target, folder / "links" / Path(target).name)
    os.symlink("/etc/shadow", folder / "links" / "student.toml")
    (folder / "links" / "submission.py").unlink()
    os.symlink("/etc/passwd", folder / "links" / "submission.py")
    out = tmp_path / "out"
    results = grade_assignment(
        FIXTURES / "assignments" / "one-task", submissions=folder, out_dir=out, data_dir=data_dir
    )
    by_key = {r.student: r.tasks["scratch"] for r in results}
    assert set(by_key) == {student_key(long), student_key(odd), "links", "missing-file"}
    for key in (student_key(long), student_key(odd)):
        assert by_key[key].error_message is not None
        assert by_key[key].error_message.id == "staging.bad_folder_name"
    assert by_key["links"].error_message is not None
    assert by_key["links"].error_message.id == "staging.link"
    assert by_key["missing-file"].error_kind is ErrorKind.MISSING_FILE
    with open(out / "one-task" / "summary.csv", encoding="utf-8-sig") as fh:
        assert {row["student"] for row in csv.DictReader(fh)} == set(by_key)
