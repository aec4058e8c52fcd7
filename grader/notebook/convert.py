"""A notebook's kept statements laid out as a module, each cell below its `# --- cell N ---`
line so that a worker can name the cell and line behind any line (grader/worker/linemap.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.notebook.cells import code_cells, strip_magics
from grader.notebook.reasons import NotebookError
from grader.notebook.statements import Statement, compile_cell, read_cell
from grader.notebook.usage import review
from grader.records import DroppedLine
from grader.worker.linemap import CELL_HEADER, DROPPED_ENTRY, DROPPED_HEADER, MARKER, cell_of


@dataclass(frozen=True)
class ConvertedNotebook:
    """The module source made from a notebook, and what was left out of it."""

    source: str
    dropped: tuple[DroppedLine, ...]  # cell and line 1-based, counting code cells only
    needed: tuple[str, ...] = ()  # names kept code uses that only left-out lines set

    @property
    def line_map(self) -> tuple[tuple[int, int] | None, ...]:
        """For each line of `source`, from 0: the (cell, line) it holds, or None (the
        module's own lines: its head, guarded imports, the list of left-out names)."""
        lines = self.source.split("\n")
        return tuple(cell_of(lines, n) for n in range(1, len(lines) + 1))


def notebook_to_module(path: Path) -> ConvertedNotebook:
    """Convert a `.ipynb` file; see `notebook_json_to_module`.

    Raises:
        NotebookError: the file is not UTF-8 or not a usable notebook.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise NotebookError("bad_notebook.not_utf8", filename=path.name) from None
    return notebook_json_to_module(text, filename=path.name, folder=path.parent)


def notebook_json_to_module(
    text: str, *, filename: str = "submission.ipynb", folder: Path | None = None
) -> ConvertedNotebook:
    """Keep the imports, definitions and constants of every code cell; drop the rest.

    Each kept cell follows a `# --- cell N ---` comment, and line K of the cell is K lines
    below it, so a traceback line in the module leads back to the notebook. An import that
    no kept code uses is left out when its module is not installed (nor in `folder`, the
    student's files), else guarded: if it fails while graded, grading goes on without it.

    Args:
        text: the notebook's JSON.
        filename: the name used in error messages.
        folder: the folder the notebook is in (the student's own modules).

    Raises:
        NotebookError: the text is not a notebook, has no code cells, or a cell is not Python.
    """
    names: set[str] = set()  # bound by kept statements so far: constants may use them
    statements: list[Statement] = []
    sources: list[str] = []
    magics: dict[int, list[DroppedLine]] = {}
    for number, source in enumerate(code_cells(text.removeprefix("\ufeff"), filename), 1):
        try:  # the tokenizer, parser and compiler recurse: absurd nesting must not crash us
            python, magics[number] = strip_magics(source, number)
            found = read_cell(python, number, filename, names, len(statements))
            kept = "\n".join(_rows(found, python.count("\n") + 1))
            compile_cell(kept, number, filename, 0)  # `return` in a class body fails only here
        except (RecursionError, MemoryError):
            raise NotebookError("bad_notebook.cell_too_deep", filename=filename,
                                cell=number) from None  # fmt: skip
        statements += found
        sources.append(python)
    try:
        reviewed = review(statements, folder)
    except (RecursionError, MemoryError):
        raise NotebookError("bad_notebook.code_too_deep", filename=filename) from None
    dropped: list[DroppedLine] = []
    for number in magics:
        here = [s.dropped for s in reviewed.statements if s.cell == number and s.dropped]
        dropped += sorted(magics[number] + here, key=lambda d: d.line)
    source = _module(reviewed.statements, sources, reviewed.needed, filename)
    return ConvertedNotebook(source, tuple(dropped), tuple(reviewed.needed))


def _module(
    statements: list[Statement],
    sources: list[str],
    needed: dict[str, tuple[int, int, str]],
    filename: str,
) -> str:
    parts = [
        f"{MARKER} {filename}: its imports, functions, classes and constants, each",
        "# cell below its `# --- cell N ---` line; every other line was left out.",
    ]
    parts += [
        f"{' '.join(t.strip() for t in s.text)}  # moved here: Python requires it first"
        for s in statements
        if s.late_future and s.dropped is None
    ]
    for number, python in enumerate(sources, 1):
        cell = [s for s in statements if s.cell == number]
        block = "\n".join(_rows(cell, python.count("\n") + 1, guarded=False)).rstrip()
        if block.strip():
            parts.append(f"{CELL_HEADER.format(cell=number)}\n{block}\n")
        # below the cell, not above it: a `from __future__` in it must come before them
        parts += [_guarded(s) for s in cell if s.guard and s.dropped is None]
    if needed:
        parts.append(DROPPED_HEADER)
        parts += [DROPPED_ENTRY.format(name=n, cell=c, line=ln, code=code)
                  for n, (c, ln, code) in needed.items()]  # fmt: skip
    return "\n".join(parts) + ("\n" if needed else "")


def _rows(cell: list[Statement], count: int, *, guarded: bool = True) -> list[str]:
    """The cell's lines holding only its kept statements, each on its own lines (`;` joins
    two sharing one); never a moved `from __future__`; `guarded=False`: nor guarded imports."""
    out = [""] * count
    for s in cell:
        if s.dropped is not None or s.late_future or (s.guard and not guarded):
            continue
        for row, piece in enumerate(s.text, s.line - 1):
            out[row] = f"{out[row]}; {piece}" if out[row] else piece
    return out


def _guarded(s: Statement) -> str:
    """An import nothing kept uses, run so that its failure is a line in the log, not an error."""
    where = f"cell {s.cell}, line {s.line}"
    body = "\n".join(f"    {line}" for line in s.text)
    note = f"note: {where}: this import failed here; no kept code uses it, so grading goes on:"
    error = "_grader_import_error"  # its text without ` (/path/of/the/module.py)`
    return (
        f"# --- {where}: an import no kept code uses (skipped if it fails here) ---\n"
        f"try:\n{body}\nexcept Exception as {error}:\n"
        f"    print({note!r}, type({error}).__name__, str({error}).split(' (')[0])"
    )
