"""`python -m grader new-assignment`: a draft assignment over a photo folder that the grader
loads as written, refuses what it must, and (slow) grades its own starter end to end."""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from grader import scaffold
from grader.errors import DataError, SpecError
from grader.spec import load_assignment

CLASSES = ("cat", "dog", "fox")
MARKERS = (
    "<!-- requirements-table:begin (python -m grader handout writes this) -->",
    "<!-- requirements-table:end -->",
)


def make_photos(root: Path, train: int = 12, test: int = 4, classes=CLASSES) -> Path:
    """Photos of varied sizes, JPEG and PNG; each class its own dominant colour (learnable)."""
    rng = np.random.default_rng(0)
    for part, count in (("train", train), ("test", test)):
        for c, cls in enumerate(classes):
            folder = root / part / cls
            folder.mkdir(parents=True)
            for i in range(count):
                size = (20 + 3 * i, 36 - 2 * (i % 5))
                pixels = rng.integers(0, 90, (size[1], size[0], 3), dtype=np.uint8)
                pixels[..., c % 3] += 160
                suffix = ".png" if i % 2 else ".jpg"
                Image.fromarray(pixels).save(folder / f"{i:03d}{suffix}")
    return root


def new_assignment(*argv: str | Path) -> int:
    """Run the subcommand the way the CLI does: its own parser, parsed, then `run`."""
    parser = argparse.ArgumentParser(prog="grader")
    scaffold.add_parser(parser.add_subparsers(dest="command", required=True))
    return scaffold.run(parser.parse_args(["new-assignment", *map(str, argv)]))


def test_draft_loads_with_one_split_over_every_class(tmp_path: Path) -> None:
    photos = make_photos(tmp_path / "photos")
    target = tmp_path / "Pets 2026"
    assert new_assignment(target, "--data", photos, "--image-size", "24", "32") == 0

    spec = load_assignment(target)
    assert spec.id == "pets-2026" and spec.language == "en"
    assert spec.data.source == "folder" and spec.data.image_size == (24, 32)
    assert spec.data.pixel_range == (0, 255)
    assert Path(spec.data.path or "") == photos.resolve()  # outside the folder: absolute
    (split,) = spec.splits.values()
    assert split.classes == CLASSES
    assert (split.train_per_class, split.val_per_class, split.test_per_class) == (0.6, 0.2, 1.0)
    assert spec.base_model is not None and spec.base_model.split == split.name
    assert spec.base_model.file == "base_model.py" and not spec.base_model.from_file
    assert list(spec.tasks) == ["scratch", "transfer"]
    scratch, transfer = spec.tasks["scratch"], spec.tasks["transfer"]
    assert (scratch.function, transfer.function) == ("build_scratch", "build_transfer")
    assert transfer.uses_base and not scratch.uses_base
    beats = [c for c in transfer.checks if c.kind == "beats_scratch"]
    assert beats and beats[0].compare_to == "scratch" and beats[0].threshold == -1.0
    accuracy = {c.threshold for t in spec.tasks.values() for c in t.checks
                if c.kind == "min_test_accuracy"}  # fmt: skip
    assert accuracy == {0.33}  # 1/3 rounded down
    assert {c.threshold for c in scratch.checks if c.kind == "max_gap"} == {0.5}


def test_draft_files_are_valid_and_say_what_they_are(tmp_path: Path) -> None:
    target = tmp_path / "pets"
    new_assignment(target, "--data", make_photos(tmp_path / "photos"), "--pixel-range", "0-1",
                   "--language", "es")  # fmt: skip
    base = (target / "base_model.py").read_text(encoding="utf-8")
    starter = (target / "starter" / "submission.py").read_text(encoding="utf-8")
    for source in (base, starter):
        ast.parse(source)
        assert "Rescaling" not in source  # pixels already in [0, 1]
    assert "STUB" in ast.get_docstring(ast.parse(base))  # type: ignore[operator]
    assert "NUM_CLASSES = 3" in base
    assert "base_model.input_shape[1:]" in starter and "TRAINING = {" in starter
    readme = (target / "README.md").read_text(encoding="utf-8")
    begin, end = readme.index(MARKERS[0]), readme.index(MARKERS[1])
    assert len(readme[begin + len(MARKERS[0]) : end].strip().splitlines()) == 1
    assert "Qué construyes" in readme
    spec = load_assignment(target)
    assert spec.language == "es" and spec.data.pixel_range == (0, 1)


def test_rescaling_comes_first_for_pixels_in_0_255(tmp_path: Path) -> None:
    target = tmp_path / "pets"
    new_assignment(target, "--data", make_photos(tmp_path / "photos"))
    for name in ("base_model.py", "starter/submission.py"):
        source = (target / name).read_text(encoding="utf-8")
        assert source.index("Rescaling(1 / 255") < source.index("Conv2D"), name


