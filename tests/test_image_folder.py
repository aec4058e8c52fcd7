"""Image-folder sources: decoding any photo to the assignment's size, the folder / zip
layout, its fingerprint, and every way an instructor's folder can be wrong. Fast: Pillow
only, tiny images built in tmp_path."""

from __future__ import annotations

import io
import os
import stat
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from grader import filetree
from grader.errors import DataError
from grader.imagefolder import class_names, open_image_folder
from grader.images import ImageError, decode_image, find_duplicates, fit_array

RED, GREEN, BLUE = (220, 20, 20), (20, 220, 20), (20, 20, 220)
COLOURS = {"cat": RED, "dog": BLUE, "pájaro": GREEN, "pa\u0301jaro": GREEN}


def _encode(img: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, fmt, **options)
    return buffer.getvalue()


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _dataset(root: Path, classes: tuple[str, ...] = ("cat", "dog"), test: bool = True) -> Path:
    """Two JPEGs per class in train/ (one nested, one .JPG), one PNG per class in test/."""
    for cls in classes:
        colour = COLOURS[cls]
        _write(
            root / "train" / cls / "001.JPG", _encode(Image.new("RGB", (40, 30), colour), "JPEG")
        )
        _write(
            root / "train" / cls / "a" / "002.jpeg",
            _encode(Image.new("RGB", (20, 50), colour), "JPEG"),
        )
        if test:
            _write(
                root / "test" / cls / "100.png", _encode(Image.new("RGB", (33, 33), colour), "PNG")
            )
    return root


