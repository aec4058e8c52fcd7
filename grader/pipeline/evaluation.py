"""Scoring trained models in a child that runs no student code.

Models with custom layers or Lambda layers cannot be loaded that way. When the assignment
sets `allow_custom_objects = true`, they are loaded in the student's own sandbox instead,
which receives images but no labels and hands back predictions; the grader scores those,
and the task's `evaluated_in` says that student code ran during scoring.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from grader import codec, protocol
from grader.errors import ChildOutputError, ErrorKind, Fault
from grader.layout import CHECK
from grader.messages import Message
from grader.pipeline.sandboxscoring import (
    Evaluated,
    checked_safe,
    scored_by_grader,
    split_parts,
    unusable,
)
from grader.pipeline.submissions import SUBMISSION_FILE, Staged, copy_tree
from grader.pipeline.training import Failure
from grader.protocol import EvalResult
from grader.records import TaskRecord
from grader.redact import redact_paths
from grader.sandbox import Outcome, jobs
from grader.sandbox.childio import read_child_json
from grader.worker.evaluate import task_file

if TYPE_CHECKING:  # the run imports this module: a real import would be a cycle
    from grader.pipeline.run import Run

EVALUATE = "grader.worker.evaluate"
TASK_SECONDS = 60
EVAL_MEMORY_GB = 8  # of the scoring child that runs no student code
SAFE_MODE, STUDENT_SANDBOX = "safe_mode", "student_sandbox"  # where a task was scored
REPORT_MAX_BYTES = 16 * 2**20


def evaluate_tasks(
    run: Run,
    tasks: dict[str, TaskRecord],
    staged: Staged,
    work: Path,
    slot: int,
    started: jobs.StartedJob | None = None,
) -> dict[str, TaskRecord]:
    """Score every trained model of one submission; the records, scored or failed.

    One child without student code scores them all; with `allow_custom_objects`, models
    it refuses for their custom classes go to a second child, in the student's sandbox.
    Either way, a task that child could not settle (it died, or failed for the grader's
    reasons) is scored again in a child of its own, so it fails alone. In a self-check the
    validation split stands in for the hidden test split, which the student's side never
    receives. `started`: the scoring child, warm (`start_scoring`); else one is started here.
    """
    trained = [t for t, record in tasks.items() if record.ok]
    if not trained:
        return dict(tasks)
    what = "validation split (self-check)" if run.mode == CHECK else "hidden test split"
    run.progress(staged.student, "evaluation", f"scoring on the {what}")
    evaluated = _evaluate(run, trained, work, slot, staged, sandboxed=False, started=started)
    lane = started.job.lane if started is not None else 0  # the other lane may hold a warm child
    refused = [t for t in trained if _refused_as_custom(evaluated.get(t))]
    sandboxed = refused if run.assignment.allow_custom_objects else []
    if sandboxed:
        run.progress(staged.student, "evaluation", "custom layers: scoring in your sandbox")
        evaluated.update(_evaluate(run, sandboxed, work, slot, staged, sandboxed=True, lane=lane))
    return {
        t: _merged(r, evaluated.get(t), STUDENT_SANDBOX if t in sandboxed else SAFE_MODE)
        if t in trained
        else r
        for t, r in tasks.items()
    }


def _refused_as_custom(evaluated: Evaluated | None) -> bool:
    return isinstance(evaluated, tuple) and evaluated[0] is ErrorKind.CUSTOM_OBJECTS


def _evaluate(
    run: Run,
    task_ids: list[str],
    work: Path,
    slot: int,
    staged: Staged,
    *,
    sandboxed: bool,
    started: jobs.StartedJob | None = None,
    lane: int = 0,
) -> dict[str, Evaluated]:
    """Score `task_ids` in one child; each task it left unsettled again in a child of its own.

    The shared child is the fast path (one TensorFlow start-up). When it dies (a crash, out
    of memory, out of time) the tasks it finished are kept, and the others are scored one
    per child: a healthy model keeps its score, and the one that fails gets its own error
    and its own child's log.
    """
    own = staged if sandboxed else None
    evaluated, unsettled, ending = _run_evaluation(run, task_ids, work, slot, own, started, lane)
    lane = started.job.lane if started is not None else lane
    if len(task_ids) > 1:
        for task_id in unsettled:
            run.progress(staged.student, task_id, f"scoring again alone (the shared {ending})")
            evaluated.update(_run_evaluation(run, [task_id], work, slot, own, lane=lane)[0])
    return evaluated


def start_scoring(run: Run, work: Path, slot: int, lane: int = 0) -> jobs.StartedJob:
    """A submission's safe-mode scoring child, started (warm) before its request."""
    job = jobs.new_job(work, "eval", run.sandbox, slot, lane)
    wall = _wall_seconds(run, list(run.assignment.tasks))
    return jobs.start_job(job, EVALUATE, wall_seconds=wall, memory_gb=EVAL_MEMORY_GB)


