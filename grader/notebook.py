"""Jupyter notebook -> submission module: keep definitions, drop top-level training and plots."""

from __future__ import annotations

import ast
import builtins
import io
import json
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.messages import Message, render
from grader.records import DroppedLine

# `dict(a=1)` and friends build config values without running student code.
CONTAINER_CALLS = frozenset({"dict", "tuple", "list", "set", "frozenset"})
# Cell magics whose body is ordinary Python that Jupyter runs in the notebook's namespace
# (`%%timeit` runs it in a throwaway scope, `%%bash`, `%%html`, ... are not Python).
PYTHON_CELL_MAGICS = frozenset({"time", "capture"})
# Why a line was dropped: message ids (grader/messages/grading.py); `BLOCK` takes `keyword`.
CALL, NOT_CONSTANT, STATEMENT = "notebook.call", "notebook.not_constant", "notebook.statement"
BLOCK, MAIN_BLOCK = "notebook.block", "notebook.main_block"
WHOLE_CELL_MAGIC, CELL_MAGIC = "notebook.whole_cell_magic", "notebook.cell_magic"
MAGIC, SHELL, HELP = "notebook.magic", "notebook.shell", "notebook.help"
BLOCKS = (ast.For, ast.AsyncFor, ast.While, ast.If, ast.With, ast.AsyncWith, ast.Try, ast.Match)
# What a constant's value may be made of; ast.walk also yields operators and contexts.
CONSTANT_PARTS = (ast.Constant, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.Starred, ast.UnaryOp,
                  ast.BinOp, ast.Name, ast.Attribute, ast.Call, ast.keyword, ast.operator,
                  ast.unaryop, ast.expr_context)  # fmt: skip


class NotebookError(ValueError):
    """The notebook cannot be turned into a module; the message says how to fix it."""

    def __init__(self, message_id: str, **params: Any) -> None:
        self.message = Message(message_id, params)
        super().__init__(render(self.message, "en"))


@dataclass(frozen=True)
class ConvertedNotebook:
    """The module source made from a notebook, and what was left out of it."""

    source: str
    dropped: tuple[DroppedLine, ...]  # cell and line 1-based, counting code cells only


def dropped_line(cell: int, line: int, code: str, reason: str, **params: Any) -> DroppedLine:
    """A left-out line, with its reason by id and in English."""
    message = Message(reason, params)
    return DroppedLine(cell, line, _short(code), render(message, "en"), message)


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
    return notebook_json_to_module(text, filename=path.name)


def notebook_json_to_module(text: str, *, filename: str = "submission.ipynb") -> ConvertedNotebook:
    """Keep the imports, definitions and constants of every code cell; drop the rest.

    Each kept cell follows a `# --- cell N ---` comment, and line K of the cell is K lines
    below it, so a traceback line in the module leads back to the notebook.

    Args:
        text: the notebook's JSON.
        filename: the name used in error messages.

    Raises:
        NotebookError: the text is not a notebook, has no code cells, or a cell is not Python.
    """
    # Names bound by kept statements so far (constants may use them), and `from __future__`
    # imports that must move to the top because something was kept before them.
    names: set[str] = set()
    future: list[str] = []
    blocks: list[str] = []
    left_out: list[DroppedLine] = []
    for number, source in enumerate(_code_cells(text.removeprefix("\ufeff"), filename), 1):
        python, magics = _strip_magics(source, number)
        block, removed = _convert_cell(python, number, filename, names, future)
        left_out += sorted(magics + removed, key=lambda d: d.line)
        if block:
            blocks.append(f"# --- cell {number} ---\n{block}\n")
    prologue = [f"{line}  # moved here: Python requires it first" for line in future]
    return ConvertedNotebook("\n".join(prologue + blocks), tuple(left_out))


def _code_cells(text: str, filename: str) -> list[str]:
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
        # Python reads \r\n and \r as \n; doing it here keeps our line numbers equal to its own.
        sources.append(source.replace("\r\n", "\n").replace("\r", "\n"))
    return sources


def _strip_magics(source: str, cell: int) -> tuple[str, list[DroppedLine]]:
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


