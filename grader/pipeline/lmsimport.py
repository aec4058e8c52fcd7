"""From an LMS's bulk download (a zip or a folder) to one chosen file per student.

Nothing is extracted: a zip's directory is listed and checked first (member count, the
declared sizes, no absolute path, no `..`, no link: a download with any of those is
refused whole), and only the file chosen for a student is read, in memory, with a byte
cap (a member that inflates past its declared size fails its check). A folder is walked
without following links. Nothing read is run or unpickled.

Per student, the candidates are the `.py` and `.ipynb` files; Canvas re-uploads of one
file (`lab.ipynb`, `lab-1.ipynb`, `lab-2.ipynb`) count once, as the newest. One candidate
is taken; of several, the one named `--file NAME`; else the student is ambiguous: listed
with every candidate, never guessed. Everything else (PDFs, images, `__MACOSX/`,
`.DS_Store`, Moodle's online text) is a stray, skipped and counted.

Student ids, the folder under `submissions/` (`importcommand.student_id`): Canvas: the
roster's SIS Login ID, else its SIS User ID, else `canvas-<user id>`; Moodle: the roster's
ID number, else its Username, else `moodle-<participant id>`; folder: the subfolder's or
file's name. A roster id is kept only as letters, digits and `. _ @ + -` (accents folded,
other characters as `-`), starting with a letter or digit, at most 64 characters, so it
is a safe file name on every system (`folders.name_problem` agrees); else the LMS form.
"""

from __future__ import annotations

import contextlib
import os
import stat
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.errors import GradingError
from grader.lms.canvas import parse_canvas_name
from grader.lms.moodle import FILE_PLUGIN, parse_moodle_path
from grader.pipeline import staging

MAX_MEMBERS = 20_000  # files of a download: a class of 2,000 with ten files each
MAX_TOTAL_BYTES = 4 * 2**30  # a zip's declared sizes together
MAX_FILE_BYTES = staging.MAX_BYTES  # a chosen file: what a submission may hold at all
CODE_SUFFIXES = (".py", ".ipynb")
JUNK = ("__MACOSX", "Thumbs.db", "desktop.ini")  # and hidden files: .DS_Store, ._x, .git


class Unreadable(Exception):
    """A chosen file that could not be read (too large, corrupt, encrypted): why."""


@dataclass(frozen=True)
class Member:
    """A file of the download."""

    path: str  # posix, Unicode NFC, relative to the download's top
    size: int  # as listed (a zip's declared size)
    stored: str  # the name the zip or the folder knows it by


@dataclass(frozen=True)
class Entry:
    """A file of one student's hand-in, with what its name says."""

    member: Member
    original: str  # the file's name as the student uploaded it (shown, matched with --file)
    base: str = ""  # Canvas: `original` without its re-upload suffix
    version: int = 0  # Canvas' re-upload number
    late: bool = False
    submission_id: str = ""


@dataclass
class Handin:
    """One student's files in the download, and the one chosen (None: `problem` says why)."""

    lms: str
    user_key: str  # Canvas user id, Moodle participant id, or the folder's student id
    name_hint: str  # the name the download gives (Moodle's full name, Canvas' lastfirst)
    entries: list[Entry] = field(default_factory=list)
    chosen: Entry | None = None
    problem: str = ""  # "ambiguous" or "no code"
    candidates: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Collected:
    """Every student's hand-in, and the files no student's code came from."""

    handins: list[Handin]
    strays: list[str]


