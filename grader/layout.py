"""Every path under the output folder: the one place that joins them.

```
OUT/cache/splits/<key>/<split>/*.npy      split arrays (hidden test labels: never a child's)
OUT/cache/base/<spec>-<key>-<numerics>/    the trained base model (base.keras)
OUT/cache/reference/<key>/result.json     the graded reference solution (see `reference_key`)
OUT/<assignment>/results/<student>.json   graded results
OUT/<assignment>/reference/result.json    the reference solution's, for the class summary only
OUT/<assignment>/partial/<mode>/<student> per-task checkpoints of an unfinished submission
OUT/<assignment>/reports/<student>.pdf    reports; summary.csv, summary.pdf, index.html
OUT/<assignment>/{results,reports}/removed/  those of submission folders no longer there
OUT/<assignment>/.grader.lock             held by the grader writing there (one at a time)
OUT/<assignment>/check/...                the same for student self-checks
```
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

GRADE, CHECK = "grade", "check"  # instructor grading | student self-check


@dataclass(frozen=True)
class Layout:
    """Where one assignment's files go under `root` (the `--out` folder), for one mode."""

    root: Path
    assignment_id: str
    mode: str = GRADE

    @classmethod
    def for_output(cls, root: Path, assignment_id: str, mode: str = GRADE) -> Layout:
        return cls(Path(root).resolve(), assignment_id, mode)

    @property
    def assignment(self) -> Path:
        return self.root / self.assignment_id

    @property
    def out(self) -> Path:
        """This mode's folder: results, reports and summaries."""
        return self.assignment / CHECK if self.mode == CHECK else self.assignment

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def splits(self) -> Path:
        return self.cache / "splits"

    @property
    def base_models(self) -> Path:
        return self.cache / "base"

    @property
    def results(self) -> Path:
        return self.out / "results"

    @property
    def reports(self) -> Path:
        return self.out / "reports"

    @property
    def summary_csv(self) -> Path:
        return self.out / "summary.csv"

    @property
    def summary_pdf(self) -> Path:
        return self.out / "summary.pdf"

    @property
    def index_html(self) -> Path:
        return self.out / "index.html"

    def render_stamp(self, student: str) -> Path:
        """What a student's reports were rendered from (`grader.report.batch`)."""
        return self.out / ".rendered" / f"{student}.key"

    @property
    def lock_file(self) -> Path:
        """Held (flock) by the grader writing into this mode's folder (`grader.outlock`)."""
        return self.out / ".grader.lock"

    @property
    def removed_results(self) -> Path:
        """Results of submission folders no longer there: kept, but in no summary."""
        return self.results / "removed"

    @property
    def removed_reports(self) -> Path:
        """Their reports, likewise."""
        return self.reports / "removed"

    def result(self, student: str) -> Path:
        return self.results / f"{student}.json"

    def report(self, student: str, fmt: str) -> Path:
        return self.reports / f"{student}.{fmt}"

    def partial(self, student: str) -> Path:
        return self.assignment / "partial" / self.mode / student

    def base_model(self, key: str, split_key: str, numerics_key: str) -> Path:
        """The cached base model of a key (its spec and the grader's code), a split and the
        children's numeric settings."""
        return self.base_models / f"{key}-{split_key}-{numerics_key}"

    def reference(self, key: str) -> Path:
        """The cached grading of the reference solution, by its key (content, spec, split,
        numeric settings, grader code, mode)."""
        return self.cache / "reference" / key

    @property
    def reference_result(self) -> Path:
        """The reference solution's result of the last grading: read by the class summary,
        never in `results/` (students' folder) nor in a student's report."""
        return self.assignment / "reference" / "result.json"

    def split_arrays(self, split_key: str) -> Path:
        return self.splits / split_key

    def make_private(self) -> None:
        """Create the folders that hold hidden labels and results: no child uid may read them."""
        for folder in (self.cache, self.results, self.assignment / "partial"):
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o700)

    def with_mode(self, mode: str) -> Layout:
        return Layout(self.root, self.assignment_id, mode)
