"""Issue 12, items 14-16: caches verified before use, scoring that fails per task, and no reuse
of a result that failed for the grader's reasons.

Damaged caches: a truncated split array is found by its content hash and rebuilt (the same
bytes as before), or the run stops with an error naming the folder; a truncated base model
is trained again. Scoring: a task whose scoring child dies is scored again alone, so the
healthy task keeps its score.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from grader import cifar10, codec, data, manifest, scoring
from grader.errors import DataError, ErrorKind, StudentError
from grader.messages import Message
from grader.pipeline import evaluation
from grader.pipeline.provenance import check_reuse, stale_reason
from grader.protocol import EvalRequest, EvalResult, EvalTask, ModelFacts, Scores
from grader.records import read_result, write_json_atomic
from grader.sandbox import Outcome
from grader.spec import load_assignment
from grader.worker import evaluate
from tests.conftest import FIXTURES

ONE_TASK = FIXTURES / "assignments" / "one-task"
TINY = FIXTURES / "assignments" / "tiny"
STORED = FIXTURES / "results" / "bea-overfit.json"


@pytest.fixture(scope="module")
def source(data_dir: Path) -> data.DataSource:
    return cifar10.find(data_dir)


def _prepare(source: data.DataSource, root: Path, notes: list[str]) -> Path:
    return data.prepare_splits(load_assignment(ONE_TASK), source, root, notes.append)


# --- the split cache ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["y_test", "x_test"])
def test_a_truncated_split_array_is_rebuilt_as_it_was(
    source: data.DataSource, tmp_path: Path, name: str
) -> None:
    notes: list[str] = []
    target = _prepare(source, tmp_path, notes)
    array = target / "vehicles" / f"{name}.npy"
    whole = array.read_bytes()
    assert notes == [] and manifest.problem(target, [f"vehicles/{name}.npy"]) is None
    array.write_bytes(whole[: len(whole) // 2])  # a full disk, a killed copy
    assert _prepare(source, tmp_path, notes) == target
    assert notes == [
        f"cached split {target.name}: vehicles/{name}.npy does not match its recorded content "
        f"hash (damaged or changed); rebuilding it from {source.description}"
    ]
    assert array.read_bytes() == whole  # deterministic: the same split, not another one
    np.load(array, allow_pickle=False)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # nothing left over


def test_a_split_cache_without_a_manifest_is_rebuilt(
    source: data.DataSource, tmp_path: Path
) -> None:
    """A cache made by an older grader has no hashes to check against: it is not trusted."""
    notes: list[str] = []
    target = _prepare(source, tmp_path, notes)
    recorded = manifest.recorded(target)
    (target / manifest.MANIFEST).unlink()
    (target / "vehicles" / "y_test.npy").write_bytes(b"\x93NUMPY")
    _prepare(source, tmp_path, notes)
    assert len(notes) == 1 and "has no manifest.json of content hashes" in notes[0]
    assert manifest.recorded(target) == recorded
    assert data.load_split(target / "vehicles")["y_test"].shape == (30,)


def test_a_rebuilt_split_unlike_the_recorded_one_is_said_so(
    source: data.DataSource, tmp_path: Path
) -> None:
    """Hashes recorded for other bytes than the rebuild gives (the same images decoded
    otherwise): earlier results are not silently taken as made on this split."""
    notes: list[str] = []
    target = _prepare(source, tmp_path, notes)
    path = target / manifest.MANIFEST
    path.write_text(path.read_text().replace(manifest.file_sha256(target / "vehicles/y_val.npy"),
                                             "0" * 64))  # fmt: skip
    _prepare(source, tmp_path, notes)
    assert "vehicles/y_val.npy does not match its recorded content hash" in notes[0]
    assert notes[1] == (
        "the rebuilt split differs from the one first recorded (vehicles/y_val.npy): results "
        "graded on the old one are not regraded by themselves; pass --force to regrade"
    )


def test_a_damaged_split_that_cannot_be_rebuilt_stops_with_the_fix(
    source: data.DataSource, tmp_path: Path
) -> None:
    target = _prepare(source, tmp_path, [])
    (target / "vehicles" / "y_test.npy").write_bytes(b"")

    def unreadable(_part: str, _keys: list[str]) -> np.ndarray:
        raise OSError("Input/output error")

    broken = data.DataSource(
        source.description, source.fingerprint, source.classes, source.members, unreadable
    )
    with pytest.raises(DataError) as caught:
        _prepare(broken, tmp_path, [])
    text = str(caught.value)
    assert str(target) in text and "vehicles/y_test.npy does not match" in text
    assert "Input/output error" in text and f"delete {target}, and run again" in text


# --- the base model --------------------------------------------------------------------------


@pytest.mark.slow
def test_a_truncated_base_model_is_trained_again(data_dir: Path, tmp_path: Path) -> None:
    from grader.pipeline.run import RunConfig, open_run

    messages: list[tuple[str, str, str]] = []
    config = RunConfig(TINY, tmp_path, data_dir, progress=lambda *m: messages.append(m))
    with open_run(config) as run:
        first = run.base
    assert first is not None and first.sha256 == manifest.file_sha256(first.path)
    assert first.provenance()["sha256"] == first.sha256  # in every result's provenance
    trained = [m for m in messages if m[1] == "base model"]
    with open_run(config) as run:
        assert run.base == first  # checked, unchanged: reused
    assert [m for m in messages if m[1] == "base model"] == trained
    whole = first.path.read_bytes()
    first.path.write_bytes(whole[: len(whole) // 2])
    with open_run(config) as run:
        second = run.base
    why = "base.keras does not match its recorded content hash (damaged or changed)"
    assert ("(instructor)", "base model", f"cached base model: {why}; training it again") in (
        messages
    )
    assert second is not None and second.sha256 == manifest.file_sha256(second.path)
    assert manifest.problem(second.path.parent, ["base.keras"]) is None


def test_a_result_trained_against_another_base_model_is_regraded() -> None:
    stored = read_result(STORED).provenance
    assert stored.base_model is not None
    other = replace(stored, base_model={**stored.base_model, "sha256": "another"})
    assert stale_reason(stored, other) == "trained against another base model: regrading"


# --- results that failed for the grader's reasons ----------------------------------------------


@pytest.mark.parametrize(
    ("kind", "reused"),
    [
        (ErrorKind.GRADER_ERROR, False),
        (ErrorKind.EVALUATION_FAILED, False),
        (ErrorKind.NAN_LOSS, True),
    ],  # fmt: skip
)
def test_a_result_with_a_grader_fault_task_is_regraded(
    tmp_path: Path, kind: ErrorKind, reused: bool
) -> None:
    stored = read_result(STORED)
    failed = stored.tasks["transfer"].failed(kind, Message("evaluation_failed.missing"))
    path = tmp_path / "bea-overfit.json"
    write_json_atomic(path, replace(stored, tasks={**stored.tasks, "transfer": failed}))
    result, why = check_reuse(path, stored.provenance)
    if reused:  # the student's own failure stands until the submission changes
        assert result is not None and why is None
    else:
        assert result is None
        assert why == f"transfer failed in the grader last time ({kind.code}): regrading"


# --- scoring per task ------------------------------------------------------------------------


def _scored() -> EvalResult:
    probs = np.full((4, 3), 1 / 3)
    truth = dict.fromkeys(scoring.SPLITS, np.array([0, 1, 2, 0]))
    scores = scoring.score(
        dict.fromkeys(scoring.SPLITS, probs), truth, np.zeros((4, 32, 32, 3), np.uint8), 3
    )
    facts = ModelFacts(params=10, trainable_params=10, non_trainable_params=0, layers=())
    return EvalResult(facts=facts, scores=codec.from_json(Scores, scores))


def test_tasks_scored_before_the_child_died_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker writes each task's result as it finishes; the host keeps those when the
    child dies on a later task, and only the others are left to score again alone."""
    task = EvalTask(function="f", num_classes=3, data="-", model="-")
    request = EvalRequest(seed=1, out=str(tmp_path), tasks={"scratch": task, "other": task})

    def score(task: EvalTask, custom: Any, out: Path) -> EvalResult:
        if out.name == "other":
            raise KeyboardInterrupt  # stands for the kernel killing the child here
        return _scored()

    monkeypatch.setattr(evaluate, "evaluate", score)
    with pytest.raises(KeyboardInterrupt):
        evaluate.evaluate_all(request)
    assert not (tmp_path / "eval.json").exists()
    run = SimpleNamespace(assignment=SimpleNamespace(tasks={"other": task}))
    job = SimpleNamespace(outputs=tmp_path)
    died = Outcome(returncode=-9, timed_out=False, seconds=3.0, log_tail="Killed\n")
    found, unsettled, ending = evaluation._read_evaluation(
        run, job, died, ["scratch", "other"], labelled=True
    )
    assert found["scratch"] == _scored() and unsettled == ["other"]
    assert ending == "scoring child ended with exit status -9"
    kind, message = found["other"]
    assert kind is ErrorKind.EVALUATION_FAILED and message.id == "evaluation_failed.crash"
    assert message.params["code"] == -9 and message.params["function"] == "f"


