"""`grade --backend ray`: each submission one Ray task, on any node of a Ray cluster.

The driver (this process) prepares the run as a local grading does (split, base model,
reference solution), puts what every submission shares into Ray's object store once, and
reads each submission by the same safe walk as staging. A submission that needs no training
(its stored result reused, or staged as a failure) is graded here, as locally; every other
one is a task (`raynode.grade_on_node`) that grades it in sandboxed children on its node and
returns the result's JSON text. Only the driver writes results. A node that dies mid-batch
loses nothing: Ray runs its tasks again elsewhere (`max_retries`).
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from grader.errors import GradingError
from grader.pipeline import raynode, staging, submissions
from grader.pipeline.folders import name_problem, student_key
from grader.pipeline.packing import THREADS_PER_CHILD
from grader.pipeline.provenance import check_reuse, provenance, stale_reason
from grader.pipeline.raynode import Files, Parcel, Shared
from grader.pipeline.run import Run
from grader.pipeline.submission import build_result, failed_result
from grader.records import Result, write_json_atomic
from grader.sandbox.diskuse import remove_tree

INSTALL = "pip install 'grader[ray]'"
MAX_RETRIES = 3  # a task whose node dies is run again on another node, this many times
POLL_SECONDS = 0.5  # how often the nodes' progress lines are shown
GradeLocally = Callable[[Run, list[Path]], list[Result]]


@dataclass(frozen=True)
class _Dispatched:
    folder: Path
    hash: str  # of the files the driver read and sent


def require_ray() -> ModuleType:
    """The `ray` module, or a GradingError naming the fix (it is an optional extra)."""
    try:
        import ray
    except ImportError:
        raise GradingError(
            f"--backend ray needs Ray, which is not installed: run `{INSTALL}` (on every "
            "machine of the cluster), or grade without --backend ray."
        ) from None
    return ray


@contextmanager
def connected(address: str | None) -> Iterator[ModuleType]:
    """Ray, connected to the cluster at `address` (None: RAY_ADDRESS, a cluster started on
    this machine, else a new local one); disconnected on exit unless it was already."""
    ray = require_ray()
    started = not ray.is_initialized()
    if started:
        ray.init(address=address or None, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.WARNING)  # fmt: skip
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


def grade_all_ray(
    run: Run, folders: list[Path], force: bool, address: str | None, grade_locally: GradeLocally
) -> list[Result]:
    """Grade `folders` on the Ray cluster at `address`; `grade_locally` grades, on this
    machine, those that train nothing. Results in the order of `folders`."""
    with connected(address) as ray:
        options = _task_options(run, _largest_cpus(ray))
        run = replace(run, packing=_packing(ray, run, options))
        remote = ray.remote(**options)(raynode.grade_on_node)
        relay = _relay(ray)
        shared = None  # put in the object store once, when a first submission needs it
        pending: dict[Any, _Dispatched] = {}
        try:
            local = []
            for folder in folders:
                planned = _plan(run, folder, force)
                if planned is None:
                    local.append(folder)
                    continue
                shared = shared or ray.put(_shared(run))
                parcel, digest = planned
                pending[remote.remote(shared, parcel, relay)] = _Dispatched(folder, digest)
            results = dict(zip(local, grade_locally(run, local), strict=True))
            results.update(_collect(ray, run, pending, relay))
        except BaseException:  # Ctrl-C: the nodes' tasks stop their children
            for ref in pending:
                ray.cancel(ref)
            raise
    return [results[folder] for folder in folders]


def _task_options(run: Run, largest_cpus: float) -> dict[str, Any]:
    """One submission's Ray resources: the CPUs of one child (one on a cluster of
    single-CPU nodes: the child's two TensorFlow threads, fixed for the numbers, share it),
    the memory of the largest."""
    memory_gb = max((t.limits.memory_gb for t in run.assignment.tasks.values()), default=1.0)
    cpus = THREADS_PER_CHILD if largest_cpus >= THREADS_PER_CHILD else 1
    return {"num_cpus": cpus, "memory": int(memory_gb * 2**30),
            "num_gpus": 1 if run.isolation.gpus else 0, "max_retries": MAX_RETRIES}  # fmt: skip


def _largest_cpus(ray: ModuleType) -> float:
    """The most CPUs one alive node of the cluster has."""
    return max((n["Resources"].get("CPU", 0) for n in ray.nodes() if n["Alive"]), default=0)


def _packing(ray: ModuleType, run: Run, options: dict[str, Any]) -> dict[str, str]:
    """The nodes that can run a submission's task, said and recorded in each result.

    Raises:
        GradingError: no node of the cluster can (its tasks would wait forever).
    """
    needs = {"CPU": options["num_cpus"], "memory": options["memory"], "GPU": options["num_gpus"]}
    nodes = [n for n in ray.nodes() if n["Alive"]]
    fit = [n for n in nodes if all(n["Resources"].get(k, 0) >= v for k, v in needs.items() if v)]
    gb = options["memory"] / 2**30
    if not fit:
        raise GradingError(
            f"No node of the Ray cluster ({len(nodes)} alive) has {options['num_cpus']} CPUs "
            f"and {gb:g} GB of Ray memory for one submission: start nodes with more "
            "(`ray start --num-cpus N --memory BYTES`), or grade without --backend ray."
        )
    cpus = int(sum(n["Resources"].get("CPU", 0) for n in fit))
    run.progress("(instructor)", "packing", f"ray: {len(fit)} node(s), {cpus} CPUs; each "
                 f"submission a task of {options['num_cpus']} CPUs and {gb:g} GB")  # fmt: skip
    return {"backend": "ray", "nodes": str(len(fit)), "cores": str(cpus),
            "threads_per_child": str(THREADS_PER_CHILD), "chosen_by": "ray"}  # fmt: skip


def _relay(ray: ModuleType) -> Any:
    """The actor holding the nodes' progress lines, on the driver's own node."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
    actor = ray.remote(num_cpus=0, max_restarts=0)(raynode.ProgressRelay)
    return actor.options(scheduling_strategy=here).remote()


