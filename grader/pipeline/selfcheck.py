"""Student self-check: the grader's own steps, run on the student's side before the deadline."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.pipeline.context import CHECK, Context, GradingError
from grader.pipeline.grading import grade_submission, prepare
from grader.pipeline.submissions import NOTEBOOK_FILE, SUBMISSION_FILE, stage
from grader.pipeline.training import train_task
from grader.spec import Task

OK, PROBLEM, WARNING, NOT_REACHED = "OK", "problem", "warning", "not reached"
# The worker's steps in the order it takes them, with the error kinds each one reports.
STEPS = (
    ("imports and defines the function", {"missing_file", "bad_notebook", "bad_submission",
                                          "syntax_error", "import_error", "missing_function",
                                          "bad_signature"}),
    ("TRAINING settings within the limits", {"training_config"}),
    ("returns a Keras model", {"build_error", "not_a_model"}),
    ("input shape (32, 32, 3)", {"wrong_input_shape"}),
    ("one output unit per class", {"wrong_output_shape"}),
    ("parameters within the hard limit", {"too_many_params"}),
    ("the model can be saved", {"save_error"}),
    ("a loss the grader can feed labels to", {"unsupported_loss"}),
    ("trains a few steps (no NaN, no shape error)", {"nan_loss", "training_error", "crash",
                                                     "timeout", "disk_limit", "bad_output"}),
)  # fmt: skip


@dataclass(frozen=True)
class Row:
    """One line of the self-check table."""

    task: str
    check: str
    status: str  # OK | problem | warning | not reached
    detail: str = ""


def check_submission(
    submission: Path,
    *,
    assignment_dir: Path,
    out_dir: Path,
    data_dir: Path | None,
    full: bool = False,
    isolation: str | None = None,
    memory_cap: str | None = None,
    progress: Any = None,
) -> tuple[list[Row], dict[str, Any] | None]:
    """Run the quick self-check (or, with `full`, a whole grading on the validation split).

    Returns:
        The table rows, and for `full` the stored result (its "test" figures are validation
        figures: the hidden test split is the instructor's).
    """
    with tempfile.TemporaryDirectory(prefix="grader-check-") as tmp:
        folder = submission_folder(Path(submission), Path(tmp))
        ctx = prepare(
            assignment_dir, out_dir, data_dir, isolation, progress, CHECK, memory_cap=memory_cap
        )
        try:
            if full:
                result = grade_submission(ctx, folder, slot=0, force=True)
                return rows_from_result(result), result
            return quick_rows(ctx, folder), None
        finally:
            shutil.rmtree(ctx.work, ignore_errors=True)


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


def quick_rows(ctx: Context, folder: Path) -> list[Row]:
    """Build each task's model and train a few steps, in the sandbox grading uses."""
    work = Path(tempfile.mkdtemp(prefix="check-", dir=ctx.work))
    work.chmod(0o711)
    staged = stage(folder, work / "submission")
    rows = [
        Row("-", "notebook: dropped line", WARNING, _dropped(d)) for d in staged.notebook_dropped
    ]
    for task in ctx.assignment.tasks.values():
        ctx.progress(folder.name, task.id, "checking")
        record = train_task(ctx, staged, task, work, slot=0, quick=True)
        rows += task_rows(task, record, ctx.assignment.allow_custom_objects)
    return rows


def task_rows(task: Task, record: dict[str, Any], allow_custom: bool = False) -> list[Row]:
    """Rows for one task: steps passed, the step that failed with its fix, steps not reached."""
    rows, failed = [], False
    for text, kinds in STEPS:
        if failed:
            rows.append(Row(task.id, text, NOT_REACHED))
        elif record["status"] != "ok" and record["error_kind"] in kinds:
            rows.append(Row(task.id, text, PROBLEM, record["error"] or ""))
            failed = True
        else:
            rows.append(Row(task.id, text, OK))
    if record["status"] != "ok" and not failed:  # a failure no step names
        rows.append(Row(task.id, "grades without error", PROBLEM, record["error"] or ""))
    if record["status"] == "ok":
        rows += _extra_rows(task, record)
        if record.get("custom_layers"):
            rows.append(_custom_row(task, record["custom_layers"], allow_custom))
    return rows


def _custom_row(task: Task, custom: list[str], allowed: bool) -> Row:
    text, uses = "standard Keras layers only", f"uses {', '.join(custom)}"
    if allowed:
        return Row(task.id, text, WARNING, f"{uses}: allowed here, but scored in your sandbox "
                   "and flagged as such to the instructor")  # fmt: skip
    return Row(task.id, text, PROBLEM, f"{uses}: grading refuses custom and Lambda layers "
               "(loading them would run your code); build the model from keras.layers")  # fmt: skip


def _extra_rows(task: Task, record: dict[str, Any]) -> list[Row]:
    rows = [_loss_row(task, record)]
    for check in task.checks:
        if check.kind == "reuses_base":
            reuse = record.get("base_reuse") or {}
            held = reuse.get("reused_layers", 0)
            ok = held >= check.threshold
            detail = (f"holds {held} of the base's {reuse.get('base_layers', '?')} pre-trained "
                      "layers") + ("" if ok else ": build on base_model.layers (e.g. "
                                   "base_model.layers[:-1]) instead of new layers")  # fmt: skip
            rows.append(Row(task.id, "reuses the pre-trained base", OK if ok else PROBLEM, detail))
        if check.kind == "max_params" and record["params"] > check.threshold:
            rows.append(Row(task.id, "parameters within the graded maximum", WARNING,
                            f"{record['params']:,} > {check.threshold:,.0f}: this check "
                            "will score 0"))  # fmt: skip
    return rows


def _loss_row(task: Task, record: dict[str, Any]) -> Row:
    activation, loss = record.get("activation", "linear"), (record.get("loss") or "").lower()
    text = "loss matches the output activation"
    if activation == "sigmoid" and "categorical" in loss:
        fix = ("sigmoid output with a categorical loss: end the model with "
               "Dense(n, activation='softmax')")  # fmt: skip
        return Row(task.id, text, PROBLEM, fix)
    if activation == "softmax" and "binary" in loss:
        fix = ("softmax output with binary_crossentropy: use categorical_crossentropy "
               "(one-hot labels) or sparse_categorical_crossentropy (integer labels)")  # fmt: skip
        return Row(task.id, text, PROBLEM, fix)
    if activation not in ("softmax", "sigmoid"):
        fix = (f"the last layer's activation is {activation!r}: unless the loss uses "
               "from_logits=True, end with activation='softmax'")  # fmt: skip
        return Row(task.id, text, WARNING, fix)
    return Row(task.id, text, OK, f"{activation} + {record.get('loss')}")


def rows_from_result(result: dict[str, Any]) -> list[Row]:
    """The full self-check's table: every graded check, passed or not."""
    rows = []
    for task_id, task in result["tasks"].items():
        if task["status"] != "ok":
            rows.append(Row(task_id, "trains and evaluates", PROBLEM, task["error"] or ""))
    for check in result["checks"]:
        status = OK if check["passed"] else PROBLEM
        rows.append(Row(check["task"], check["required"], status, check["message"]))
    return rows


def _dropped(d: dict) -> str:
    return f"cell {d['cell']}, line {d['line']}: {d['code']} ({d['reason']})"
