"""A failed task's log tail shows the student's traceback, not TensorFlow's start-up noise."""

from __future__ import annotations

import sys
from io import StringIO
from pathlib import Path

import pytest

from grader.errors import ErrorKind, StudentError
from grader.sandbox import Outcome, jobs, logs
from grader.worker import linemap, tracelog

# What a training child printed before its traceback (recorded from real children: absl's
# first-log notice and oneDNN twice, Fontconfig, a tf.data NodeDef notice, and the older
# TensorFlow and CUDA styles of the same notices on other machines).
STARTUP = """\
WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
I0000 00:00:1796193502.480332   21626 port.cc:153] oneDNN custom operations are on. You may \
see slightly different numerical results due to floating-point round-off errors from \
different computation orders. To turn them off, set the environment variable \
`TF_ENABLE_ONEDNN_OPTS=0`.
I0000 00:00:1796193502.516652   21626 cpu_feature_guard.cc:227] This TensorFlow binary is \
optimized to use available CPU instructions in performance-critical operations.
To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild \
TensorFlow with the appropriate compiler flags.
Fontconfig error: Cannot load default config file: No such file: (null)
E0000 00:00:1796183426.661541       2 node_def_util.cc:682] NodeDef mentions attribute \
use_unbounded_threadpool which is not in the op definition: Op<name=MapDataset>
2024-05-01 12:00:00.123456: I tensorflow/core/util/port.cc:113] oneDNN custom operations \
are on.
2024-05-01 12:00:00.223456: E external/local_xla/xla/stream_executor/cuda/cuda_dnn.cc:9261] \
Unable to register cuDNN factory: Attempting to register factory for plugin cuDNN when one \
has already been registered
W0000 00:00:1712345678.123456   12345 cuda_executor.cc:1040] failed call to cuInit: INTERNAL
2024-05-01 12:00:01.123456: W tensorflow/compiler/tf2tensorrt/utils/py_utils.cc:38] TF-TRT \
Warning: Could not find TensorRT
"""
STUDENT = """\
/job/in/submission/submission.py:3: UserWarning: your own warning stays
W0000 00:00:1712345679.000000   12345 op_kernel.cc:1857] OP_REQUIRES failed at \
matmul_op.cc:40 : INVALID_ARGUMENT: Matrix size-incompatible
Traceback (most recent call last):
  File "submission.py", line 7, in build_scratch
    return keras.Sequential([keras.Input(input_shape), helper(num_classes)])
ValueError: Could not interpret activation function identifier: nope"""


def test_startup_noise_is_left_out_and_the_traceback_kept() -> None:
    tail = jobs.log_tail(Outcome(1, False, 3.0, STARTUP + STUDENT))
    assert tail == STUDENT  # the student's warning and TensorFlow's training error stay


@pytest.mark.parametrize("line", STARTUP.splitlines())
def test_each_startup_line_is_noise(line: str) -> None:
    assert logs.is_noise(line)


@pytest.mark.parametrize("line", STUDENT.splitlines())
def test_no_student_line_is_noise(line: str) -> None:
    assert not logs.is_noise(line)


def test_the_tail_keeps_its_last_lines() -> None:
    log = STARTUP + "\n".join(f"line {i}" for i in range(50))
    assert logs.readable_tail(log, 3).splitlines() == ["line 47", "line 48", "line 49"]


def raise_from(module: Path, function: str) -> StudentError:
    """Import `module`, call `function`, and return the StudentError the worker would raise."""
    namespace: dict = {"__name__": "submission"}
    exec(compile(module.read_text(), str(module), "exec"), namespace)
    try:
        namespace[function]()
    except Exception as exc:  # noqa: BLE001 - as the worker turns it into a StudentError
        try:
            raise StudentError(ErrorKind.BUILD_ERROR, "build_error", error=str(exc)) from None
        except StudentError as student:
            return student
    raise AssertionError("did not raise")


def test_the_traceback_names_the_students_lines_and_no_path(tmp_path: Path) -> None:
    module = tmp_path / "job" / "submission.py"
    module.parent.mkdir()
    module.write_text("def helper():\n    return 1 / 0\n\n\ndef build():\n    return helper()\n")
    out = StringIO()
    tracelog.print_cause(raise_from(module, "build"), str(module), out)
    assert out.getvalue().splitlines() == [
        "Traceback (most recent call last):",
        '  File "submission.py", line 6, in build',
        "    return helper()",
        '  File "submission.py", line 2, in helper',
        "    return 1 / 0",
        "ZeroDivisionError: division by zero",
    ]  # this test's own frame (above the submission's) left out
    assert str(tmp_path) not in out.getvalue()


def test_a_notebook_line_is_named_by_its_cell(tmp_path: Path) -> None:
    module = tmp_path / "submission.py"
    module.write_text(
        f"{linemap.MARKER} submission.ipynb: ...\n"
        + linemap.CELL_HEADER.format(cell=4)
        + "\ndef build():\n    return [][1]\n"
    )
    out = StringIO()
    tracelog.print_cause(raise_from(module, "build"), str(module), out)
    assert '  File "submission.py", line 4 (cell 4, line 2), in build' in out.getvalue()


def test_a_student_error_without_a_cause_prints_nothing() -> None:
    out = StringIO()
    tracelog.print_cause(StudentError(ErrorKind.BUILD_ERROR, "build_error"), None, out)
    assert out.getvalue() == ""


def test_python_paths_are_redacted(tmp_path: Path) -> None:
    module = tmp_path / "submission.py"
    module.write_text("import json\n\ndef build():\n    return json.loads('{')\n")
    text = tracelog.student_traceback(raise_from(module, "build").__context__, str(module))
    assert '<python>/json/decoder.py"' in text or '<python>/json/__init__.py"' in text
    assert sys.base_prefix + "/" not in text
