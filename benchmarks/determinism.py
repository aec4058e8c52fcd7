"""Which settings make training bit-identical across CPUs, and what they cost.

`python -m benchmarks.determinism`: the tiny fixed model of tests/test_determinism.py trained
in a fresh child per configuration (oneDNN on/off x oneDNN ISA cap x intra-op threads, from
the grader's child environment without its numeric settings), then under the grader's
settings on emulated machines (ISA cap x CPUs the child may use); the weights hash of each.
`--cost N`: the `alvaro-pequeno` scratch CNN (benchmarks/train_cnn.py) timed N times with
today's and the grader's settings, interleaved; medians. Run it with `nice` on a shared box.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

from grader.sandbox import levels
from grader.sandbox.process import PYTHON

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "fixtures" / "determinism" / "train_tiny.py"
CNN = ROOT / "benchmarks" / "train_cnn.py"
PINNED = ("ONEDNN_MAX_CPU_ISA", "TF_NUM_INTRAOP_THREADS")  # what `without numerics` drops
ISAS = ("AVX2", "AVX512_CORE", "ALL")


def child(script: Path, overrides: dict[str, str], cpus: set[int] | None = None) -> dict:
    """Run `script` in a fresh child with the grader's environment plus `overrides`."""
    with tempfile.TemporaryDirectory() as home:
        env = {**levels.child_environment(str(ROOT), home), **overrides}
        env = {k: v for k, v in env.items() if v != "unset"}
        done = subprocess.run(
            [PYTHON, str(script)],
            env=env,
            cwd=home,
            capture_output=True,
            text=True,
            check=True,
            preexec_fn=None if cpus is None else lambda: os.sched_setaffinity(0, cpus),
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def today(**overrides: str) -> dict[str, str]:
    """The child environment before issue 10 (no ISA cap, no thread count), plus overrides."""
    return {**dict.fromkeys(PINNED, "unset"), **overrides}


def table() -> None:
    print("settings                                   weights sha256     loss")
    for onednn, isa, threads in itertools.product(("1", "0"), ISAS, ("1", "2")):
        over = today(TF_ENABLE_ONEDNN_OPTS=onednn, ONEDNN_MAX_CPU_ISA=isa)
        over["TF_NUM_INTRAOP_THREADS"] = threads
        row = child(TINY, over)
        print(f"onednn={onednn} cap={isa:11} threads={threads}       "
              f"{row['sha256'][:16]}   {row['loss']:.8f}", flush=True)  # fmt: skip
    cpus = sorted(os.sched_getaffinity(0))
    for isa, n in itertools.product(ISAS, (1, 2)):
        cap = min(isa, levels.NUMERICS["ONEDNN_MAX_CPU_ISA"], key=ISAS.index)
        row = child(TINY, {"ONEDNN_MAX_CPU_ISA": cap}, set(cpus[:n]))
        print(f"grader's settings, machine {isa:11} {n} cpu  "
              f"{row['sha256'][:16]}   {row['loss']:.8f}", flush=True)  # fmt: skip


def cost(runs: int) -> None:
    settings = {"today": today(), "grader": {}}
    times: dict[str, dict[str, list[float]]] = {name: {} for name in settings}
    for _ in range(runs):
        for name, over in settings.items():
            for key, value in child(CNN, over).items():
                times[name].setdefault(key, []).append(value)
            print(name, {key: values[-1] for key, values in times[name].items()}, flush=True)
    for key in ("seconds", "cpu_seconds"):  # wall time, and CPU time (less hit by other load)
        medians = {name: statistics.median(t[key]) for name, t in times.items()}
        ratio = round(medians["grader"] / medians["today"], 3)
        print(json.dumps({key: {n: t[key] for n, t in times.items()}, "median": medians,
                          "ratio": ratio}))  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cost", type=int, metavar="RUNS", help="time the settings instead")
    args = parser.parse_args()
    if args.cost:
        cost(args.cost)
    else:
        table()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
