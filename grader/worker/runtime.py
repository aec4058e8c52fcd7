"""What every worker does around its job: confine itself, read the request, report the end.

`run` is the workers' `main`: a `StudentError` becomes an error report for the student;
any other exception is the grader's own bug, reported as `grader_error` with its traceback
printed to the log, never as the student's crash.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from grader import codec
from grader.errors import ErrorKind, StudentError
from grader.protocol import Confinement, ErrorReport
from grader.redact import redact_paths
from grader.worker import linemap, tracelog

Request = TypeVar("Request")
WARM_POLL_SECONDS = 0.02
WARM_MAX_SECONDS = 6 * 3600


def run(
    argv: list[str],
    request_type: type[Request],
    work: Callable[[Request], Any],
    failed: Callable[[dict[str, Any], ErrorReport], Any],
    report_name: str,
) -> int:
    """Read the request named in `argv`, do the work, write the report.

    Args:
        argv: the worker's arguments: the request file's path.
        request_type: the protocol class of the request.
        work: request -> report (a protocol dataclass).
        failed: (the request's JSON, error) -> the report saying that everything failed so.
        report_name: the file the report goes to, in the request's `out` folder.
    """
    raw = json.loads(wait_for_request(Path(argv[0])).read_text(encoding="utf-8"))
    started = time.monotonic()
    try:
        request = codec.from_json(request_type, raw)
        confine(getattr(request, "landlock", None))  # before any student code is imported
        report = work(request)
    except StudentError as exc:
        tracelog.print_cause(exc, raw.get("submission"))  # the log's last lines show it
        report = failed(raw, error_report(exc))
    except Exception as exc:  # noqa: BLE001 - a grader bug: the log gets the traceback
        traceback.print_exc(file=sys.stderr)
        report = failed(raw, internal_error(exc))
    if "seconds" in {f.name for f in dataclasses.fields(report)}:
        report = dataclasses.replace(report, seconds=round(time.monotonic() - started, 2))
    out = Path(raw["out"])
    (out / report_name).write_text(json.dumps(codec.to_json(report), allow_nan=False))
    return 0


def leave(code: int) -> None:
    """End the worker now that its report is written: output flushed, then `os._exit`.

    Python's own shutdown with TensorFlow loaded (its thread pools, every module torn
    down) takes ~0.7 s, paid by every child of every student while the grader waits; the
    report is a closed file by then, and nothing else the grader reads is still open.
    """
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(Exception):  # the student may have replaced or closed them
            if stream is not None:
                stream.flush()
    os._exit(code)


def wait_for_request(path: Path) -> Path:
    """The request file; when it is not there yet, this is a warm child: TensorFlow is
    imported now (the grader's own code, before any student code and before Landlock), while
    the grader's other child of this slot runs, and the request is waited for.

    Exits (code 3) after WARM_MAX_SECONDS without one: a grader that died cannot leave it
    waiting forever."""
    if path.exists():
        return path
    import keras  # noqa: F401 - the import a warm child is for (TensorFlow's too)

    waited = time.monotonic()
    while not path.exists():
        if time.monotonic() - waited > WARM_MAX_SECONDS:
            sys.exit(3)
        time.sleep(WARM_POLL_SECONDS)
    return path


def error_report(exc: StudentError) -> ErrorReport:
    """A student's problem as it crosses to the host: kind, message id, parameters.

    A NameError on a name that only a left-out notebook line set names that line instead.
    """
    params = dict(exc.params)
    dropped = linemap.dropped_name(exc.__context__)
    if dropped is not None:
        params = {"error": params.get("error", ""), **dropped}
        return ErrorReport(exc.kind.code, "notebook.dropped_name", params)
    return ErrorReport(exc.kind.code, exc.message_id, params)


def internal_error(exc: BaseException) -> ErrorReport:
    """The grader's own bug, named by its exception only (the traceback is in the log)."""
    error = f"{type(exc).__name__}: {first_line(exc)}"
    return ErrorReport(ErrorKind.GRADER_ERROR.code, "grader_error", {"error": error})


def confine(landlock: Confinement | None) -> None:
    """At the Landlock level, restrict this process before any student code is imported."""
    if landlock is not None:
        from grader.sandbox import landlock as rules

        rules.restrict(list(landlock.read), list(landlock.write))


def claim_gpu(slot: int | None, memory_mb: int | None) -> None:
    """On a GPU machine: use only the slot's GPU (parallel children take the GPUs in turn:
    slot modulo their number) and cap its memory, so children sharing one cannot starve
    each other. Must run before anything touches a GPU, so before student code; a no-op
    without a GPU (or when the grader asked for neither).
    """
    if slot is None and not memory_mb:
        return
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return
    if slot is not None:
        gpus = [gpus[slot % len(gpus)]]
        tf.config.set_visible_devices(gpus, "GPU")
    if memory_mb:
        config = [tf.config.LogicalDeviceConfiguration(memory_limit=memory_mb)]
        for gpu in gpus:
            tf.config.set_logical_device_configuration(gpu, config)


def describe(exc: BaseException) -> str:
    """`Type: message` plus the submission line that raised it, for the student."""
    text = str(exc).strip().splitlines()
    return redact_paths(f"{type(exc).__name__}: {text[0][:300] if text else ''}{where(exc)}")


def where(exc: BaseException) -> str:
    """` (submission line N: `code`)` (in a notebook: `cell N, line M`): the student's line
    that raised `exc`, or ``."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "submission" in f.filename]
    if not frames:
        return ""
    line = frames[-1]
    return redact_paths(f" ({linemap.where(line.filename, line.lineno or 0)}: `{line.line}`)")


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type when it has none)."""
    return redact_paths(str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__)


def signature(fn: Any) -> str:
    """A function's parameters as written, e.g. `(input_shape, num_classes)`."""
    try:
        return str(inspect.signature(fn))
    except (TypeError, ValueError):
        return "(...)"
