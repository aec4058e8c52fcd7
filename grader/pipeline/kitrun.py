"""A self-check run from a student kit alone (`grader.pipeline.kit`): offline, unsandboxed.

The kit's spec, base model and split arrays are checked against its manifest and unpacked
into a private temporary folder; the run's children are plain processes of the student's
(`grader.sandbox.unconfined`). Nothing is prepared or trained: the instructor did it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from grader.errors import GradingError
from grader.layout import CHECK, Layout
from grader.outlock import output_lock
from grader.pipeline.basemodel import MODEL_FILE, TrainedBase
from grader.pipeline.kit import (
    BASE,
    KIT_FORMAT,
    MANIFEST,
    SPEC_JSON,
    SPLITS,
    fingerprint,
    spec_from_json,
    task_splits,
)
from grader.pipeline.run import TRAIN_ARRAYS, Progress, Run
from grader.records import SplitCounts
from grader.sandbox import jobs
from grader.sandbox.unconfined import UnconfinedSandbox
from grader.spec import Assignment

MEMBER_MAX_BYTES = 2**31  # one kit file, unpacked (a split of a large photo assignment)


@contextlib.contextmanager
def open_kit(
    kit: Path, out_dir: Path, progress: Progress | None = None, *, writes_results: bool = False
) -> Iterator[Run]:
    """A self-check run from `kit`; `writes_results` (a full check) locks `out_dir`'s check
    folder as `open_run` does. Released on exit.

    Raises:
        GradingError: the kit is missing, damaged, or made by another kit format.
    """
    with tempfile.TemporaryDirectory(prefix="grader-kit-") as tmp:
        folder = Path(tmp)
        spec, facts, counts = _unpack(Path(kit), folder)
        layout = Layout.for_output(out_dir, spec.id, CHECK)
        lock = output_lock(layout, CHECK) if writes_results else contextlib.nullcontext()
        with lock, UnconfinedSandbox() as box:
            work = jobs.make_work_root()
            try:
                yield Run(
                    assignment=spec,
                    layout=layout,
                    splits_dir=folder / SPLITS,
                    split_key=str(facts["split_key"]),
                    data_fingerprint=str(facts["data_fingerprint"]),
                    sandbox=box,
                    work=work,
                    progress=progress or (lambda *_: None),
                    counts=counts,
                    base=_base(folder, spec, facts.get("base")),
                )
            finally:
                jobs.remove_work_root(work)


def _unpack(kit: Path, folder: Path) -> tuple[Assignment, dict[str, Any], dict[str, SplitCounts]]:
    """Check the kit against its manifest and write its spec, base and arrays into `folder`."""
    try:
        with zipfile.ZipFile(kit) as archive:
            facts = json.loads(_read(archive, MANIFEST))
            if facts.get("kit_format") != KIT_FORMAT:
                raise _damaged(kit, f"kit format {facts.get('kit_format')!r}, not {KIT_FORMAT}")
            spec_bytes = _read(archive, SPEC_JSON)
            if hashlib.sha256(spec_bytes).hexdigest() != facts["spec_sha256"]:
                raise _damaged(kit, f"{SPEC_JSON} does not match {MANIFEST}")
            spec = spec_from_json(json.loads(spec_bytes), folder)
            for name, expected in facts["splits"].items():
                _unpack_split(kit, archive, name, expected["arrays"], folder / SPLITS / name)
            if facts.get("base") is not None:
                base = _read(archive, BASE)
                if hashlib.sha256(base).hexdigest() != facts["base"]["sha256"]:
                    raise _damaged(kit, f"{BASE} does not match {MANIFEST}")
                (folder / MODEL_FILE).write_bytes(base)
            if spec.id != facts["assignment"] or not task_splits(spec) <= set(facts["splits"]):
                raise _damaged(kit, f"{MANIFEST} does not describe {SPEC_JSON}")
            counts = _counts(folder / SPLITS, spec, facts["splits"])
    except FileNotFoundError:
        raise GradingError(
            f"No student kit at {kit}: pass the path of the kit.zip your instructor posted."
        ) from None
    except (OSError, zipfile.BadZipFile, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _damaged(kit, str(exc)) from None  # codec.DecodeError is a ValueError
    return spec, facts, counts


def _unpack_split(
    kit: Path, archive: zipfile.ZipFile, name: str, expected: dict[str, str], target: Path
) -> None:
    """One split's training and validation arrays, as .npy files the jobs link."""
    if name in ("", ".", "..") or Path(name).name != name or "\\" in name:
        raise _damaged(kit, f"split name {name!r}")
    with np.load(io.BytesIO(_read(archive, f"{SPLITS}/{name}.npz")), allow_pickle=False) as npz:
        arrays = {n: npz[n] for n in TRAIN_ARRAYS}
    target.mkdir(parents=True)
    for array_name, array in arrays.items():
        if fingerprint(array) != expected[array_name]:
            raise _damaged(kit, f"{SPLITS}/{name}.npz {array_name} does not match {MANIFEST}")
        np.save(target / f"{array_name}.npy", array, allow_pickle=False)


def _read(archive: zipfile.ZipFile, name: str) -> bytes:
    info = archive.getinfo(name)  # KeyError: the kit lacks it
    if info.file_size > MEMBER_MAX_BYTES:
        raise ValueError(f"{name} is {info.file_size} bytes unpacked")
    return archive.read(info)


def _damaged(kit: Path, why: str) -> GradingError:
    return GradingError(
        f"The student kit {kit} is damaged or not one this grader reads ({why}). Download "
        "it again from your instructor, and install the grader version its README names."
    )


def _counts(splits: Path, spec: Assignment, facts: dict[str, Any]) -> dict[str, SplitCounts]:
    """Images per class of each split the kit holds: training and validation from its
    arrays, the hidden test part's from the manifest (counts only: the images stay with the
    instructor), so a full check records the split as the instructor's own check does."""
    counts = {}
    for name in task_splits(spec):
        n = len(spec.splits[name].classes)
        per = {
            part: tuple(
                int(c) for c in np.bincount(np.load(splits / name / f"y_{part}.npy"), minlength=n)
            )
            for part in ("train", "val")
        }
        test = tuple(int(c) for c in facts[name]["test_per_class"])
        counts[name] = SplitCounts(name, per["train"], per["val"], test)
    return counts


def _base(folder: Path, spec: Assignment, facts: Any) -> TrainedBase | None:
    """The kit's base model, with the provenance the instructor's run records for it."""
    if spec.base_model is None:
        return None
    if facts is None:
        raise GradingError(f"The student kit's {MANIFEST} has no base model, yet its spec has one.")
    try:
        return TrainedBase(
            path=folder / MODEL_FILE,
            val_accuracy=facts.get("val_accuracy"),
            epochs=facts.get("epochs"),
            classes=tuple(facts.get("classes", ())),
            file=str(facts["file"]),
            sha256=str(facts["sha256"]),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise GradingError(f"The student kit's {MANIFEST} has a damaged base: {exc}") from None
