"""Names from a submission as the grader shows and stores them: any name made printable
(`display`), and a submission folder's name checked, or made safe when it is not.

A folder's name becomes the name of its result, checkpoint and report files, a row of the
class summary and a column of the console. One that is too long for a file name, is not
UTF-8, or holds control characters or a leading dash cannot be any of those: its submission
gets a result saying how to rename it, stored under a short safe key (`student_key`).
"""

from __future__ import annotations

import hashlib
import unicodedata

from grader.messages import Message

MAX_NAME_CHARS = 80  # well below a file name's 255 bytes, with room for `.json`, `.pdf`, ...
MAX_NAME_BYTES = 160  # in UTF-8: 80 letters of most scripts
NOT_FIRST = "- "  # a leading dash reads as an option to a command; a space is unseen
# Controls, invisible formatting (bidirectional overrides), surrogates, line breaks
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
KEPT_CHARS = 40  # of an unusable name, in its key
SHOWN_CHARS = 80  # of a name in a message


def usable(name: str) -> bool:
    """UTF-8, at most `MAX_NAME_CHARS`, no control or invisible character, no space but
    the plain one, not starting with a dash or a space: what every file, screen and
    spreadsheet the name reaches can hold. (Names are often `ana-garcia`, `Núria Peña`.)"""
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:  # undecodable bytes, as `os.fsdecode` keeps them
        return False
    return (
        0 < len(name) <= MAX_NAME_CHARS
        and size <= MAX_NAME_BYTES
        and _allowed(name[0], first=True)
        and all(_allowed(c) for c in name)
    )


def _allowed(char: str, *, first: bool = False) -> bool:
    category = unicodedata.category(char)
    if category in REFUSED_CATEGORIES or (category == "Zs" and char != " "):
        return False
    return not (first and char in NOT_FIRST)


def student_key(name: str) -> str:
    """The key a submission's result, checkpoints and reports are stored under: its folder's
    name when `usable`, else its usable characters (at most `KEPT_CHARS`) and a hash of the
    raw name, which no other folder's key shares."""
    if usable(name):
        return name
    raw = raw_name(name)
    text = raw.decode("utf-8", "replace").replace("\ufffd", "_")
    kept = "".join(c if _allowed(c) else "_" for c in text)
    while kept and not _allowed(kept[0], first=True):
        kept = kept[1:]
    kept = kept[:KEPT_CHARS]
    while len(kept.encode("utf-8")) > MAX_NAME_BYTES // 2:
        kept = kept[:-1]
    return f"{kept or 'folder'}-{hashlib.sha256(raw).hexdigest()[:8]}"


def name_problem(name: str) -> Message | None:
    """Why a folder's name cannot be used, and how to rename it; None when it can."""
    if usable(name):
        return None
    params = {"name": display(name, 60), "limit": MAX_NAME_CHARS, "key": student_key(name)}
    return Message("staging.bad_folder_name", params)


def display(name: bytes | str, limit: int = SHOWN_CHARS) -> str:
    """A name as messages, files and screens may show it: undecodable bytes and control
    characters written as escapes (`notes-\\xff.txt`), at most `limit` characters."""
    raw = raw_name(name) if isinstance(name, str) else name
    text = raw.decode("utf-8", "backslashreplace")
    shown = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def raw_name(name: str) -> bytes:
    """The bytes of a name as `os.fsdecode` made it (undecodable bytes: lone surrogates)."""
    try:
        return name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate no file name holds
        return name.encode("utf-8", "backslashreplace")
