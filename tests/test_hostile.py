"""Hostile submissions: each attack is contained, named in its result, and harms nobody else.

The whole batch runs twice: at the strongest isolation level this machine offers
(bubblewrap in CI) and forced to the fallback level (resource limits + throw-away uid).
Where a protection exists only with bubblewrap, the test says so and checks the fallback's
own promise instead.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import functools
import json
import os
import re
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader import console, sandbox
from grader.errors import ErrorKind
from grader.pipeline.grading import grade_assignment
from grader.sandbox import Sandbox, uids
from tests import staging_attacks
from tests.conftest import FIXTURES, ROOT

pytestmark = pytest.mark.slow
HOSTILE = FIXTURES / "hostile"
ASSIGNMENT = HOSTILE / "assignment"
PORT = 47811
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # escapes and controls (not \t, \n)
LEVELS = list(sandbox.LEVELS)
JOBS = 2


class Listener:
    """A loopback server that records every byte anyone sends it."""

    def __init__(self) -> None:
        self.received = b""
        self.connections = 0
        self.server = socket.create_server(("127.0.0.1", PORT))
        self.server.settimeout(0.5)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            self.connections += 1
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    self.received += conn.recv(1024)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.server.close()


# Landlock changes only what a child can reach; the rest behaves as at the rlimits level,
# so that level runs the attacks on file access and the network (and the honest twin).
LANDLOCK_SUBSET = {"zz-honest", "network", "snoop", "vandal", "crafted-model", "daemon",
                   "shm-filler"}  # fmt: skip
HONEST = "zz-honest"  # sorted last: every attack runs before it


@functools.cache
def _strongest() -> str:
    return sandbox.detect_isolation(minimum=sandbox.RLIMITS)  # the fallback included


def _attacks(level: str) -> list[Path]:
    found = [p for p in sorted(HOSTILE.iterdir()) if p.name != "assignment"]
    return [p for p in found if level != sandbox.LANDLOCK or p.name in LANDLOCK_SUBSET]


def _submissions(tmp: Path, out: Path, level: str) -> Path:
    folder = tmp / "submissions"
    for entry in _attacks(level):
        shutil.copytree(entry, folder / entry.name)
    if level == _strongest():  # staging is the grader's own code, the same at every level
        staging_attacks.plant(folder, tmp / "host-secret")
    secrets = [
        f"{out}/cache/**/y_test.npy",
        f"{out}/hostile/results",
        f"{folder}/{HONEST}/submission.py",
        "/proc/1/environ",
        "/root",
        f"{ROOT}/grader",
    ]
    _fill(folder / "snoop" / "submission.py", secrets)
    _fill(
        folder / "vandal" / "submission.py",
        [f"{folder}/{HONEST}", f"{out}/hostile/results", f"{out}/cache", f"{ROOT}/grader"],
    )
    return folder


def _fill(path: Path, targets: list[str]) -> None:
    path.write_text(path.read_text().replace("__TARGETS__", "|".join(targets)))


@contextlib.contextmanager
def _leftovers_recorded(checked: list[int], leftovers: list[int]) -> Iterator[None]:
    """Record the processes still running under a run's throw-away uids as its sandbox
    closes: after every job's sweep, and while no other grader may lease those uids."""
    close = Sandbox.close

    def checked_close(box: Sandbox) -> None:
        leased = [uid for slot in range(JOBS) if (uid := box.child_uid(slot)) is not None]
        checked.extend(leased)
        leftovers.extend(pid for uid in leased for pid in uids.pids_of_uid(uid))
        close(box)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Sandbox, "close", checked_close)
        yield


