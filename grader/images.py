"""Decoding one photo to the assignment's image size, and spotting duplicate images.

How an image becomes the array a model sees (the handout quotes this):

1. JPEG and PNG only; the header's size is checked first, and an image over 40,000,000
   pixels is refused before any pixel is decoded (a decompression bomb).
2. The EXIF orientation is applied, so phone photos are upright.
3. Any colour mode becomes 8-bit RGB: grayscale is copied to the three channels, palettes
   are expanded, CMYK is converted, 16-bit grayscale is scaled (65535 becomes 255), and
   transparent pixels are composited on white.
4. Resizing to (height, width) with Pillow's bilinear filter (`Image.Resampling.BILINEAR`,
   which antialiases when shrinking). `"stretch"` resizes the whole image, ignoring its
   aspect ratio (Keras' `image_dataset_from_directory` default); `"crop"` first takes the
   largest centred window with the target aspect ratio (Keras' `crop_to_aspect_ratio=True`).
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import warnings
import zlib
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageFile, ImageOps

from grader.assignment import RESIZE_METHODS
from grader.errors import GraderError

MAX_PIXELS = 40_000_000
MAX_DUPLICATE_LINES = 20
# What Pillow raises on damaged data: a truncated JPEG (OSError), a broken PNG chunk
# (SyntaxError), a short read (EOFError, struct.error), bad compressed data (zlib.error).
_DAMAGED = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error)

ImageFile.LOAD_TRUNCATED_IMAGES = False  # Pillow's default, stated: a cut-off file is an error


class ImageError(GraderError, ValueError):
    """One file that cannot become an image: its name and a short human reason."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name, self.reason = name, reason


def decode_image(data: bytes, name: str, size: tuple[int, int], resize: str) -> np.ndarray:
    """The image in `data` as uint8 RGB of shape (height, width, 3); `size` is (h, w).

    Raises:
        ImageError: not a JPEG or PNG, over `MAX_PIXELS`, or truncated / damaged.
        ValueError: `resize` is not one of `RESIZE_METHODS` (a caller's bug).
    """
    if resize not in RESIZE_METHODS:
        raise ValueError(f"resize must be one of {RESIZE_METHODS}, got {resize!r}")
    with _open(data, name) as img:
        try:
            img.load()  # decode now, so a truncated file fails here and not later
        except _DAMAGED:
            raise ImageError(name, "truncated or damaged image data") from None
        rgb = _to_rgb(_upright(img))
    return _fit(rgb, size, resize)


def fit_array(image: np.ndarray, size: tuple[int, int], resize: str) -> np.ndarray:
    """A uint8 RGB array (h, w, 3) fitted to `size` = (height, width) as `decode_image` does.

    For sources stored already decoded (CIFAR-10): the same resizing as an image folder,
    so a spec's `resize` means one thing whatever the source.
    """
    if resize not in RESIZE_METHODS:
        raise ValueError(f"resize must be one of {RESIZE_METHODS}, got {resize!r}")
    if image.shape[:2] == tuple(size):
        return np.array(image, dtype=np.uint8)
    return _fit(Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)), size, resize)


def _fit(rgb: Image.Image, size: tuple[int, int], resize: str) -> np.ndarray:
    """Resize (after a centred crop for "crop") with Pillow's bilinear filter."""
    height, width = size
    box = _crop_box(rgb.size, size) if resize == "crop" else None
    out = rgb.resize((width, height), Image.Resampling.BILINEAR, box=box)
    return np.array(out, dtype=np.uint8)


def _open(data: bytes, name: str) -> ImageFile.ImageFile:
    """Open the header only, refusing anything that is not a JPEG or PNG of sane size."""
    try:
        with warnings.catch_warnings():  # our own, lower limit is checked just below
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=("JPEG", "PNG"))
    except Image.DecompressionBombError as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        raise ImageError(name, _too_big(int(found.group(1)) if found else None)) from None
    except Image.UnidentifiedImageError:
        raise ImageError(name, "not a JPEG or PNG image") from None
    except _DAMAGED:
        raise ImageError(name, "truncated or damaged image data") from None
    pixels = img.width * img.height
    if pixels > MAX_PIXELS:
        img.close()
        raise ImageError(name, _too_big(pixels))
    return img


