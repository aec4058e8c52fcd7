"""`make bench-class`: a whole class's throughput, locally and on Ray clusters of N nodes.

The class: the six of ./submissions (a broken one included, as in a real class), the short
benchmark submission, and a shorter variant of it (5/5/3 epochs), copied into a temporary
folder (or `--class FOLDER`). Caches (split, base model, reference) are warmed by grading one
submission first, so every timed run pays only for grading. The floor is what plain training
scripts need for the same class on this machine: the sum of each submission's plain script
time (benchmarks/plain_baseline.py, with the grader's pinned arithmetic) over the cores.
Every configuration must give each student the same score and metrics as the local one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.bench import trained_base
from grader.layout import Layout
from grader.pipeline.folders import student_key
from grader.pipeline.packing import THREADS_PER_CHILD
from grader.sandbox.childenv import NUMERICS
from grader.spec import Assignment, load_assignment

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = ROOT / "assignments" / "transfer-learning"
CLASS = ["alvaro-pequeno", "bea-overfit", "carlos-broken", "dana-frozen-head", "elif-tiny",
         "fatima-strong-scratch"]  # fmt: skip
SHORT = ROOT / "benchmarks" / "submissions" / "short-10-10-5"
VARIANT = "short-5-5-3"  # also the warm-up submission: the cheapest of the class
# short-10-10-5's TRAINING dict, epochs rewritten; the cifar10 line first (5 -> 3)
EPOCHS = [('"epochs": 5, "batch_size": 64', '"epochs": 3, "batch_size": 64'),
          ('"epochs": 10,', '"epochs": 5,')]  # fmt: skip
MIN_OBJECT_STORE = 100 * 2**20


def build_class(into: Path) -> str:
    """The default class copied into `into`; returns the warm-up submission's folder name."""
    for name in CLASS:
        shutil.copytree(ROOT / "submissions" / name, into / name)
    shutil.copytree(SHORT, into / SHORT.name)
    text = (SHORT / "submission.py").read_text(encoding="utf-8")
    for old, new in EPOCHS:
        if old not in text:
            raise SystemExit(f"{SHORT}/submission.py has no {old!r}: update EPOCHS to match it")
        text = text.replace(old, new)
    (into / VARIANT).mkdir()
    (into / VARIANT / "submission.py").write_text(text, encoding="utf-8")
    return VARIANT


def run(command: list[str], env: dict[str, str] | None = None, quiet: bool = False) -> float:
    """Wall seconds of `command`; a failure raises with the end of its output (when quiet)."""
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=quiet, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout or "").splitlines()[-15:] + (done.stderr or "")
                         .splitlines()[-15:])  # fmt: skip
        raise subprocess.CalledProcessError(done.returncode, command, tail)
    return time.monotonic() - started


def outcomes(layout: Layout, students: list[str]) -> dict[str, dict | None]:
    """Each student's score and per-task metrics as stored (None: no result written)."""
    found: dict[str, dict | None] = {}
    for student in students:
        path = layout.result(student)
        if not path.is_file():
            found[student] = None
            continue
        result = json.loads(path.read_text(encoding="utf-8"))
        metrics = {task: graded["metrics"] for task, graded in result["tasks"].items()}
        found[student] = {"score": result["score"], "metrics": metrics}
    return found


def differences(local: dict[str, dict | None], other: dict[str, dict | None]) -> str:
    """The word identical, or which students' score or task metrics differ from the local run."""
    problems = []
    for student, here in local.items():
        there = other.get(student)
        if here is None or there is None:
            problems.append(f"{student}: no result {'locally' if here is None else 'here'}")
        elif here["score"] != there["score"]:
            problems.append(f"{student}: score {there['score']} (local {here['score']})")
        else:
            tasks = [t for t in here["metrics"] if here["metrics"][t] != there["metrics"].get(t)]
            problems += [f"{student}: {t} metrics" for t in tasks]
    return "identical" if not problems else "differs: " + "; ".join(problems)


