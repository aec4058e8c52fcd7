"""`make bench`: the grader's wall time for one submission against a plain training script.

Target (issue 2): grader / plain <= 1.25. Caches (split, base model) are warmed first, so
both sides pay only for importing TensorFlow, training and scoring.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from grader.layout import Layout
from grader.pipeline.basemodel import numerics_key

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = ROOT / "assignments" / "transfer-learning"


def timed(command: list[str]) -> float:
    started = time.monotonic()
    subprocess.run(command, check=True, cwd=ROOT)
    return time.monotonic() - started


def trained_base(layout: Layout, prov: dict) -> Path:
    """The cached base model the result was graded with: its folder is keyed on the spec's
    base hash and the grader's code, so it is found by the content hash the result records."""
    import hashlib

    wanted = prov["base_model"]["sha256"]
    pattern = f"*-{prov['split_key']}-{numerics_key()}/base.keras"
    for path in sorted(layout.base_models.glob(pattern)):
        if hashlib.sha256(path.read_bytes()).hexdigest() == wanted:
            return path.parent
    raise SystemExit(f"no cached base model with sha256 {wanted[:12]}… under {layout.base_models}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench")
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--student", default="alvaro-pequeno")
    args = parser.parse_args()
    data = ["--data", str(args.data)] if args.data else []
    grade = [
        sys.executable,
        "-m",
        "grader",
        "grade",
        "--assignment",
        str(ASSIGNMENT),
        "--out",
        str(args.out),
        "--only",
        args.student,
        "--no-reports",
        *data,
    ]
    print("warming caches (split arrays, base model) ...", flush=True)
    subprocess.run(grade, check=True, cwd=ROOT, capture_output=True)
    grader_seconds = timed([*grade, "--force"])
    layout = Layout.for_output(args.out, ASSIGNMENT.name)
    prov = json.loads(layout.result(args.student).read_text(encoding="utf-8"))["provenance"]
    splits = layout.split_arrays(prov["split_key"])
    base = trained_base(layout, prov)
    plain_seconds = timed(
        [
            sys.executable,
            "-m",
            "benchmarks.plain_baseline",
            str(splits),
            str(base / "base.keras"),
            str(ROOT / "submissions" / args.student / "submission.py"),
            str(ASSIGNMENT),
        ]
    )
    ratio = grader_seconds / plain_seconds
    print(f"\ngrader (isolation {prov['isolation']}): {grader_seconds:.1f} s")
    print(f"plain script:                 {plain_seconds:.1f} s")
    print(f"ratio grader/plain:           {ratio:.2f}  (target <= 1.25)")
    _bench_reports(layout)
    return 0


def _bench_reports(layout: Layout) -> None:
    from grader.records import read_result
    from grader.report import render_student_report

    results = [read_result(p) for p in sorted(layout.results.glob("*.json"))]
    started = time.monotonic()
    for result in results:
        render_student_report(result, layout)
    per_report = (time.monotonic() - started) / max(1, len(results))
    print(f"report render time per student: {per_report:.2f} s  (target < 2 s)")


if __name__ == "__main__":
    sys.exit(main())