def _too_big(pixels: int | None) -> str:
    if pixels is None:
        return f"over the {MAX_PIXELS:,} pixel limit"
    return f"{pixels:,} pixels, over the {MAX_PIXELS:,} limit"


def _upright(img: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; damaged EXIF leaves the image as stored (pixels are fine)."""
    try:
        return ImageOps.exif_transpose(img)
    except _DAMAGED:
        return img


def _to_rgb(img: Image.Image) -> Image.Image:
    """8-bit RGB, whatever the file's mode; see the module docstring for the rules."""
    if img.mode in ("I;16", "I;16L", "I;16B", "I"):
        # Pillow's convert("L") clips 16-bit values at 255: scale the range instead.
        wide = np.asarray(img).astype(np.float64)
        img = Image.fromarray(np.clip(np.rint(wide / 257.0), 0, 255).astype(np.uint8))
    if "A" in img.getbands() or "transparency" in img.info:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def _crop_box(image_size: tuple[int, int], target: tuple[int, int]) -> tuple[int, int, int, int]:
    """The largest centred (left, top, right, bottom) window with the target's aspect.

    The arithmetic is Keras' `smart_resize` / `crop_to_aspect_ratio`, so the same photo
    is cropped the same way by the grader and by a student's Keras pipeline.
    """
    width, height = image_size
    target_h, target_w = target
    crop_h = max(min(height, int(width * target_h / target_w)), 1)
    crop_w = max(min(width, int(height * target_w / target_h)), 1)
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    return (left, top, left + crop_w, top + crop_h)


Subsets = dict[str, tuple[list[str], list[int], np.ndarray]]


def find_duplicates(subsets: Subsets, *, class_names: Sequence[str] = ()) -> list[str]:
    """Warnings for identical images in two subsets (a leak) or under two labels.

    `subsets` maps a subset name ("train", "val", "test") to its image keys, labels and
    decoded images. Identical pixels are what count (the same photo saved twice as JPEG
    and PNG is found only when it decodes the same). Repeats within one subset and label
    are harmless and not reported. `class_names`, when given, names labels in the lines.

    Returns:
        At most `MAX_DUPLICATE_LINES` lines, then "... and N more" when there are more.
    """
    groups: dict[bytes, list[tuple[str, int, str]]] = {}
    for subset, (keys, labels, images) in subsets.items():
        for key, label, image in zip(keys, labels, images, strict=True):
            digest = hashlib.sha256(repr(image.shape).encode() + image.tobytes()).digest()
            groups.setdefault(digest, []).append((subset, int(label), key))
    lines = [_duplicate_line(g, class_names) for g in groups.values()]
    found = [line for line in lines if line]
    if len(found) > MAX_DUPLICATE_LINES:
        extra = len(found) - MAX_DUPLICATE_LINES
        found = [*found[:MAX_DUPLICATE_LINES], f"... and {extra} more"]
    return found


def _duplicate_line(group: list[tuple[str, int, str]], class_names: Sequence[str]) -> str:
    """One warning for a set of identical images, or "" when they share subset and label."""
    first: dict[tuple[str, int], list[str]] = {}
    for subset, label, key in group:
        first.setdefault((subset, label), []).append(key)
    if len(first) < 2:
        return ""
    same_label = len({label for _, label in first}) == 1
    places = []
    for (subset, label), keys in first.items():
        files = keys[0] if len(keys) == 1 else f"{keys[0]} and {len(keys) - 1} more"
        if same_label:
            places.append(f"{subset} ({files})")
        else:
            places.append(f"{subset} as {_label_name(label, class_names)} ({files})")
    joined = ", ".join(places[:-1]) + " and " + places[-1]
    if same_label:
        return f"the same image is in {joined}"
    return f"the same image has different labels: {joined}"


def _label_name(label: int, class_names: Sequence[str]) -> str:
    if 0 <= label < len(class_names):
        return repr(class_names[label])
    return f"label {label}"
