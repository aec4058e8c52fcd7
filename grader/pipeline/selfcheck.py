"""Student self-check: the grader's own steps, run on the student's side before the deadline."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from grader import checks, thresholds
from grader.checkreport import StepTimes
from grader.data import CIFAR10_SHAPE
from grader.errors import GradingError, Step
from grader.layout import CHECK
from grader.messages import Message, render
from grader.pipeline import folders, timelimit
from grader.pipeline.kitrun import open_kit
from grader.pipeline.quick import QuickFacts, TaskCheck, check_task
from grader.pipeline.run import Progress, Run, RunConfig, open_run
from grader.pipeline.submission import grade_submission
from grader.pipeline.submissions import (
    NOTEBOOK_FILE,
    SUBMISSION_FILE,
    TOML_MAX_BYTES,
    NotAFile,
    Staged,
    read_small,
    stage,
)
from grader.records import Result
from grader.report.dropped import DroppedGroup, group_dropped
from grader.spec import Task

OK, PROBLEM, WARNING, NOT_REACHED = "OK", "problem", "warning", "not reached"
HINTS = {"ok": OK, "problem": PROBLEM, "warning": WARNING}  # a check kind's verdict -> status
# The worker's steps, in the order it takes them: a failure's `ErrorKind.step` is its row.
# The quick check does not score: a failure while scoring gets a row of its own.
STEPS = tuple(step for step in Step if step is not Step.SCORES)
LANGUAGE = "en"  # the console table is in English


@dataclass(frozen=True)
class Row:
    """One line of the self-check table."""

    task: str
    check: str
    status: str  # OK | problem | warning | not reached
    detail: str = ""


def say(message_id: str, **params: object) -> str:
    """A catalog text in the table's language."""
    return render(Message(message_id, params), LANGUAGE)


def check_submission(
    submission: Path,
    *,
    assignment_dir: Path | None = None,
    out_dir: Path,
    data_dir: Path | None = None,
    full: bool = False,
    isolation: str | None = None,
    memory_cap: str | None = None,
    progress: Progress | None = None,
    kit: Path | None = None,
) -> tuple[list[Row], Result | None]:
    """Run the quick self-check (or, with `full`, a whole grading on the validation split),
    from the assignment folder in the grading sandbox, or from a student `kit` alone,
    unsandboxed (`grader.pipeline.kitrun`).

    Returns:
        The table rows, and for `full` the stored result (its "test" figures are validation
        figures: the hidden test split is the instructor's).
    """
    with tempfile.TemporaryDirectory(prefix="grader-check-") as tmp:
        folder = submission_folder(Path(submission), Path(tmp))
        if kit is not None and (isolation or memory_cap):
            raise GradingError(
                "--isolation and --memory-cap choose how the instructor's grading is "
                "sandboxed; a check with --kit runs unsandboxed: leave them out."
            )
        if kit is not None:
            opened = open_kit(kit, out_dir, progress, writes_results=full)
        elif assignment_dir is not None:
            config = RunConfig(
                assignment_dir, out_dir, data_dir, isolation, memory_cap, CHECK, progress
            )
            opened = open_run(config)
        else:
            raise GradingError("Pass the assignment folder or a student kit to check against.")
        with opened as run:
            relative = reference_rows(run)
            if full:
                run = replace(run, assignment=thresholds.without_relative(run.assignment))
                result = grade_submission(run, folder, slot=0, force=True)
                more = other_problems(run, folder, result)
                return rows_from_result(result) + more + relative, result
            return quick_rows(run, folder) + relative, None