class _Hungry:
    """A model whose predict runs out of memory above `fits` images a batch."""

    def __init__(self, fits: int) -> None:
        self.fits, self.tried, self.layers = fits, [], []

    def predict(self, x: np.ndarray, batch_size: int, verbose: int) -> np.ndarray:
        self.tried.append(batch_size)
        if batch_size > self.fits:
            raise MemoryError("activations")
        return np.full((len(x), 3), 1 / 3)


def test_predicting_out_of_memory_halves_the_batch() -> None:
    task = EvalTask(function="build_scratch", num_classes=3, data="-", model="-")
    x = np.zeros((10, 32, 32, 3), np.uint8)
    model = _Hungry(fits=40)
    outputs, batch = evaluate.predict(model, x, task, 256)
    assert outputs.shape == (10, 3) and batch == 32 and model.tried == [256, 128, 64, 32]
    with pytest.raises(StudentError) as caught:
        evaluate.predict(_Hungry(fits=0), x, task, 4)
    assert caught.value.kind is ErrorKind.BAD_PREDICTIONS
    assert "out of memory even one image at a time" in caught.value.params["error"]


def test_the_batch_size_shrinks_with_large_activations() -> None:
    import keras

    def model(upsample: int) -> Any:
        layers = keras.layers
        return keras.Sequential([keras.Input((32, 32, 3)), layers.UpSampling2D(upsample),
                                 layers.Conv2D(64, 3, padding="same"),
                                 layers.GlobalAveragePooling2D(), layers.Dense(3)])  # fmt: skip

    assert evaluate.batch_size(model(1)) == evaluate.MAX_BATCH
    # 512 x 512 x 64 floats an image: 16 images hold 1 GiB of that layer's outputs alone
    assert evaluate.batch_size(model(16)) == 15


