"""The host-child protocol: requests round-trip, reports are bounded, failures never lie."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from grader import codec, protocol
from grader.checkreport import CheckReport
from grader.errors import ErrorKind, StudentError
from grader.messages import render
from grader.pipeline.training import child_failure
from grader.protocol import ErrorReport, TrainReport
from grader.redact import redact_paths
from grader.worker import runtime

HISTORY = {"loss": [1.0, 0.5], "accuracy": [0.4, 0.6], "val_loss": [1.1, 0.9]}
HISTORY["val_accuracy"] = [0.3, 0.5]
TRAINED = {
    "history": HISTORY,
    "batch_size": 16,
    "optimizer": "adam",
    "loss": "sparse_categorical_crossentropy",
    "label_format": "int",
    "params": 1234,
}


def request() -> protocol.TrainRequest:
    return protocol.TrainRequest(
        task="scratch",
        call="shape",
        function="build_scratch",
        classes=("other", "automobile", "truck"),
        input_shape=(32, 32, 3),
        seed=7,
        defaults=protocol.Defaults(2, 16, "adam", 0.001, 0),
        limits=protocol.TrainLimits(max_epochs=5, max_params=100_000, max_batch_size=256),
        submission="/job/in/submission/submission.py",
        data="/job/in",
        out="/job/out",
    )


def test_a_request_round_trips_through_json() -> None:
    sent = request()
    wire = json.loads(json.dumps(codec.to_json(sent)))
    wire["landlock"] = {"read": ["/usr"], "write": ["/job/out"]}  # what the sandbox adds
    received = codec.from_json(protocol.TrainRequest, wire)
    assert received.num_classes == 3 and received.input_shape == (32, 32, 3)
    assert received.landlock == protocol.Confinement(("/usr",), ("/job/out",))
    assert {**codec.to_json(received), "landlock": None} == codec.to_json(sent)


def test_a_training_report_is_decoded_and_clipped() -> None:
    long = {**TRAINED, "optimizer": "x" * 500}
    facts = codec.from_json(TrainReport, {"trained": long}).trained
    assert facts is not None and facts.history.epochs == 2
    assert len(facts.optimizer) == 40
    built = {"params": 10, "activation": "a" * 500, "custom_layers": ["L" * 500] * 50}
    report = codec.from_json(CheckReport, {"built": built, "checked": ["imports"]})
    assert report.built is not None and len(report.built.activation) == 40
    assert len(report.built.custom_layers) == 20 and len(report.built.custom_layers[0]) == 80


@pytest.mark.parametrize(
    "change",
    [
        {"problems": [{"kind": "nan_loss", "message_id": "nan_loss"}] * 41},
        {"checked": ["imports"] * 21},
        {"built": {"params": -1, "activation": "relu"}},
        {
            "built": {
                "params": 1,
                "activation": "relu",
                "base_reuse": {"base_layers": "4", "reused_layers": 1, "frozen_layers": 1},
            }
        },  # fmt: skip
        {"skipped": {"trains": "output_shape"}},
    ],
)
def test_a_self_check_report_out_of_bounds_is_refused(change: dict[str, Any]) -> None:
    with pytest.raises(codec.DecodeError):
        codec.from_json(CheckReport, change)


@pytest.mark.parametrize(
    "change",
    [
        {"params": -1},
        {"params": True},
        {"params": 1e30},
        {"params": 10**13},
        {"batch_size": "16"},
        {"history": {**HISTORY, "loss": [1.0]}},
        {"history": {**HISTORY, "val_loss": [1.0, None]}},
        {"history": {k: [] for k in HISTORY}},
    ],
)
def test_malformed_training_reports_are_refused(change: dict) -> None:
    with pytest.raises(codec.DecodeError):
        codec.from_json(TrainReport, {"trained": {**TRAINED, **change}})


FACTS: dict[str, Any] = {
    "params": 10,
    "trainable_params": 8,
    "non_trainable_params": 2,
    "layers": [
        {"name": "d", "type": "Dense", "output_shape": "(None, 3)", "params": 10, "trainable": True}
    ],
    "base_reuse": None,
}


def test_model_facts_from_the_student_side_are_schema_checked() -> None:
    facts = codec.from_json(protocol.ModelFacts, FACTS)
    assert facts.layers[0].type == "Dense"
    long_name = {**FACTS["layers"][0], "name": "x" * 10_000}
    clipped = codec.from_json(protocol.ModelFacts, {**FACTS, "layers": [long_name]})
    assert len(clipped.layers[0].name) == 120


@pytest.mark.parametrize(
    "change",
    [
        {"params": -1},
        {"params": True},
        {"params": 1e30},
        {"layers": "many"},
        {"layers": [FACTS["layers"][0]] * 3000},
        {"layers": [{"name": "x"}]},
        {"base_reuse": {"base_layers": "4"}},
    ],
)
def test_malformed_model_facts_are_refused(change: dict) -> None:
    with pytest.raises(codec.DecodeError):
        codec.from_json(protocol.ModelFacts, {**FACTS, **change})


def test_an_error_report_keeps_json_scalars_and_clips_text() -> None:
    error = ErrorReport("nan_loss", "nan_loss", {"epoch": 3, "x": ["a"], "long": "y" * 5000})
    assert error.params["epoch"] == 3
    assert error.params["x"] == "['a']"
    assert len(error.params["long"]) == protocol.MAX_TEXT


def test_a_known_failure_is_taken_as_reported() -> None:
    kind, message = child_failure(ErrorReport("nan_loss", "nan_loss", {"epoch": 2}))
    assert kind is ErrorKind.NAN_LOSS
    assert render(message, "en").startswith("The training loss became NaN at epoch 2.")
    assert "época 2" in render(message, "es")


@pytest.mark.parametrize(
    "error",
    [
        ErrorReport("full_marks_please", "nan_loss", {"epoch": 1}),
        ErrorReport("nan_loss", "no.such.message", {}),
        ErrorReport("nan_loss", "nan_loss", {}),  # a placeholder without its value
        ErrorReport("too_many_params", "too_many_params", {"function": "f", "params": "many"}),
        ErrorReport("nan_loss", "check.not_measured", {}),  # not an error message
    ],
)
def test_an_unknown_kind_or_message_from_a_child_is_a_grader_error(error: ErrorReport) -> None:
    kind, message = child_failure(error)
    assert (kind, message.id) == (ErrorKind.GRADER_ERROR, "grader_error")
    assert "unknown" in render(message, "en")


def test_paths_of_the_grading_machine_are_redacted() -> None:
    site = next(p for p in sys.path if p.endswith("site-packages"))
    text = f"cannot import name 'x' from 'keras' ({site}/keras/__init__.py)"
    assert redact_paths(text) == (
        "cannot import name 'x' from 'keras' (<python>/keras/__init__.py)"
    )
    grader = str(Path(protocol.__file__).resolve().parent)
    assert redact_paths(f"{grader}/worker/train.py") == "<grader>/worker/train.py"
    assert redact_paths("No module named 'tensorflow_addons'") == (
        "No module named 'tensorflow_addons'"
    )


def run_worker(tmp_path: Path, work: Any) -> tuple[TrainReport, int]:
    (tmp_path / "out").mkdir()
    wire = {**codec.to_json(request()), "out": str(tmp_path / "out")}
    (tmp_path / "request.json").write_text(json.dumps(wire))
    code = runtime.run(
        [str(tmp_path / "request.json")],
        protocol.TrainRequest,
        work,
        lambda raw, error: TrainReport(error=error),
        "train.json",
    )
    report = json.loads((tmp_path / "out" / "train.json").read_text())
    return codec.from_json(TrainReport, report), code


def test_a_student_error_becomes_its_report(tmp_path: Path) -> None:
    def work(req: protocol.TrainRequest) -> TrainReport:
        raise StudentError(ErrorKind.NAN_LOSS, "nan_loss", epoch=4)

    report, code = run_worker(tmp_path, work)
    assert code == 0
    assert report.error == ErrorReport("nan_loss", "nan_loss", {"epoch": 4})


def test_a_grader_bug_is_reported_as_such_with_its_traceback_logged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def work(req: protocol.TrainRequest) -> TrainReport:
        return {}["oops"]  # type: ignore[no-any-return]

    report, _ = run_worker(tmp_path, work)
    assert report.error is not None
    assert report.error.kind == "grader_error"
    assert report.error.params["error"] == "KeyError: 'oops'"
    assert "Traceback" in capsys.readouterr().err
    kind, message = child_failure(report.error)
    assert kind is ErrorKind.GRADER_ERROR
    assert "not a problem with your submission" in render(message, "en")


def test_a_finished_report_carries_its_seconds(tmp_path: Path) -> None:
    trained = codec.from_json(protocol.TrainFacts, TRAINED)
    report, _ = run_worker(tmp_path, lambda req: TrainReport(trained=trained))
    assert report.trained == trained and report.seconds >= 0