def submission_folder(path: Path, tmp: Path) -> Path:
    """A folder holding the submission, whether given a folder, a .py or a .ipynb file."""
    if path.is_dir():
        return path  # staged like any submission folder: links in it are not followed
    names = {".py": SUBMISSION_FILE, ".ipynb": NOTEBOOK_FILE}
    if path.is_symlink() or not path.is_file() or path.suffix not in names:
        raise GradingError(
            f"{path} is not a submission: pass a folder, a submission.py or a submission.ipynb"
            " (the file itself, not a link to it)."
        )
    name = path.resolve().parent.name
    folder = tmp / (name if folders.usable(name) else "student")
    folder.mkdir()
    shutil.copyfile(path, folder / names[path.suffix])
    with contextlib.suppress(NotAFile, OSError):  # its name only: read as in grading
        toml = read_small(path.parent, "student.toml", TOML_MAX_BYTES)
        if toml is not None and len(toml) <= TOML_MAX_BYTES:
            (folder / "student.toml").write_bytes(toml)
    return folder


def quick_rows(run: Run, folder: Path) -> list[Row]:
    """Build each task's model and train a few steps, in the sandbox grading uses."""
    staged, found = quick_checks(run, folder, list(run.assignment.tasks.values()))
    rows = [_dropped_row(group) for group in group_dropped(staged.notebook_dropped)]
    allow, shape = run.assignment.allow_custom_objects, run.assignment.data.input_shape
    return rows + [
        row for task, check in found for row in task_rows(task, check, allow, shape=shape)
    ]


def quick_checks(
    run: Run, folder: Path, tasks: list[Task]
) -> tuple[Staged, list[tuple[Task, TaskCheck]]]:
    """The submission staged once, and each task's quick check."""
    work = Path(tempfile.mkdtemp(prefix="check-", dir=run.work))
    work.chmod(0o711)
    staged = stage(folder, work / "submission")
    found = []
    for task in tasks:
        run.progress(staged.student, task.id, "checking")
        found.append((task, check_task(run, staged, task, work, 0)))
    return staged, found


def other_problems(run: Run, folder: Path, result: Result) -> list[Row]:
    """A full check's failed tasks stopped at their first problem: the quick check's rows
    for every other one, so a single run names them all."""
    failed = [task for task in run.assignment.tasks.values() if not result.tasks[task.id].ok]
    found = quick_checks(run, folder, failed)[1] if failed else []
    return [
        row
        for task, check in found
        for row in step_rows(task.id, check, run.assignment.data.input_shape)
        if row.status == PROBLEM and row.detail != result.tasks[task.id].error
    ]


def task_rows(
    task: Task,
    found: TaskCheck,
    allow_custom: bool = False,
    *,
    shape: tuple[int, ...] = CIFAR10_SHAPE,
) -> list[Row]:
    """Rows for one task: every step with each of its problems and their fixes (a step that
    could not run says what it waits on), then what the graded checks can already tell
    about the model built."""
    rows = step_rows(task.id, found, shape)
    facts = found.facts
    if facts is not None:
        if facts.loss:
            rows.append(_loss_row(task.id, facts))
        rows += hint_rows(task, facts)
        if facts.custom_layers:
            rows.append(_custom_row(task.id, facts.custom_layers, allow_custom))
    if found.times is not None:
        rows.append(_time_row(task, found.times, found.images))
    return rows


def _time_row(task: Task, times: StepTimes, images: tuple[int, int]) -> Row:
    """The whole training's CPU time, estimated from the short epoch, against the budget."""
    status, detail = timelimit.estimate_verdict(times, task.limits, *images)
    return Row(task.id, say("limits.selfcheck"), HINTS[status], render(detail, LANGUAGE))


