"""A notebook's code cells as Python: the JSON read, IPython-only lines blanked out."""

from __future__ import annotations

import io
import json
import tokenize

from grader.notebook.limits import check_code, check_json
from grader.notebook.reasons import (
    CELL_MAGIC,
    HELP,
    MAGIC,
    SHELL,
    WHOLE_CELL_MAGIC,
    NotebookError,
    dropped_line,
)
from grader.records import DroppedLine

# Cell magics whose body is ordinary Python that Jupyter runs in the notebook's namespace
# (`%%timeit` runs it in a throwaway scope, `%%bash`, `%%html`, ... are not Python).
PYTHON_CELL_MAGICS = frozenset({"time", "capture"})


def code_cells(text: str, filename: str) -> list[str]:
    """The source of every code cell, in order, with `\\n` line ends.

    Raises:
        NotebookError: not JSON, not a notebook, no code cells, or a cell without a source.
        NotebookTooLarge: more data or code than the grader converts (`limits`).
    """
    check_json(text, filename)
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError("bad_notebook.bad_json", filename=filename, line=exc.lineno,
                            column=exc.colno, error=exc.msg) from None  # fmt: skip
    except RecursionError:
        raise NotebookError("bad_notebook.too_deep", filename=filename) from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise NotebookError("bad_notebook.not_a_notebook", filename=filename)
    cells = [c for c in notebook["cells"] if isinstance(c, dict) and c.get("cell_type") == "code"]
    if not cells:
        raise NotebookError("bad_notebook.no_code_cells", filename=filename)
    sources = []
    for number, cell in enumerate(cells, 1):
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise NotebookError("bad_notebook.bad_cell_source", filename=filename, cell=number)
        if not source.isascii() and not _encodable(source):  # a JSON escape like "\\ud800"
            raise NotebookError("bad_notebook.not_utf8", filename=filename)
        # Python reads \r\n and \r as \n; doing it here keeps our line numbers equal to its own.
        sources.append(source.replace("\r\n", "\n").replace("\r", "\n"))
    check_code(sources, filename)
    return sources


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def strip_magics(source: str, cell: int) -> tuple[str, list[DroppedLine]]:
    """Blank out IPython-only lines, keeping every other line where it was."""
    lines = source.split("\n")
    left_out: list[DroppedLine] = []
    first = next((i for i, line in enumerate(lines) if line.strip()), 0)
    if lines[first].lstrip().startswith("%%"):  # IPython only honours a cell magic up top
        magic = lines[first].strip()
        if magic[2:].split(" ", 1)[0] not in PYTHON_CELL_MAGICS:
            return "", [dropped_line(cell, first + 1, magic, WHOLE_CELL_MAGIC)]
        left_out.append(dropped_line(cell, first + 1, magic, CELL_MAGIC))
        lines[first] = ""
    for number, kind in _magic_lines(lines).items():
        line = lines[number - 1]
        left_out.append(dropped_line(cell, number, line, kind))
        indent = line[: len(line) - len(line.lstrip())]
        lines[number - 1] = f"{indent}pass" if indent else ""  # an indented block needs a body
    return "\n".join(lines), left_out


def _magic_lines(lines: list[str]) -> dict[int, str]:
    """IPython-only lines (number -> reason id). Only lines that start a statement count, so text in
    multi-line strings and `%` continuing an expression stay (tokenize; best effort)."""
    found: dict[int, str] = {}
    depth, at_start = 0, True
    skip = {tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT, tokenize.ENDMARKER}
    try:
        for token in tokenize.generate_tokens(io.StringIO("\n".join(lines)).readline):
            row = token.start[0]
            if row in found or token.type in skip:  # a magic line's brackets are not Python
                continue
            if token.type in (tokenize.NEWLINE, tokenize.NL):
                at_start = depth == 0
                continue
            if at_start and (kind := _magic_kind(lines[row - 1].strip())):
                found[row] = kind
                continue
            at_start = False
            if token.type == tokenize.OP and token.string in ("(", "[", "{", ")", "]", "}"):
                depth = max(0, depth + (1 if token.string in "([{" else -1))
    except (tokenize.TokenError, SyntaxError):
        pass  # the rest of the cell is unreadable anyway; parsing it will say where
    return found


def _magic_kind(line: str) -> str | None:
    target, equals, value = line.partition("=")
    if equals and _names(target) and value.lstrip()[:1] in ("!", "%"):
        line = value.lstrip()  # `files = !ls`, `t = %timeit -o f()`
    if line.startswith("%"):
        return MAGIC
    if line.startswith("!"):
        return SHELL
    if line.startswith("?") or (line.endswith("?") and _names(line.rstrip("?"))):
        return HELP
    return None


def _names(text: str) -> bool:
    """`a`, `a.b` or `a, b`: what IPython accepts before `= !cmd` and `?`."""
    return all(p.isidentifier() for part in text.split(",") for p in part.strip().split("."))