def _zip(folder: Path, target: Path, wrapper: str = "") -> Path:
    """Zip `folder`'s files (no folder entries), optionally inside a wrapping folder."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"{wrapper}{path.relative_to(folder).as_posix()}")
    return target


def _close(pixel: np.ndarray, colour: tuple[int, int, int], tolerance: int = 12) -> bool:
    return bool(np.all(np.abs(pixel.astype(int) - np.array(colour)) <= tolerance))


def _decode(data: bytes, size: tuple[int, int] = (16, 16), resize: str = "stretch") -> np.ndarray:
    return decode_image(data, "x", size, resize)


# --- decoding one image ---------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
@pytest.mark.parametrize("source_size", [(1, 1), (7, 300), (300, 7), (640, 480), (17, 17)])
@pytest.mark.parametrize("resize", ["stretch", "crop"])
def test_any_size_and_aspect_becomes_the_target_shape(
    fmt: str, source_size: tuple[int, int], resize: str
) -> None:
    image = _decode(_encode(Image.new("RGB", source_size, BLUE), fmt), (24, 10), resize)
    assert image.shape == (24, 10, 3) and image.dtype == np.uint8
    assert _close(image[12, 5], BLUE)


def _transparent_left(mode: str) -> Image.Image:
    """A 20x10 image in `mode` whose left half is fully transparent, right half opaque red."""
    rgba = Image.new("RGBA", (20, 10), (*RED, 255))
    rgba.paste((0, 0, 0, 0), (0, 0, 10, 10))
    return rgba if mode == "RGBA" else rgba.convert(mode)


def test_rgba_transparent_pixels_become_white() -> None:
    image = _decode(_encode(_transparent_left("RGBA"), "PNG"), (10, 20))
    assert _close(image[5, 2], (255, 255, 255), 0)
    assert _close(image[5, 17], RED, 0)


def test_palette_with_transparency_becomes_white() -> None:
    palette = Image.new("P", (20, 10), 1)
    palette.putpalette([0, 0, 0, *RED])
    palette.paste(0, (0, 0, 10, 10))
    image = _decode(_encode(palette, "PNG", transparency=0), (10, 20))
    assert _close(image[5, 2], (255, 255, 255), 0)
    assert _close(image[5, 17], RED, 0)


def test_grey_with_alpha_is_composited_on_white() -> None:
    grey = Image.new("LA", (20, 10), (60, 255))
    grey.paste((0, 0), (0, 0, 10, 10))
    image = _decode(_encode(grey, "PNG"), (10, 20))
    assert _close(image[5, 2], (255, 255, 255), 0)
    assert _close(image[5, 17], (60, 60, 60), 0)


@pytest.mark.parametrize(
    ("img", "fmt", "expected"),
    [
        (Image.new("L", (9, 9), 77), "PNG", (77, 77, 77)),
        (Image.new("L", (9, 9), 77), "JPEG", (77, 77, 77)),
        (Image.new("1", (9, 9), 1), "PNG", (255, 255, 255)),
        (Image.new("CMYK", (9, 9), (0, 255, 255, 0)), "JPEG", (255, 0, 0)),
        (Image.fromarray(np.full((9, 9), 128 * 257, np.uint16)), "PNG", (128, 128, 128)),
        (Image.fromarray(np.full((9, 9), 65535, np.uint16)), "PNG", (255, 255, 255)),
    ],
    ids=["L-png", "L-jpeg", "1-bit", "CMYK-jpeg", "I16-mid-grey", "I16-white"],
)
def test_every_mode_becomes_8_bit_rgb(img: Image.Image, fmt: str, expected: tuple) -> None:
    image = _decode(_encode(img, fmt))
    assert image.shape == (16, 16, 3)
    assert _close(image[8, 8], expected, 3), image[8, 8]


def test_16_bit_grey_is_scaled_not_clipped() -> None:
    source = Image.fromarray(np.full((9, 9), 32768, np.uint16))  # mid-grey in 16 bits
    assert source.mode == "I;16"
    assert abs(int(_decode(_encode(source, "PNG"))[4, 4, 0]) - 128) <= 1  # clipping: 255


def test_exif_orientation_is_applied() -> None:
    """Stored wide (left red, right blue) with EXIF 6: shown tall, red on top."""
    stored = Image.new("RGB", (40, 20), RED)
    stored.paste(BLUE, (20, 0, 40, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    image = _decode(_encode(stored, "JPEG", exif=exif, quality=95), (40, 20))
    assert _close(image[3, 10], RED, 30) and _close(image[36, 10], BLUE, 30)


def _thirds(width: int = 90, height: int = 30) -> bytes:
    img = Image.new("RGB", (width, height), RED)
    img.paste(GREEN, (width // 3, 0, 2 * width // 3, height))
    img.paste(BLUE, (2 * width // 3, 0, width, height))
    return _encode(img, "PNG")


def test_crop_keeps_the_centre_and_stretch_keeps_everything() -> None:
    cropped = _decode(_thirds(), (30, 30), "crop")
    stretched = _decode(_thirds(), (30, 30), "stretch")
    green = np.all(np.abs(cropped.astype(int) - GREEN) < 30, axis=-1)
    assert green.mean() > 0.9
    assert _close(stretched[15, 1], RED, 30) and _close(stretched[15, 28], BLUE, 30)
    assert _close(stretched[15, 15], GREEN, 30)


def test_fit_array_resizes_like_decode_image() -> None:
    array = _decode(_thirds(), (30, 90))
    assert np.array_equal(fit_array(array, (30, 30), "crop"), _decode(_thirds(), (30, 30), "crop"))
    assert fit_array(array, (8, 8), "stretch").shape == (8, 8, 3)


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height; no real pixel data follows."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"\x00") + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("width", "height", "shown"),
    [(10_000, 10_000, "100,000,000 pixels"), (20_000, 20_000, "400,000,000 pixels")],
)
def test_a_decompression_bomb_is_refused_from_its_header(
    width: int, height: int, shown: str
) -> None:
    with pytest.raises(ImageError) as caught:
        _decode(_png_header(width, height))
    assert shown in caught.value.reason and "40,000,000 limit" in caught.value.reason


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (os.urandom(2000), "not a JPEG or PNG image"),
        (_encode(Image.new("RGB", (9, 9)), "GIF"), "not a JPEG or PNG image"),
        (_encode(Image.effect_noise((64, 64), 60).convert("RGB"), "JPEG")[:600], "truncated"),
        (_encode(Image.effect_noise((64, 64), 60).convert("RGB"), "PNG")[:3000], "truncated"),
    ],
    ids=["random-bytes", "gif", "truncated-jpeg", "truncated-png"],
)
def test_unusable_files_raise_image_error(data: bytes, reason: str) -> None:
    with pytest.raises(ImageError) as caught:
        decode_image(data, "train/cat/bad.jpg", (8, 8), "stretch")
    assert caught.value.name == "train/cat/bad.jpg" and reason in caught.value.reason


# --- duplicates -----------------------------------------------------------------------


def _images(*values: int) -> np.ndarray:
    return np.stack([np.full((4, 4, 3), v, np.uint8) for v in values])


def test_duplicates_across_subsets_and_labels_are_reported() -> None:
    subsets = {
        "train": (
            ["train/cat/1.jpg", "train/cat/2.jpg", "train/dog/3.jpg"],
            [0, 0, 1],
            _images(1, 2, 2),
        ),
        "test": (["test/cat/9.png"], [0], _images(1)),
    }
    lines = find_duplicates(subsets, class_names=("cat", "dog"))
    assert "the same image is in train (train/cat/1.jpg) and test (test/cat/9.png)" in lines
    assert any(
        "different labels" in line
        and "'cat' (train/cat/2.jpg)" in line
        and "'dog' (train/dog/3.jpg)" in line
        for line in lines
    )
    assert len(lines) == 2


def test_duplicates_within_one_subset_and_label_are_not_reported() -> None:
    subsets = {
        "train": (["a", "b", "c"], [0, 0, 1], _images(5, 5, 6)),
        "val": (["d"], [1], _images(7)),
    }
    assert find_duplicates(subsets) == []


def test_duplicate_lines_are_capped() -> None:
    values = list(range(25))
    subsets = {
        "train": ([f"tr{v}" for v in values], [0] * 25, _images(*values)),
        "test": ([f"te{v}" for v in values], [0] * 25, _images(*values)),
    }
    lines = find_duplicates(subsets)
    assert len(lines) == 21 and lines[-1] == "... and 5 more"


# --- folders and zips -----------------------------------------------------------------


def test_folder_layout_classes_keys_and_decode(tmp_path: Path) -> None:
    source = open_image_folder(_dataset(tmp_path / "pets"), (12, 8), "stretch")
    assert source.classes == ("cat", "dog") and source.has_test
    assert source.members["train"][0] == ["train/cat/001.JPG", "train/cat/a/002.jpeg"]
    assert source.members["test"][1] == ["test/dog/100.png"]
    assert source.description == str(tmp_path / "pets") and source.notes == ()
    images = source.decode("train", source.members["train"][1])
    assert images.shape == (2, 12, 8, 3) and _close(images[1, 6, 4], BLUE)


def test_without_test_folder_there_is_no_test_part(tmp_path: Path) -> None:
    source = open_image_folder(_dataset(tmp_path / "d", test=False), (8, 8), "crop")
    assert not source.has_test and set(source.members) == {"train"}


def test_bad_files_are_all_named_in_one_error(tmp_path: Path) -> None:
    root = _dataset(tmp_path / "d")
    _write(root / "train" / "cat" / "noise.jpg", os.urandom(3000))
    jpeg = _encode(Image.effect_noise((64, 64), 60).convert("RGB"), "JPEG")
    _write(root / "train" / "cat" / "cut.jpg", jpeg[:700])
    _write(root / "train" / "cat" / "bomb.png", _png_header(10_000, 10_000))
    source = open_image_folder(root, (8, 8), "stretch")
    with pytest.raises(DataError) as caught:
        source.decode("train", source.members["train"][0])
    message = str(caught.value)
    assert "3 image file(s)" in message
    assert "train/cat/noise.jpg: not a JPEG or PNG image" in message
    assert "train/cat/cut.jpg: truncated or damaged image data" in message
    assert "train/cat/bomb.png: 100,000,000 pixels" in message
    assert "Replace or remove these files" in message


def test_an_empty_class_folder_is_an_error(tmp_path: Path) -> None:
    root = _dataset(tmp_path / "d")
    (root / "train" / "bird").mkdir()
    (root / "test" / "bird").mkdir()
    _write(root / "train" / "bird" / "notes.txt", b"todo")
    with pytest.raises(DataError, match=r"train/bird/, test/bird/ hold\(s\) no \.jpg"):
        open_image_folder(root, (8, 8), "stretch")


def test_test_folder_must_have_the_same_classes(tmp_path: Path) -> None:
    root = _dataset(tmp_path / "d")
    (root / "test" / "dog" / "100.png").rename(root / "test" / "cat" / "101.png")
    (root / "test" / "dog").rmdir()
    _write(root / "test" / "horse" / "1.png", _encode(Image.new("RGB", (8, 8)), "PNG"))
    with pytest.raises(DataError) as caught:
        open_image_folder(root, (8, 8), "stretch")
    assert "missing from test/: dog" in str(caught.value)
    assert "in test/ but not in train/: horse" in str(caught.value)


def test_no_train_folder_shows_the_expected_layout(tmp_path: Path) -> None:
    _write(tmp_path / "d" / "cat" / "1.jpg", _encode(Image.new("RGB", (8, 8)), "JPEG"))
    _write(tmp_path / "d" / "dog" / "1.jpg", _encode(Image.new("RGB", (8, 8)), "JPEG"))
    for call in (
        lambda: open_image_folder(tmp_path / "d", (8, 8), "stretch"),
        lambda: class_names(tmp_path / "d"),
    ):
        with pytest.raises(DataError) as caught:
            call()
        assert "has no train/ folder" in str(caught.value)
        assert "<class 1>/" in str(caught.value) and "Found at its top: cat/, dog/" in str(
            caught.value
        )
    with pytest.raises(DataError, match="does not exist"):
        open_image_folder(tmp_path / "nowhere", (8, 8), "stretch")


def test_zip_with_wrapping_folder_and_unicode_class(tmp_path: Path) -> None:
    folder = _dataset(tmp_path / "animals", ("cat", "pájaro"))
    archive = _zip(folder, tmp_path / "animals.zip", wrapper="animals/")
    from_zip = open_image_folder(archive, (8, 8), "stretch")
    from_folder = open_image_folder(folder, (8, 8), "stretch")
    assert from_zip.classes == ("cat", "pájaro") == class_names(archive)
    assert from_zip.members == from_folder.members
    assert from_zip.members["train"][1][0] == "train/pájaro/001.JPG"
    assert from_zip.fingerprint == from_folder.fingerprint
    keys = from_zip.members["test"][1]
    assert np.array_equal(from_zip.decode("test", keys), from_folder.decode("test", keys))


def test_one_changed_byte_changes_the_fingerprint(tmp_path: Path) -> None:
    root = _dataset(tmp_path / "d")
    before = open_image_folder(root, (8, 8), "stretch").fingerprint
    path = root / "train" / "dog" / "001.JPG"
    data = bytearray(path.read_bytes())
    data[-3] ^= 1
    path.write_bytes(bytes(data))
    assert open_image_folder(root, (8, 8), "stretch").fingerprint != before
    path.rename(root / "train" / "dog" / "001b.JPG")  # same bytes, another name
    assert open_image_folder(root, (8, 8), "stretch").fingerprint != before


def test_hidden_and_junk_files_are_ignored_and_others_noted(tmp_path: Path) -> None:
    root = _dataset(tmp_path / "d")
    for junk in (".DS_Store", "._001.jpg", "Thumbs.db", "desktop.ini", ".cache/x.jpg"):
        _write(root / "train" / "cat" / junk, b"junk")
    _write(root / ".ipynb_checkpoints" / "x.txt", b"junk")
    _write(root / "train" / "cat" / "README.txt", b"about cats")
    _write(root / "train" / "dog" / "anim.gif", _encode(Image.new("RGB", (8, 8)), "GIF"))
    _write(root / "train" / "labels.csv", b"a,b")
    _write(root / "val" / "cat" / "1.jpg", b"unused")
    _write(root / "README.md", b"top level: silent")
    source = open_image_folder(root, (8, 8), "stretch")
    assert source.members["train"][0] == ["train/cat/001.JPG", "train/cat/a/002.jpeg"]
    assert sorted(source.notes) == [
        "not used: 1 folder(s) other than train/ and test/: val/",
        "skipped 1 file(s) outside the class folders: train/labels.csv",
        "skipped 2 file(s) that are not .jpg, .jpeg or .png images: "
        "train/cat/README.txt, train/dog/anim.gif",
    ]
    assert (
        source.fingerprint
        == open_image_folder(_dataset(tmp_path / "e"), (8, 8), "crop").fingerprint
    )


def test_symlinks_are_skipped_with_a_note(tmp_path: Path) -> None:
    root = _dataset(tmp_path / "d")
    outside = _write(tmp_path / "secret.jpg", _encode(Image.new("RGB", (8, 8)), "JPEG"))
    (root / "train" / "cat" / "link.jpg").symlink_to(outside)
    (root / "train" / "dog" / "linked_dir").symlink_to(tmp_path, target_is_directory=True)
    source = open_image_folder(root, (8, 8), "stretch")
    assert "train/cat/link.jpg" not in source.members["train"][0]
    (note,) = source.notes
    assert note.startswith("skipped 2 symbolic links, which are never followed: ")
    assert "train/cat/link.jpg" in note and "train/dog/linked_dir" in note


def test_zip_junk_unsafe_names_and_links_are_skipped(tmp_path: Path) -> None:
    archive = _zip(_dataset(tmp_path / "d"), tmp_path / "d.zip")
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr("__MACOSX/train/cat/._001.JPG", b"resource fork")
        zf.writestr("../escape.jpg", b"x")
        link = zipfile.ZipInfo("train/cat/link.jpg")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    source = open_image_folder(archive, (8, 8), "stretch")
    assert source.members["train"][0] == ["train/cat/001.JPG", "train/cat/a/002.jpeg"]
    assert sorted(source.notes) == [
        "skipped 1 symbolic links, which are never followed: train/cat/link.jpg",
        "skipped 1 zip entries with unsafe names (absolute, or containing ..): ../escape.jpg",
    ]


def test_zip_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = _zip(_dataset(tmp_path / "d"), tmp_path / "d.zip")
    monkeypatch.setattr(filetree, "MAX_MEMBER_BYTES", 200)  # stands in for 100 MB
    with pytest.raises(DataError, match=r"train/cat/001\.JPG: [\d,]+ bytes uncompressed, over"):
        open_image_folder(archive, (8, 8), "stretch")
    monkeypatch.setattr(filetree, "MAX_ZIP_MEMBERS", 3)
    with pytest.raises(DataError, match="6 members, over the limit of 3"):
        class_names(archive)


def test_a_file_that_is_not_a_zip_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="neither a folder nor a readable zip"):
        open_image_folder(_write(tmp_path / "data.zip", b"not a zip"), (8, 8), "stretch")


def test_decomposed_unicode_names_are_read_as_composed(tmp_path: Path) -> None:
    """macOS may store "pájaro" decomposed (NFD); a spec types it composed (NFC)."""
    composed = _dataset(tmp_path / "nfc", ("cat", "pájaro"))
    decomposed = _dataset(tmp_path / "nfd", ("cat", "pa\u0301jaro"))
    source = open_image_folder(decomposed, (8, 8), "stretch")
    assert source.classes == ("cat", "pájaro")
    assert source.fingerprint == open_image_folder(composed, (8, 8), "stretch").fingerprint
    assert source.decode("train", source.members["train"][1]).shape == (2, 8, 8, 3)
