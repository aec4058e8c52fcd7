"""Which top-level statements of a cell grading keeps: imports, definitions and constants."""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass
from typing import Any

from grader.notebook.limits import check_statements
from grader.notebook.reasons import (
    BLOCK,
    CALL,
    MAIN_BLOCK,
    NOT_CONSTANT,
    STATEMENT,
    NotebookError,
    dropped_line,
    short,
)
from grader.records import DroppedLine

# `dict(a=1)` and friends build config values without running student code.
CONTAINER_CALLS = frozenset({"dict", "tuple", "list", "set", "frozenset"})
BLOCKS = (ast.For, ast.AsyncFor, ast.While, ast.If, ast.With, ast.AsyncWith, ast.Try, ast.Match)
# What a constant's value may be made of; ast.walk also yields operators and contexts.
CONSTANT_PARTS = (ast.Constant, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.Starred, ast.UnaryOp,
                  ast.BinOp, ast.Name, ast.Attribute, ast.Call, ast.keyword, ast.operator,
                  ast.unaryop, ast.expr_context)  # fmt: skip


@dataclass(frozen=True)
class Statement:
    """One top-level statement of a cell: where it starts, its own text, whether it is kept."""

    cell: int
    line: int  # 1-based, in the cell
    text: tuple[str, ...]  # its lines, without `;` neighbours sharing the first or last one
    node: ast.stmt
    dropped: DroppedLine | None = None  # why it is left out; None: kept
    late_future: bool = False  # a `from __future__` after kept code: moves to the top
    guard: bool = False  # an import nothing kept uses: grading goes on if it fails


def read_cell(
    source: str, cell: int, filename: str, names: set[str], before: int = 0
) -> list[Statement]:
    """The cell's statements, each kept or dropped; `names` gains what kept ones bind.
    `before`: statements of the earlier cells, which count towards `MAX_STATEMENTS`.

    Raises:
        NotebookError: the cell is not Python.
        NotebookTooLarge: more statements than a submission needs.
    """
    tree = compile_cell(source, cell, filename, ast.PyCF_ONLY_AST)
    check_statements(before + len(tree.body), filename)
    lines = source.split("\n")
    found = []
    for index, node in enumerate(tree.body):
        first, text = _text(lines, node)
        started = bool(names)  # something besides the docstring and `from __future__` is kept
        if (index == 0 and not started and _is_docstring(node)) or keep(node, names):
            future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
            found.append(Statement(cell, first, tuple(text), node, late_future=future and started))
        else:
            reason, params = _reason(node, text[0])
            left_out = dropped_line(cell, first, text[0], reason, **params)
            found.append(Statement(cell, first, tuple(text), node, left_out))
    return found


def compile_cell(source: str, cell: int, filename: str, flags: int) -> Any:
    """Compile a cell (or parse it, with `ast.PyCF_ONLY_AST`), naming the cell if it fails.

    Raises:
        NotebookError: a syntax error, null bytes or nesting too deep for Python.
    """
    try:  # dont_inherit: our own `from __future__` must not change how students' code reads
        return compile(source, f"cell {cell}", "exec", flags, dont_inherit=True)
    except (RecursionError, MemoryError):  # nesting deep enough to overflow the parser's stack
        raise NotebookError("bad_notebook.cell_too_deep", filename=filename, cell=cell) from None
    except (SyntaxError, ValueError) as exc:  # also null bytes
        where = {"filename": filename, "cell": cell}
        if not isinstance(exc, SyntaxError):
            raise NotebookError("bad_notebook.not_python", **where, error=str(exc)) from None
        where.update(line=exc.lineno, error=exc.msg)
        if not (exc.text and exc.text.strip()):
            raise NotebookError("bad_notebook.syntax_error", **where) from None
        code = repr(short(exc.text))
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


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(getattr(node.value, "value", None), str)


def keep(node: ast.stmt, names: set[str]) -> bool:
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
        bound = [_target_names(t) for t in targets]
        if node.value is None or None in bound or not _constant(node.value, names):
            return False
        names.update(name for group in bound for name in group or ())
        return True
    if isinstance(node, ast.Try):  # `try: import x` / `except ImportError: x = None`
        body = [*node.body, *(s for h in node.handlers for s in h.body), *node.orelse,
                *node.finalbody]  # fmt: skip
        simple, inner = ast.Import | ast.ImportFrom | ast.Assign | ast.AnnAssign, set(names)
        if all(isinstance(s, ast.Pass) or isinstance(s, simple) and keep(s, inner) for s in body):
            names |= inner  # only now: a dropped `try` must not leak its imports
            return True
    return False


def _target_names(target: ast.expr) -> list[str] | None:
    """The names `NAME = ...` or `W, H = ...` binds; None for other targets (`a.b`, `a[0]`)."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Tuple | ast.List):
        parts = [_target_names(getattr(t, "value", t)) for t in target.elts]  # `*rest` too
        return None if None in parts else [n for part in parts for n in part or ()]
    return None


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
    if isinstance(node, ast.If) and _names_main(node.test):
        return MAIN_BLOCK, {}
    if isinstance(node, BLOCKS):  # name the keyword the student wrote: `for`, `with`, ...
        return BLOCK, {"keyword": first_line.split()[0].rstrip(":")}
    if any(isinstance(n, ast.Call) for n in ast.walk(node)):
        return CALL, {}
    if isinstance(node, ast.Assign | ast.AnnAssign):
        return NOT_CONSTANT, {}
    return STATEMENT, {}


def _names_main(test: ast.expr) -> bool:
    """Whether an `if` tests `__main__` (`__name__ == "__main__"`). ast.walk, unlike
    `ast.unparse`, copes with a condition nested a thousand levels deep."""
    for node in ast.walk(test):
        text = getattr(node, "value", None) if isinstance(node, ast.Constant) else None
        text = getattr(node, "id", None) or getattr(node, "attr", None) or text
        if isinstance(text, str) and "__main__" in text:
            return True
    return False
