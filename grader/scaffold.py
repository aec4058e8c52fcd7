"""`python -m grader new-assignment`: a working first draft of an assignment over a folder of
photos (commented spec, stub base model, starter, handout stub), for the instructor to finish.

The draft grades end to end as written: the starter passes its placeholder checks, so the
instructor's first `grade` run shows the pipeline working before any threshold is tuned.
The file texts are Jinja2 templates in `templates/new-assignment.*.j2`.
"""

from __future__ import annotations

import argparse
import json
import shlex
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.assignment import LANGUAGES, SUBSETS, Split, drawn, part_of
from grader.atomic import write_atomic
from grader.errors import DataError, SpecError
from grader.resources import templates_dir
from grader.safetext import clean
from grader.spec_data import MAX_SIDE

SPLIT = "main"  # the one split both tasks (and the stub base model) use
SHARES = {"train": 0.6, "val": 0.2, "test": 0.2}  # of each class's train/ images
TEST_SHARE_OF_TEST = 1.0  # the whole of test/, when the data has one
MIN_PER_PART = 2  # images per class in each of train/val/test, or the draft is refused
EPOCHS, BATCH_SIZE = 10, 32  # modest defaults: a first grading runs in minutes
MAX_EPOCHS, MAX_PARAMS, MAX_SECONDS = 30, 1_000_000, 300
PIXEL_RANGES = {"0-1": (0, 1), "0-255": (0, 255)}
FILES = {  # what is written, relative to the assignment folder -> its template
    "assignment.toml": "new-assignment.toml.j2",
    "base_model.py": "new-assignment.base_model.py.j2",
    "starter/submission.py": "new-assignment.submission.py.j2",
    "README.md": "new-assignment.README.md.j2",
}
SHOWN = 10  # names listed in a message before "and N more"


@dataclass(frozen=True)
class Survey:
    """What the data holds, as the draft's split would draw it."""

    classes: tuple[str, ...]
    has_test: bool
    split: Split
    draws: dict[str, dict[str, int]]  # class -> subset -> images drawn
    notes: tuple[str, ...]  # files the folder reader skipped, and why


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add the `new-assignment` subcommand to the CLI's subcommands."""
    parser = commands.add_parser(
        "new-assignment",
        help="write a draft assignment (spec, base model, starter, handout) for a photo folder",
    )
    parser.add_argument("directory", type=Path, help="the assignment folder to write (new/empty)")
    parser.add_argument("--data", type=Path, required=True,
                        help="a folder or .zip laid out train/<class>/*.jpg (and optionally "
                        "test/<class>/*)")  # fmt: skip
    parser.add_argument("--image-size", type=int, nargs=2, default=[64, 64], metavar=("H", "W"),
                        help="the size every image is fitted to (default: 64 64)")  # fmt: skip
    parser.add_argument("--pixel-range", choices=list(PIXEL_RANGES), default="0-255",
                        help="pixel values models are handed (default: 0-255, as Keras' "
                        "image_dataset_from_directory gives them)")  # fmt: skip
    parser.add_argument("--language", choices=list(LANGUAGES), default="en",
                        help="the reports' and handout's language (default: en)")  # fmt: skip
    parser.add_argument(
        "--force",
        action="store_true",
        help="write into a non-empty folder (replacing the draft's files only)",
    )


def run(args: argparse.Namespace) -> int:
    """Check the data, then write the draft assignment into `args.directory`; 0 when done.

    Raises:
        SpecError: a bad option, or a folder that is not empty (without --force) or would
            put the draft's files inside the data.
        DataError: the data is missing, not in the image-folder layout, or a class has too
            few images for each part of the split.
    """
    directory, data = Path(args.directory), Path(args.data)
    image_size = _image_size(args.image_size)
    _check_printable(directory)
    survey = survey_data(data, image_size)
    _check_target(directory, data, args.force)
    context = _context(directory, data, survey, image_size, args)
    env = _environment()
    for name, template in FILES.items():
        write_atomic(directory / name, env.get_template(template).render(**context))
    for note in survey.notes:
        print(f"note: {clean(note, None)}")  # it may quote a file name
    print(f"wrote {', '.join(FILES)} in {directory}")
    print(f"next: read {directory / 'assignment.toml'} (replace the stub base model, calibrate "
          f"the checks), then try the starter:\n  {context['starter_check']}")  # fmt: skip
    return 0


