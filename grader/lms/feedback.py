"""The name a student's feedback PDF gets inside the zip Moodle's assignment takes under
"Upload multiple feedback files in a zip".

Moodle matches each file to a participant by its name alone
(`assignfeedback_file_zip_importer::is_valid_filename_for_import`, in
mod/assign/feedback/file/importziplib.php): a path part is split at the first four
underscores into `<full name>_<participant id>_<plugin type>_<plugin name>_<file name>`;
the participant id must be the number Moodle gave the student in this assignment (the one
its "Download all submissions" puts in each name) and the plugin one the assignment has.
Files whose name starts with '.' or '~' are ignored. The full name is for people only, so
its underscores become spaces (as Moodle's own download does) and characters no file
name may hold are dropped.

We name each PDF `<Full Name>_<participant id>_assignfeedback_file_<file name>`: the
feedback-file plugin, which any assignment offering this upload has; Moodle stores it as
that student's feedback file `<file name>`, and skips it on a later upload if unchanged.
"""

from __future__ import annotations

import re

from grader.lms.student import StudentInfo
from grader.safetext import clean

PLUGIN = "assignfeedback_file"  # <plugin type>_<plugin name> Moodle resolves to a plugin
MOODLE = "moodle"
NAME_CHARS = 80
# Dropped from the full name: what Moodle's clean_filename drops, and what no file system
# takes (Windows' * and ?); underscores split the name's fields, so they become spaces
_UNSAFE = re.compile(r"[&<>\"`|':\\/*?]")
_PARTICIPANT_ID = re.compile(r"[0-9]{1,18}")


def participant_id(info: StudentInfo) -> str | None:
    """The Moodle participant id of this student, None when unknown (not a Moodle import,
    or not a number: Moodle would ignore the file)."""
    user_id = info.lms_user_id.strip()
    if info.lms != MOODLE or not _PARTICIPANT_ID.fullmatch(user_id):
        return None
    return user_id


def full_name_part(name: str) -> str:
    """The student's name as the first field of a Moodle zip member's name: no
    underscores, no separator or character file names cannot hold, not hidden."""
    text = _UNSAFE.sub("", clean(name, NAME_CHARS).replace("_", " "))
    text = " ".join(text.split()).lstrip(".~ ")
    return text or "Participant"


def member_name(info: StudentInfo, file_name: str) -> str | None:
    """`<Full Name>_<participant id>_assignfeedback_file_<file_name>`, or None when the
    student has no Moodle participant id (Moodle could not match the file to anyone)."""
    number = participant_id(info)
    if number is None:
        return None
    return f"{full_name_part(info.name)}_{number}_{PLUGIN}_{file_name}"


def matched_participant(member: str) -> str | None:
    """The participant id Moodle reads from a zip member's name for the feedback-file
    plugin, None if it would skip the file: the importer's rule, for checking a zip."""
    if member.endswith("/") or member.rsplit("/", 1)[-1].startswith((".", "~")):
        return None
    for part in member.split("/"):
        fields = part.split("_", 4)
        if len(fields) >= 4 and fields[1].isdigit() and "_".join(fields[2:4]) == PLUGIN:
            return fields[1]
    return None