def plain_floor(layout: Layout, submissions: Path, assignment_dir: Path) -> dict:
    """Each submission's plain script time (0, with the reason, when it trains nothing or
    the script fails on it), and the floor: their sum over this machine's cores."""
    seconds: dict[str, float] = {}
    untrained: dict[str, str] = {}
    for folder in sorted(p for p in submissions.iterdir() if p.is_dir()):
        result = json.loads(layout.result(student_key(folder.name)).read_text(encoding="utf-8"))
        trains = any(t["status"] == "ok" for t in result["tasks"].values())
        if not trains or not (folder / "submission.py").is_file():
            untrained[folder.name] = "the grader trained none of its models"
            continue
        prov = result["provenance"]
        base = trained_base(layout, prov) if prov.get("base_model") else Path("-")
        plain = [sys.executable, "-m", "benchmarks.plain_baseline",
                 str(layout.split_arrays(prov["split_key"])), str(base),
                 str(folder / "submission.py"), str(assignment_dir)]  # fmt: skip
        print(f"[plain] {folder.name} ...", flush=True)
        try:
            seconds[folder.name] = run(plain, env={**os.environ, **NUMERICS}, quiet=True)
        except subprocess.CalledProcessError as exc:
            last = (exc.output or "").strip().splitlines()[-1:] or [f"exit {exc.returncode}"]
            untrained[folder.name] = f"the plain script failed: {last[0]}"
    cores = os.cpu_count() or 1
    return {"seconds": seconds, "untrained": untrained, "cores": cores,
            "floor_s": sum(seconds.values()) / cores}  # fmt: skip


def object_store_bytes(layout: Layout, students: list[str]) -> int:
    """Room for what the driver shares with every node (the split arrays, the base model)."""
    for outcome in map(layout.result, students):
        if outcome.is_file():
            split_key = json.loads(outcome.read_text(encoding="utf-8"))["provenance"]["split_key"]
            folder = layout.split_arrays(split_key)
            size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
            return max(MIN_OBJECT_STORE, 2 * size + 32 * 2**20)
    return MIN_OBJECT_STORE


@contextmanager
def ray_cluster(nodes: int, memory: int, store: int, cpus: int) -> Iterator[str]:
    """A local Ray cluster: a head that runs no task and `nodes` workers of `cpus` CPUs, each
    with the memory of one submission's task (one child); yields its address, then stops it."""
    from ray.cluster_utils import Cluster

    head = {"num_cpus": 0, "object_store_memory": store, "include_dashboard": False}
    cluster = Cluster(initialize_head=True, head_node_args=head)
    try:
        for _ in range(nodes):
            cluster.add_node(num_cpus=cpus, memory=memory, object_store_memory=store)
        cluster.wait_for_nodes()
        yield cluster.address
    finally:
        cluster.shutdown()


def task_memory(assignment: Assignment) -> int:
    """The Ray `memory` of the largest task (grader/pipeline/raybackend.py _task_options)."""
    memory_gb = max((t.limits.memory_gb for t in assignment.tasks.values()), default=1.0)
    return int(memory_gb * 2**30)


def row(backend: str, nodes: int | None, wall: float, n: int, floor: float | None) -> dict:
    return {"backend": backend, "nodes": nodes, "wall_s": round(wall, 1),
            "students_per_hour": round(n / (wall / 3600), 1),
            "ratio_to_floor": round(wall / floor, 2) if floor else None}  # fmt: skip