def _image_size(value: list[int]) -> tuple[int, int]:
    if len(value) != 2 or not all(8 <= side <= MAX_SIDE for side in value):
        shown = " ".join(map(str, value))
        raise SpecError(
            f"--image-size {shown}: each side must be a whole number of pixels from 8 to "
            f"{MAX_SIDE}. Give height and width, e.g. --image-size 64 64."
        )
    return value[0], value[1]


def _check_printable(directory: Path) -> None:
    """The folder's name appears in comments and commands: no line breaks or controls."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in str(directory)):
        raise SpecError(
            f"{str(directory)!r}: the assignment folder's name has control characters "
            "(e.g. a line break). Pick a name without them."
        )


def survey_data(data: Path, image_size: tuple[int, int]) -> Survey:
    """Read the data's layout and count what the draft's split draws of each class.

    Raises:
        DataError: the layout is wrong (the folder reader says how), fewer than two
            classes, or a class gives a part of the split fewer than `MIN_PER_PART` images.
    """
    from grader import imagefolder  # Pillow and zip listing: only this command needs them

    source = imagefolder.open_image_folder(data, image_size, "stretch")
    if len(source.classes) < 2:
        raise DataError(
            f"{data}: train/ has one class folder ({source.classes[0]}); a classifier needs "
            "at least two. Add a folder per class under train/ (and test/)."
        )
    test_share = TEST_SHARE_OF_TEST if source.has_test else SHARES["test"]
    sources = tuple((c,) for c in source.classes)
    split = Split(SPLIT, source.classes, sources, SHARES["train"], SHARES["val"], test_share)
    draws = {
        c: {s: drawn(split, s, c, source.count(part_of(s, source.has_test), c)) for s in SUBSETS}
        for c in source.classes
    }
    survey = Survey(source.classes, source.has_test, split, draws, source.notes)
    short = [c for c in source.classes if min(draws[c].values()) < MIN_PER_PART]
    if short:
        raise DataError(_too_few(data, survey, short, source.count))
    return survey


def _too_few(data: Path, survey: Survey, short: list[str], count: Callable[[str, str], int]) -> str:
    """The message for classes with too few images: each named with what it holds."""
    lines = []
    for cls in short[:SHOWN]:
        held = f"{count('train', cls)} image(s) in train/"
        if survey.has_test:
            held += f" and {count('test', cls)} in test/"
        d = survey.draws[cls]
        lines.append(f"  {cls!r}: {held}, giving {d['train']} train, {d['val']} val and "
                     f"{d['test']} test image(s)")  # fmt: skip
    if len(short) > SHOWN:
        lines.append(f"  ... and {len(short) - SHOWN} more")
    need = f"at least {_least_train(survey.split, survey.has_test)} in train/"
    if survey.has_test:
        need += f" and {MIN_PER_PART} in test/"
    return (
        f"{data}: {len(short)} class(es) have too few images for the split (train "
        f"{SHARES['train']}, val {SHARES['val']}, test "
        f"{survey.split.test_per_class} of each class):\n" + "\n".join(lines) + "\n"
        f"Each part needs at least {MIN_PER_PART} images per class. Add images ({need} per "
        "class), or remove the class's folder from the data."
    )


def _least_train(split: Split, has_test: bool) -> int:
    """The fewest train/ images a class needs for every part drawn from train/."""
    from_train = [s for s in SUBSETS if part_of(s, has_test) == "train"]
    n = MIN_PER_PART
    while any(drawn(split, s, split.classes[0], n) < MIN_PER_PART for s in from_train):
        n += 1
    return n


def _check_target(directory: Path, data: Path, force: bool) -> None:
    """A new or empty folder (the data inside it aside), or --force; never inside the data.

    Raises:
        SpecError: the folder is a file, holds other files (without --force), or a file
            the draft writes would land in the data or on a folder.
    """
    if directory.exists() and not directory.is_dir():
        raise SpecError(f"{directory} is a file. Give a folder (new or empty) for the assignment.")
    data_at = data.resolve()
    for name in FILES:
        target = directory / name
        if target.resolve() == data_at or target.resolve().is_relative_to(data_at):
            raise SpecError(
                f"{target} would be written inside the data ({data}). Put the assignment in "
                f"its own folder and the data beside it or inside it (e.g. {directory}/data/)."
            )
        if target.is_dir() or target.parent.is_file():
            raise SpecError(f"{target}: a folder or file is in the way of the draft's {name}. "
                            "Move it away, or pick another assignment folder.")  # fmt: skip
    if not directory.is_dir():
        return
    existing = sorted(p.name for p in directory.iterdir() if not _holds(p, data_at))
    if existing and not force:
        shown = ", ".join(existing[:SHOWN]) + (" ..." if len(existing) > SHOWN else "")
        raise SpecError(
            f"{directory} is not empty (it holds {shown}). Pick a new or empty folder, or "
            f"pass --force to write {', '.join(FILES)} into it (replacing those files only; "
            "other files and the data are left alone)."
        )


def _holds(entry: Path, data_at: Path) -> bool:
    """Whether `entry` is the data or a folder holding it: the data may live in the folder."""
    resolved = entry.resolve()
    return data_at == resolved or data_at.is_relative_to(resolved)


def _context(
    directory: Path, data: Path, survey: Survey, size: tuple[int, int], args: argparse.Namespace
) -> dict[str, Any]:
    """Everything the templates fill in."""
    ident = assignment_id(directory)
    data_at, home = data.resolve(), directory.resolve()
    inside = data_at.is_relative_to(home)
    pixel_range = PIXEL_RANGES[args.pixel_range]
    k = len(survey.classes)
    place = shlex.quote(str(directory))
    titles = {"en": "Transfer learning", "es": "Aprendizaje por transferencia"}
    draws = [f"{json.dumps(c, ensure_ascii=False)}: {d['train']} / {d['val']} / {d['test']}"
             for c, d in list(survey.draws.items())[:SHOWN]]  # fmt: skip
    if k > SHOWN:
        draws.append(f"... and {k - SHOWN} more classes")
    return {
        "id": ident,
        "title": f"{titles.get(args.language, titles['en'])}: {ident}",
        "language": args.language,
        "seed": zlib.crc32(ident.encode()),  # any fixed integer; this one is reproducible
        "directory": place,
        "data_inside": inside,
        "data_path": data_at.relative_to(home).as_posix() if inside else str(data_at),
        "image_size": size,
        "pixel_range": pixel_range,
        "rescale": pixel_range[1] == 255,
        "split": SPLIT,
        "classes": survey.classes,
        "class_list": ", ".join(f"`{c}`" for c in survey.classes),
        "num_classes": k,
        "has_test": survey.has_test,
        "shares": {
            "train": SHARES["train"],
            "val": SHARES["val"],
            "test": survey.split.test_per_class,
        },  # fmt: skip
        "draws": draws,
        "chance": f"{(100 // k) / 100:.2f}",  # 1/k rounded down: a starter reaches it
        "epochs": EPOCHS,
        "batch_size": BATCH_SIZE,
        "max_epochs": MAX_EPOCHS,
        "max_params": f"{MAX_PARAMS:_}",
        "max_seconds": MAX_SECONDS,
        "starter_check": f"python -m grader check {shlex.quote(str(directory / 'starter'))} "
        f"--assignment {place}",
        "student_check": f"python -m grader check submission.py --assignment {place}",
    }


def assignment_id(directory: Path) -> str:
    """The folder's name as an assignment id: lower-case letters, digits and dashes."""
    name = directory.resolve().name.lower()
    cleaned = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in name)
    return "-".join(part for part in cleaned.split("-") if part) or "assignment"


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        autoescape=False,  # TOML, Python and Markdown: values are quoted by `toml` where needed
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["toml"] = lambda value: json.dumps(value, ensure_ascii=False)  # a TOML string
    return env
