"""The student kit: one zip an instructor posts, from which a student self-checks offline.

It holds the spec (`assignment.toml` as written, and `spec.json`, the spec as the grader read
it), the trained base model (`base.keras`), each task's split as the instructor's own cached
training and validation arrays (`splits/<split>.npz`, never the hidden test part), a manifest
of their fingerprints and a README. A kit self-check (`grader.pipeline.kitrun`) reads only
these: no data archive, no assignment folder, no base training.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import typing
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grader import __version__, codec
from grader.assignment import Assignment
from grader.atomic import write_atomic
from grader.layout import CHECK
from grader.pipeline.run import TRAIN_ARRAYS, Progress, Run, RunConfig, open_run

KIT_FORMAT = 1
SPEC_TOML, SPEC_JSON, BASE, MANIFEST, README = (
    "assignment.toml", "spec.json", "base.keras", "kit.json", "README.txt",
)  # fmt: skip
SPLITS = "splits"
README_TEXT = """\
Self-check kit for the assignment "{title}" ({id}), made by grader {version}.

1. Install the grader and TensorFlow (2.16 or later, Keras 3):  pip install grader tensorflow
2. From a terminal, in the folder holding your work:
       python -m grader check --kit {kit} submission.ipynb
   (or submission.py, or the folder holding it). In a notebook:
       from grader import check
       check("submission.ipynb", kit="{kit}")

The quick check builds each model and trains it a few steps; add --full (full=True in a
notebook) to train it as the instructor will, on the same training data, and see the same
validation numbers. It runs your code on your machine without a sandbox (it is your own
code); the instructor's grading is sandboxed and uses a hidden test split this kit does not
hold. Keep this zip as it is: the grader checks its files against kit.json.
"""


@dataclass(frozen=True)
class KitSummary:
    """What a kit holds, for the instructor's terminal."""

    path: Path
    splits: tuple[str, ...]
    images: int  # training and validation images, all splits together
    bytes: int

    def describe(self) -> str:
        return (
            f"{self.path} ({self.bytes / 2**20:.1f} MB): the spec, the base model, "
            f"{self.images} training and validation images of {', '.join(self.splits)}; "
            "no hidden test data"
        )


def build_kit(
    assignment: Path,
    output: Path,
    out_dir: Path,
    data_dir: Path | None,
    *,
    isolation: str | None = None,
    memory_cap: str | None = None,
    progress: Progress | None = None,
) -> KitSummary:
    """Prepare the instructor's run (split cache; the base model, trained in the sandbox if
    not cached yet) and write its public part to `output`.

    Raises:
        SpecError, DataError, GradingError: as `open_run` does.
    """
    config = RunConfig(assignment, out_dir, data_dir, isolation, memory_cap, CHECK, progress)
    with open_run(config) as run:
        members, images = kit_members(run, output.name)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as kit:
        for name, content in members.items():
            kit.writestr(name, content)
    write_atomic(output, buffer.getvalue())
    splits = tuple(sorted(task_splits(run.assignment)))
    return KitSummary(output, splits, images, len(buffer.getvalue()))


def kit_members(run: Run, kit_name: str) -> tuple[dict[str, bytes], int]:
    """The kit's files by name, and how many images they hold."""
    spec = run.assignment
    members = {SPEC_TOML: (spec.directory / "assignment.toml").read_bytes()}
    members[SPEC_JSON] = json.dumps(spec_to_json(spec), indent=1).encode()
    splits, images = {}, 0
    for name in sorted(task_splits(spec)):
        arrays = {n: np.load(run.splits_dir / name / f"{n}.npy") for n in TRAIN_ARRAYS}
        members[f"{SPLITS}/{name}.npz"] = npz_bytes(arrays)
        splits[name] = {
            "arrays": {n: fingerprint(a) for n, a in arrays.items()},
            "test_per_class": list(run.counts[name].test),  # counts only, for the records
        }
        images += len(arrays["x_train"]) + len(arrays["x_val"])
    base = None
    if run.base is not None:
        members[BASE] = run.base.path.read_bytes()
        base = {"sha256": hashlib.sha256(members[BASE]).hexdigest(), **run.base.provenance()}
    manifest = {
        "kit_format": KIT_FORMAT,
        "assignment": spec.id,
        "grader_version": __version__,
        "spec_sha256": hashlib.sha256(members[SPEC_JSON]).hexdigest(),
        "split_key": run.split_key,
        "data_fingerprint": run.data_fingerprint,
        "splits": splits,
        "base": base,
    }
    members[MANIFEST] = json.dumps(manifest, indent=1, sort_keys=True).encode()
    readme = README_TEXT.format(title=spec.title, id=spec.id, version=__version__, kit=kit_name)
    members[README] = readme.encode()
    return members, images


def task_splits(spec: Assignment) -> set[str]:
    """The splits the tasks train on (the base model's own split is not needed: the kit
    holds the trained base)."""
    return {task.split for task in spec.tasks.values()}


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """The arrays as an uncompressed .npz (the zip around it compresses), never pickled."""
    buffer = io.BytesIO()
    for array in arrays.values():
        assert array.dtype != object  # images uint8, labels int32
    np.savez(buffer, allow_pickle=False, **arrays)
    return buffer.getvalue()


def fingerprint(array: np.ndarray) -> str:
    """SHA-256 of an array's dtype, shape and bytes."""
    digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


# The spec as JSON: every field of `Assignment` but its folder (the student's is the kit).


def _stored_spec_type() -> type:
    hints = typing.get_type_hints(Assignment)
    fields = [(f.name, hints[f.name]) for f in dataclasses.fields(Assignment)]
    return dataclasses.make_dataclass(
        "StoredSpec", [f for f in fields if f[0] != "directory"], frozen=True
    )


def spec_to_json(spec: Assignment) -> dict[str, Any]:
    """The spec a kit holds: a student's copy, without the reference solution's hash."""
    stored = codec.to_json(spec)
    del stored["directory"]
    if stored["reference"] is not None:
        stored["reference"]["content_hash"] = None  # as loaded where the solution is absent
    return typing.cast(dict[str, Any], stored)


def spec_from_json(data: Any, directory: Path) -> Assignment:
    """The spec a kit holds, with `directory` as its folder.

    Raises:
        codec.DecodeError: the JSON is not a spec of this grader's.
    """
    stored: Any = codec.from_json(_stored_spec_type(), data)
    values = {f.name: getattr(stored, f.name) for f in dataclasses.fields(stored)}
    return Assignment(directory=directory, **values)
