"""The command line for Gradescope: `gradescope` writes the autograder bundle
(`grader.pipeline.gradescope`), and `gradescope-run`, which the bundle's `run_autograder`
calls inside Gradescope's container, grades `ROOT/submission/` and writes
`ROOT/results/results.json` (`grader.lms.gradescope`).

A run always ends with a valid results.json: a submission without a file to grade, an
isolation the container cannot give, or a fault of the grader itself gives score 0 and the
reason, never a traceback alone. Imported by `grader.cli` at start-up: heavy modules load on
use.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grader.errors import GraderError, GradingError
from grader.safetext import clean

OK, FAILED = 0, 1
STUDENT = "submission"  # the one submission folder of a Gradescope run
CODE_SUFFIXES = (".py", ".ipynb")
MAX_HTML_OUTPUT = 1_000_000  # characters of report in results.json; beyond, a text summary


def add_parser(commands: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    """`gradescope` (with the options of every command that prepares a run) and
    `gradescope-run` (what the bundle's run_autograder calls)."""
    build = commands.add_parser("gradescope", help="write a Gradescope autograder zip")
    common(build)
    build.add_argument("--output", type=Path, default=Path("autograder.zip"))
    build.add_argument("--wheel", type=Path, help="the grader's .whl (default: built here)")
    inside = commands.add_parser(
        "gradescope-run", help="(inside Gradescope) grade ROOT/submission into ROOT/results"
    )
    inside.add_argument("--root", type=Path, default=Path("/autograder"))


def run(args: argparse.Namespace, isolation: dict[str, str], data_dir: Path | None) -> int:
    """Write the bundle (its base model trained, sandboxed, unless cached)."""
    from grader.console import ProgressDisplay
    from grader.pipeline.gradescope import build_bundle

    with ProgressDisplay() as progress:
        bundle = build_bundle(args.assignment, args.output, data_dir, progress=progress,
                              wheel=args.wheel, isolation=isolation["isolation"],
                              memory_cap=isolation["memory_cap"])  # fmt: skip
    print(f"Gradescope autograder: {clean(bundle.describe(), None)}")
    return OK


def run_in_container(args: argparse.Namespace) -> int:
    """Grade the one submission under `args.root` and write its results.json; OK when it
    was graded, FAILED when results.json holds a failure instead."""
    from grader.lms.gradescope import failure_json
    from grader.records import write_json_atomic
    from grader.spec_policy import Gradescope

    root: Path = args.root.resolve()
    started = time.monotonic()
    context: dict[str, Any] = {"policy": Gradescope(), "max_score": None}
    target = root / "results" / "results.json"
    try:
        results = _grade(root, context, started)
    except BaseException as exc:  # noqa: BLE001 - whatever happened, Gradescope gets a result
        print(traceback.format_exc(), file=sys.stderr)  # run_autograder's log: instructor only
        results = failure_json(_reason(exc), context["policy"], max_score=context["max_score"],
                               seconds=time.monotonic() - started)  # fmt: skip
        write_json_atomic(target, results)
        if not isinstance(exc, Exception):
            raise  # Ctrl-C, SIGTERM (Gradescope's timeout): stop as asked, results written
        return FAILED
    write_json_atomic(target, results)
    print(f"results: {target} (score {results['score']:g})")
    return OK


def _grade(root: Path, context: dict[str, Any], started: float) -> dict[str, Any]:
    from grader.lms.gradescope import results_json
    from grader.pipeline.grading import grade_assignment
    from grader.spec import load_assignment

    source = root / "source"
    # hidden test labels, the reference solution and the data: never readable by a child's
    # throw-away uid, whatever the zip's modes were (the grader runs as root)
    source.chmod(0o700)
    assignment = load_assignment(source / "assignment")
    context["policy"] = assignment.gradescope
    context["max_score"] = sum(c.points for t in assignment.tasks.values() for c in t.checks)
    with tempfile.TemporaryDirectory(prefix="grader-gradescope-") as tmp:
        submissions = Path(tmp) / "submissions"
        note = stage_upload(root / "submission", submissions / STUDENT, _metadata(root))
        isolation = _isolation(assignment.min_isolation)
        data = source / "data"
        (result,) = grade_assignment(
            assignment,
            submissions=submissions,
            out_dir=source / "out",
            data_dir=data if data.is_dir() else None,
            progress=lambda who, task, message: print(clean(f"{task}: {message}", None)),
            isolation=isolation["isolation"],
            memory_cap=isolation["memory_cap"],
        )
    output, fmt = _report(result, source / "out")
    if note:
        output = f"<p>{_escape(note)}</p>\n{output}" if fmt == "html" else f"{note}\n\n{output}"
    return results_json(result, assignment.gradescope, seconds=time.monotonic() - started,
                        output=output, output_format=fmt, shows_hidden=True)  # fmt: skip


def stage_upload(upload: Path, target: Path, metadata: dict[str, Any]) -> str | None:
    """Copy the student's upload into `target` as a submission folder, with a student.toml
    from Gradescope's metadata; returns a note when a file was renamed to be graded.

    Raises:
        GradingError: nothing to grade, or several files that could each be it.
    """
    chosen, note = _choose_file(upload)
    shutil.copytree(chosen.parent, target, symlinks=True)
    if note is not None:
        shutil.copy2(chosen, target / f"submission{chosen.suffix.lower()}")
    (target / "student.toml").unlink(missing_ok=True)  # the name is Gradescope's, not theirs
    (target / "student.toml").write_text(_student_toml(metadata), encoding="utf-8")
    return note


def _choose_file(upload: Path) -> tuple[Path, str | None]:
    """The file to grade: `submission.py` or `submission.ipynb` (at the top, else in one
    folder), else the one other .py or .ipynb uploaded, with a note saying so."""
    files = sorted(p for p in upload.rglob("*") if p.is_file() and not p.is_symlink()
                   and not _hidden(p.relative_to(upload)))  # fmt: skip
    named = [p for p in files if p.name in ("submission.py", "submission.ipynb")]
    if named:
        return min(named, key=lambda p: len(p.parts)), None
    code = [p for p in files if p.suffix.lower() in CODE_SUFFIXES]
    if len(code) == 1:
        kind = "submission.ipynb" if code[0].suffix.lower() == ".ipynb" else "submission.py"
        return code[0], f"Note: no {kind} was uploaded; graded {code[0].name} as {kind}."
    shown = ", ".join(p.relative_to(upload).as_posix() for p in code[:10]) or "none"
    raise GradingError(
        "Not graded: upload your code as submission.py or submission.ipynb (found "
        f"{len(files)} file(s); Python files and notebooks: {shown})."
    )


def _hidden(relative: Path) -> bool:
    """A dot file, or inside `__MACOSX/`, `__pycache__/` or a dot folder: never the code."""
    return any(part.startswith((".", "__")) for part in relative.parts)


def _metadata(root: Path) -> dict[str, Any]:
    """Gradescope's submission_metadata.json, {} when absent or unreadable (a local test)."""
    try:
        data = json.loads((root / "submission_metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _student_toml(metadata: dict[str, Any]) -> str:
    from grader.lms.student import StudentInfo, info_to_toml

    users = metadata.get("users") or [{}]
    user = users[0] if isinstance(users[0], dict) else {}
    names = [str(u.get("name", "")) for u in users if isinstance(u, dict) and u.get("name")]
    info = StudentInfo(
        name=" & ".join(names) or "Gradescope submission",  # a group: every member
        email=str(user.get("email", "")),
        lms="gradescope",
        lms_user_id=str(user.get("id", "")),
        submitted_at=str(metadata.get("created_at", "")),
        submission_id=str(metadata.get("id", "")),
    )
    return info_to_toml(info)


def _isolation(minimum: str) -> dict[str, str]:
    """The strongest isolation this container gives, never below the spec's `min_isolation`.

    Raises:
        GradingError: only a weaker level works here; says so and what the instructor does.
    """
    from grader import sandbox

    sandbox.harden_grader_process()
    try:
        level = sandbox.detect_isolation(None, minimum)
        found = sandbox.detect(level, None)
    except (GraderError, ValueError) as exc:
        raise GradingError(
            "Not graded: Gradescope's container cannot isolate student code at the level "
            f'this assignment requires (min_isolation = "{minimum}"). Cause: {exc} '
            "Instructor: set `min_isolation` in assignment.toml to a level this container "
            "offers (setup.sh's `grader doctor` output in the image build log lists them), "
            "then rebuild the bundle with `python -m grader gradescope` and upload it again."
        ) from None
    print(f"isolation: {found.describe()}")
    return {"isolation": found.level, "memory_cap": found.memory_cap}


def _report(result: Any, out_dir: Path) -> tuple[str, str]:
    """The student's HTML report as results.json's output; a text summary when it cannot
    be rendered or is too large (the report file is then only in the container)."""
    from grader.lms.gradescope import text_summary

    try:
        from grader.report import render_student_report

        (path,) = render_student_report(result, out_dir / "gradescope-reports", formats=("html",))
        html = path.read_text(encoding="utf-8")
    except Exception as exc:  # noqa: BLE001 - a report is a nicety; the grades still go
        return f"{text_summary(result)}\n\n(The HTML report could not be rendered: {exc})", "text"
    if len(html) > MAX_HTML_OUTPUT:
        return (f"{text_summary(result)}\n\n(The full report, {len(html):,} characters, is "
                "too large for Gradescope; ask your instructor for it.)"), "text"  # fmt: skip
    return html, "html"


def _reason(exc: BaseException) -> str:
    """What a student reads when nothing could be graded."""
    if isinstance(exc, GraderError):
        text = str(exc)
        return text if text.startswith("Not graded") else (
            f"Not graded: the autograder's setup has a problem ({text}). Please tell your "
            "instructor.")  # fmt: skip
    if isinstance(exc, KeyboardInterrupt):
        return "Not graded: the autograder was stopped before it finished (time limit?)."
    return (f"Not graded: the autograder failed ({type(exc).__name__}: {clean(exc)}). "
            "Please tell your instructor; the autograder log has the details.")  # fmt: skip


def _escape(text: str) -> str:
    import html

    return html.escape(text)
