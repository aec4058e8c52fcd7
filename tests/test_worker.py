"""The training worker's checks of a submission that need no Keras: import, TRAINING, the call."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from grader.errors import ErrorKind, StudentError
from grader.messages import Message, render
from grader.worker.build import build
from grader.worker.loading import import_submission
from grader.worker.train import Settings, training_settings
from tests.test_protocol import request


def english(exc: StudentError) -> str:
    return render(Message(exc.message_id, exc.params), "en")


@pytest.fixture
def submission(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Write a submission.py and import it as the worker does (sys.path restored after)."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "submission", raising=False)

    def load(source: str) -> Any:
        path = tmp_path / "submission.py"
        path.write_text(source)
        return import_submission(path)

    return load


def test_a_syntax_error_names_its_line(submission: Any) -> None:
    with pytest.raises(StudentError) as caught:
        submission("x = 1\n\ndef f(:\n    pass\n")
    assert caught.value.kind is ErrorKind.SYNTAX_ERROR
    assert english(caught.value).startswith("submission.py has a syntax error at line 3: ")


def test_an_import_error_shows_no_path_of_the_grading_machine(submission: Any) -> None:
    with pytest.raises(StudentError) as caught:
        submission("from json import no_such_name\n")
    text = english(caught.value)
    assert caught.value.kind is ErrorKind.IMPORT_ERROR
    assert "cannot import name 'no_such_name' from 'json' (<python>/" in text, text
    assert sys.base_prefix + "/" not in text


def test_defaults_apply_without_training(submission: Any) -> None:
    assert training_settings(submission("x = 1\n"), request()) == Settings(2, 16, 0)


def test_training_overrides_the_defaults(submission: Any) -> None:
    module = submission("TRAINING = {'scratch': {'epochs': 5, 'batch_size': 8}}\n")
    assert training_settings(module, request()) == Settings(5, 8, 0)


@pytest.mark.parametrize(
    ("training", "message_id", "expected"),
    [
        ("[1]", "training_config.not_dicts", "e.g. TRAINING = {'scratch': {'epochs': 10}}"),
        ("{'scratch': {'lr': 1}}", "training_config.unknown_key", "unknown key 'lr'; allowed"),
        (
            "{'scratch': {'epochs': 6}}",
            "training_config.out_of_range",
            "TRAINING['scratch']['epochs'] must be an integer from 1 to 5",
        ),
        ("{'scratch': {'epochs': True}}", "training_config.out_of_range", "Received: True"),
    ],
)
def test_bad_training_settings_say_what_is_allowed(
    submission: Any, training: str, message_id: str, expected: str
) -> None:
    with pytest.raises(StudentError) as caught:
        training_settings(submission(f"TRAINING = {training}\n"), request())
    assert caught.value.kind is ErrorKind.TRAINING_CONFIG
    assert caught.value.message_id == message_id
    assert expected in english(caught.value)


def test_a_missing_function_is_named_with_its_parameters() -> None:
    with pytest.raises(StudentError) as caught:
        build(SimpleNamespace(), request(), None)
    assert english(caught.value).startswith(
        "The submission does not define `build_scratch(input_shape, num_classes)`."
    )


def test_a_wrong_signature_shows_the_one_written() -> None:
    module = SimpleNamespace(build_scratch=lambda shape: None)
    with pytest.raises(StudentError) as caught:
        build(module, request(), None)
    assert caught.value.kind is ErrorKind.BAD_SIGNATURE
    assert "it is defined as `build_scratch(shape)`" in english(caught.value)


def test_the_function_gets_the_requests_shape_and_classes() -> None:
    module = SimpleNamespace(build_scratch=lambda shape, n: (shape, n))
    assert build(module, request(), None) == ((32, 32, 3), 3)


def test_an_exception_in_the_function_is_a_build_error() -> None:
    def build_scratch(shape: Any, n: int) -> None:
        raise ValueError("no such activation: nope")

    with pytest.raises(StudentError) as caught:
        build(SimpleNamespace(build_scratch=build_scratch), request(), None)
    assert caught.value.kind is ErrorKind.BUILD_ERROR
    assert english(caught.value) == (
        "`build_scratch(input_shape, num_classes)` raised ValueError: no such activation: nope."
    )


def test_a_worker_leaves_at_once_with_its_output_flushed() -> None:
    """`runtime.leave` skips Python's shutdown (~0.7 s with TensorFlow loaded) but not what the
    child printed last: the log keeps it, even when the student swapped or closed
    `sys.stdout`; the exit code is the worker's."""
    import subprocess

    code = (
        "import io, sys\nfrom grader.worker import runtime\nprint('last words', end='')\n"
        "sys.stderr.write('and more')\nsys.stdout = io.StringIO()\nsys.stdout.close()\n"
        "runtime.leave(3)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert done.returncode == 3
    assert done.stdout == b"last words" and b"and more" in done.stderr