def step_rows(task_id: str, found: TaskCheck, shape: tuple[int, ...]) -> list[Row]:
    """One row per worker step (one per problem where it has several): OK, problem, or not
    reached with the steps it waits on; then any problem no step names (the grader's own)."""
    rows = []
    for step in STEPS:
        name = step_name(step, shape)
        if found.at(step):
            rows += [Row(task_id, name, PROBLEM, _said(p.message)) for p in found.at(step)]
        elif step in found.skipped:
            needs = ", ".join(f"'{step_name(n, shape)}'" for n in found.skipped[step])
            detail = say("selfcheck.needs", steps=needs) if needs else ""
            rows.append(Row(task_id, name, NOT_REACHED, detail))
        elif step in found.checked:
            rows.append(Row(task_id, name, OK))
        else:
            rows.append(Row(task_id, name, NOT_REACHED, say("selfcheck.stopped")))
    name = step_name(Step.SCORES, shape)
    return rows + [Row(task_id, name, PROBLEM, _said(p.message)) for p in found.at(Step.SCORES)]


def step_name(step: Step, shape: tuple[int, ...]) -> str:
    """A step's row name in the table (`shape`: the input shape models are handed)."""
    return say(f"step.{step.value}", shape=str(shape))


def _said(message: Message) -> str:
    return render(message, LANGUAGE)


def hint_rows(task: Task, facts: QuickFacts) -> list[Row]:
    """What each graded check's kind can say before grading (see `grader.checks`)."""
    rows = []
    for check in task.checks:
        hint = checks.kind_of(check).hint(facts)
        if hint is not None:
            name, detail = render(hint.name, LANGUAGE), render(hint.detail, LANGUAGE)
            rows.append(Row(task.id, name, HINTS[hint.status], detail))
    return rows


def reference_rows(run: Run) -> list[Row]:
    """A row per check relative to the instructor's reference solution: only the instructor
    grades it (the self-check never has the reference), so it is left out here."""
    return [
        Row(
            task.id,
            say("reference.selfcheck_name", kind=check.kind),
            WARNING,
            say("reference.selfcheck"),
        )
        for task in run.assignment.tasks.values()
        for check in task.checks
        if check.relative
    ]


def _custom_row(task_id: str, custom: tuple[str, ...], allowed: bool) -> Row:
    uses = ", ".join(custom)
    if allowed:
        return Row(task_id, say("selfcheck.custom"), WARNING,
                   say("selfcheck.custom_allowed", layers=uses))  # fmt: skip
    return Row(task_id, say("selfcheck.custom"), PROBLEM,
               say("selfcheck.custom_refused", layers=uses))  # fmt: skip


def _loss_row(task_id: str, facts: QuickFacts) -> Row:
    activation, loss = facts.activation, (facts.loss or "").lower()
    name = say("selfcheck.loss")
    if activation == "sigmoid" and "categorical" in loss:
        return Row(task_id, name, PROBLEM, say("selfcheck.loss_sigmoid_categorical"))
    if activation == "softmax" and "binary" in loss:
        return Row(task_id, name, PROBLEM, say("selfcheck.loss_softmax_binary"))
    if activation not in ("softmax", "sigmoid"):
        return Row(task_id, name, WARNING, say("selfcheck.loss_activation", activation=activation))
    return Row(task_id, name, OK, say("selfcheck.loss_ok", activation=activation, loss=facts.loss))


def rows_from_result(result: Result) -> list[Row]:
    """The full self-check's table: every graded check, passed or not."""
    rows = [
        Row(task_id, say("selfcheck.trains_and_evaluates"), PROBLEM, task.error or "")
        for task_id, task in result.tasks.items()
        if not task.ok
    ]
    for check in result.checks:
        if not check.counted:  # below the learning floor: its first note says why
            rows.append(Row(check.task, check.required, PROBLEM, (*check.notes, check.message)[0]))
            continue
        rows.append(Row(check.task, check.required, OK if check.passed else PROBLEM, check.message))
    return rows


def _dropped_row(group: DroppedGroup) -> Row:
    """One row per reason notebook lines were left out (the result file lists every line)."""
    where = render(group.where, LANGUAGE)
    detail = say("selfcheck.dropped_group", where=where, code=group.code,
                 reason=group.reason_english)  # fmt: skip
    return Row("-", say("selfcheck.dropped"), WARNING, detail)