def _wall_seconds(run: Run, task_ids: list[str]) -> float:
    limits = [run.assignment.tasks[t].limits for t in task_ids]
    return max(lim.startup_seconds for lim in limits) + TASK_SECONDS * len(task_ids)


def _run_evaluation(
    run: Run,
    task_ids: list[str],
    work: Path,
    slot: int,
    staged: Staged | None,
    started: jobs.StartedJob | None = None,
    lane: int = 0,
) -> tuple[dict[str, Evaluated], list[str], str]:
    """One evaluation child for `task_ids`: safe mode, or in the student's sandbox (`staged`);
    `started`: the safe-mode child, warm.

    Returns what it found per task, the tasks it did not settle, and how the child ended.
    """
    job = started.job if started else jobs.new_job(work, "eval", run.sandbox, slot, lane)
    submission = None
    if staged is not None:
        copy_tree(staged.folder, job.inputs / "submission")
        submission = job.inside(job.inputs / "submission" / SUBMISSION_FILE)
    labelled = staged is None
    request = protocol.EvalRequest(
        seed=run.assignment.seed,
        out=job.inside(job.outputs),
        tasks={t: _stage_task(run, job, t, work / t, labelled) for t in task_ids},
        submission=submission,
    )
    wall = _wall_seconds(run, task_ids)
    if started is not None:
        jobs.give_request(started, codec.to_json(request), wall)
        outcome = jobs.finish_job(started)
    else:
        memory = max(run.assignment.tasks[t].limits.memory_gb for t in task_ids)
        outcome = jobs.run_job(job, EVALUATE, codec.to_json(request), wall_seconds=wall,
                               memory_gb=EVAL_MEMORY_GB if labelled else memory)  # fmt: skip
    return _read_evaluation(run, job, outcome, task_ids, labelled)


def _read_evaluation(
    run: Run, job: jobs.Job, outcome: Outcome, task_ids: list[str], labelled: bool
) -> tuple[dict[str, Evaluated], list[str], str]:
    """The evaluation child's results per task (on the student's side, scored here), the
    tasks it left unsettled, and how it ended (for a progress line).

    Without the whole report (the child died), each task's own result file stands for the
    tasks it finished. A task is unsettled without a result of its own, or when it failed
    for the grader's or the machine's reasons: alone, it may fare otherwise.
    """
    try:
        raw = read_child_json(job.outputs / "eval.json", max_bytes=REPORT_MAX_BYTES)
        results = codec.from_json(protocol.EvalReport, raw).tasks
        ending, whole, detail = "scoring child reported a failure", True, ""
    except (ChildOutputError, codec.DecodeError) as exc:
        results = {t: r for t in task_ids if (r := _task_result(job, t)) is not None}
        ending, whole, detail = f"scoring child {_ending(outcome)}", False, str(exc)
    evaluated, unsettled = {}, []
    for task_id in task_ids:
        result = results.get(task_id)
        if result is None and not whole:
            found: Evaluated = _failed_child(run, task_id, outcome, detail, labelled)
        elif labelled:
            found = checked_safe(result)
        else:
            found = scored_by_grader(run, job, task_id, result)
        if result is None or (isinstance(found, tuple) and found[0].fault is not Fault.STUDENT):
            unsettled.append(task_id)
        evaluated[task_id] = found
    return evaluated, unsettled, ending


