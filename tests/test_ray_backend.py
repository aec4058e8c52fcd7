"""`grade --backend ray`: the same numbers as the local backend on a local multi-node Ray
cluster, a node killed mid-batch losing nothing, and the CLI's flags and missing-Ray message."""

from __future__ import annotations

import builtins
import importlib.util
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from grader import shims
from grader.cli import USAGE, build_parser, main
from grader.errors import GradingError
from grader.pipeline import raybackend, raynode
from grader.pipeline.grading import grade_assignment
from tests.conftest import FIXTURES, fixture_submissions

TINY = FIXTURES / "assignments" / "tiny"
# e2e-good is in the session's local grading; sparse-labels trains `scratch` alone (cheap)
SUBMISSIONS = ["e2e-good", "sparse-labels"]
TRAINED = {"e2e-good": {"scratch", "transfer", "cifar10"}, "sparse-labels": {"scratch"}}
OBJECT_STORE = 100 * 2**20
NODE_LINE = "grading on Ray node "
TASK_KEYS = ("status", "error_kind", "error", "metrics", "history", "best_epoch", "epochs",
             "params", "trainable_params", "confusion_matrix", "samples", "test_correct",
             "layers")  # fmt: skip
needs_ray = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="ray is not installed (pip install 'grader[ray]')",
)


@pytest.fixture(scope="module")
def cluster() -> Any:
    """A head that runs no task and two worker nodes of 2 CPUs (one child each), with the
    test process connected as the driver."""
    import ray
    from ray.cluster_utils import Cluster

    head = {"num_cpus": 0, "object_store_memory": OBJECT_STORE, "include_dashboard": False}
    made = Cluster(initialize_head=True, head_node_args=head)
    for _ in range(2):
        made.add_node(num_cpus=2, object_store_memory=OBJECT_STORE)
    made.wait_for_nodes()
    ray.init(address=made.address, include_dashboard=False, log_to_driver=False)
    yield made
    ray.shutdown()
    made.shutdown()


def _caches(session_out: Path, out: Path) -> Path:
    """An output folder holding the session's split, base model and reference caches."""
    shutil.copytree(session_out / "cache", out / "cache")
    return out


