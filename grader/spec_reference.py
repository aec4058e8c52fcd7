"""The instructors' reference to `assignment.toml`, written from `grader.spec_keys` (never by
hand): `python -m grader spec-reference` (`make spec-reference`) writes
docs/assignment-reference.md, and `--check` fails when that file is out of date."""

from __future__ import annotations

import sys
from pathlib import Path

from grader import checks
from grader.atomic import write_atomic
from grader.spec_keys import KIND_MEANINGS, TABLES
from grader.spec_schema import Derived, Key, Table, toml

INTRO = """\
# `assignment.toml` reference

<!-- Written by `python -m grader spec-reference` (`make spec-reference`) from
grader/spec_keys.py; edit that file, not this one. -->

An assignment is a folder holding `assignment.toml`, the files it names (a base model, a
reference solution, image folders) and the students' handout. The grader reads the spec once,
checks every key, and stops with a message naming the file, the key, the value received and
what is expected; a key it does not know is an error, never ignored (a typo must not pass
silently). Loading a spec lists an image folder's classes but never reads an image.

Below, every table and every key it may hold: its type, its default ("required": it has
none), the values allowed, and what it means. `<name>` and `<id>` stand for names you choose.
"""

CIFAR10_EXAMPLE = """\
# A minimal CIFAR-10 assignment: one task, one check.
id = "cats-dogs"
title = "Cats and dogs from CIFAR-10"
seed = 1234                      # fixes the split and every training

[splits.pets]
classes = ["cat", "dog"]
train_per_class = 500
val_per_class = 100
test_per_class = 500             # from CIFAR-10's test images: the hidden test

[tasks.scratch]
title = "A CNN from scratch"
function = "build_scratch"       # build_scratch(input_shape, num_classes)
split = "pets"
defaults = { epochs = 10 }
limits = { max_epochs = 20, max_params = 500_000, max_seconds = 300 }

[[tasks.scratch.checks]]
kind = "min_test_accuracy"
threshold = 0.65
points = 3
"""

FOLDER_EXAMPLE = """\
# An image-folder assignment on a saved pre-trained model (.keras), in Spanish.
id = "animals"
title = "Transferencia con fotos de animales"
language = "es"
seed = 7

[data]
source = "folder"
path = "data"                    # data/train/<class>/*.jpg (no test/: the test comes from train/)
image_size = [96, 96]
resize = "crop"
pixel_range = [0, 255]

[splits.animals]                 # every class of data/train/, shares of each class's images
train_per_class = 0.6
val_per_class = 0.2
test_per_class = 0.2

[base_model]
file = "base_model.keras"        # saved by Keras 3 with model.save("base_model.keras")
input_shape = [96, 96, 3]        # as saved: [data] image_size + [3]
pixel_range = [0, 255]           # as [data] hands it

[tasks.transfer]
function = "build_transfer"      # build_transfer(base_model, num_classes)
split = "animals"
uses_base = true
defaults = { epochs = 10, batch_size = 32 }
limits = { max_epochs = 20, max_params = 3_000_000, max_seconds = 600 }

[[tasks.transfer.checks]]
kind = "reuses_base"
threshold = 10                   # pre-trained layers the model holds, weights unchanged
points = 2

[[tasks.transfer.checks]]
kind = "min_test_accuracy"
threshold = { reference = -0.05 }  # the reference solution's accuracy minus 0.05
partial_from = { reference = -0.15 }
points = 4

[reference]
path = "reference/submission.py"
"""


def default_text(key: Key) -> str:
    if isinstance(key.default, Derived):
        return key.default.text if key.default.text == "required" else f"*{key.default.text}*"
    if key.default is None:
        return "none"
    return f"`{toml(key.default)}`"


def table_section(table: Table) -> str:
    header = "| key | type | default | allowed | meaning |\n| --- | --- | --- | --- | --- |"
    lines = [f"## {table.title}", "", table.intro, "", header]
    for key in table.keys:
        cells = [f"`{key.name}`", key.type, default_text(key), key.allowed_text() or "—",
                 key.meaning]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def kinds_section() -> str:
    lines = [
        "## Check kinds",
        "",
        "Each `[[tasks.<id>.checks]]` names one `kind`. A measured value comes with its 95 % "
        "interval: a threshold inside it makes the check borderline (see `borderline`). A "
        "kind that does not measure learning counts only above the learning floor (see "
        "`learning_floor`).",
        "",
        "| kind | passes when the value is | threshold | `compare_to` | `partial_from` | "
        "relative threshold | measures learning | meaning |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    yes_no = {True: "yes", False: "no"}
    for name, kind in checks.KINDS.items():
        cells = [f"`{name}`", "≤ threshold" if kind.at_most else "≥ threshold",
                 kind.bounds.expected, "required" if kind.compares else "—",
                 yes_no[kind.ramps], yes_no[kind.relative], yes_no[kind.learning],
                 KIND_MEANINGS[name]]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def examples_section() -> str:
    return "\n".join([
        "## Examples", "", "A CIFAR-10 assignment (the smallest valid spec, plus a title):", "",
        "```toml", CIFAR10_EXAMPLE.rstrip(), "```", "",
        "An assignment on the instructor's own photos, with a saved base model and thresholds "
        "relative to a reference solution:", "", "```toml", FOLDER_EXAMPLE.rstrip(), "```",
    ])  # fmt: skip


def document() -> str:
    """The whole reference, in Markdown."""
    parts = [INTRO.rstrip(), *(table_section(t) for t in TABLES), kinds_section(),
             examples_section()]  # fmt: skip
    return "\n\n".join(parts) + "\n"


def write_or_check(output: Path, check: bool) -> int:
    """Write the reference to `output` (0), or with `check` say whether it is current (0/1)."""
    new = document()
    if check:
        old = output.read_text(encoding="utf-8") if output.is_file() else None
        if old != new:
            print(f"{output} is out of date: run `make spec-reference`", file=sys.stderr)
            return 1
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(output, new)
    print(f"{output}: written from grader/spec_keys.py")
    return 0
