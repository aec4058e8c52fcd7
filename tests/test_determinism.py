"""Same grade on every machine: the grader's numeric settings make training bit-identical.

A tiny fixed model (`fixtures/determinism/train_tiny.py`) is trained a few steps on fixed data
in a child with exactly the grader's child environment (`levels.child_environment`, which
carries `levels.NUMERICS`), and the hash of its weights is compared with the one checked in
for this machine's vector unit (`fixtures/determinism/expected.json`: one reference per set
of vector extensions, with the CPU and settings it was made with). Real CPUs with different
vector units train different weights under the same settings (measured: an AVX-512 and an
AVX2-only AMD EPYC), so a grade is reproducible among machines of one class, and its
provenance names the class. On a class with no reference the test fails, as on a mismatch.
After a deliberate change of the settings, or on a new class of machine whose numbers you
accept: `GRADER_UPDATE_GOLDEN=1 pytest tests/test_determinism.py` writes this class's
reference (say why in the commit: every trained number changes with it).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile

import pytest

from grader.pipeline.provenance import cpu_description
from grader.sandbox import levels
from grader.sandbox.process import PYTHON
from tests.conftest import FIXTURES

pytestmark = pytest.mark.slow
SCRIPT = FIXTURES / "determinism" / "train_tiny.py"
EXPECTED = FIXTURES / "determinism" / "expected.json"
ISAS = ("SSE41", "AVX", "AVX2", "AVX512_CORE", "ALL")  # oneDNN's caps, weakest first


def train_tiny(machine_isa: str = "ALL", cpus: set[int] | None = None) -> dict:
    """The tiny model's weights hash, trained as the grader trains, on an emulated machine:
    one whose best vector unit is `machine_isa` (for oneDNN), with only `cpus` (the default
    thread count follows them)."""
    with tempfile.TemporaryDirectory() as home:
        env = levels.child_environment(str(levels.PROJECT_ROOT), home)
        ours = env.get("ONEDNN_MAX_CPU_ISA", "ALL")
        env["ONEDNN_MAX_CPU_ISA"] = min(ours, machine_isa, key=ISAS.index)
        done = subprocess.run(
            [PYTHON, str(SCRIPT)],
            env=env,
            cwd=home,
            capture_output=True,
            text=True,
            timeout=300,
            preexec_fn=None if cpus is None else lambda: os.sched_setaffinity(0, cpus),
        )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def here() -> dict:
    return train_tiny()


def vector_class(cpu: str) -> str:
    """The vector extensions of a `cpu_description()`, e.g. `avx avx2 fma`: the model name
    does not decide the kernels."""
    return cpu.rpartition("(")[2].rstrip(")")


def test_this_machine_trains_as_the_reference(here: dict) -> None:
    references = json.loads(EXPECTED.read_text(encoding="utf-8"))["references"]
    ours = vector_class(cpu_description())
    if os.environ.get("GRADER_UPDATE_GOLDEN"):
        others = [r for r in references if vector_class(r["cpu"]) != ours]
        references = [*others, {"sha256": here["sha256"], "cpu": cpu_description(),
                                "numerics": levels.NUMERICS}]  # fmt: skip
        text = json.dumps({"references": references}, indent=2) + "\n"
        EXPECTED.write_text(text, encoding="utf-8")
    known = {vector_class(r["cpu"]): r for r in references}
    assert ours in known, (
        f"No reference for this machine's vector unit ({cpu_description()}); references "
        f"exist for {sorted(known)}. Machines of another class train other weights: grade a "
        "class on one machine, or record this class with GRADER_UPDATE_GOLDEN=1 (handout, "
        "'Same grade on every machine')."
    )
    expected = known[ours]
    assert here["sha256"] == expected["sha256"], (
        f"This machine would grade differently from the reference machine: the tiny model "
        f"trained under the grader's settings has weights {here['sha256'][:16]} here, "
        f"{expected['sha256'][:16]} there.\n  here:      {cpu_description()}, settings "
        f"{levels.NUMERICS}\n  reference: {expected['cpu']}, settings {expected['numerics']}\n"
        "Results graded here will not match the reference's to the last digit (see the "
        "handout, 'Same grade on every machine'); if the settings were changed on purpose, "
        "rewrite the reference with GRADER_UPDATE_GOLDEN=1."
    )


def test_weights_do_not_depend_on_the_vector_unit_or_core_count(here: dict) -> None:
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two CPUs to emulate a machine with fewer")
    machines = {
        "AVX2 vector unit": train_tiny(machine_isa="AVX2"),
        "one core": train_tiny(cpus={min(os.sched_getaffinity(0))}),
    }
    for name, other in machines.items():
        assert other["sha256"] == here["sha256"], f"a machine with {name} trains differently"
