"""Student self-check: the grader's own steps, run on the student's side before the deadline."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from grader import checks
from grader.data import IMAGE_SHAPE
from grader.errors import GradingError, Step
from grader.layout import CHECK
from grader.messages import Message, render
from grader.pipeline.run import Progress, Run, RunConfig, open_run
from grader.pipeline.submission import grade_submission
from grader.pipeline.submissions import NOTEBOOK_FILE, SUBMISSION_FILE, stage
from grader.pipeline.training import QuickFacts, check_task
from grader.records import DroppedLine, Result, TaskRecord
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
    assignment_dir: Path,
    out_dir: Path,
    data_dir: Path | None,
    full: bool = False,
    isolation: str | None = None,
    memory_cap: str | None = None,
    progress: Progress | None = None,
) -> tuple[list[Row], Result | None]:
    """Run the quick self-check (or, with `full`, a whole grading on the validation split).

    Returns:
        The table rows, and for `full` the stored result (its "test" figures are validation
        figures: the hidden test split is the instructor's).
    """
    with tempfile.TemporaryDirectory(prefix="grader-check-") as tmp:
        folder = submission_folder(Path(submission), Path(tmp))
        config = RunConfig(
            assignment_dir, out_dir, data_dir, isolation, memory_cap, CHECK, progress
        )
        with open_run(config) as run:
            if full:
                result = grade_submission(run, folder, slot=0, force=True)
                return rows_from_result(result), result
            return quick_rows(run, folder), None


def submission_folder(path: Path, tmp: Path) -> Path:
    """A folder holding the submission, whether given a folder, a .py or a .ipynb file."""
    if path.is_dir():
        return path
    names = {".py": SUBMISSION_FILE, ".ipynb": NOTEBOOK_FILE}
    if not path.is_file() or path.suffix not in names:
        raise GradingError(
            f"{path} is not a submission: pass a folder, a submission.py or a submission.ipynb."
        )
    folder = tmp / (path.resolve().parent.name or "student")
    folder.mkdir()
    shutil.copyfile(path, folder / names[path.suffix])
    if (path.parent / "student.toml").is_file():
        shutil.copyfile(path.parent / "student.toml", folder / "student.toml")
    return folder


def quick_rows(run: Run, folder: Path) -> list[Row]:
    """Build each task's model and train a few steps, in the sandbox grading uses."""
    work = Path(tempfile.mkdtemp(prefix="check-", dir=run.work))
    work.chmod(0o711)
    staged = stage(folder, work / "submission")
    rows = [_dropped_row(d) for d in staged.notebook_dropped]
    for task in run.assignment.tasks.values():
        run.progress(folder.name, task.id, "checking")
        record, facts = check_task(run, staged, task, work, 0)
        rows += task_rows(task, record, facts, run.assignment.allow_custom_objects)
    return rows


def task_rows(
    task: Task, record: TaskRecord, facts: QuickFacts | None, allow_custom: bool = False
) -> list[Row]:
    """Rows for one task: steps passed, the step that failed with its fix, steps not reached,
    then what the graded checks can already tell about the model built."""
    rows = step_rows(task.id, record)
    if record.ok and facts is not None:
        rows.append(_loss_row(task.id, facts))
        rows += hint_rows(task, facts)
        if facts.custom_layers:
            rows.append(_custom_row(task.id, facts.custom_layers, allow_custom))
    return rows


def step_rows(task_id: str, record: TaskRecord) -> list[Row]:
    """One row per worker step: OK up to the step the task failed at, then not reached."""
    failed_at = None if record.ok or record.error_kind is None else record.error_kind.step
    rows, reached = [], True
    for step in STEPS:
        name = say(f"step.{step.value}", shape=str(IMAGE_SHAPE))
        if not reached:
            rows.append(Row(task_id, name, NOT_REACHED))
        elif step is failed_at:
            rows.append(Row(task_id, name, PROBLEM, record.error or ""))
            reached = False
        else:
            rows.append(Row(task_id, name, OK))
    if not record.ok and reached:  # a failure no step names (while scoring)
        rows.append(Row(task_id, say(f"step.{Step.SCORES.value}"), PROBLEM, record.error or ""))
    return rows


def hint_rows(task: Task, facts: QuickFacts) -> list[Row]:
    """What each graded check's kind can say before grading (see `grader.checks`)."""
    rows = []
    for check in task.checks:
        hint = checks.kind_of(check).hint(facts)
        if hint is not None:
            name, detail = render(hint.name, LANGUAGE), render(hint.detail, LANGUAGE)
            rows.append(Row(task.id, name, HINTS[hint.status], detail))
    return rows


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
        rows.append(Row(check.task, check.required, OK if check.passed else PROBLEM, check.message))
    return rows


def _dropped_row(line: DroppedLine) -> Row:
    detail = say("selfcheck.dropped_detail", cell=line.cell, line=line.line, code=line.code,
                 reason=line.reason)  # fmt: skip
    return Row("-", say("selfcheck.dropped"), WARNING, detail)