@pytest.fixture(scope="module")
def ray_batch(
    cluster: Any, graded_tiny: dict, data_dir: Path, session_out: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict:  # fmt: skip
    """Both submissions graded on the cluster; the node grading the first one to start
    training is removed while it trains."""
    tmp = tmp_path_factory.mktemp("ray")
    lines: list[tuple[str, str, str]] = []
    node_of: dict[str, str] = {}  # student -> the node id (8 characters) grading it
    killed: list[str] = []
    killers: list[threading.Thread] = []

    def progress(student: str, task: str, message: str) -> None:
        lines.append((student, task, message))
        if message.startswith(NODE_LINE):
            node_of[student] = message.rsplit("(", 1)[1].rstrip(")")
        elif message == "training" and student in node_of and not killed:
            victim = next(n for n in cluster.worker_nodes if n.node_id[:8] == node_of[student])
            killed.append(node_of[student])
            killers.append(threading.Thread(target=cluster.remove_node, args=(victim,)))
            killers[0].start()

    results = grade_assignment(
        TINY,
        submissions=fixture_submissions(tmp, SUBMISSIONS),
        out_dir=_caches(session_out, tmp / "out"),
        data_dir=data_dir,
        progress=progress,
        backend="ray",
        ray_address=cluster.address,
    )
    for killer in killers:
        killer.join()
    cluster.add_node(num_cpus=2, object_store_memory=OBJECT_STORE)  # two nodes again
    return {"results": {r.student: r for r in results}, "lines": lines, "killed": killed,
            "out": tmp / "out" / "tiny"}  # fmt: skip


@needs_ray
@pytest.mark.slow
def test_a_node_killed_mid_batch_loses_no_submission(ray_batch: dict) -> None:
    assert len(ray_batch["killed"]) == 1, "no node was removed while a task trained on it"
    results = ray_batch["results"]
    assert sorted(results) == SUBMISSIONS
    for result in results.values():
        kinds = [t.error_kind.code for t in result.tasks.values() if t.error_kind]
        assert "grader_error" not in kinds, result.tasks
        assert result.provenance.packing is not None
        assert result.provenance.packing["backend"] == "ray"
    victim = ray_batch["killed"][0]
    starts = [m for _, _, m in ray_batch["lines"] if m.startswith(NODE_LINE)]
    assert any(victim in m for m in starts)
    assert any(victim not in m for m in starts)  # its task started again on another node
    for student in SUBMISSIONS:  # written by the driver, as the local backend writes them
        assert (ray_batch["out"] / "results" / f"{student}.json").is_file()
    assert (ray_batch["out"] / "summary.csv").is_file()


@needs_ray
@pytest.mark.slow
def test_ray_grades_exactly_like_the_local_backend(
    ray_batch: dict, graded_tiny: dict, data_dir: Path, session_out: Path, tmp_path: Path
) -> None:
    local = dict(graded_tiny["results"])
    local.update(
        (r.student, r)
        for r in grade_assignment(
            TINY,
            submissions=fixture_submissions(tmp_path, SUBMISSIONS[1:]),
            out_dir=_caches(session_out, tmp_path / "out"),
            data_dir=data_dir,
            jobs_count=1,
        )
    )
    for student in SUBMISSIONS:
        on_ray, here = ray_batch["results"][student].to_json(), local[student].to_json()
        assert on_ray["tasks"].keys() == here["tasks"].keys()
        trained = {t for t, task in here["tasks"].items() if task["status"] == "ok"}
        assert trained == TRAINED[student]  # numbers to compare, not only failures
        for task_id, task in here["tasks"].items():
            for key in TASK_KEYS:
                assert on_ray["tasks"][task_id][key] == task[key], (student, task_id, key)
        assert on_ray["checks"] == here["checks"]
        assert (on_ray["score"], on_ray["max_score"]) == (here["score"], here["max_score"])
        assert on_ray["provenance"]["submission_hash"] == here["provenance"]["submission_hash"]


@needs_ray
@pytest.mark.slow
def test_an_unchanged_submission_is_reused_on_the_driver(
    ray_batch: dict, data_dir: Path, tmp_path: Path
) -> None:
    """A second run dispatches nothing: every stored result is reused, none sent to a node."""
    submissions = fixture_submissions(tmp_path, SUBMISSIONS)
    lines: list[tuple[str, str, str]] = []
    again = grade_assignment(
        TINY,
        submissions=submissions,
        out_dir=ray_batch["out"].parent,
        data_dir=data_dir,
        progress=lambda *line: lines.append(line),
        backend="ray",
    )
    assert not [m for _, _, m in lines if m.startswith(NODE_LINE)]
    assert sum("result reused" in m for _, _, m in lines) == len(SUBMISSIONS)
    for result in again:
        assert result.to_json() == ray_batch["results"][result.student].to_json()


@needs_ray
def test_doctor_checks_every_node(cluster: Any, capsys: pytest.CaptureFixture) -> None:
    code = main(["doctor", "--assignment", str(TINY), "--backend", "ray",
                 "--ray-address", cluster.address])  # fmt: skip
    out = capsys.readouterr().out
    node_lines = [line for line in out.splitlines() if line.startswith("node ")]
    assert len(node_lines) == len(cluster.list_all_nodes()), out
    assert code == 0, out


def test_missing_ray_names_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    real_import = builtins.__import__

    def no_ray(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "ray" or name.startswith("ray."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(GradingError, match=r"pip install 'grader\[ray\]'"):
        raybackend.require_ray()
    submissions = fixture_submissions(tmp_path, ["e2e-good"])
    code = main(["grade", "--assignment", str(TINY), "--submissions", str(submissions),
                 "--out", str(tmp_path / "out"), "--backend", "ray"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == USAGE
    assert "pip install 'grader[ray]'" in err and "Traceback" not in err
    assert not (tmp_path / "out" / "cache").exists()  # stopped before any preparation


def test_backend_flags() -> None:
    parser = build_parser()
    plain = parser.parse_args(["grade"])
    assert (plain.backend, plain.ray_address) == ("local", None)
    chosen = parser.parse_args(["grade", "--backend", "ray", "--ray-address", "10.0.0.1:6379"])
    assert (chosen.backend, chosen.ray_address) == ("ray", "10.0.0.1:6379")
    doctor = parser.parse_args(["doctor", "--backend", "ray"])
    assert (doctor.backend, doctor.ray_address) == ("ray", None)
    with pytest.raises(SystemExit):
        parser.parse_args(["grade", "--backend", "dask"])


def test_a_node_writes_nothing_outside_its_folder(tmp_path: Path) -> None:
    raynode.write_files(((b"a/b.py", b"x = 1"), (b"c", None)), tmp_path / "in")
    assert (tmp_path / "in" / "a" / "b.py").read_bytes() == b"x = 1"
    for bad in (b"../out.py", b"a/../../out.py", b"/etc/x", b"a//b"):
        with pytest.raises(GradingError, match="refused"):
            raynode.write_files(((bad, b"x"),), tmp_path / "in")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_a_dead_tasks_folder_is_removed_a_live_ones_kept(tmp_path: Path) -> None:
    live, live_lock = raynode._task_folder(tmp_path)
    dead, dead_lock = raynode._task_folder(tmp_path)
    shims.release(dead_lock)  # as when its worker was killed
    new, new_lock = raynode._task_folder(tmp_path)
    try:
        assert live.is_dir() and new.is_dir() and not dead.exists()
    finally:
        shims.release(live_lock)
        shims.release(new_lock)


@needs_ray
def test_a_nodes_error_is_recorded_as_its_own(cluster: Any, tmp_path: Path) -> None:
    import ray

    remote = ray.remote(num_cpus=0, max_retries=0)(raynode.write_files)
    with pytest.raises(Exception) as wrapped:  # Ray's wrapper, with the remote traceback
        ray.get(remote.remote(((b"../x", b"1"),), tmp_path))
    error = raybackend.node_error(wrapped.value)
    assert type(error) is GradingError
    assert str(error) == "refused a path component b'..' sent to this node"


def test_single_cpu_nodes_get_one_cpu_tasks() -> None:
    """A cluster of single-CPU nodes (a Slurm allocation of one core per node) runs one
    submission a node, its child's two TensorFlow threads sharing the CPU (two threads
    always: the numbers stay the same); nodes of two CPUs or more take tasks of two."""
    from types import SimpleNamespace

    from grader.pipeline.packing import THREADS_PER_CHILD

    tasks = {"t": SimpleNamespace(limits=SimpleNamespace(memory_gb=6.0))}
    run: Any = SimpleNamespace(assignment=SimpleNamespace(tasks=tasks),
                               isolation=SimpleNamespace(gpus=()))  # fmt: skip
    assert raybackend._task_options(run, 1.0)["num_cpus"] == 1
    assert raybackend._task_options(run, 8.0)["num_cpus"] == THREADS_PER_CHILD == 2
    assert raybackend._task_options(run, 1.0)["memory"] == 6 * 2**30
