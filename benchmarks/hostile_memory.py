"""The grader's own peak memory while grading hostile submissions (issue 12).

Target: under 500 MB for a submission holding a 2 GB file and one printing 1 GiB without
a newline. The grader runs in this process (its children are other processes, so
`ru_maxrss` of this one is the grader's alone); a batch of the honest twin alone is the
baseline. Run: `python -m benchmarks.hostile_memory [--data DIR]` (or `make bench`).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
from pathlib import Path

from grader.pipeline.grading import grade_assignment

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ROOT / "tests" / "fixtures" / "hostile"
TARGET_MB = 500


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def plant(folder: Path) -> None:
    """The two attacks beside the honest twin: a 2 GB file (sparse: no disk used, 2 GB to
    whoever reads it) and 1 GiB of output without a newline."""
    shutil.copytree(HOSTILE / "zz-honest", folder / "zz-honest")
    shutil.copytree(HOSTILE / "zz-honest", folder / "two-gigabytes")
    with open(folder / "two-gigabytes" / "weights.bin", "wb") as fh:
        fh.truncate(2 * 2**30)
    shutil.copytree(HOSTILE / "no-newline", folder / "no-newline")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        honest = Path(tmp) / "honest"
        shutil.copytree(HOSTILE / "zz-honest", honest / "zz-honest")
        grade_assignment(HOSTILE / "assignment", submissions=honest,
                         out_dir=Path(tmp) / "out", data_dir=args.data)  # fmt: skip
        baseline = peak_mb()
        hostile = Path(tmp) / "hostile"
        plant(hostile)
        results = grade_assignment(HOSTILE / "assignment", submissions=hostile,
                                   out_dir=Path(tmp) / "out", data_dir=args.data)  # fmt: skip
        peak = peak_mb()
    for result in results:
        task = result.tasks["scratch"]
        kind = task.error_kind.code if task.error_kind else ""
        print(f"  {result.student:<16} {task.status:<8} {kind}")
    print(f"grader peak RSS, honest twin alone:        {baseline:7.0f} MB")
    print(f"grader peak RSS, with the two attacks:     {peak:7.0f} MB  (target < {TARGET_MB} MB)")
    return 0 if peak < TARGET_MB else 1


if __name__ == "__main__":
    raise SystemExit(main())
