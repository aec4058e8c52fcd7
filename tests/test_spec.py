"""Assignment spec validation: every mistake names the file, the key, the value and the fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.spec import SpecError, load_assignment
from tests.conftest import FIXTURES, ROOT

SHIPPED = ROOT / "assignments" / "transfer-learning"
ONE_TASK = (FIXTURES / "assignments" / "one-task" / "assignment.toml").read_text()


def write_spec(tmp_path: Path, text: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "assignment.toml").write_text(text)
    return tmp_path


def test_shipped_assignment_loads() -> None:
    a = load_assignment(SHIPPED)
    assert a.id == "transfer-learning"
    assert list(a.tasks) == ["scratch", "transfer", "cifar10"]
    assert a.tasks["transfer"].uses_base and a.base_model is not None
    assert a.splits["vehicles"].classes == ("other", "automobile", "truck")
    assert "truck" not in a.splits["vehicles"].sources[0]
    assert a.max_score == sum(c.points for t in a.tasks.values() for c in t.checks) > 0


def test_spec_is_immutable() -> None:
    a = load_assignment(SHIPPED)
    with pytest.raises(AttributeError):
        a.seed = 1  # type: ignore[misc]


def test_spec_hash_changes_with_a_threshold(tmp_path: Path) -> None:
    first = load_assignment(write_spec(tmp_path, ONE_TASK)).spec_hash
    second = load_assignment(write_spec(tmp_path, ONE_TASK.replace("0.1,", "0.2,"))).spec_hash
    assert first != second


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("seed = 7", "seed = 7\nsede = 3", "`sede` must be one of the known keys"),
        ("threshold = 0.1", "treshold = 0.1", "`tasks.scratch.checks[0].treshold`"),
        ("seed = 7", 'seed = "seven"', "Received: seed='seven'"),
        ("threshold = 0.1", "threshold = 1.5", "must be an accuracy in [-1, 1]"),
        (
            "max_epochs = 5",
            "max_epochs = 0",
            "`tasks.scratch.limits.max_epochs` must be a positive",
        ),
        ('split = "vehicles"', 'split = "vehicle"', "one of the splits ['vehicles']"),
        ('kind = "min_test_accuracy"', 'kind = "min_accuracy"', "Received: tasks.scratch.checks"),
        ('"ship"]', '"boat"]', "a list of CIFAR-10 classes"),
        ("train_per_class = 20", "train_per_class = -1", "a count of images per class"),
        ("train_per_class = 20", "train_per_class = 1.5", "a share of each class's images"),
        (
            "train_per_class = 20",
            "train_per_class = 4995",
            "has 5000 images in train/ and the "
            "splits draw 5005 (vehicles.train 4995, vehicles.val 10)",
        ),
        ("epochs = 2,", "epochs = 9,", "at most limits.max_epochs=5"),
        ("seed = 7", "seed = true", "must be an integer"),
        ("seed = 7", 'seed = 7\nallow_custom_objects = "yes"', "must be true or false"),
    ],
)
def test_invalid_spec_names_key_value_and_expectation(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert old in ONE_TASK
    with pytest.raises(SpecError) as info:
        load_assignment(write_spec(tmp_path, ONE_TASK.replace(old, new, 1)))
    message = str(info.value)
    assert expected in message
    assert str(tmp_path / "assignment.toml") in message


def test_custom_objects_are_off_unless_the_spec_allows_them(tmp_path: Path) -> None:
    assert load_assignment(write_spec(tmp_path / "off", ONE_TASK)).allow_custom_objects is False
    allowed = ONE_TASK.replace("seed = 7", "seed = 7\nallow_custom_objects = true", 1)
    assert load_assignment(write_spec(tmp_path / "on", allowed)).allow_custom_objects is True


def test_missing_spec_says_how_to_point_at_one(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no assignment spec here. Pass --assignment DIR"):
        load_assignment(tmp_path)


def test_not_toml(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="not valid TOML"):
        load_assignment(write_spec(tmp_path, "id = [unclosed"))


def test_uses_base_without_base_model(tmp_path: Path) -> None:
    text = ONE_TASK.replace('split = "vehicles"\n', 'split = "vehicles"\nuses_base = true\n', 1)
    with pytest.raises(SpecError, match="a \\[base_model\\] table"):
        load_assignment(write_spec(tmp_path, text))


def test_relabel_must_use_each_cifar_class_once(tmp_path: Path) -> None:
    text = ONE_TASK.replace('"ship"]', '"ship", "truck"]')
    with pytest.raises(SpecError, match="each source class is used once"):
        load_assignment(write_spec(tmp_path, text))


TINY = FIXTURES / "assignments" / "tiny"
FIRST_TASK = """
[tasks.first]
function = "f"
split = "vehicles"
defaults = { epochs = 1 }
limits = { max_epochs = 1, max_params = 1, max_seconds = 1 }
"""


def test_positive_class_is_refused_with_the_fix(tmp_path: Path) -> None:
    """It was read and validated but never used: a key that does nothing must not pass."""
    shutil.copytree(TINY, tmp_path / "tiny")
    spec = tmp_path / "tiny" / "assignment.toml"
    text = spec.read_text().replace('split = "base"\n', 'split = "base"\npositive_class = "a"\n')
    spec.write_text(text)
    with pytest.raises(SpecError, match=r"`base_model.positive_class` is no longer used.*remove"):
        load_assignment(tmp_path / "tiny")


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        # keys, bounds and the compared task come from the check kind (grader/checks.py)
        ('kind = "max_gap", threshold = 0.1, points = 1, compare_to = "x"', "`tasks.scratch."
         "checks[0].compare_to` must be one of the known keys ['kind', 'threshold', 'points', "
         "'partial_from']"),
        ('kind = "max_params", threshold = 0, points = 1', "must be a positive number"),
        ('kind = "beats_scratch", threshold = 0.1, points = 1', "`tasks.scratch.checks[0]."
         "compare_to` must be the id of the task this check compares with, one of []. "
         "Received: tasks.scratch.checks[0].compare_to='<missing>'"),
        ('kind = "beats_scratch", threshold = 0.1, points = 1, compare_to = "scratch"',
         "`tasks.scratch.checks[0].compare_to` must be another task id ['scratch']. Received: "
         "tasks.scratch.checks[0].compare_to='scratch'"),
        ('kind = "min_test_accuracy", threshold = 0.1, points = 1, tresh = 1', "(typo?)"),
    ],
)  # fmt: skip
def test_check_keys_and_bounds_come_from_the_kind(
    tmp_path: Path, check: str, expected: str
) -> None:
    old = 'kind = "min_test_accuracy", threshold = 0.1, points = 1'
    with pytest.raises(SpecError) as info:
        load_assignment(write_spec(tmp_path, ONE_TASK.replace(old, check)))
    assert expected in str(info.value)


def test_a_check_must_be_a_table(tmp_path: Path) -> None:
    text = ONE_TASK.replace('checks = [{ kind = "min_test_accuracy"', 'checks = [3, { kind = "x"')
    with pytest.raises(SpecError, match=r"`tasks.scratch.checks\[0\]` must be a table"):
        load_assignment(write_spec(tmp_path, text))


def test_every_registered_kind_can_be_written_in_a_spec(tmp_path: Path) -> None:
    from grader.checks import KINDS

    for name, kind in KINDS.items():
        threshold = kind.bounds.high if kind.bounds.high < 10 else 100
        other = ', compare_to = "first"' if kind.compares else ""
        check = f'kind = "{name}", threshold = {threshold}, points = 1{other}'
        text = ONE_TASK.replace('kind = "min_test_accuracy", threshold = 0.1, points = 1', check)
        text += FIRST_TASK
        loaded = load_assignment(write_spec(tmp_path / name, text))
        assert loaded.tasks["scratch"].checks[0].kind == name


def test_a_multi_class_base_split_is_accepted(tmp_path: Path) -> None:
    """A base model may be a multi-class classifier (issue 10: a richer feature extractor)."""
    shutil.copytree(TINY, tmp_path / "tiny")
    spec = tmp_path / "tiny" / "assignment.toml"
    base = '[base_model]\nfile = "base_model.py"\nsplit = '
    text = spec.read_text().replace(base + '"base"', base + '"vehicles"')
    assert text != spec.read_text()
    spec.write_text(text)
    assignment = load_assignment(tmp_path / "tiny")
    assert assignment.base_model is not None and assignment.base_model.split == "vehicles"
    assert len(assignment.splits["vehicles"].classes) == 3
