"""`make bench`: the grader's wall time for one submission against a plain training script.

Two submissions: a short one (10/10/5 epochs, benchmarks/submissions/short-10-10-5), where
the grader's fixed cost per student shows most, and a long one (submissions/alvaro-pequeno).
Caches (split, base model) are warmed first, so both sides pay only for importing
TensorFlow, training and scoring. The plain script runs twice: with the arithmetic the grader
pins in every child (grader/sandbox/childenv.py NUMERICS: the floor for the same numbers,
which the fixed-cost target is measured against) and with TensorFlow's defaults (what
reproducibility across machines costs on this CPU).
Targets (issue 16): grader / plain (same arithmetic) <= 1.10 on the short submission.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.layout import Layout
from grader.pipeline.basemodel import numerics_key
from grader.sandbox.childenv import NUMERICS

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = ROOT / "assignments" / "transfer-learning"
SUBMISSIONS = {
    "short-10-10-5": ROOT / "benchmarks" / "submissions" / "short-10-10-5",
    "alvaro-pequeno": ROOT / "submissions" / "alvaro-pequeno",
}


def timed(command: list[str], env: dict[str, str] | None = None) -> float:
    started = time.monotonic()
    subprocess.run(command, check=True, cwd=ROOT, env=env)
    return time.monotonic() - started


def trained_base(layout: Layout, prov: dict) -> Path:
    """The cached base model the result was graded with: its folder is keyed on the spec's
    base hash and the grader's code, so it is found by the content hash the result records."""
    wanted = prov["base_model"]["sha256"]
    pattern = f"*-{prov['split_key']}-{numerics_key()}/base.keras"
    for path in sorted(layout.base_models.glob(pattern)):
        if hashlib.sha256(path.read_bytes()).hexdigest() == wanted:
            return path
    raise SystemExit(f"no cached base model with sha256 {wanted[:12]}… under {layout.base_models}")


def bench_one(
    student: str, folder: Path, out: Path, data: list[str], repeat: int
) -> dict[str, object]:
    """Grader and plain wall times for one submission (copied into a submissions folder).

    The grader and the plain script (pinned arithmetic) run `repeat` times in turn, and each
    side's fastest run is compared: on a shared machine one run of either can be 10% slow,
    more than the difference measured; the fastest is the least disturbed. The median of
    the ratios of runs taken one after the other is given too: it does not hang on one
    lucky run of either side."""
    submissions = Path(tempfile.mkdtemp(prefix="bench-submissions-"))
    shutil.copytree(folder, submissions / student)
    grade = [sys.executable, "-m", "grader", "grade", "--assignment", str(ASSIGNMENT),
             "--submissions", str(submissions), "--out", str(out), "--only", student,
             "--no-reports", *data]  # fmt: skip
    print(f"[{student}] warming caches (split arrays, base model) ...", flush=True)
    subprocess.run(grade, check=True, cwd=ROOT, capture_output=True)
    layout = Layout.for_output(out, ASSIGNMENT.name)
    prov = json.loads(layout.result(student).read_text(encoding="utf-8"))["provenance"]
    plain = [sys.executable, "-m", "benchmarks.plain_baseline",
             str(layout.split_arrays(prov["split_key"])), str(trained_base(layout, prov)),
             str(submissions / student / "submission.py"), str(ASSIGNMENT)]  # fmt: skip
    graders, pinned = [], []
    for _ in range(repeat):
        graders.append(round(timed([*grade, "--force"]), 1))
        pinned.append(round(timed(plain, env={**os.environ, **NUMERICS}), 1))
    default = timed(plain, env={k: v for k, v in os.environ.items() if k not in NUMERICS})
    shutil.rmtree(submissions)
    best, floor = min(graders), min(pinned)
    paired = round(statistics.median(g / p for g, p in zip(graders, pinned, strict=True)), 3)
    print(f"\n[{student}] grader (isolation {prov['isolation']}): {best:.1f} s (runs: {graders})")
    print(f"[{student}] plain script, the grader's arithmetic: {floor:.1f} s (runs: {pinned})")
    print(f"[{student}] plain script, TensorFlow's defaults:  {default:.1f} s")
    print(f"[{student}] ratio grader/plain: {best / floor:.2f} same arithmetic, fastest runs "
          f"(target <= 1.10); {paired:.2f} the median of the {repeat} runs taken in turn; "
          f"{best / default:.2f} against the defaults\n", flush=True)  # fmt: skip
    return {"grader": best, "plain_pinned": floor, "plain_default": round(default, 1),
            "grader_runs": graders, "plain_pinned_runs": pinned,
            "median_paired_ratio": paired}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench")
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--only", choices=sorted(SUBMISSIONS), default=None)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side, in turn")
    args = parser.parse_args()
    data = ["--data", str(args.data)] if args.data else []
    chosen = [args.only] if args.only else list(SUBMISSIONS)
    figures = {s: bench_one(s, SUBMISSIONS[s], args.out, data, args.repeat) for s in chosen}
    print(json.dumps(figures, indent=1))
    _bench_reports(Layout.for_output(args.out, ASSIGNMENT.name))
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