def _shared(run: Run) -> Shared:
    """What every task needs besides its submission (the split: trusted, the grader's)."""
    return Shared(
        assignment=run.assignment,
        split_key=run.split_key,
        splits=_folder_files(run.splits_dir),
        data_fingerprint=run.data_fingerprint,
        counts=run.counts,
        base=run.base,
        base_bytes=None if run.base is None else run.base.path.read_bytes(),
        isolation=run.isolation.level,
        memory_cap=run.isolation.memory_cap,
        mode=run.mode,
        packing=run.packing or {},
        stack=raynode.stack(),
    )


def _folder_files(folder: Path) -> Files:
    paths = sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    return tuple((p.relative_to(folder).as_posix().encode(), p.read_bytes()) for p in paths)


def _plan(run: Run, folder: Path, force: bool) -> tuple[Parcel, str] | None:
    """The submission's files and their hash when it must be trained on a node; None when
    it trains nothing (reused, or staged as a failure): graded on the driver, as locally."""
    if name_problem(folder.name) is not None:
        return None
    scratch = Path(tempfile.mkdtemp(prefix="ray-", dir=run.work))
    try:
        copy = scratch / "read" / folder.name
        try:  # the safe walk: no link followed, nothing outside read, every cap checked
            copied = staging.copy_tree(folder, copy, staging.Limits(bytes=submissions.MAX_BYTES))
        except (staging.Refused, OSError):
            return None
        if submissions.stage(copy, scratch / "staged").failure is not None:
            return None
        prov = replace(provenance(run, None), submission_hash=copied.hash)
        if not force and check_reuse(run.layout.result(student_key(folder.name)), prov)[0]:
            return None
        files: list[tuple[bytes, bytes | None]] = [(d.path, None) for d in copied.tree.dirs]
        files += [(f.path, (copy / f.path.decode("utf-8", "surrogateescape")).read_bytes())
                  for f in copied.tree.files]  # fmt: skip
        return Parcel(folder.name, tuple(files)), copied.hash
    finally:
        remove_tree(scratch)


def _collect(
    ray: ModuleType, run: Run, pending: dict[Any, _Dispatched], relay: Any
) -> dict[Path, Result]:
    """Each task's result as it arrives, the nodes' progress lines shown meanwhile."""
    results = {}
    waiting = list(pending)
    while waiting:
        done, waiting = ray.wait(waiting, num_returns=1, timeout=POLL_SECONDS)
        _show(ray, run, relay)
        for ref in done:
            results[pending[ref].folder] = _receive(ray, run, ref, pending[ref])
    _show(ray, run, relay)
    return results


def _receive(ray: ModuleType, run: Run, ref: Any, sent: _Dispatched) -> Result:
    """The node's result, checked and scored here with the driver's spec; written here.
    A task that failed (its node's error, or retries used up) is a grader error."""
    try:
        text = ray.get(ref)
        remote = Result.from_json(json.loads(text))
        expected = replace(provenance(run, None), submission_hash=sent.hash)
        if (why := stale_reason(remote.provenance, expected)) is not None:
            raise GradingError(f"the node graded something else: {why}")
    except Exception as exc:  # noqa: BLE001 - the fault barrier: one submission only
        return failed_result(run, sent.folder, node_error(exc))
    prov = replace(remote.provenance, packing=run.packing)
    result = build_result(run, sent.folder, remote.tasks, prov, remote.notebook_dropped)
    write_json_atomic(run.layout.result(student_key(sent.folder.name)), result)
    return result


def node_error(exc: Exception) -> Exception:
    """The node's own exception inside Ray's wrapper (whose text adds the remote traceback
    in terminal colours), else `exc` itself (a node lost with every retry, say)."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, Exception) else exc


def _show(ray: ModuleType, run: Run, relay: Any) -> None:
    try:
        lines = ray.get(relay.drain.remote(), timeout=10)
    except Exception:  # noqa: BLE001 - progress lines only: the grading goes on
        return
    for student, task, message in lines:
        run.progress(student, task, message)


def node_lines(address: str | None, minimum: str) -> list[tuple[bool, str]]:
    """(usable, line) for every alive node of the cluster: the isolation check, run there
    (`doctor --backend ray`)."""
    with connected(address) as ray:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        check = ray.remote(num_cpus=0, max_retries=0)(raynode.node_isolation)
        nodes = [n for n in ray.nodes() if n["Alive"]]
        refs = [
            check.options(
                scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], False)
            ).remote(minimum)
            for n in nodes
        ]
        found = []
        for node, ref in zip(nodes, refs, strict=True):
            where = f"node {node['NodeManagerAddress']} ({node['NodeID'][:8]})"
            try:
                ok, line = ray.get(ref)
            except Exception as exc:  # noqa: BLE001 - that node's problem, said on its line
                ok, line = False, f"the check failed: {type(exc).__name__}: {exc}"[:300]
            found.append((ok, f"{where}: {line}"))
        return found
