"""How much of a notebook the grader converts: it is parsed on the grader's side, so its
size is capped before anything costly is built (texts in grader/messages/staging.py).

Python's AST costs about a kilobyte per node (`x;x;x;...` is a node per byte) and JSON a
few dozen bytes per value (`[{},{},...]`), so a 20 MB notebook could take gigabytes: the
caps below keep a conversion under a few hundred MB. Real notebooks stay far below them.
"""

from __future__ import annotations

import re

from grader.notebook.reasons import NotebookError

MAX_CODE_BYTES = 256 * 2**10  # all code cells together (a long notebook holds ~80 KB)
MAX_STATEMENTS = 10_000  # top-level statements of all code cells
MAX_STRUCTURE = 2 * 2**20  # JSON characters outside strings and whitespace: values, roughly
_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_SPACE = re.compile(r"\s+")


class NotebookTooLarge(NotebookError):
    """The notebook is over a size cap: a submission too large, not a notebook broken."""


def check_json(text: str, filename: str) -> None:
    """Refuse JSON with more values than a notebook holds, before parsing it.

    Raises:
        NotebookTooLarge: over `MAX_STRUCTURE`.
    """
    if len(text) > MAX_STRUCTURE and len(_SPACE.sub("", _STRINGS.sub("", text))) > MAX_STRUCTURE:
        raise NotebookTooLarge("bad_notebook.too_much_data", filename=filename)


def check_code(sources: list[str], filename: str) -> None:
    """Refuse code cells too large to parse on the grader's side.

    Raises:
        NotebookTooLarge: over `MAX_CODE_BYTES`.
    """
    size = sum(len(s.encode("utf-8", "surrogatepass")) for s in sources)
    if size > MAX_CODE_BYTES:
        megabytes, limit = round(size / 2**20, 2), MAX_CODE_BYTES // 2**10
        raise NotebookTooLarge("bad_notebook.code_too_large", filename=filename,
                               size=megabytes, limit=limit)  # fmt: skip


def check_statements(count: int, filename: str) -> None:
    """Refuse more top-level statements than a submission needs, before each is looked at.

    Raises:
        NotebookTooLarge: over `MAX_STATEMENTS`.
    """
    if count > MAX_STATEMENTS:
        raise NotebookTooLarge("bad_notebook.too_many_statements", filename=filename,
                               limit=MAX_STATEMENTS)  # fmt: skip