def test_the_traced_forward_gives_predicts_numbers_exactly() -> None:
    """Scoring calls the model in one traced function instead of Keras' `predict` (twice as
    fast): the same probabilities to the last bit, a partial last batch included; a model
    with two outputs goes through `predict` as before."""
    import keras

    layers = keras.layers
    inputs = keras.Input((12, 12, 3))
    x = layers.Conv2D(8, 3, activation="relu")(inputs)
    x = layers.BatchNormalization()(layers.MaxPooling2D()(x))
    x = layers.Dense(16, activation="relu")(layers.Flatten()(x))
    model = keras.Model(inputs, layers.Dense(3, activation="softmax")(layers.Dropout(0.5)(x)))
    images = np.random.default_rng(3).integers(0, 256, (70, 12, 12, 3), dtype=np.uint8)
    task = EvalTask(function="build_scratch", num_classes=3, data="-", model="-")
    forward = evaluate.traced_forward(model, images.shape[1:])
    assert forward is not None
    traced, batch = evaluate.predict(model, images, task, 32, forward)
    expected = model.predict(images.astype(np.float32) / 255, batch_size=32, verbose=0)
    assert batch == 32 and traced.shape == (70, 3)
    assert np.array_equal(traced, expected)  # bit for bit: 32 + 32 + 6 images
    two = keras.Model(inputs, [model.output, model.output])
    assert evaluate.traced_forward(two, images.shape[1:]) is None