def print_table(rows: list[dict]) -> None:
    print(f"\n{'backend':8} {'nodes':>5} {'wall s':>8} {'students/h':>11} {'/floor':>7}  scores")
    for r in rows:
        ratio = f"{r['ratio_to_floor']:.2f}" if r["ratio_to_floor"] is not None else "-"
        nodes = r["nodes"] if r["nodes"] is not None else "-"
        print(f"{r['backend']:8} {nodes:>5} {r['wall_s']:>8.1f} {r['students_per_hour']:>11.1f} "
              f"{ratio:>7}  {r.get('scores', '')}")  # fmt: skip


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench-class")
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--assignment", type=Path, default=ASSIGNMENT)
    parser.add_argument("--class", dest="class_folder", type=Path, default=None,
                        help="grade this submissions folder, not the default class")  # fmt: skip
    parser.add_argument("--nodes", default="1,2,3", help="Ray cluster sizes, comma-separated")
    cpus = f"each Ray node's CPUs (1, or {THREADS_PER_CHILD}: one child's threads)"
    parser.add_argument("--cpus-per-node", type=int, default=1, help=cpus)
    parser.add_argument("--skip-ray", action="store_true")
    parser.add_argument("--skip-plain", action="store_true")
    return parser.parse_args()


def bench(args: argparse.Namespace, submissions: Path, warm_up: str) -> dict:
    """Warm up, time the local grading, the floor and each Ray cluster; the figures."""
    assignment = load_assignment(args.assignment)
    layout = Layout.for_output(args.out, assignment.id)
    folders = sorted(p.name for p in submissions.iterdir() if p.is_dir())
    students = [student_key(name) for name in folders]
    grade = [sys.executable, "-m", "grader", "grade", "--assignment", str(args.assignment),
             "--submissions", str(submissions), "--out", str(args.out), "--no-reports",
             *(["--data", str(args.data)] if args.data else [])]  # fmt: skip
    print(f"{len(folders)} submissions: {', '.join(folders)}\nwarming caches with {warm_up} ...")
    run([*grade, "--only", warm_up], quiet=True)
    local_wall = run([*grade, "--force"])
    local = outcomes(layout, students)
    plain = None if args.skip_plain else plain_floor(layout, submissions, args.assignment)
    floor = plain["floor_s"] if plain else None
    rows = [{**row("local", None, local_wall, len(folders), floor), "scores": "reference"}]
    if not args.skip_ray:
        memory, store = task_memory(assignment), object_store_bytes(layout, students)
        for nodes in [int(n) for n in args.nodes.split(",")]:
            print(f"\nRay: starting a local cluster of {nodes} node(s) of "
                  f"{args.cpus_per_node} CPU(s) ...", flush=True)  # fmt: skip
            with ray_cluster(nodes, memory, store, args.cpus_per_node) as address:
                wall = run([*grade, "--force", "--backend", "ray", "--ray-address", address])
            scores = differences(local, outcomes(layout, students))
            rows.append({**row("ray", nodes, wall, len(folders), floor),
                         "cpus_per_node": args.cpus_per_node, "scores": scores})  # fmt: skip
    return {"assignment": assignment.id, "students": folders, "plain": plain, "runs": rows}


def main() -> int:
    args = parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-class-"))
    try:
        if args.class_folder is not None:
            submissions = args.class_folder.resolve()
            warm_up = min(p.name for p in submissions.iterdir() if p.is_dir())
        else:
            submissions = scratch / "submissions"
            warm_up = build_class(submissions)
        figures = bench(args, submissions, warm_up)
    except subprocess.CalledProcessError as exc:
        print(f"failed (exit {exc.returncode}): {' '.join(exc.cmd)}\n{exc.output or ''}")
        return 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    plain = figures["plain"]
    if plain:
        times = ", ".join(f"{k} {v:.1f} s" for k, v in plain["seconds"].items()) or "none"
        print(f"\nplain scripts (the grader's arithmetic): {times}")
        for name, why in plain["untrained"].items():
            print(f"counted 0: {name} ({why})")
        print(f"floor: {sum(plain['seconds'].values()):.1f} s / {plain['cores']} cores = "
              f"{plain['floor_s']:.1f} s")  # fmt: skip
    print_table(figures["runs"])
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench-class.json").write_text(json.dumps(figures, indent=1), encoding="utf-8")
    print(f"\nfigures: {args.out / 'bench-class.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