def test_data_inside_the_folder_is_relative_and_not_in_the_way(tmp_path: Path) -> None:
    target = tmp_path / "pets"
    photos = make_photos(target / "data" / "photos")
    before = sorted(p.relative_to(photos) for p in photos.rglob("*"))
    new_assignment(target, "--data", photos)  # the data alone does not make it "non-empty"
    spec = load_assignment(target)
    assert spec.data.path == "data/photos"
    assert sorted(p.relative_to(photos) for p in photos.rglob("*")) == before


def test_test_share_comes_from_train_without_a_test_folder(tmp_path: Path) -> None:
    photos = make_photos(tmp_path / "photos", train=10, test=0)
    shutil.rmtree(photos / "test")
    new_assignment(tmp_path / "pets", "--data", photos)
    (split,) = load_assignment(tmp_path / "pets").splits.values()
    assert split.test_per_class == 0.2


def test_zip_works(tmp_path: Path) -> None:
    photos = make_photos(tmp_path / "photos")
    archive = tmp_path / "pets" / "photos.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zf:
        for file in sorted(photos.rglob("*.*")):
            zf.write(file, Path("photos") / file.relative_to(photos))
    new_assignment(tmp_path / "pets", "--data", archive)
    spec = load_assignment(tmp_path / "pets")
    assert spec.data.path == "photos.zip"
    assert next(iter(spec.splits.values())).classes == CLASSES


def test_non_empty_folder_is_refused_without_force(tmp_path: Path) -> None:
    photos = make_photos(tmp_path / "photos")
    target = tmp_path / "pets"
    target.mkdir()
    (target / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(SpecError, match=r"not empty \(it holds notes\.txt\).*--force"):
        new_assignment(target, "--data", photos)
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]  # nothing written
    (target / "assignment.toml").write_text("old", encoding="utf-8")
    new_assignment(target, "--data", photos, "--force")
    assert (target / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert load_assignment(target).id == "pets"


def test_writing_into_the_data_is_refused(tmp_path: Path) -> None:
    photos = make_photos(tmp_path / "photos")
    with pytest.raises(SpecError, match="inside the data"):
        new_assignment(photos, "--data", photos, "--force")
    assert not (photos / "assignment.toml").exists()


def test_class_with_too_few_images_is_named(tmp_path: Path) -> None:
    photos = make_photos(tmp_path / "photos")
    for extra in sorted((photos / "train" / "dog").iterdir())[1:]:
        extra.unlink()
    with pytest.raises(DataError) as caught:
        new_assignment(tmp_path / "pets", "--data", photos)
    message = str(caught.value)
    assert "'dog': 1 image(s) in train/ and 4 in test/" in message
    assert "'cat'" not in message and "at least 10 in train/" in message
    assert not (tmp_path / "pets").exists()


def test_bad_options_are_refused(tmp_path: Path) -> None:
    photos = make_photos(tmp_path / "photos")
    with pytest.raises(SpecError, match="--image-size 4 64"):
        new_assignment(tmp_path / "pets", "--data", photos, "--image-size", "4", "64")
    with pytest.raises(DataError, match="does not exist"):
        new_assignment(tmp_path / "pets", "--data", tmp_path / "missing")
    with pytest.raises(DataError, match="no train/ folder"):
        new_assignment(tmp_path / "pets", "--data", photos / "train")


@pytest.mark.slow
def test_starter_of_a_draft_grades_end_to_end(tmp_path: Path) -> None:
    from grader.pipeline.grading import grade_assignment
    from grader.report import render_student_report

    target = tmp_path / "pets"
    new_assignment(target, "--data", make_photos(target / "photos"), "--image-size", "16", "16")
    spec_file = target / "assignment.toml"
    spec, n = re.subn(r"epochs = 10\b", "epochs = 2", spec_file.read_text(encoding="utf-8"))
    assert n == 3  # the base model's training and both tasks' defaults
    spec_file.write_text(spec, encoding="utf-8")
    submission = tmp_path / "submissions" / "starter"
    shutil.copytree(target / "starter", submission)
    code = (submission / "submission.py").read_text(encoding="utf-8")
    (submission / "submission.py").write_text(code.replace('"epochs": 10', '"epochs": 2'))

    (result,) = grade_assignment(target, submissions=submission.parent, out_dir=tmp_path / "out")
    stored = result.to_json()
    for task_id, task in stored["tasks"].items():
        assert task["status"] == "ok", (task_id, task["error"])
        assert task["epochs"] == 2
    assert "transfer.beats_scratch" in {c["id"] for c in stored["checks"]}
    assert (tmp_path / "out" / "pets" / "results" / "starter.json").is_file()
    (page,) = render_student_report(result, tmp_path / "reports", formats=("html",))
    html = page.read_text(encoding="utf-8")
    assert "Grading report: starter" in html and "transfer" in html