SUBMISSION = """
import keras
from keras import layers

def _small(input_shape, num_classes):
    return keras.Sequential([keras.Input(input_shape), layers.Conv2D(8, 3, activation="relu"),
                             layers.GlobalAveragePooling2D(),
                             layers.Dense(num_classes, activation="softmax")])

build_scratch = build_other = _small
"""
OTHER_TASK = """
[tasks.other]
function = "build_other"
split = "vehicles"
defaults = { epochs = 2, batch_size = 16 }
limits = { max_epochs = 5, max_params = 100_000, max_seconds = 12, startup_seconds = 25 }
checks = [{ kind = "min_test_accuracy", threshold = 0.1, points = 1 }]
"""


@pytest.mark.slow
def test_one_task_failing_while_scoring_fails_alone(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scoring `other` runs out of time (its child's clock is cut to 1 s, test-only): the
    shared child dies, `scratch` is scored again alone and keeps its score, and `other` gets
    its own error, never reused."""
    from grader.pipeline.grading import grade_assignment

    spec = tmp_path / "two-tasks"
    shutil.copytree(ONE_TASK, spec)
    toml = spec / "assignment.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + OTHER_TASK, encoding="utf-8")
    (tmp_path / "subs" / "ada").mkdir(parents=True)
    (tmp_path / "subs" / "ada" / "submission.py").write_text(SUBMISSION, encoding="utf-8")
    real_run, real_give, scored = evaluation.jobs.run_job, evaluation.jobs.give_request, []

    def clock_for(request: dict, wall_seconds: float) -> float:
        scored.append(sorted(request["tasks"]))
        return 1 if "other" in request["tasks"] else wall_seconds

    def run_job(job: Any, module: str, request: dict, **limits: Any) -> Outcome:
        if module == evaluation.EVALUATE:  # a task scored again alone: a cold child
            limits["wall_seconds"] = clock_for(request, limits["wall_seconds"])
        return real_run(job, module, request, **limits)

    def give_request(started: Any, request: dict, wall_seconds: float) -> None:
        if "tasks" in request:  # the shared scoring child, warm (pipeline/relay.py)
            wall_seconds = clock_for(request, wall_seconds)
        real_give(started, request, wall_seconds)

    monkeypatch.setattr(evaluation.jobs, "run_job", run_job)
    monkeypatch.setattr(evaluation.jobs, "give_request", give_request)
    messages: list[tuple[str, str, str]] = []
    out, subs = tmp_path / "out", tmp_path / "subs"
    result = grade_assignment(spec, submissions=subs, out_dir=out, data_dir=data_dir,
                              progress=lambda *m: messages.append(m))[0]  # fmt: skip
    scratch, other = result.tasks["scratch"], result.tasks["other"]
    assert scratch.ok and scratch.metrics is not None, scratch.error
    assert scored == [["other", "scratch"], ["scratch"], ["other"]]
    again = [m for m in messages if m[2].startswith("scoring again alone")]
    assert [m[:2] for m in again] == [("ada", "scratch"), ("ada", "other")]
    assert again[0][2].startswith("scoring again alone (the shared scoring child ran out of time")
    assert other.error_kind is ErrorKind.EVALUATION_FAILED and other.error_message is not None
    assert other.error_message.id == "evaluation_failed.timeout"
    assert other.error_message.params["function"] == "build_other"
    assert result.status == "partial"
    path = out / "one-task" / "results" / "ada.json"
    assert check_reuse(path, result.provenance) == (
        None,
        "other failed in the grader last time (evaluation_failed): regrading",
    )


def test_eval_failure_messages_render() -> None:
    from grader.messages import render

    params = {"function": "build_other", "log": "Killed", "memory_gb": 8, "seconds": 85,
              "code": -9}  # fmt: skip
    for message_id in ("evaluation_failed.memory", "evaluation_failed.timeout",
                       "evaluation_failed.crash"):  # fmt: skip
        for language in ("en", "es"):
            text = render(Message(message_id, params), language)
            assert "build_other" in text and text.endswith("Killed")
