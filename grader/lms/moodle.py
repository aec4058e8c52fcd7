"""Paths in Moodle's "Download all submissions" zip: who handed in what.

Each student's files come under `<Full Name>_<participant id>_assignsubmission_file_`:
a folder holding the files as uploaded (Moodle 3.x and later, "Download submissions in
folders"), or, in older downloads, a prefix of each file's own name
(`Full Name_123_assignsubmission_file_lab.ipynb`). The participant id is the assignment's
number for the student (the grading worksheet's "Participant 123"). Other plugins'
entries (`assignsubmission_onlinetext_`, comments) carry no code and are ignored.
Full names are kept as Moodle wrote them, accents included ("Zoë Ångström").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PART = re.compile(r"^(?P<name>.+?)_(?P<participant>\d+)_assignsubmission_(?P<plugin>[a-z0-9]+)_")
FILE_PLUGIN = "file"


@dataclass(frozen=True)
class MoodleFile:
    """One file of the download, as its path describes it."""

    full_name: str
    participant_id: str
    plugin: str  # `file` for uploads; `onlinetext`, `comments` ... carry no code
    original: str  # the file's path as uploaded, below the student's folder


def parse_moodle_path(parts: list[str]) -> MoodleFile | None:
    """What a path of the download (its components) says; None when no component is
    Moodle's `<name>_<id>_assignsubmission_<plugin>_` (the first that is counts: a
    download zipped again may sit inside a folder of its own)."""
    for index, part in enumerate(parts):
        match = _PART.match(part)
        if match is None:
            continue
        rest = part[match.end() :]
        below = parts[index + 1 :]
        original = "/".join([rest, *below] if rest else below)
        if not original:
            return None  # the student's folder itself
        return MoodleFile(
            full_name=" ".join(match["name"].split()),
            participant_id=match["participant"],
            plugin=match["plugin"],
            original=original,
        )
    return None
