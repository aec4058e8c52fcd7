"""Hostile submissions that attack the grader's own staging (copying, hashing, naming,
notebook conversion) rather than the sandbox: built at test time, since git cannot hold a
non-UTF-8 name, a link into /proc or a 2 GB file.

Each plants one folder beside the hostile fixtures; `EXPECTED` says what its result must be.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

# Staged, hashed and run like any submission; it stops at once so that the batch does not
# pay for a training per attack (the code reaching the child is what these attacks test).
RAN = "staged and run"
HONEST_CODE = f"""def build_scratch(input_shape, num_classes):
    raise RuntimeError("{RAN}")
"""
SECRET_NAME = "SECRET-NAME-4417"  # in a root-only file a student.toml link points to
LONG_NAME = "long-" + "n" * 235  # 240 characters: the result file's name would be too long
BAD_FOLDER = os.fsdecode(b"bad-folder-\xfe")  # not UTF-8

# folder -> (RAN: staged and run as usual | an error kind the result must carry)
EXPECTED = {
    "bytes-in-a-file-name": RAN,
    "deep-toml": RAN,
    "deep-notebook": RAN,
    "proc-links": RAN,
    "toml-link-secret": RAN,
    "toml-link-shadow": RAN,
    "huge-notebook": "bad_submission",
    "sparse-2gb": "bad_submission",
    "many-entries": "bad_submission",
    "linked-submission": "bad_submission",
    LONG_NAME: "bad_submission",
    BAD_FOLDER: "bad_submission",
}
NAMES = tuple(EXPECTED)


def plant(folder: Path, secrets: Path) -> None:
    """Create every staging attack in `folder`; root-only files go to `secrets`."""
    for name in NAMES:
        (folder / name).mkdir(parents=True)
    with_code = [n for n in NAMES if "notebook" not in n and n != "linked-submission"]
    for name in with_code:
        (folder / name / "submission.py").write_text(HONEST_CODE)
    with open(
        os.path.join(os.fsencode(folder / "bytes-in-a-file-name"), b"notes-\xff.txt"), "wb"
    ) as fh:
        fh.write(b"my notes\n")
    (folder / "deep-toml" / "student.toml").write_text("nested = " + "[" * 2000 + "]" * 2000)
    _notebook(folder / "deep-notebook", [HONEST_CODE, "if " + "not " * 1000 + "x:\n    print(1)"])
    (folder / "proc-links" / "memory").symlink_to("/proc/self/mem")
    (folder / "proc-links" / "kernel-log").symlink_to("/proc/kmsg")
    secrets.mkdir(mode=0o700, exist_ok=True)
    secret = secrets / "secret.toml"
    secret.write_text(f'name = "{SECRET_NAME}"\n')
    secret.chmod(0o600)
    (folder / "toml-link-secret" / "student.toml").symlink_to(secret)
    (folder / "toml-link-shadow" / "student.toml").symlink_to("/etc/shadow")
    constant = "x" * (11 * 2**20)  # 11 MB: under the cap alone, over it with its module
    _notebook(
        folder / "huge-notebook", [HONEST_CODE + f"\n\ndef data():\n    return {constant!r}\n"]
    )
    with open(folder / "sparse-2gb" / "weights.bin", "wb") as fh:
        fh.truncate(2 * 2**30)  # sparse: no disk used, 2 GB to anyone who reads it
    entries = folder / "many-entries" / "data"
    entries.mkdir()
    for i in range(100_000):
        (entries / f"{i}.txt").touch()
    (folder / "linked-submission" / "submission.py").symlink_to(
        folder / "deep-toml" / "submission.py"
    )


def _notebook(folder: Path, cells: list[str]) -> None:
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "cells": [
            {
                "cell_type": "code",
                "id": f"c{i}",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": source,
            }
            for i, source in enumerate(cells)
        ],  # fmt: skip
    }
    (folder / "submission.ipynb").write_text(json.dumps(notebook))