def _task_result(job: jobs.Job, task_id: str) -> EvalResult | None:
    """One task's result, written by the child as soon as that task was scored."""
    try:
        raw = read_child_json(job.outputs / task_file(task_id), max_bytes=REPORT_MAX_BYTES)
        return codec.from_json(EvalResult, raw)
    except (ChildOutputError, codec.DecodeError):
        return None


def _ending(outcome: Outcome) -> str:
    """How a child that left no report ended, for a progress line."""
    if outcome.out_of_memory:
        return "ran out of memory"
    if outcome.timed_out:
        return f"ran out of time ({outcome.seconds:.0f} s)"
    return f"ended with exit status {outcome.returncode}"


def _failed_child(run: Run, task_id: str, outcome: Outcome, detail: str, labelled: bool) -> Failure:
    """A task its evaluation child left no result for: the machine's fault, or the
    student's when the child ran in their sandbox. The message says how the child ended."""
    if not labelled:
        return unusable(detail)
    log = redact_paths(jobs.log_tail(outcome, 5))
    about = {"function": run.assignment.tasks[task_id].function, "log": log}
    failed = ErrorKind.EVALUATION_FAILED
    if outcome.out_of_memory:
        return failed, Message("evaluation_failed.memory", {**about, "memory_gb": EVAL_MEMORY_GB})
    if outcome.timed_out:
        return failed, Message(
            "evaluation_failed.timeout", {**about, "seconds": round(outcome.seconds)}
        )
    if outcome.returncode != 0:
        return failed, Message("evaluation_failed.crash", {**about, "code": outcome.returncode})
    return failed, Message("evaluation_failed", {"error": detail[:2000], "log": log})


def _stage_task(
    run: Run, job: jobs.Job, task_id: str, trained: Path, labelled: bool
) -> protocol.EvalTask:
    """Link one task's model and arrays into the job; without labels for the student side."""
    task = run.assignment.tasks[task_id]
    split = run.splits_dir / task.split
    kinds = ("x", "y") if labelled else ("x",)
    files = {
        f"{task_id}/{kind}_{name}.npy": split / f"{kind}_{part}.npy"
        for name, part in split_parts(run).items()
        for kind in kinds
    }
    files[f"{task_id}/model.keras"] = trained / "model.keras"
    base = run.base if task.uses_base else None
    if base is not None:
        files[f"{task_id}/built.keras"] = trained / "built.keras"
        files[f"{task_id}/base.keras"] = base.path
    jobs.link_inputs(job, files)
    folder = job.inputs / task_id
    return protocol.EvalTask(
        function=task.function,
        num_classes=len(run.assignment.splits[task.split].classes),
        data=job.inside(folder),
        model=job.inside(folder / "model.keras"),
        built_model=job.inside(folder / "built.keras") if base else None,
        base_model=job.inside(folder / "base.keras") if base else None,
        pixel_divisor=run.assignment.data.pixel_divisor,
    )


def _merged(record: TaskRecord, evaluated: Evaluated | None, where: str) -> TaskRecord:
    """A trained task's record with its scores, or failed as scoring reported."""
    if evaluated is None:
        evaluated = ErrorKind.EVALUATION_FAILED, Message("evaluation_failed.missing")
    if isinstance(evaluated, tuple):
        return replace(record.failed(*evaluated), evaluated_in=where)
    facts, scores = evaluated.facts, evaluated.scores
    assert facts is not None and scores is not None  # checked when read
    return replace(
        record,
        metrics=scores.metrics,
        params=facts.params,
        trainable_params=facts.trainable_params,
        non_trainable_params=facts.non_trainable_params,
        layers=facts.layers,
        confusion_matrix=scores.confusion_matrix,
        samples=scores.samples,
        test_correct=scores.test_correct or None,
        base_reuse=facts.base_reuse,
        evaluated_in=where,
    )
