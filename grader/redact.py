"""The grading machine's paths taken out of text a student sees (pure stdlib)."""

from __future__ import annotations

import re
import sys
import sysconfig
from pathlib import Path


def redact_paths(text: str) -> str:
    """`text` with the grading machine's Python and grader folders as `<python>`, `<grader>`.

    An exception message (an ImportError's, a traceback line) can name where the grader's
    Python and packages live; a student's report has no business showing that.
    """
    python = {sys.prefix, sys.base_prefix, sys.exec_prefix, *sysconfig.get_paths().values()}
    prefixes = {p.rstrip("/"): "<python>" for p in python if p and p != "/"}
    prefixes[str(Path(__file__).resolve().parent)] = "<grader>"
    for prefix in sorted(prefixes, key=len, reverse=True):
        text = re.sub(re.escape(prefix) + r"(?=/|\b|$)", prefixes[prefix], text)
    return text
