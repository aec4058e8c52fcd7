"""Grades a folder of submissions: base model, per-task training, clean evaluation, checks."""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import tomllib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from queue import Queue
from typing import Any

from grader import checks, data, jobs, resume, sandbox
from grader.results import (
    ChildOutputError,
    is_reusable,
    provenance,
    read_child_json,
    submission_hash,
    write_json_atomic,
    write_summary_csv,
)
from grader.spec import Assignment, Task, load_assignment

SUBMISSION_FILE = "submission.py"
Progress = Callable[[str, str, str], None]  # (student, task, message)


class GradingError(RuntimeError):
    """An instructor-side problem (spec, data, base model): the whole run stops."""


@dataclass(frozen=True)
class Context:
    """What every submission's grading shares."""

    assignment: Assignment
    out: Path
    splits_dir: Path
    split_key: str
    data_fingerprint: str
    level: str
    work: Path  # private temp folder holding the job folders
    base: dict[str, Any] | None
    progress: Progress


def grade_assignment(
    assignment_dir: Path,
    *,
    submissions: Path,
    out_dir: Path,
    data_dir: Path | None = None,
    jobs_count: int = 1,
    only: Sequence[str] = (),
    force: bool = False,
    isolation: str | None = None,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Grade every submission in `submissions` and write results and `summary.csv`.

    Returns:
        The result dicts, one per submission, as written to `OUT/<id>/results/`.

    Raises:
        SpecError, DataError, GradingError: an instructor-side problem; nothing is graded.
    """
    ctx = prepare(assignment_dir, out_dir, data_dir, isolation, progress)
    folders = find_submissions(submissions, only)
    slots: Queue[int] = Queue()
    for slot in range(max(1, jobs_count)):
        slots.put(slot)

    def grade_one(folder: Path) -> dict[str, Any]:
        slot = slots.get()
        try:
            return grade_submission(ctx, folder, slot=slot, force=force)
        finally:
            slots.put(slot)

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs_count)) as pool:
            futures = [pool.submit(grade_one, f) for f in folders]
            try:
                results = [f.result() for f in futures]
            except BaseException:  # Ctrl-C: kill running children, keep finished checkpoints
                sandbox.stop_all()
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    finally:
        shutil.rmtree(ctx.work, ignore_errors=True)
    stored = [r for r in map(_load_result, sorted((ctx.out / "results").glob("*.json"))) if r]
    write_summary_csv(ctx.out / "summary.csv", stored, list(ctx.assignment.tasks))
    return results


def prepare(
    assignment_dir: Path,
    out_dir: Path,
    data_dir: Path | None,
    isolation: str | None,
    progress: Progress | None,
) -> Context:
    """Load the spec, build (or reuse) the split and the base model."""
    assignment = load_assignment(assignment_dir)
    out = Path(out_dir).resolve() / assignment.id
    cache = Path(out_dir).resolve() / "cache"
    for folder in (out / "results", cache):
        folder.mkdir(parents=True, exist_ok=True)
    for private in (cache, out / "results"):  # hidden labels and others' results: no child uid
        private.chmod(0o700)
    source = data.find_source(data_dir)
    splits_dir = data.prepare_splits(assignment, source, cache)
    level = sandbox.detect_isolation(isolation)
    report = progress or (lambda *_: None)
    ctx = Context(
        assignment,
        out,
        splits_dir,
        splits_dir.name,
        source.fingerprint,
        level,
        jobs.make_work_root(),
        None,
        report,
    )
    if assignment.base_model is not None:
        try:
            ctx = Context(**{**vars(ctx), "base": ensure_base_model(ctx, cache)})
        except BaseException:
            shutil.rmtree(ctx.work, ignore_errors=True)
            raise
    return ctx


def find_submissions(folder: Path, only: Sequence[str] = ()) -> list[Path]:
    """Student folders (every subfolder not starting with '.' or '_'), sorted."""
    if not Path(folder).is_dir():
        raise GradingError(f"No submissions folder at {folder}. Pass --submissions DIR.")
    found = sorted(
        p for p in Path(folder).iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
    )
    if only:
        missing = sorted(set(only) - {p.name for p in found})
        if missing:
            raise GradingError(
                f"--only names unknown students {missing}; known: {[p.name for p in found]}"
            )
        found = [p for p in found if p.name in only]
    return found


def ensure_base_model(ctx: Context, cache: Path) -> dict[str, Any]:
    """Train the instructor's base model once per spec + data, then reuse the cached file."""
    spec = ctx.assignment.base_model
    assert spec is not None
    folder = cache / "base" / f"{ctx.assignment.spec_hash}-{ctx.split_key}"
    info_path = folder / "base.json"
    if info_path.is_file() and (folder / "base.keras").is_file():
        return {**_load_result(info_path), "path": str(folder / "base.keras")}
    ctx.progress("(instructor)", "base model", "training the pre-trained base model once")
    split = ctx.assignment.splits[spec.split]
    job = jobs.new_job(ctx.work, "base", ctx.level, slot=0)
    jobs.link_inputs(
        job,
        {
            **_train_arrays(ctx, spec.split),
            "submission/base_model.py": ctx.assignment.directory / spec.file,
        },
    )
    request = _train_request(
        job,
        ctx,
        call="base_model",
        function=spec.function,
        classes=list(split.classes),
        training=vars(spec.training),
        limits={"max_epochs": spec.training.epochs, "max_params": 10**8, "max_batch_size": 4096},
        module_file=job.inputs / "submission" / "base_model.py",
    )
    outcome = jobs.run_job(job, "grader.train_worker", request, wall_seconds=3600, memory_gb=8)
    try:
        report = read_child_json(job.outputs / "train.json")
        if report.get("status") != "ok":
            raise GradingError(f"{spec.file}: {report.get('error')}")
        folder.mkdir(parents=True, exist_ok=True)
        jobs.take_output(job, "model.keras", folder / "base.keras")
    except ChildOutputError as exc:
        log = jobs.log_tail(outcome)
        raise GradingError(f"Training the base model failed ({exc}):\n{log}") from None
    info = {
        "val_accuracy": report["history"]["val_accuracy"][-1],
        "epochs": report["epochs"],
        "classes": list(split.classes),
        "file": spec.file,
    }
    write_json_atomic(info_path, info)
    shutil.rmtree(job.root, ignore_errors=True)
    return {**info, "path": str(folder / "base.keras")}


def _train_arrays(ctx: Context, split: str) -> dict[str, Path]:
    """Training and validation arrays only: the hidden test split never reaches student code."""
    return {
        f"{n}.npy": ctx.splits_dir / split / f"{n}.npy"
        for n in ("x_train", "y_train", "x_val", "y_val")
    }


def _train_request(
    job: jobs.Job,
    ctx: Context,
    *,
    call: str,
    function: str,
    classes: list[str],
    training: dict,
    limits: dict,
    module_file: Path,
    task: str = "base",
) -> dict:
    return {
        "task": task,
        "call": call,
        "function": function,
        "classes": classes,
        "num_classes": len(classes),
        "input_shape": [32, 32, 3],
        "seed": ctx.assignment.seed,
        "defaults": training,
        "limits": limits,
        "submission": job.inside(module_file),
        "data": job.inside(job.inputs),
        "out": job.inside(job.outputs),
        "base_model": job.inside(job.inputs / "base.keras") if call == "base" else None,
    }


def grade_submission(ctx: Context, folder: Path, *, slot: int, force: bool) -> dict[str, Any]:
    """Train and evaluate every task of one submission; write and return its result."""
    student = folder.name
    result_path = ctx.out / "results" / f"{student}.json"
    prov = provenance(
        spec_hash=ctx.assignment.spec_hash,
        data_fingerprint=ctx.data_fingerprint,
        split_key=ctx.split_key,
        submission=submission_hash(folder),
        seed=ctx.assignment.seed,
        isolation=ctx.level,
        base_model=_base_info(ctx),
    )
    if not force and is_reusable(result_path, prov):
        ctx.progress(student, "-", "unchanged since last run: result reused")
        return _load_result(result_path)
    store = ctx.out / "partial" / student
    if force:
        resume.clear(store)
    name = read_student_name(folder)
    work = Path(tempfile.mkdtemp(prefix="student-", dir=ctx.work))
    work.chmod(0o711)
    tasks = {}
    for task in ctx.assignment.tasks.values():
        tasks[task.id] = resume.load_task(store, task.id, prov, work)
        if tasks[task.id] is not None:
            ctx.progress(student, task.id, "trained in an earlier run: reused")
            continue
        ctx.progress(student, task.id, "training")
        tasks[task.id] = train_task(ctx, folder, task, work, slot)
        resume.save_task(store, task.id, prov, tasks[task.id], work)
        ctx.progress(student, task.id, f"trained: {tasks[task.id]['status']}")
    evaluate_tasks(ctx, tasks, work, slot)
    rows = checks.evaluate_checks(ctx.assignment, tasks)
    score, max_score = checks.total_score(rows)
    failed = sum(t["status"] != "ok" for t in tasks.values())
    result = {
        "schema": 1,
        "mode": "grade",
        "student": student,
        "name": name["name"],
        "name_warning": name["warning"],
        "score": score,
        "max_score": max_score,
        "status": "ok" if not failed else ("error" if failed == len(tasks) else "partial"),
        "assignment": {
            "id": ctx.assignment.id,
            "title": ctx.assignment.title,
            "language": ctx.assignment.language,
        },
        "tasks": tasks,
        "checks": rows,
        "provenance": prov,
    }
    write_json_atomic(result_path, _finite(result))
    resume.clear(store)
    shutil.rmtree(work, ignore_errors=True)
    return result


def _base_info(ctx: Context) -> dict | None:
    return None if ctx.base is None else {k: v for k, v in ctx.base.items() if k != "path"}


def read_student_name(folder: Path) -> dict[str, str | None]:
    """The name from `student.toml`, else the folder name (with a warning saying why)."""
    path = folder / "student.toml"
    if not path.is_file():
        return {"name": folder.name, "warning": None}
    try:
        name = tomllib.loads(path.read_text(encoding="utf-8")).get("name")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return {"name": folder.name, "warning": f"student.toml is not valid TOML ({exc})"}
    if not isinstance(name, str) or not name.strip():
        return {"name": folder.name, "warning": 'student.toml has no name = "..." line'}
    return {"name": name.strip()[:200], "warning": None}


def empty_task(ctx: Context, task: Task) -> dict[str, Any]:
    """Every field a report reads, so a failed task renders without gaps."""
    split = ctx.assignment.splits[task.split]
    return {
        "title": task.title,
        "status": "error",
        "error_kind": None,
        "error": None,
        "log_tail": "",
        "classes": list(split.classes),
        "split": {
            "name": split.name,
            "train": _counts(split.train_per_class, split),
            "val": _counts(split.val_per_class, split),
            "test": _counts(split.test_per_class, split),
        },
        "metrics": None,
        "history": None,
        "best_epoch": None,
        "epochs": 0,
        "batch_size": None,
        "seconds": 0.0,
        "params": None,
        "trainable_params": None,
        "non_trainable_params": None,
        "optimizer": None,
        "loss": None,
        "label_format": None,
        "layers": [],
        "confusion_matrix": None,
        "samples": [],
        "base_reuse": None,
    }


def _counts(per_class: int, split: Any) -> list[int]:
    return [per_class] * len(split.classes)


def train_task(ctx: Context, folder: Path, task: Task, work: Path, slot: int) -> dict[str, Any]:
    """Run the student's build + fit for one task in an isolated child; never raises."""
    result = empty_task(ctx, task)
    job = jobs.new_job(work, task.id, ctx.level, slot)
    try:
        jobs.copy_submission(job, folder)
        inputs = _train_arrays(ctx, task.split)
        if task.uses_base and ctx.base is not None:
            inputs["base.keras"] = Path(ctx.base["path"])
        jobs.link_inputs(job, inputs)
    except (OSError, ValueError) as exc:
        return {
            **result,
            "error_kind": "bad_submission",
            "error": f"Could not read the submission: {exc}.",
        }
    module_file = job.inputs / "submission" / SUBMISSION_FILE
    if not module_file.is_file():
        return {
            **result,
            "error_kind": "missing_file",
            "error": f"{folder.name}/ has no "
            f"{SUBMISSION_FILE}. Put your functions in {SUBMISSION_FILE} (see the handout).",
        }
    request = _train_request(
        job,
        ctx,
        call="base" if task.uses_base else "shape",
        function=task.function,
        classes=result["classes"],
        training=vars(task.defaults),
        limits=vars(task.limits),
        module_file=module_file,
        task=task.id,
    )
    outcome = jobs.run_job(
        job,
        "grader.train_worker",
        request,
        wall_seconds=task.limits.max_seconds + task.limits.startup_seconds,
        memory_gb=task.limits.memory_gb,
        on_line=lambda line: ctx.progress(folder.name, task.id, line[16:]),
    )
    result["log_tail"] = jobs.log_tail(outcome)
    return {**result, **_read_training(job, task, outcome, work / task.id)}


def _read_training(job: jobs.Job, task: Task, outcome: sandbox.Outcome, kept: Path) -> dict:
    if outcome.disk_exceeded:
        return {
            "error_kind": "disk_limit",
            "error": "The training process wrote more than "
            f"{sandbox.Limits.scratch_bytes // 2**20} MB to disk and was stopped. Do not "
            "write files from your submission; the grader saves your model itself.",
        }
    if outcome.timed_out:
        return {
            "status": "timeout",
            "error_kind": "timeout",
            "error": (
                f"Training did not finish within this task's limit of {task.limits.max_seconds} s "
                f"(stopped after {outcome.seconds:.0f} s). Train fewer epochs (TRAINING), or use a "
                "smaller model."
            ),
        }
    try:
        report = read_child_json(job.outputs / "train.json", max_bytes=2**20)
    except ChildOutputError as exc:
        return {"error_kind": "crash", "error": _crash_message(outcome, str(exc))}
    if report.get("status") != "ok":
        return {
            "error_kind": str(report.get("error_kind"))[:40],
            "error": str(report.get("error"))[:2000],
        }
    try:
        fields = _validated_training(report, task)
        jobs.take_output(job, "model.keras", kept / "model.keras")
        if task.uses_base:
            jobs.take_output(job, "built.keras", kept / "built.keras")
    except (ChildOutputError, ValueError, TypeError, KeyError) as exc:
        return {
            "error_kind": "bad_output",
            "error": f"The training process left unusable "
            f"output ({exc}). Do not write files from your submission.",
        }
    return {"status": "ok", **fields, "seconds": outcome.seconds}


def _crash_message(outcome: sandbox.Outcome, detail: str) -> str:
    log = outcome.log_tail
    signals = {
        11: "it crashed with a segmentation fault",
        25: f"it wrote a file larger than {sandbox.Limits.max_file_bytes // 2**20} MB",
        24: "it used more CPU time than allowed",
        9: "it was killed (out of memory?)",
    }
    if "MemoryError" in log or "bad_alloc" in log or "Resource exhausted" in log:
        why = "it ran out of memory (use a smaller model or batch size)"
    elif outcome.returncode < 0:
        why = signals.get(-outcome.returncode, f"it was killed by signal {-outcome.returncode}")
    else:
        why = f"it exited with code {outcome.returncode} before saving the model ({detail})"
    return (
        f"The training process stopped early: {why}. Do not call sys.exit/os._exit in "
        "your submission; see the log below."
    )


def _validated_training(report: dict, task: Task) -> dict[str, Any]:
    """Check the child's training report against a schema; only plots depend on it."""
    history = report["history"]
    epochs = len(history["loss"])
    if not 1 <= epochs <= task.limits.max_epochs:
        raise ValueError(f"history has {epochs} epochs")
    curves = {}
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        values = [float(v) for v in history[key]]
        if len(values) != epochs or not all(math.isfinite(v) for v in values):
            raise ValueError(f"history[{key!r}] is not {epochs} finite numbers")
        curves[key] = values
    best = min(range(epochs), key=lambda i: curves["val_loss"][i]) + 1
    return {
        "history": curves,
        "epochs": epochs,
        "best_epoch": best,
        "batch_size": int(report["batch_size"]),
        "optimizer": str(report["optimizer"])[:40],
        "loss": str(report["loss"])[:80],
        "label_format": str(report["label_format"])[:10],
    }


def evaluate_tasks(ctx: Context, tasks: dict[str, dict], work: Path, slot: int) -> None:
    """Score every trained model in one child that runs no student code (mutates `tasks`)."""
    trained = {t: r for t, r in tasks.items() if r["status"] == "ok"}
    if not trained:
        return
    job = jobs.new_job(work, "eval", ctx.level, slot)
    request: dict[str, Any] = {
        "seed": ctx.assignment.seed,
        "out": job.inside(job.outputs),
        "tasks": {},
    }
    for task_id in trained:
        task = ctx.assignment.tasks[task_id]
        trained_dir = work / task_id
        files = {
            f"{task_id}/{n}.npy": ctx.splits_dir / task.split / f"{n}.npy" for n in data.ARRAY_NAMES
        }
        files[f"{task_id}/model.keras"] = trained_dir / "model.keras"
        if task.uses_base and ctx.base is not None:
            files[f"{task_id}/built.keras"] = trained_dir / "built.keras"
            files[f"{task_id}/base.keras"] = Path(ctx.base["path"])
        jobs.link_inputs(job, files)
        folder = job.inputs / task_id
        request["tasks"][task_id] = {
            "function": task.function,
            "num_classes": len(trained[task_id]["classes"]),
            "data": job.inside(folder),
            "model": job.inside(folder / "model.keras"),
            "built_model": job.inside(folder / "built.keras") if task.uses_base else None,
            "base_model": job.inside(folder / "base.keras") if task.uses_base else None,
        }
    ctx.progress("", "evaluation", "scoring on the hidden test split")
    outcome = jobs.run_job(
        job,
        "grader.eval_worker",
        request,
        wall_seconds=jobs.STARTUP_SECONDS + 60 * len(trained),
        memory_gb=8,
    )
    try:
        evaluated = read_child_json(job.outputs / "eval.json", max_bytes=16 * 2**20)
    except ChildOutputError as exc:
        evaluated = {
            t: {
                "status": "error",
                "error_kind": "evaluation_failed",
                "error": f"Evaluation failed ({exc}): {jobs.log_tail(outcome, 5)}",
            }
            for t in trained
        }
    for task_id, record in trained.items():
        record.update(_merge_evaluation(evaluated.get(task_id), record))


def _merge_evaluation(evaluated: Any, record: dict) -> dict[str, Any]:
    if not isinstance(evaluated, dict) or evaluated.get("status") != "ok":
        evaluated = evaluated if isinstance(evaluated, dict) else {}
        return {
            "status": "error",
            "error_kind": evaluated.get("error_kind", "evaluation_failed"),
            "error": evaluated.get("error", "The model could not be evaluated."),
        }
    keys = (
        "metrics",
        "params",
        "trainable_params",
        "non_trainable_params",
        "layers",
        "confusion_matrix",
        "samples",
        "base_reuse",
    )
    return {k: evaluated.get(k, record.get(k)) for k in keys}


def _finite(value: Any) -> Any:
    """JSON has no NaN: store a missing measurement as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _load_result(path: Path) -> dict[str, Any]:
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def default_data_dir(cli_value: str | None) -> Path | None:
    """`--data`, else GRADER_DATA_DIR, else None (Keras downloader). Read once, at the edge."""
    value = cli_value or os.environ.get("GRADER_DATA_DIR")
    return Path(value) if value else None
