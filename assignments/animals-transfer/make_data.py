"""Write the animals photo folder `data/` (ave / caballo / gato) from CIFAR-10.

The course exercise this assignment copies gives students a small folder of photos "of any
size". We build one from CIFAR-10 so the machine needs no download: each 32x32 image is
upscaled (bicubic) to a seeded random size, mostly square, saved mostly as JPEG, a few as
PNG, and two training photos per class in grayscale, as real photo folders have.

    data/train/<clase>/<clase>_NNN.jpg|png   75 per class (the grader draws 50 train + 25 val)
    data/test/<clase>/<clase>_NNN.jpg|png    100 per class (the hidden test split)

Train photos come from CIFAR-10's training part, test photos from its test part. Everything
is seeded and iterated in sorted order: two runs write identical bytes.

Usage (from the repository root):
    .venv/bin/python assignments/animals-transfer/make_data.py [--zip PATH] [--out DIR]
"""

from __future__ import annotations

import argparse
import io
import shutil
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
DEFAULT_ZIP = HERE.parents[1].parent / "shared" / "data" / "cifar10.zip"
SEED = 20261213
CLASSES = {"ave": "bird", "caballo": "horse", "gato": "cat"}  # folder name -> CIFAR-10 class
COUNTS = {"train": 75, "test": 100}  # photos per class in each part
GRAYSCALE = {"train": 2, "test": 0}  # photos per class converted to grayscale
PNG = {"train": 3, "test": 3}  # photos per class saved as PNG instead of JPEG
NON_SQUARE = [(96, 72), (72, 96), (128, 96), (96, 128), (80, 64), (64, 80), (112, 84)]
SQUARE_SHARE = 0.8  # the rest get one of the NON_SQUARE sizes (width, height)
JPEG_QUALITY = 92


def cifar_members(archive: zipfile.ZipFile, part: str, cifar_class: str) -> list[str]:
    """The sorted JPEG names under `part/cifar_class/` in the CIFAR-10 zip."""
    prefix = f"{part}/{cifar_class}/"
    names = [n for n in archive.namelist() if n.startswith(prefix) and n.endswith(".jpg")]
    if not names:
        raise SystemExit(f"{archive.filename} has no images in {prefix}: not the CIFAR-10 zip.")
    return sorted(names)


def random_size(rng: np.random.Generator) -> tuple[int, int]:
    """A photo size (width, height): square 64..128 px most of the time, else a 4:3 shape."""
    if rng.random() < SQUARE_SHARE:
        side = int(rng.integers(64, 129))
        return side, side
    return NON_SQUARE[int(rng.integers(len(NON_SQUARE)))]


def encode(image: Image.Image, as_png: bool) -> bytes:
    """The photo's file bytes: PNG, or JPEG at a fixed quality (no EXIF, no timestamps)."""
    buffer = io.BytesIO()
    if as_png:
        image.save(buffer, format="PNG", optimize=True)
    else:
        image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def make_photo(source: bytes, rng: np.random.Generator, gray: bool) -> Image.Image:
    """Upscale one 32x32 CIFAR-10 JPEG (bicubic) to a random size; grayscale if asked."""
    with Image.open(io.BytesIO(source)) as decoded:
        image = decoded.convert("RGB")
    image = image.resize(random_size(rng), Image.Resampling.BICUBIC)
    return image.convert("L") if gray else image


def write_class(
    archive: zipfile.ZipFile, out: Path, part: str, label_index: int, label: str
) -> int:
    """Write one class folder of one part; returns the bytes written."""
    rng = np.random.default_rng([SEED, label_index, list(COUNTS).index(part)])
    names = cifar_members(archive, part, CLASSES[label])
    count = COUNTS[part]
    chosen = sorted(rng.choice(len(names), size=count, replace=False).tolist())
    special = rng.permutation(count)  # which photos are grayscale / PNG: disjoint picks
    gray = set(special[: GRAYSCALE[part]].tolist())
    png = set(special[GRAYSCALE[part] : GRAYSCALE[part] + PNG[part]].tolist())
    folder = out / part / label
    folder.mkdir(parents=True)
    written = 0
    for number, index in enumerate(chosen):
        photo = make_photo(archive.read(names[index]), rng, gray=number in gray)
        suffix = "png" if number in png else "jpg"
        data = encode(photo, as_png=number in png)
        (folder / f"{label}_{number + 1:03d}.{suffix}").write_bytes(data)
        written += len(data)
    return written


def main() -> None:
    """Rebuild `data/` from scratch (an old folder is removed first, so no stale files)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zip", type=Path, default=DEFAULT_ZIP, help="CIFAR-10 zip")
    parser.add_argument("--out", type=Path, default=HERE / "data", help="output folder")
    args = parser.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)
    total = 0
    with zipfile.ZipFile(args.zip) as archive:
        for part in COUNTS:
            for label_index, label in enumerate(CLASSES):
                total += write_class(archive, args.out, part, label_index, label)
    print(f"wrote {args.out}: {total / 1e6:.2f} MB of photos")


if __name__ == "__main__":
    main()
