"""One grading run: what every stage shares, opened and closed as a context manager.

`open_run(RunConfig(...))` loads the spec once, prepares the cached split and base model,
grades the reference solution (cached) and resolves the thresholds relative to it, finds the
isolation level once, and owns the sandbox (its children and uid leases) and the private
scratch folder; leaving the `with` block releases all of them, whatever happened.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from grader import data, sandbox
from grader.errors import GradingError
from grader.layout import CHECK, GRADE, Layout
from grader.outlock import output_lock
from grader.pipeline.basemodel import TrainedBase, ensure_base_model
from grader.pipeline.reference import grade_reference
from grader.records import SplitCounts
from grader.sandbox import Isolation, Sandbox, jobs
from grader.spec import Assignment, load_assignment

Progress = Callable[[str, str, str], None]  # (student, task, message)
TRAIN_ARRAYS = ("x_train", "y_train", "x_val", "y_val")  # never the hidden test split


@dataclass(frozen=True)
class RunConfig:
    """What a person chose for a run, before anything is prepared."""

    assignment: Path | Assignment  # a folder holding assignment.toml, or the loaded spec
    out_dir: Path
    data_dir: Path | None = None
    isolation: str | None = None  # force a level (default: the strongest that works)
    memory_cap: str | None = None  # force a memory cap (default: the best for the machine)
    mode: str = GRADE
    progress: Progress | None = None


@dataclass(frozen=True)
class Run:
    """Everything a submission's grading needs besides the submission itself."""

    assignment: Assignment
    layout: Layout  # every path under the output folder
    splits_dir: Path  # the cached split arrays (hidden test labels included: host only)
    split_key: str
    data_fingerprint: str
    sandbox: Sandbox  # runs the children; closed with the run
    work: Path  # private temp folder holding the job folders; removed with the run
    progress: Progress
    counts: dict[str, SplitCounts]  # images per class in each split's parts
    base: TrainedBase | None = None  # the trained base model, when the assignment has one
    packing: dict[str, str] | None = None  # how many graded at once, and why (`packing`)

    @property
    def isolation(self) -> Isolation:
        return self.sandbox.isolation

    @property
    def mode(self) -> str:
        return self.layout.mode

    def train_arrays(self, split: str) -> dict[str, Path]:
        """Training and validation arrays only: the hidden test split never reaches students."""
        return {f"{n}.npy": self.splits_dir / split / f"{n}.npy" for n in TRAIN_ARRAYS}


@contextmanager
def open_run(config: RunConfig) -> Iterator[Run]:
    """Prepare a run (spec, split, isolation, base model, reference solution) and release it
    on exit. A self-check (mode `check`) never grades the reference solution: a student's
    copy of the assignment has none, and its relative checks stay unresolved.

    The output folder is locked for the run, before anything is prepared: a second grader
    into the same folder stops at once (`grader.outlock`).

    Raises:
        SpecError, DataError, GradingError: an instructor-side problem; nothing is graded.
        OutputLocked: another grader is writing into the same output folder.
    """
    assignment = config.assignment
    if not isinstance(assignment, Assignment):
        assignment = load_assignment(assignment, reference_required=config.mode != CHECK)
    layout = Layout.for_output(config.out_dir, assignment.id, config.mode)
    with output_lock(layout, config.mode), _open(replace(config, assignment=assignment)) as run:
        yield run


@contextmanager
def _open(config: RunConfig) -> Iterator[Run]:
    """`open_run` once the output folder is locked."""
    assignment = config.assignment
    if not isinstance(assignment, Assignment):
        assignment = load_assignment(assignment, reference_required=config.mode != CHECK)
    sandbox.harden_grader_process()
    layout = Layout.for_output(config.out_dir, assignment.id, config.mode)
    source = data.find_source(assignment, config.data_dir)
    layout.make_private()  # hidden labels and others' results: no child uid may read them
    progress = config.progress or (lambda *_: None)  # a damaged split cache is rebuilt: why
    splits_dir = data.prepare_splits(
        assignment, source, layout.splits, lambda why: progress("(instructor)", "data split", why)
    )
    with Sandbox(_isolation(config)) as box:
        work = jobs.make_work_root()
        try:
            run = Run(
                assignment=assignment,
                layout=layout,
                splits_dir=splits_dir,
                split_key=splits_dir.name,
                data_fingerprint=source.fingerprint,
                sandbox=box,
                work=work,
                progress=config.progress or (lambda *_: None),
                counts=data.class_counts(splits_dir, assignment),
            )
            if assignment.base_model is not None:
                run = replace(run, base=ensure_base_model(run))
            if config.mode == GRADE:
                run = _with_reference(run)
            yield run
        finally:
            jobs.remove_work_root(work)


def _with_reference(run: Run) -> Run:
    """The run with its relative thresholds resolved; without a reference solution, an
    earlier run's copy of one is removed so the class summary does not show it."""
    if run.assignment.reference is not None:
        return grade_reference(run)
    run.layout.reference_result.unlink(missing_ok=True)
    return run


def _isolation(config: RunConfig) -> Isolation:
    try:
        return sandbox.detect(config.isolation, config.memory_cap)
    except ValueError as exc:  # a forced level or cap this machine cannot give
        raise GradingError(str(exc)) from None


def default_data_dir(cli_value: str | None) -> Path | None:
    """`--data`, else GRADER_DATA_DIR, else None (Keras downloader). Read once, at the edge."""
    value = cli_value or os.environ.get("GRADER_DATA_DIR")
    return Path(value) if value else None