class Download:
    """A zip or a folder, listed safely; `read` returns one file's bytes under the cap."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self._zip: zipfile.ZipFile | None = None
        if source.is_dir():
            self.members, self.junk = _folder_members(source)
        elif source.is_file():
            self._zip = _open_zip(source)
            self.members, self.junk = _zip_members(self._zip, source)
        else:
            raise GradingError(f"No download at {source}: give the LMS's zip or its folder.")

    def __enter__(self) -> Download:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._zip is not None:
            self._zip.close()

    def read(self, member: Member) -> bytes:
        """The file's bytes. Raises Unreadable: over `MAX_FILE_BYTES`, corrupt, encrypted."""
        if member.size > MAX_FILE_BYTES:
            raise Unreadable(_too_large(member.size))
        try:
            if self._zip is None:
                data = _read_file(self.source / member.stored)
            else:
                with self._zip.open(member.stored) as fh:
                    data = fh.read(MAX_FILE_BYTES + 1)
        except (OSError, zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise Unreadable(f"could not be read ({exc})") from None
        except (RuntimeError, NotImplementedError) as exc:  # encrypted, unknown compression
            raise Unreadable(f"could not be read from the zip ({exc})") from None
        if len(data) > MAX_FILE_BYTES:
            raise Unreadable(_too_large(len(data)))
        return data


def _too_large(size: int) -> str:
    limit = staging.megabytes(MAX_FILE_BYTES)
    return f"is {staging.megabytes(size):g} MB, over the {limit:g} MB a submission may hold"


def _open_zip(source: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise GradingError(
            f"{source} is neither a folder nor a readable zip ({exc}). Download it again."
        ) from None


def _zip_members(archive: zipfile.ZipFile, source: Path) -> tuple[list[Member], list[str]]:
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise GradingError(
            f"{source} has {len(infos):,} entries, over the {MAX_MEMBERS:,} of any class's "
            "download: check the file, or unzip it and import the folder."
        )
    total = sum(info.file_size for info in infos)
    if total > MAX_TOTAL_BYTES:
        raise GradingError(
            f"{source} would unpack to {total / 2**30:.1f} GB, over the "
            f"{MAX_TOTAL_BYTES // 2**30} GB limit: a zip bomb or not a class's download."
        )
    members, junk = [], []
    for info in infos:
        path = _zip_path(info, source)
        if info.is_dir():
            continue
        if _is_junk(path):
            junk.append(path)
        else:
            members.append(Member(path, info.file_size, info.filename))
    return members, junk


def _zip_path(info: zipfile.ZipInfo, source: Path) -> str:
    """The member's path as NFC posix; an unsafe entry refuses the whole download."""
    name = info.filename
    if not info.flag_bits & 0x800:  # no UTF-8 flag: zipfile read it as cp437
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            name = name.encode("cp437").decode("utf-8")
    raw = name.replace("\\", "/")
    parts = PurePosixPath(raw).parts
    unsafe = raw.startswith("/") or ".." in parts or (parts and ":" in parts[0])
    if unsafe or stat.S_ISLNK(info.external_attr >> 16):
        what = "a link" if not unsafe else "a path outside the download (absolute or '..')"
        raise GradingError(
            f"{source} holds the entry {info.filename!r}, {what}: an LMS never writes one, "
            "so nothing was imported. Download the submissions again from the LMS."
        )
    return unicodedata.normalize("NFC", "/".join(p for p in parts if p not in ("", ".")))


def _is_junk(path: str) -> bool:
    return any(part in JUNK or part.startswith(".") for part in path.split("/"))


def _folder_members(top: Path) -> tuple[list[Member], list[str]]:
    members, junk = [], []
    for folder, dirs, files in os.walk(top):  # links to folders are listed, never entered
        rel = Path(folder).relative_to(top)
        names = files + [d for d in dirs if os.path.islink(os.path.join(folder, d))]
        for name in sorted(names):
            stored = (rel / name).as_posix()
            path = unicodedata.normalize("NFC", stored)
            info = os.lstat(os.path.join(folder, name))
            if _is_junk(path) or not stat.S_ISREG(info.st_mode):
                junk.append(path)  # links, pipes: skipped like macOS' leftovers
            else:
                members.append(Member(path, info.st_size, stored))
            if len(members) > MAX_MEMBERS:
                raise GradingError(f"{top} holds over {MAX_MEMBERS:,} files: check the folder.")
    return members, junk


def _read_file(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise OSError("not a regular file")
        return fh.read(MAX_FILE_BYTES + 1)


def collect(download: Download, lms: str, wanted: str = "") -> Collected:
    """Each student's hand-in in `download` (`lms`: canvas | moodle | folder), a file
    chosen for each (see the module's docstring); `wanted` is `--file NAME`."""
    handins: dict[str, Handin] = {}
    strays = list(download.junk)
    for member in download.members:
        found = _entry(lms, member)
        if found is None:
            strays.append(member.path)
            continue
        key, name_hint, entry = found
        handin = handins.setdefault(key, Handin(lms, key, name_hint))
        handin.entries.append(entry)
    for handin in handins.values():
        strays += _choose(handin, wanted)
    return Collected(sorted(handins.values(), key=lambda h: h.user_key), strays)


def _entry(lms: str, member: Member) -> tuple[str, str, Entry] | None:
    """(the student's key, the name the download gives, the entry); None: not a hand-in."""
    parts = member.path.split("/")
    if lms == "canvas":
        canvas = parse_canvas_name(parts[-1])
        if canvas is None:
            return None
        entry = Entry(
            member, canvas.original, canvas.base, canvas.version, canvas.late, canvas.submission_id
        )
        return canvas.user_id, canvas.lastfirst, entry
    if lms == "moodle":
        moodle = parse_moodle_path(parts)
        if moodle is None or moodle.plugin != FILE_PLUGIN:
            return None  # online text, comments: no code
        return moodle.participant_id, moodle.full_name, Entry(member, moodle.original)
    if len(parts) > 1:  # folder: one subfolder per student
        return parts[0], parts[0], Entry(member, "/".join(parts[1:]))
    stem, suffix = os.path.splitext(parts[0])
    return (stem, stem, Entry(member, parts[0])) if suffix in CODE_SUFFIXES else None


def _choose(handin: Handin, wanted: str) -> list[str]:
    """Set `handin.chosen` (or its problem); returns the student's files that are strays."""
    code = [e for e in handin.entries if e.original.lower().endswith(CODE_SUFFIXES)]
    strays = [e.member.path for e in handin.entries if e not in code]
    newest: dict[str, Entry] = {}
    for entry in sorted(code, key=_age):
        newest[(entry.base or entry.original).casefold()] = entry
    for entry in newest.values():
        same = [e for e in sorted(code, key=_age) if e.base and e.base == entry.base]
        older = [e.original for e in same if e is not entry]
        if older:
            handin.notes.append(
                f"re-uploaded: took {entry.original}, the newest (older: {', '.join(older)})"
            )
    handin.candidates = sorted(e.original for e in newest.values())
    matching = [e for e in newest.values() if _is_named(e, wanted)]
    if len(newest) == 1:
        handin.chosen = next(iter(newest.values()))
    elif len(matching) == 1:
        handin.chosen = matching[0]
    else:
        handin.problem = "ambiguous" if newest else "no code"
    return strays


def _age(entry: Entry) -> tuple[int, int]:
    """Older first: Canvas' re-upload number, then its submission id."""
    return entry.version, int(entry.submission_id or 0)


def _is_named(entry: Entry, wanted: str) -> bool:
    """The file is the assignment's `--file NAME` (case aside; its last path component)."""
    if not wanted:
        return False
    names = {entry.original.rsplit("/", 1)[-1], (entry.base or entry.original).rsplit("/", 1)[-1]}
    return wanted.casefold() in {name.casefold() for name in names}