@pytest.fixture(scope="module")
def honest_alone(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The honest twin graded in a batch of its own (strongest level): what every level's
    batch must reproduce exactly, hostile neighbours or not."""
    tmp = tmp_path_factory.mktemp("alone")
    shutil.copytree(HOSTILE / HONEST, tmp / "submissions" / HONEST)
    return grade_assignment(
        ASSIGNMENT, submissions=tmp / "submissions", out_dir=tmp / "out", data_dir=data_dir
    )[0].to_json()


@pytest.fixture(scope="module", params=LEVELS)
def batch(
    request: pytest.FixtureRequest,
    data_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
    honest_alone: dict,
) -> dict:
    level = request.param
    available = sandbox.LEVELS[sandbox.LEVELS.index(_strongest()) :]
    if level not in available:
        pytest.skip(f"isolation level {level} does not work on this machine")
    tmp = tmp_path_factory.mktemp(f"hostile-{level}")
    out = tmp / "out"
    folder = _submissions(tmp, out, level)
    listener = Listener()
    checked: list[int] = []
    leftovers: list[int] = []
    progress: list[tuple[str, str, str]] = []
    try:
        with _leftovers_recorded(checked, leftovers):
            results = grade_assignment(
                ASSIGNMENT,
                submissions=folder,
                out_dir=out,
                data_dir=data_dir,
                jobs_count=JOBS,
                isolation=level,
                progress=lambda *event: progress.append(event),
            )
    finally:
        listener.close()
    return {
        "level": level,
        "results": {r.student: r.to_json() for r in results},  # as stored
        "out": out,
        "listener": listener,
        "honest_alone": honest_alone,
        "folder": folder,
        "checked_uids": checked,
        "leftovers": leftovers,
        "progress": progress,
        "objects": results,
    }


def task(batch: dict, student: str) -> dict:
    if student not in batch["results"]:
        pytest.skip(f"{student} is not run at the {batch['level']} level (see LANDLOCK_SUBSET)")
    return batch["results"][student]["tasks"]["scratch"]


def test_the_batch_completes_and_the_honest_result_is_unchanged(batch: dict) -> None:
    planted = len(staging_attacks.NAMES) if batch["level"] == _strongest() else 0
    assert len(batch["results"]) == len(_attacks(batch["level"])) + planted
    assert sorted(batch["results"])[-1] == HONEST
    assert (batch["out"] / "hostile" / "summary.csv").is_file()
    honest = batch["results"][HONEST]
    assert honest["tasks"]["scratch"]["status"] == "ok"
    assert (
        honest["tasks"]["scratch"]["metrics"]
        == batch["honest_alone"]["tasks"]["scratch"]["metrics"]
    )
    assert honest["score"] == batch["honest_alone"]["score"]
    assert honest["provenance"]["isolation"] == batch["level"]


@pytest.mark.parametrize(
    ("student", "expected"),
    [  # computing: the CPU budget (10 s x 2 threads); waiting: the wall-clock backstop
        ("infinite-loop", "used up this task's CPU-time budget (20 CPU-seconds: max_seconds"),
        ("sleeps", "did not complete one epoch within the wall-clock backstop of 85 s"),
    ],
)
def test_runaway_code_is_stopped_at_the_time_limit(
    batch: dict, student: str, expected: str
) -> None:
    assert task(batch, student)["status"] == "timeout", task(batch, student)["error"]
    assert expected in task(batch, student)["error"]


def test_memory_bomb_is_refused_memory(batch: dict) -> None:
    assert task(batch, "memory-bomb")["error_kind"] == "build_error"
    assert "MemoryError" in task(batch, "memory-bomb")["error"]


def test_fork_bomb_is_capped_by_the_process_limit(batch: dict) -> None:
    error = task(batch, "fork-bomb")["error"]
    forks = int(error.split("forks=")[1].split()[0].rstrip(".("))
    assert 0 < forks <= sandbox.Limits.max_processes


def test_no_process_outlives_its_job(batch: dict) -> None:
    assert task(batch, "daemon")["status"] == "ok"
    if os.geteuid() == 0:  # children ran as throw-away uids: those of this batch were checked
        assert len(batch["checked_uids"]) == JOBS
    assert batch["leftovers"] == []


@pytest.mark.parametrize("student", ["big-file", "many-files"])
def test_disk_filling_is_stopped(batch: dict, student: str) -> None:
    result = task(batch, student)
    if student == "big-file":  # the file-size limit stops the write itself (EFBIG)
        assert result["error_kind"] == "build_error", result["error"]
        assert "File too large" in result["error"]
    else:  # files each under the limit: the grader's watch on the folder's total stops it
        assert result["error_kind"] == "disk_limit", result["error"]
        assert "wrote more than 512 MB" in result["error"]


def test_network_is_unreachable(batch: dict) -> None:
    if batch["level"] == sandbox.RLIMITS:
        pytest.skip(
            "only bubblewrap's network namespace or Landlock cut the network; the rlimits "
            "fallback promises no network isolation (see README, Isolation)"
        )
    assert batch["listener"].received == b""
    assert batch["listener"].connections == 0
    assert task(batch, "network")["status"] == "ok"


def test_secrets_other_work_and_the_cache_are_unreadable(batch: dict) -> None:
    error = task(batch, "snoop")["error"]
    readable = error.split("readable=")[1]
    if batch["level"] == sandbox.BUBBLEWRAP:
        assert readable.startswith("[]"), error
    else:  # Landlock and plain uids hide the cache, results, others' work and root's files
        for secret in ("y_test", "/results", "/proc/1/environ", "'/root'", "honest"):
            assert secret not in readable, error


def test_nothing_outside_the_scratch_folder_is_writable(batch: dict) -> None:
    error = task(batch, "vandal")["error"]
    assert "written=[]" in error, error
    assert not (batch["folder"] / HONEST / "planted.txt").exists()
    assert not (ROOT / "grader" / "planted.txt").exists()


def test_monkeypatching_cannot_move_the_score(batch: dict) -> None:
    cheat, honest = task(batch, "cheat-monkeypatch"), task(batch, HONEST)
    assert cheat["status"] == "ok", cheat["error"]
    assert cheat["metrics"] == honest["metrics"]
    assert cheat["history"]["val_accuracy"] == [1.0] * cheat["epochs"]  # faked: plots only


def test_model_file_crafted_to_run_code_is_refused(batch: dict) -> None:
    result = task(batch, "crafted-model")
    assert result["error_kind"] == "custom_objects"
    assert "a Lambda layer" in result["error"]
    assert not Path("/tmp/pwned-by-model-file").exists()


def test_flooding_stdout_keeps_a_bounded_log(batch: dict) -> None:
    result = task(batch, "chatty")
    assert result["status"] == "ok"
    assert len(result["log_tail"]) <= sandbox.LOG_TAIL_BYTES


@pytest.mark.parametrize(
    ("student", "message"),
    [
        ("segfault", "segmentation fault"),
        ("exit-in-training", "exited with code 0 before saving the model"),
    ],
)
def test_crashes_become_results(batch: dict, student: str, message: str) -> None:
    assert task(batch, student)["error_kind"] == "crash"
    assert message in task(batch, student)["error"]


def test_fifty_million_parameters_are_refused_before_training(batch: dict) -> None:
    result = task(batch, "huge-model")
    assert result["error_kind"] == "too_many_params", result["error"]
    assert "has 50,397,187 parameters; this task allows at most 100,000" in result["error"]


def _planted(batch: dict, folder: str) -> dict:
    """The result of a staging attack, whatever safe key its folder name was stored under."""
    if batch["level"] != _strongest():
        pytest.skip("staging is the grader's own code: its attacks run at one level")
    by_folder = {r.folder if hasattr(r, "folder") else r.student: r for r in batch["objects"]}
    if folder in by_folder:
        return by_folder[folder].to_json()
    prefix = folder.encode("utf-8", "surrogateescape")[:10].decode("utf-8", "ignore")
    found = [r.to_json() for r in batch["objects"] if r.student.startswith(prefix)]
    assert len(found) == 1, f"no single result for {folder[:40]!r}: {sorted(by_folder)}"
    return found[0]


@pytest.mark.parametrize("folder", staging_attacks.NAMES, ids=lambda n: n[:20])
def test_staging_attacks_become_results(batch: dict, folder: str) -> None:
    result = _planted(batch, folder)
    expected = staging_attacks.EXPECTED[folder]
    for record in result["tasks"].values():
        if expected == staging_attacks.RAN:
            assert record["error_kind"] == "build_error", record["error"]
            assert staging_attacks.RAN in record["error"]
        else:
            assert record["error_kind"] == expected, record["error"]
            assert len(record["error"]) < 600


def test_a_linked_student_toml_is_never_read(batch: dict) -> None:
    for folder in ("toml-link-secret", "toml-link-shadow"):
        result = _planted(batch, folder)
        assert result["name"] == folder
        stored = json.dumps(result)
        assert staging_attacks.SECRET_NAME not in stored
        assert "root:" not in stored and "column" not in (result["name_warning"] or "")


@pytest.mark.parametrize(
    ("folder", "words"),
    [
        ("huge-notebook", "MB"),
        ("sparse-2gb", "MB"),
        ("many-entries", "files"),
        ("linked-submission", "link"),
        (staging_attacks.LONG_NAME, "rename"),
        (staging_attacks.BAD_FOLDER, "rename"),
    ],
    ids=lambda v: v[:20],
)
def test_refused_submissions_say_why_and_how_to_fix(batch: dict, folder: str, words: str) -> None:
    result = _planted(batch, folder)
    assert words in result["tasks"]["scratch"]["error"], result["tasks"]["scratch"]["error"]


def test_nothing_a_student_prints_reaches_the_console(batch: dict) -> None:
    shown = "\n".join(" ".join(event) for event in batch["progress"])
    assert not CONTROL.search(shown), [e for e in batch["progress"] if CONTROL.search(" ".join(e))]
    for planted in ("FORGED", "FLOOD", "pwned", "screen cleared", "everything is fine"):
        assert planted not in shown
    chatty = [e for e in batch["progress"] if e[0] == "console-injection"]
    assert len(chatty) < 50, chatty[:60]  # 5,000 forged epoch lines: none got through
    assert task(batch, "console-injection")["status"] == "ok"


def test_a_forged_error_kind_is_not_believed(batch: dict) -> None:
    result = task(batch, "forged-error-kind")
    assert result["error_kind"] in {kind.code for kind in ErrorKind}
    table = console.results_table(batch["objects"], ["scratch"])
    assert not CONTROL.search(table)
    assert "pwned" not in table


def test_summary_csv_cells_are_never_formulas(batch: dict) -> None:
    task(batch, "formula-names")  # skipped where that attack does not run
    path = batch["out"] / "hostile" / "summary.csv"
    assert path.read_bytes().startswith(codecs.BOM_UTF8)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        cells = [cell for row in csv.reader(fh) for cell in row]
    assert any("HYPERLINK" in cell for cell in cells)
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r") or c.startswith("-=")]


def test_a_line_without_end_is_kept_as_a_bounded_tail(batch: dict) -> None:
    result = task(batch, "no-newline")
    assert result["status"] == "ok", result["error"]
    assert len(result["log_tail"]) <= sandbox.LOG_TAIL_BYTES


def test_memory_backed_and_shared_folders_count_toward_the_write_cap(batch: dict) -> None:
    result = task(batch, "shm-filler")
    assert result["status"] != "ok"
    if "written=" in result["error"]:  # the child finished its writes: none got far
        written = re.findall(r"'(/[a-z/]+)': (\d+)", result["error"])
        assert sum(int(n) for _, n in written) <= sandbox.Limits.scratch_bytes, result["error"]
    else:  # stopped by the grader's watch on every writable place
        assert result["error_kind"] == "disk_limit", result["error"]
    left = [p for d in ("/dev/shm", "/tmp", "/var/tmp") for p in Path(d).glob("shm-filler-*")]
    assert left == []


def test_a_lambda_layer_under_another_spelling_is_refused(batch: dict) -> None:
    result = task(batch, "disguised-lambda")
    assert result["error_kind"] == "custom_objects", result["error"]
