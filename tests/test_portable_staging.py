"""Staging without `dir_fd` (grader/pipeline/portable_staging.py, Windows' self-check), run
here on Linux by hiding `dir_fd` support: the scenarios of tests/test_staging.py give the same
trees, hashes, copies, refusals and errors as the descriptor path, and no link is followed.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from grader.messages import render
from grader.pipeline import portable_staging, staging
from grader.pipeline.provenance import submission_hash
from grader.pipeline.staging import Limits, Refused
from grader.pipeline.submissions import stage
from tests.test_staging import NOT_UTF8, SUBMISSIONS, WORK_HASHES, _folder


@pytest.fixture
def no_dir_fd(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As on Windows: `os.open` takes no `dir_fd`."""
    monkeypatch.setattr(os, "supports_dir_fd", set())
    yield


def _outcome(run: Callable[[], object]) -> object:
    """What `run` returns, or the refusal or error it raises, as comparable values."""
    try:
        return run()
    except Refused as exc:
        return ("refused", exc.message.id, exc.message.params, exc.digest)
    except OSError as exc:
        return ("oserror", type(exc), exc.errno, str(exc))


def _both(monkeypatch: pytest.MonkeyPatch, run: Callable[[], object]) -> tuple[object, object]:
    """`run`'s outcome with `dir_fd`, then without it."""
    direct = _outcome(run)
    with monkeypatch.context() as patched:
        patched.setattr(os, "supports_dir_fd", set())
        return direct, _outcome(run)


class _SpyFile(io.FileIO):
    sizes: list[int]

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.sizes.append(len(data))
        return data


