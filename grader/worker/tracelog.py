"""The traceback behind a student's error, printed to the child's log.

A failed task's report ends with the last lines of its log. The error message names the
student's line; the traceback shows how it got there (their own calls, then Keras'). It is
printed from the first frame of the submission on (the grader's calls above it say nothing
to a student), with the submission's folder, Python's and the grader's paths left out, and
in a module made from a notebook each line also as `cell N, line M`.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import TextIO

from grader.redact import redact_paths
from grader.worker import linemap

MAX_CHARS = 6000  # the log keeps its last 16,000 bytes: room for lines printed after it
GRADER = str(Path(__file__).resolve().parent.parent)


def print_cause(exc: BaseException, submission: str | None, file: TextIO | None = None) -> None:
    """Print the traceback of the exception behind `exc` (a StudentError raised `from None`
    still holds it as its context), if there is one."""
    cause = exc.__cause__ or exc.__context__
    if cause is not None:
        print(student_traceback(cause, submission), file=file or sys.stderr, flush=True)


def student_traceback(cause: BaseException, submission: str | None) -> str:
    """`cause`'s traceback as a student should read it."""
    folder = str(Path(submission).parent) + "/" if submission else None
    frames = traceback.extract_tb(cause.__traceback__)
    first = next((i for i, f in enumerate(frames) if folder and f.filename.startswith(folder)), 0)
    lines = ["Traceback (most recent call last):"]
    for frame in frames[first:]:
        if frame.filename.startswith(GRADER + "/"):
            continue
        name = frame.filename.removeprefix(folder) if folder else frame.filename
        cell = linemap.cell_line(frame.filename, frame.lineno or 0)
        where = f" (cell {cell[0]}, line {cell[1]})" if cell else ""
        lines.append(f'  File "{name}", line {frame.lineno}{where}, in {frame.name}')
        if frame.line:
            lines.append(f"    {frame.line.strip()}")
    lines += [ln.rstrip() for ln in traceback.format_exception_only(type(cause), cause)]
    return redact_paths("\n".join(lines))[-MAX_CHARS:]
