"""The student kit: what `grader kit` writes (never the hidden test split), and `check --kit`
from the kit alone, unsandboxed, from an installed wheel in a fresh virtual environment."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from grader import __version__, sandbox
from grader.cli import FAILED, OK, USAGE, main
from grader.pipeline import selfcheck
from grader.pipeline.kit import fingerprint, npz_bytes, spec_from_json, spec_to_json
from grader.pipeline.run import TRAIN_ARRAYS
from grader.pipeline.studentcheck import CheckTable
from grader.sandbox.unconfined import NOTICE, UNCONFINED
from grader.spec import load_assignment
from tests.test_new_assignment import make_photos, new_assignment
from tests.test_packaging import build_wheel, install, run_grader

ROOT = Path(__file__).resolve().parent.parent
MEMBERS = {"assignment.toml", "spec.json", "base.keras", "kit.json", "README.txt"}
FILE_BASE = """[base_model]
file = "base.keras"
input_shape = [16, 16, 3]
pixel_range = [0, 255]
"""
BROKEN = """import keras
from keras import layers


def build_scratch(input_shape, num_classes):
    model = keras.Sequential([keras.Input(shape=input_shape), layers.Flatten(),
                              layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model
"""  # two output units for three classes; no build_transfer at all


def draft(folder: Path, saved_base: bool) -> Path:
    """The new-assignment scaffold's draft over 16x16 photos, trained 1 epoch; its base
    model a saved .keras file, or the scaffold's builder the grader trains."""
    new_assignment(folder, "--data", make_photos(folder / "photos"), "--image-size", "16", "16")
    spec_file = folder / "assignment.toml"
    spec = re.sub(r"epochs = 10\b", "epochs = 1", spec_file.read_text(encoding="utf-8"))
    if saved_base:
        spec = re.sub(r"\n\[base_model\]\n(.+\n){4}", "\n" + FILE_BASE, spec)
        save_base(folder / "base.keras")
    spec_file.write_text(spec, encoding="utf-8")
    starter = folder / "starter" / "submission.py"
    starter.write_text(starter.read_text(encoding="utf-8").replace('"epochs": 10', '"epochs": 1'))
    return folder


def save_base(path: Path) -> None:
    import keras

    layers = keras.layers
    model = keras.Sequential(
        [keras.Input((16, 16, 3)), layers.Rescaling(1 / 255), layers.Conv2D(4, 3),
         layers.GlobalAveragePooling2D(), layers.Dense(3, activation="softmax")],
        name="base",
    )  # fmt: skip
    model.save(path)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(the assignment folder, the instructor's output folder, the kit) of a saved base."""
    root = tmp_path_factory.mktemp("kit")
    assignment = draft(root / "pets", saved_base=True)
    kit = root / "pets-kit.zip"
    argv = ["kit", "--assignment", str(assignment), "--output", str(kit), "--out"]
    assert main([*argv, str(root / "out")]) == OK
    return assignment, root / "out", kit


def cached(out: Path, split: str = "main") -> dict[str, np.ndarray]:
    """The instructor's cached split arrays, hidden test ones included."""
    (folder,) = (p.parent for p in out.glob(f"cache/splits/*/{split}/x_test.npy"))
    return {p.stem: np.load(p, allow_pickle=False) for p in folder.glob("*.npy")}


def test_kit_holds_spec_base_public_splits_manifest_and_readme(made: tuple) -> None:
    assignment, out, kit = made
    with zipfile.ZipFile(kit) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    assert set(files) == MEMBERS | {"splits/main.npz"}
    assert files["assignment.toml"] == (assignment / "assignment.toml").read_bytes()
    spec = load_assignment(assignment, reference_required=False)
    assert spec_from_json(json.loads(files["spec.json"]), spec.directory) == spec
    assert files["base.keras"] == (assignment / "base.keras").read_bytes()
    with np.load(io.BytesIO(files["splits/main.npz"]), allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    assert sorted(arrays) == sorted(TRAIN_ARRAYS)
    instructor = cached(out)
    for name in TRAIN_ARRAYS:  # exactly the instructor's arrays: the same validation numbers
        assert arrays[name].dtype == instructor[name].dtype
        np.testing.assert_array_equal(arrays[name], instructor[name])
    assert arrays["x_train"].dtype == np.uint8 and arrays["x_train"].shape[1:] == (16, 16, 3)
    manifest = json.loads(files["kit.json"])
    assert manifest["assignment"] == "pets" and manifest["grader_version"] == __version__
    assert manifest["base"]["sha256"] == hashlib.sha256(files["base.keras"]).hexdigest()
    prints = manifest["splits"]["main"]["arrays"]
    assert prints == {name: fingerprint(array) for name, array in arrays.items()}
    assert "check --kit pets-kit.zip submission.ipynb" in files["README.txt"].decode()


def test_kit_holds_no_hidden_test_image_or_label(made: tuple) -> None:
    _, out, kit = made
    test = cached(out)
    assert len(test["x_test"]) == 12  # 4 photos per class in test/
    with zipfile.ZipFile(kit) as archive:
        contents = [archive.read(name) for name in archive.namelist()]
        assert not [n for n in archive.namelist() if "test" in n or n.endswith((".jpg", ".png"))]
    with _npz(kit) as npz:
        public = np.concatenate([npz["x_train"], npz["x_val"]])
    for image in test["x_test"]:  # neither as an array row nor as bytes in any file
        assert not (public == image).all(axis=(1, 2, 3)).any()
        assert not any(image.tobytes() in content for content in contents)
    assert not any(test["y_test"].tobytes() in content for content in contents)


def _npz(kit: Path) -> np.lib.npyio.NpzFile:
    with zipfile.ZipFile(kit) as archive:
        return np.load(io.BytesIO(archive.read("splits/main.npz")), allow_pickle=False)


def test_every_shipped_spec_survives_the_kit_json(tmp_path: Path) -> None:
    tiny = shutil.copytree(ROOT / "tests" / "fixtures" / "assignments" / "tiny", tmp_path / "t")
    (tiny / "solution.py").write_text("def build_scratch(input_shape, num_classes): ...\n")
    with open(tiny / "assignment.toml", "a", encoding="utf-8") as spec_file:
        spec_file.write('\n[reference]\npath = "solution.py"\n')
    for folder in [*sorted((ROOT / "assignments").iterdir()), tiny]:
        spec = load_assignment(folder, reference_required=False)
        stored = json.loads(json.dumps(spec_to_json(spec)))
        if spec.reference is not None:  # a student's copy: the solution's hash is not in it
            assert spec.reference.content_hash and spec.reference.content_hash not in str(stored)
            reference = dataclasses.replace(spec.reference, content_hash=None)
            spec = dataclasses.replace(spec, reference=reference)
        assert spec_from_json(stored, spec.directory) == spec, folder.name
    assert spec.reference is not None


def test_a_damaged_kit_is_refused_with_the_fix(made: tuple, tmp_path: Path, capsys) -> None:
    _, _, kit = made
    damaged = tmp_path / "kit.zip"
    with zipfile.ZipFile(kit) as source, zipfile.ZipFile(damaged, "w") as target:
        for name in source.namelist():
            content = source.read(name)
            if name == "splits/main.npz":  # a whole .npz, one validation label changed
                with np.load(io.BytesIO(content), allow_pickle=False) as npz:
                    arrays = {array: npz[array] for array in npz.files}
                arrays["y_val"][0] = (arrays["y_val"][0] + 1) % 3
                content = npz_bytes(arrays)
            target.writestr(name, content)
    submission = tmp_path / "submission.py"
    submission.write_text("x = 1\n")
    assert main(["check", "--kit", str(damaged), str(submission)]) == USAGE
    said = capsys.readouterr().err
    assert "y_val does not match kit.json" in said and "Download it again" in said
    assert "Traceback" not in said
    assert main(["check", "--kit", str(tmp_path / "none.zip"), str(submission)]) == USAGE
    assert "No student kit at" in capsys.readouterr().err


def test_the_notebook_table_escapes_what_it_quotes() -> None:
    row = selfcheck.Row("scratch", "one output unit", selfcheck.PROBLEM, "<script>x</script>")
    table = CheckTable((row,))
    assert "<script>" not in table._repr_html_() and "&lt;script&gt;" in table._repr_html_()
    assert "<script>x</script>" in str(table) and "1 problem(s) found." in str(table)
    assert not table.ok


def test_grading_never_runs_unconfined(made: tuple, tmp_path: Path, capsys) -> None:
    assignment, _, kit = made
    assert UNCONFINED not in sandbox.LEVELS
    with pytest.raises(SystemExit) as refused:
        main(["grade", "--assignment", str(assignment), "--isolation", UNCONFINED])
    assert refused.value.code == USAGE
    with pytest.raises(ValueError):
        sandbox.detect(UNCONFINED)
    submission = tmp_path / "submission.py"
    submission.write_text("x = 1\n")
    forced = ["check", "--kit", str(kit), "--isolation", "rlimits", str(submission)]
    assert main(forced) == USAGE
    assert "runs unsandboxed" in capsys.readouterr().err


def test_import_grader_stays_cheap() -> None:
    code = "import sys, grader; assert callable(grader.check); print(sorted(sys.modules))"
    cheap = "import sys, grader; print(sorted(sys.modules))"
    loaded = subprocess.check_output([sys.executable, "-c", cheap], text=True, cwd=ROOT)
    assert "numpy" not in loaded and "tensorflow" not in loaded and "grader.pipeline" not in loaded
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True)


# Slow: the children train (a few steps, or one epoch of 21 images).


@pytest.mark.slow
def test_notebook_check_from_the_kit_alone(made: tuple, tmp_path: Path) -> None:
    from grader import check

    assignment, _, kit = made
    away = tmp_path / "elsewhere"  # neither the assignment folder nor its photos are read
    shutil.move(assignment, away)
    try:
        table = check(away / "starter" / "submission.py", kit=kit, out=tmp_path / "out")
    finally:
        shutil.move(away, assignment)
    assert table.ok and not [row for row in table.rows if row.status != selfcheck.OK]
    assert {row.task for row in table.rows} == {"scratch", "transfer"}
    assert NOTICE in str(table) and "No problems found." in str(table)
    page = table._repr_html_()
    assert page.count("<tr>") == len(table.rows) + 1 and "unsandboxed" in page
    assert not (tmp_path / "out").exists()  # a quick check writes nothing


@pytest.mark.slow
def test_full_check_from_the_kit_shows_the_instructors_validation_numbers(
    made: tuple, tmp_path: Path
) -> None:
    assignment, out, kit = made
    starter = assignment / "starter" / "submission.py"
    _, mine = selfcheck.check_submission(starter, out_dir=tmp_path / "student", full=True, kit=kit)
    _, theirs = selfcheck.check_submission(
        starter, assignment_dir=assignment, out_dir=out, full=True
    )
    assert mine is not None and theirs is not None
    assert mine.provenance.isolation == UNCONFINED != theirs.provenance.isolation
    for task in ("scratch", "transfer"):
        ours, instructor = mine.tasks[task], theirs.tasks[task]
        assert ours.ok and ours.metrics == instructor.metrics, task
        assert ours.history == instructor.history and ours.split == instructor.split


@pytest.mark.slow
def test_a_builder_base_comes_from_the_trained_cache(tmp_path: Path) -> None:
    assignment = draft(tmp_path / "pets", saved_base=False)
    kit, out = tmp_path / "kit.zip", tmp_path / "out"
    argv = ["kit", "--assignment", str(assignment), "--output", str(kit), "--out", str(out)]
    assert main(argv) == OK  # trains the base first: nothing is cached yet
    (trained,) = out.glob("cache/base/*/base.keras")
    with zipfile.ZipFile(kit) as archive:
        assert archive.read("base.keras") == trained.read_bytes()
        assert "base_model.py" not in archive.namelist()
        manifest = json.loads(archive.read("kit.json"))
    assert manifest["base"]["epochs"] == 1 and manifest["base"]["classes"] == ["cat", "dog", "fox"]


@pytest.mark.slow
def test_installed_wheel_checks_good_and_broken_submissions_from_a_kit(
    made: tuple, tmp_path: Path
) -> None:
    """Done when: the wheel, installed non-editable in a fresh venv, runs `check --kit` on a
    good and a broken submission, in a folder outside the checkout."""
    assignment, _, kit = made
    python = install(build_wheel(tmp_path), tmp_path / "venv")
    student = tmp_path / "student"
    (student / "broken").mkdir(parents=True)
    shutil.copy(kit, student / "kit.zip")
    shutil.copy(assignment / "starter" / "submission.py", student / "submission.py")
    (student / "broken" / "submission.py").write_text(BROKEN, encoding="utf-8")
    where = subprocess.check_output([python, "-c", "import grader; print(grader.__file__)"],
                                    cwd=student, text=True)  # fmt: skip
    assert Path(where.strip()).is_relative_to(tmp_path / "venv"), where

    good = run_grader(python, student, "check", "--kit", "kit.zip", "submission.py")
    said = good.stdout + good.stderr
    assert good.returncode == OK, said
    assert NOTICE in good.stderr and "No problems found." in good.stdout
    assert "reuses the pre-trained base" in good.stdout

    broken = run_grader(python, student, "check", "--kit", "kit.zip", "broken")
    said = broken.stdout + broken.stderr
    assert broken.returncode == FAILED, said
    assert "Traceback" not in said and "internal error" not in said
    assert re.search(r"transfer\s+imports and defines the function\s+problem", broken.stdout)
    assert re.search(r"scratch\s+one output unit per class\s+problem", broken.stdout)
    left = {p.name for p in student.iterdir()}  # a quick check writes no output folder
    assert left == {"broken", "kit.zip", "mpl", "submission.py"}