def _read_spy(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of every read the fallback makes from now on (it reads through `open`)."""
    sizes: list[int] = []
    real = open

    def spy(path: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if mode == "rb":
            spied = _SpyFile(path, "rb")
            spied.sizes = sizes
            return spied
        return real(path, mode, *args, **kwargs)

    monkeypatch.setattr(portable_staging, "open", spy, raising=False)
    return sizes


def _rich_tree(tmp_path: Path) -> Path:
    """Folders, an empty one, a cache, a non-UTF-8 name, links of every kind and a pipe."""
    folder = _folder(tmp_path)
    (folder / "pkg" / "sub").mkdir(parents=True)
    (folder / "empty").mkdir()
    (folder / "pkg" / "__pycache__").mkdir()
    (folder / "pkg" / "__pycache__" / "m.pyc").write_bytes(b"cache")
    (folder / "pkg" / "a.py").write_text("a = 1\n")
    (folder / "pkg" / "sub" / "b.bin").write_bytes(bytes(range(256)) * 5_000)
    (folder / NOT_UTF8).write_bytes(b"notes\r\n")
    (folder / "Z.txt").write_bytes(b"")
    for name, target in [("to-file", "submission.py"), ("to-dir", "pkg"), ("to-self", "."),
                         ("to-mem", "/proc/self/mem"), ("dangling", "/nonexistent")]:  # fmt: skip
        os.symlink(target, folder / name)
    os.symlink("../../submission.py", folder / "pkg" / "sub" / "up")
    os.mkfifo(folder / "pkg" / "pipe")
    return folder


def _files(root: Path) -> dict[str, bytes | None]:
    """Every path below `root` (None for a folder) with its bytes, and its mode."""
    found: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        key = f"{path.relative_to(root)} {stat.filemode(path.lstat().st_mode)}"
        found[key] = None if path.is_dir() else path.read_bytes()
    return found


def test_the_fallback_runs_only_where_dir_fd_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert os.open in os.supports_dir_fd  # grading's platform: the descriptor path
    calls: list[str] = []

    def spy(name: str) -> Callable[..., object]:
        real = getattr(portable_staging, name)

        def called(*args: object) -> object:
            calls.append(name)
            return real(*args)

        return called

    for name in ("walk", "copy_tree"):
        monkeypatch.setattr(portable_staging, name, spy(name))
    folder = _folder(tmp_path)
    staging.copy_tree(folder, None)
    assert calls == []
    monkeypatch.setattr(os, "supports_dir_fd", set())
    staging.copy_tree(folder, None)
    assert calls == ["copy_tree", "walk"]


@pytest.mark.parametrize("name", ["e2e-good", "e2e-notebook"])
def test_a_plain_submission_keeps_its_hash(name: str, no_dir_fd: None) -> None:
    """The hash `staging` gives (see test_staging: student.toml is left out since issue 15)."""
    assert submission_hash(SUBMISSIONS / name) == WORK_HASHES[name]


def test_a_rich_tree_lists_hashes_and_copies_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _rich_tree(tmp_path)
    tree, portable_tree = _both(monkeypatch, lambda: staging.walk(folder))
    assert tree == portable_tree and isinstance(tree, staging.Tree)
    assert tree.links == {b"to-file", b"to-dir", b"to-self", b"to-mem", b"dangling", b"pkg/sub/up"}
    assert b"pkg/pipe" in {s.path for s in tree.skipped} and tree.total == 1_280_019
    targets = iter([tmp_path / "direct", tmp_path / "portable"])
    copied, portable_copied = _both(monkeypatch, lambda: staging.copy_tree(folder, next(targets)))
    assert copied == portable_copied and isinstance(copied, staging.Copied)
    assert _files(tmp_path / "direct") == _files(tmp_path / "portable")
    assert _files(tmp_path / "portable")[f"{NOT_UTF8} -rw-r--r--"] == b"notes\r\n"  # as is


@pytest.mark.parametrize(
    "target", ["/proc/self/mem", "/proc/kmsg", "/etc/passwd", "/nonexistent", "."]
)
def test_links_are_never_followed_hashed_or_copied(
    tmp_path: Path, target: str, no_dir_fd: None
) -> None:
    plain = _folder(tmp_path, "plain")
    folder = _folder(tmp_path)
    os.symlink(target, folder / "link")
    staged = stage(folder, tmp_path / "staged")
    assert staged.failure is None
    assert sorted(os.listdir(tmp_path / "staged")) == ["submission.py"]
    assert staged.hash == submission_hash(plain)


def test_a_pipe_is_skipped_without_being_opened(tmp_path: Path, no_dir_fd: None) -> None:
    folder = _folder(tmp_path)
    os.mkfifo(folder / "pipe")  # a plain open() would wait for a writer forever
    found: list[Any] = []
    worker = threading.Thread(target=lambda: found.append(stage(folder, tmp_path / "staged")))
    worker.start()
    worker.join(60)  # a hang detector, not a timing assertion
    assert not worker.is_alive() and found[0].failure is None
    assert not (tmp_path / "staged" / "pipe").exists()


def test_a_sparse_2gb_file_is_refused_without_being_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path)
    with open(folder / "weights.bin", "wb") as fh:
        fh.truncate(2 * 2**30)  # no disk used
    reads = _read_spy(monkeypatch)
    direct, portable = _both(monkeypatch, lambda: staging.copy_tree(folder, tmp_path / "out"))
    assert direct == portable and reads == []  # refused from its listing: not even opened
    with monkeypatch.context() as patched:
        patched.setattr(os, "supports_dir_fd", set())
        staged = stage(folder, tmp_path / "staged")
    assert staged.failure is not None
    assert render(staged.failure[1], "en").startswith("weights.bin is 2,048.0 MB, more than the 20")
    assert staged.hash == submission_hash(folder) and reads == []


def test_a_file_that_grows_after_it_was_listed_is_read_up_to_the_cap_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_dir_fd: None
) -> None:
    folder = _folder(tmp_path)
    real_walk = portable_staging.walk

    def walk_then_grow(*args: Any) -> staging.Tree:
        tree = real_walk(*args)
        (folder / "submission.py").write_bytes(b"#" * 50_000)
        return tree

    monkeypatch.setattr(portable_staging, "walk", walk_then_grow)
    reads = _read_spy(monkeypatch)
    with pytest.raises(Refused) as refused:
        staging.copy_tree(folder, tmp_path / "staged", Limits(bytes=1_000))
    assert refused.value.message.id == "bad_submission.too_large"
    assert 0 < sum(reads) <= 1_001


@pytest.mark.parametrize("files", [50, 61])
def test_more_files_than_the_cap_are_refused_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: int
) -> None:
    folder = _folder(tmp_path)
    for n in range(60):
        (folder / f"f{n}").touch()
    direct, portable = _both(monkeypatch, lambda: staging.walk(folder, Limits(files=files)))
    assert direct == portable
    if files == 50:
        assert direct[:3] == ("refused", "staging.too_many_files", {"limit": 50})  # type: ignore[index]
    else:
        assert len(cast(staging.Tree, portable).files) == 61


def test_3000_files_get_a_too_many_files_result(tmp_path: Path, no_dir_fd: None) -> None:
    folder = _folder(tmp_path)
    for n in range(3_000):
        (folder / f"{n:04}.txt").touch()
    staged = stage(folder, tmp_path / "staged")
    assert staged.failure is not None and staged.failure[1].id == "staging.too_many_files"
    assert not (tmp_path / "staged" / "0000.txt").exists()


@pytest.mark.parametrize(("depth", "name"), [(40, "d"), (5, "n" * 250)])
def test_folders_nested_or_named_too_deep_are_refused_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, depth: int, name: str
) -> None:
    folder = _folder(tmp_path)
    (folder / "/".join([name] * depth)).mkdir(parents=True)
    direct, portable = _both(monkeypatch, lambda: staging.walk(folder))
    assert direct == portable and direct[1] == "staging.too_deep"  # type: ignore[index]


def test_a_linked_submission_py_is_named_as_a_link(tmp_path: Path, no_dir_fd: None) -> None:
    outside = _folder(tmp_path, "outside")
    folder = tmp_path / "submissions" / "ana"
    folder.mkdir()
    os.symlink(outside / "submission.py", folder / "submission.py")
    staged = stage(folder, tmp_path / "staged")
    assert staged.failure is not None
    assert render(staged.failure[1], "en").startswith("submission.py is a link (symbolic link)")


def test_a_linked_submission_folder_is_refused_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = _folder(tmp_path, "real")
    os.symlink(real, tmp_path / "submissions" / "ana")
    direct, portable = _both(monkeypatch, lambda: staging.walk(tmp_path / "submissions" / "ana"))
    assert direct == portable and direct[1] == "staging.folder_link"  # type: ignore[index]


@pytest.mark.parametrize("swap", ["folder-to-link", "file-to-link", "file-to-pipe", "gone"])
def test_an_entry_swapped_after_listing_is_never_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, swap: str
) -> None:
    """Between the listing and the read, a folder or file becomes a link, a pipe or nothing:
    the same error as the descriptor path, and nothing outside is read."""
    outside = _folder(tmp_path, "outside", "SECRET\n")
    walk = staging.walk  # before it is replaced below

    def swap_and_copy() -> object:
        folder = _folder(tmp_path / str(len(list(tmp_path.iterdir()))))
        (folder / "pkg").mkdir()
        (folder / "pkg" / "m.py").write_text("m = 1\n")
        tree = walk(folder)
        path = folder / ("pkg/m.py" if swap != "folder-to-link" else "pkg")
        os.unlink(path) if path.is_file() else os.rename(path, folder / "old")
        if swap.endswith("link"):
            os.symlink(outside if path.name == "pkg" else outside / "submission.py", path)
        elif swap == "file-to-pipe":
            os.mkfifo(path)
        monkeypatch.setattr(staging, "walk", lambda *_: tree)
        monkeypatch.setattr(portable_staging, "walk", lambda *_: tree)
        return staging.copy_tree(folder, None)

    direct, portable = _both(monkeypatch, swap_and_copy)
    assert direct == portable and isinstance(direct, tuple)
    expected = {"gone": errno.ENOENT, "file-to-pipe": None, "folder-to-link": errno.ENOTDIR}.get(
        swap, errno.ELOOP
    )
    assert direct[0] == ("refused" if expected is None else "oserror")
    assert expected is None or direct[2] == expected


@pytest.mark.parametrize(
    ("mode", "tag", "link"),
    [
        (stat.S_IFLNK, 0, True),  # a symbolic link
        (stat.S_IFDIR, 0xA0000003, True),  # a junction (mount point)
        (stat.S_IFREG, 0xA000000C, True),  # a file symbolic link's tag
        (stat.S_IFREG, 0x9000001A, False),  # a OneDrive placeholder: a file
        (stat.S_IFDIR, 0, False),
        (stat.S_IFREG, 0, False),
    ],
)
def test_windows_junctions_count_as_links(mode: int, tag: int, link: bool) -> None:
    st = cast(os.stat_result, SimpleNamespace(st_mode=mode | 0o755, st_reparse_tag=tag))
    assert portable_staging.is_link(st) is link


def test_a_junction_is_left_out_like_a_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_dir_fd: None
) -> None:
    folder = _folder(tmp_path)
    (folder / "junction").mkdir()
    (folder / "junction" / "inside.py").write_text("x = 1\n")
    junction = (folder / "junction").lstat().st_ino
    real = portable_staging.is_link
    monkeypatch.setattr(
        portable_staging, "is_link", lambda st: st.st_ino == junction or real(st)
    )  # Linux has no junctions: this folder's lstat stands for one
    tree = staging.walk(folder)
    assert [f.path for f in tree.files] == [b"submission.py"] and tree.dirs == ()
    assert tree.links == {b"junction"} and [s.path for s in tree.skipped] == [b"junction"]


def test_a_student_toml_is_read_by_path_where_folders_have_no_descriptors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from grader.pipeline.submissions import NotAFile, read_small

    folder = tmp_path / "ana"
    folder.mkdir()
    (folder / "student.toml").write_bytes(b'name = "Ana"\n')
    os.symlink(folder / "student.toml", folder / "linked.toml")
    monkeypatch.setattr(os, "supports_dir_fd", set())

    def no_descriptors(*args: object) -> int:
        raise AssertionError("a folder opened as a descriptor where there are none")

    monkeypatch.setattr(staging, "open_inside", no_descriptors)
    assert read_small(folder, "student.toml", 100) == b'name = "Ana"\n'
    assert read_small(folder, "student.toml", 4) == b"name "  # limit + 1 bytes
    assert read_small(folder, "missing.toml", 100) is None
    with pytest.raises(NotAFile):
        read_small(folder, "linked.toml", 100)