def _convert_cell(
    source: str, cell: int, filename: str, names: set[str], future: list[str]
) -> tuple[str, list[DroppedLine]]:
    """The cell's kept statements on their original lines, and the dropped ones."""
    tree = _compile(source, cell, filename, ast.PyCF_ONLY_AST)
    lines = source.split("\n")
    out: list[str] = [""] * len(lines)
    left_out: list[DroppedLine] = []
    for index, node in enumerate(tree.body):
        first, text = _text(lines, node)
        started = bool(names)  # something besides the docstring and `from __future__` is kept
        docstring = index == 0 and not started and _is_docstring(node)
        if not (docstring or _keep(node, names)):
            reason, params = _reason(node, text[0])
            left_out.append(dropped_line(cell, first, text[0], reason, **params))
            continue
        if isinstance(node, ast.ImportFrom) and node.module == "__future__" and started:
            future.append(" ".join(t.strip() for t in text))  # Jupyter allows it in any cell
            continue
        for row, piece in enumerate(text, first - 1):  # `;` joins a statement sharing a line
            out[row] = f"{out[row]}; {piece}" if out[row] else piece
    block = "\n".join(out).rstrip()
    _compile(block, cell, filename, 0)  # e.g. `return` in a class body only fails here
    return block, left_out


def _compile(source: str, cell: int, filename: str, flags: int) -> Any:
    try:  # dont_inherit: our own `from __future__` must not change how students' code reads
        return compile(source, f"cell {cell}", "exec", flags, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError) as exc:  # also null bytes, deep nesting
        where = {"filename": filename, "cell": cell}
        if not isinstance(exc, SyntaxError):
            raise NotebookError("bad_notebook.not_python", **where, error=str(exc)) from None
        where.update(line=exc.lineno, error=exc.msg)
        if not (exc.text and exc.text.strip()):
            raise NotebookError("bad_notebook.syntax_error", **where) from None
        code = repr(_short(exc.text))
        raise NotebookError("bad_notebook.syntax_error_in", **where, code=code) from None


def _text(lines: list[str], node: ast.stmt) -> tuple[int, list[str]]:
    """Where a statement starts and its own text: decorators in, `;` neighbours out."""
    decorators = getattr(node, "decorator_list", [])
    first = decorators[0].lineno if decorators else node.lineno
    chunk = [line.encode() for line in lines[first - 1 : node.end_lineno]]
    chunk[-1] = chunk[-1][: node.end_col_offset]  # ast columns count UTF-8 bytes
    if not decorators:
        chunk[0] = chunk[0][node.col_offset :]
    return first, [c.decode() for c in chunk]


def _short(line: str) -> str:
    line = line.strip()
    return line if len(line) <= 80 else line[:79] + "…"


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(getattr(node.value, "value", None), str)


def _keep(node: ast.stmt, names: set[str]) -> bool:
    """Whether grading keeps a top-level statement; if so, add the names it binds."""
    if isinstance(node, ast.Import | ast.ImportFrom):
        if getattr(node, "module", None) != "__future__":  # binds no name students use
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        return True
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        names.add(node.name)
        return True
    if isinstance(node, ast.Assign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if node.value is None or not all(isinstance(t, ast.Name) for t in targets):
            return False
        if not _constant(node.value, names):
            return False
        names.update(t.id for t in targets if isinstance(t, ast.Name))
        return True
    if isinstance(node, ast.Try):  # `try: import x` / `except ImportError: x = None`
        body = [*node.body, *(s for h in node.handlers for s in h.body), *node.orelse,
                *node.finalbody]  # fmt: skip
        simple, inner = ast.Import | ast.ImportFrom | ast.Assign | ast.AnnAssign, set(names)
        if all(isinstance(s, ast.Pass) or isinstance(s, simple) and _keep(s, inner) for s in body):
            names |= inner  # only now: a dropped `try` must not leak its imports
            return True
    return False


def _constant(value: ast.expr, names: set[str]) -> bool:
    """Literals, containers and arithmetic of them, known names and their attributes, and
    `dict(...)`-style calls of those. ast.walk, unlike recursion, copes with `1 + 1 + ...`."""
    for node in ast.walk(value):
        if not isinstance(node, CONSTANT_PARTS):
            return False
        if isinstance(node, ast.Name) and node.id not in names and not hasattr(builtins, node.id):
            return False
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name)
            and node.func.id in CONTAINER_CALLS
            and node.func.id not in names  # a student's own `dict` would run their code
        ):
            return False
    return True


def _reason(node: ast.stmt, first_line: str) -> tuple[str, dict[str, str]]:
    """Why a statement is dropped: a message id and its parameters."""
    if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
        return MAIN_BLOCK, {}
    if isinstance(node, BLOCKS):  # name the keyword the student wrote: `for`, `with`, ...
        return BLOCK, {"keyword": first_line.split()[0].rstrip(":")}
    if any(isinstance(n, ast.Call) for n in ast.walk(node)):
        return CALL, {}
    if isinstance(node, ast.Assign | ast.AnnAssign):
        return NOT_CONSTANT, {}
    return STATEMENT, {}
