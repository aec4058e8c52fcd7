"""A class's reports: every stored result rendered, in a pool of processes when asked, and
with `changed_only` a report whose result and renderer are unchanged is not rendered again.

A report is up to date when its stamp (`Layout.render_stamps`) holds the key of what made
it: the result file's bytes and the renderer's own code, templates and message texts. A
worker process reads the result file itself and renders it as `render._render_student`
does in this process; a full disk in any worker stops the batch, like one in this process.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import os
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from grader.atomic import stop_if_disk_full, write_atomic
from grader.errors import RecordError
from grader.layout import Layout
from grader.outlock import output_lock
from grader.records import Result, read_result
from grader.resources import templates_dir

FORMATS = ("pdf", "html")
RENDERER = Path(__file__).resolve().parent  # grader/report
MESSAGES = RENDERER.parent / "messages"


@dataclass
class RenderSummary:
    """What `render_all` produced, and what it could not (non-empty `errors`: exit non-zero)."""

    paths: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds_per_report: list[float] = field(default_factory=list)
    missing_messages: set[str] = field(default_factory=set)  # ids shown in English instead
    unchanged: list[str] = field(default_factory=list)  # students whose reports were kept
    jobs: int = 1  # processes that rendered


@dataclass(frozen=True)
class _Rendered:
    """One student's reports, as a worker returns them (an error as text: picklable)."""

    student: str
    paths: tuple[Path, ...] = ()
    missing: frozenset[str] = frozenset()
    seconds: float = 0.0
    error: str | None = None
    full_disk: bool = False


def render_all(
    layout: Layout | Path, *, jobs: int = 1, changed_only: bool = False
) -> RenderSummary:
    """Render every stored result of `layout.results` and the class summary.

    `jobs`: processes rendering at once (1: in this process); `changed_only`: keep reports
    whose stamp says they are up to date. A result file that cannot be read or rendered is
    listed in `errors` and skipped; the others are still rendered. (A plain folder stands for
    the layout whose `out` it is.)

    Raises:
        OutputLocked: another grader is writing into the same folder.
        OutputError: the disk is full (or read-only): no report could be written.
    """
    if not isinstance(layout, Layout):
        layout = Layout(Path(layout).parent, Path(layout).name)
    with output_lock(layout, "report"):
        return _render_all(layout, jobs, changed_only)


def auto_jobs(reports: int) -> int:
    """Processes for `reports` reports: one per core this process may use, none idle."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, reports))


def _render_all(layout: Layout, jobs: int, changed_only: bool) -> RenderSummary:
    from grader.report.render import render_class_summary

    summary = RenderSummary()
    results: list[Result] = []
    todo: list[tuple[Path, str]] = []
    for path in sorted(layout.results.glob("*.json")):
        try:
            result = read_result(path)
        except RecordError as exc:
            summary.errors.append(str(exc))  # names the file
            continue
        results.append(result)
        if changed_only and _up_to_date(layout, result.student, path):
            summary.unchanged.append(result.student)
        else:
            todo.append((path, result.student))
    summary.jobs = max(1, min(jobs, len(todo)))
    rendered = set()
    for done in _render(layout, todo, summary.jobs):
        if done.full_disk:
            full = OSError(errno.ENOSPC, done.error or "No space left on device")
            stop_if_disk_full(OSError(*full.args, str(layout.reports)))
        if done.error is not None:
            summary.errors.append(done.error)
            continue
        _stamp(layout, done.student, layout.result(done.student))
        rendered.add(done.student)
        summary.paths += done.paths
        summary.missing_messages |= done.missing
        summary.seconds_per_report.append(done.seconds)
    summary.errors.sort()  # by file name: unreadable and unrenderable ones alike
    results = [r for r in results if r.student in rendered or r.student in summary.unchanged]
    if results:
        try:
            summary.paths += render_class_summary(results, layout)
        except Exception as exc:
            stop_if_disk_full(exc)  # every later report would fail too: say so once
            summary.errors.append(f"class summary: {type(exc).__name__}: {exc}")
    return summary


def _render(layout: Layout, todo: list[tuple[Path, str]], jobs: int) -> Iterator[_Rendered]:
    """Each student's reports, in this process (`jobs` 1) or in a pool of fresh processes
    (spawned: no thread or lock of the grader's is inherited)."""
    if jobs <= 1:
        yield from (render_one(path, layout) for path, _ in todo)
        return
    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(render_one, path, layout) for path, _ in todo]
        try:
            for future in futures:
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def render_one(path: Path, layout: Layout) -> _Rendered:
    """One result file's reports (in a worker or in this process); never raises."""
    from grader.atomic import disk_full
    from grader.report import render

    started = time.monotonic()
    try:
        result = read_result(path)
        paths, missing = render._render_student(result, layout, FORMATS)
    except Exception as exc:  # one broken result must not stop the others' reports
        text = f"{path.name}: {type(exc).__name__}: {exc}"
        return _Rendered(path.stem, error=text, full_disk=disk_full(exc) is not None)
    return _Rendered(result.student, tuple(paths), frozenset(missing), time.monotonic() - started)


def render_key(result_file: Path) -> str:
    """What a student's reports are made from: the result's bytes and the renderer."""
    return hashlib.sha256(result_file.read_bytes() + renderer_hash().encode()).hexdigest()


@functools.cache
def renderer_hash() -> str:
    """The report code, templates and message texts (fonts and WeasyPrint are not in it:
    `python -m grader report` renders everything again after such a change)."""
    digest = hashlib.sha256()
    files = [*RENDERER.glob("*.py"), *MESSAGES.glob("*.py"), *templates_dir().glob("*")]
    for file in sorted(f for f in files if f.is_file()):
        digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def _up_to_date(layout: Layout, student: str, result_file: Path) -> bool:
    stamp = layout.render_stamp(student)
    if not all(layout.report(student, fmt).is_file() for fmt in FORMATS):
        return False
    try:
        return stamp.read_text(encoding="utf-8") == render_key(result_file)
    except OSError:
        return False


def _stamp(layout: Layout, student: str, result_file: Path) -> None:
    layout.render_stamp(student).parent.mkdir(parents=True, exist_ok=True)
    write_atomic(layout.render_stamp(student), render_key(result_file))
