"""File names of Canvas' "Download Submissions" zip: who handed in what, and whether late.

Canvas names each file `<lastfirst>[_late]_<user id>_<submission id>_<original name>`:
`lastfirst` is the student's sortable name in lower case with spaces, punctuation and
accents removed ("Núñez, José" -> `nunezjose`; a group assignment may put the group's
name there), the late marker is `late` or `LATE` depending on the Canvas version, and the
two ids are numbers. A file a student uploaded again under the same name gets `-1`, `-2`
... before its extension (`transfer-2.ipynb`): the highest number is the newest upload.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Non-greedy `who`: the first `_<digits>_<digits>_` after it is Canvas' (the original name,
# which may hold anything, comes last).
_NAME = re.compile(
    r"^(?P<who>.+?)(?:_(?P<late>late))?_(?P<user>\d+)_(?P<submission>\d+)_(?P<original>.+)$",
    re.IGNORECASE,
)
_VERSION = re.compile(r"^(?P<stem>.+?)-(?P<number>\d{1,4})(?P<ext>\.[^.]+)$")


@dataclass(frozen=True)
class CanvasFile:
    """One file of the download, as its name describes it."""

    lastfirst: str  # Canvas' `lastfirst` (or group name): a fallback for the student's name
    late: bool
    user_id: str
    submission_id: str
    original: str  # the name the student uploaded, with Canvas' re-upload suffix
    base: str  # `original` without that suffix: `transfer-2.ipynb` -> `transfer.ipynb`
    version: int  # the re-upload number: 0 for the first upload


def parse_canvas_name(file_name: str) -> CanvasFile | None:
    """What a file name of the download says, None when it is not Canvas' pattern."""
    match = _NAME.match(file_name)
    if match is None:
        return None
    original = match["original"]
    base, version = split_version(original)
    return CanvasFile(
        lastfirst=match["who"],
        late=match["late"] is not None,
        user_id=match["user"],
        submission_id=match["submission"],
        original=original,
        base=base,
        version=version,
    )


def split_version(original: str) -> tuple[str, int]:
    """`transfer-2.ipynb` -> (`transfer.ipynb`, 2); a name without a suffix -> (name, 0)."""
    match = _VERSION.match(original)
    if match is None:
        return original, 0
    return match["stem"] + match["ext"], int(match["number"])
