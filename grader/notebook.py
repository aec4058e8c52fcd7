"""Jupyter notebook -> submission module: keep definitions, drop top-level training and plots."""

from __future__ import annotations

import ast
import io
import json
import tokenize
from dataclasses import dataclass
from pathlib import Path

KEPT_CALLS = {"dict", "tuple", "list", "set", "frozenset"}
TOP_LEVEL_REASON = "top-level code (training, plotting and data loading do not run in grading)"


class NotebookError(ValueError):
    """The notebook cannot be turned into a module; the message says how to fix it."""


@dataclass(frozen=True)
class DroppedStatement:
    """A line of the notebook that grading leaves out, and why."""

    cell: int  # 1-based, counting code cells only
    line: int  # 1-based, inside the cell
    code: str
    reason: str


@dataclass(frozen=True)
class ConvertedNotebook:
    """The module source made from a notebook, and what was left out of it."""

    source: str
    dropped: tuple[DroppedStatement, ...]


def notebook_to_module(path: Path) -> ConvertedNotebook:
    """Convert a `.ipynb` file (see `notebook_json_to_module`)."""
    return notebook_json_to_module(Path(path).read_text(encoding="utf-8"), filename=Path(path).name)


def notebook_json_to_module(text: str, *, filename: str = "submission.ipynb") -> ConvertedNotebook:
    """Keep imports, function and class definitions and constant assignments of every code
    cell; drop every other top-level statement, IPython magics and shell lines.

    Raises:
        NotebookError: the text is not a notebook, has no code cells, or a cell does not parse.
    """
    cells = _code_cells(text, filename)
    parts, dropped = [], []
    constants: set[str] = set()
    for number, source in enumerate(cells, start=1):
        python, magics = _strip_magics(source, number)
        dropped += magics
        kept, removed = _filter(python, number, filename, constants)
        dropped += removed
        if kept.strip():
            parts.append(f"# --- cell {number} ---\n{kept.rstrip()}\n")
    return ConvertedNotebook("\n\n".join(parts), tuple(dropped))


def _code_cells(text: str, filename: str) -> list[str]:
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(
            f"{filename} is not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}. "
            "Re-save the notebook from Jupyter, or submit submission.py instead."
        ) from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise NotebookError(f"{filename} is not a Jupyter notebook (it has no list of cells). "
                            "Submit the .ipynb file Jupyter saves, or submission.py.")  # fmt: skip
    sources = []
    for cell in notebook["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise NotebookError(f"{filename}: a code cell's source is neither text nor a list "
                                "of lines. Re-save the notebook from Jupyter.")  # fmt: skip
        sources.append(source)
    if not sources:
        raise NotebookError(f"{filename} has no code cells: put build_scratch, build_transfer "
                            "and build_cifar10 in code cells.")  # fmt: skip
    return sources


def _strip_magics(source: str, cell: int) -> tuple[str, list[DroppedStatement]]:
    """Blank out IPython-only lines (`%magic`, `%%cell magic`, `!shell`, `x = !cmd`, `?obj`),
    keeping line numbers; lines inside multi-line strings are left alone."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):  # a cell magic makes the cell non-Python
        return "", [DroppedStatement(cell, 1, lines[0].strip()[:80], "IPython cell magic")]
    inside_string = _string_lines(source)
    dropped = []
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        kind = _magic_kind(stripped)
        if kind and (i + 1) not in inside_string:
            dropped.append(DroppedStatement(cell, i + 1, stripped[:80], kind))
            lines[i] = ""
    return "\n".join(lines), dropped


def _magic_kind(stripped: str) -> str | None:
    if stripped.startswith("%"):
        return "IPython magic"
    if stripped.startswith("!") or (
        "=" in stripped and stripped.split("=", 1)[1].lstrip().startswith("!")
        and stripped.split("=", 1)[0].strip().isidentifier()
    ):  # fmt: skip
        return "shell command"
    if stripped.startswith("?") or (stripped.endswith("?") and stripped[:-1].isidentifier()):
        return "IPython help"
    return None


def _string_lines(source: str) -> set[int]:
    """Line numbers strictly inside multi-line string literals (best effort)."""
    inside: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.STRING and token.end[0] > token.start[0]:
                inside.update(range(token.start[0] + 1, token.end[0] + 1))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # magics make a cell untokenizable; it is parsed again after stripping
    return inside


def _filter(
    source: str, cell: int, filename: str, constants: set[str]
) -> tuple[str, list[DroppedStatement]]:
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise NotebookError(
            f"{filename}: code cell {cell} does not parse (line {exc.lineno}: {exc.msg}). "
            "Fix it, or delete the cell."
        ) from None
    lines = source.splitlines()
    kept, dropped = [], []
    for index, node in enumerate(tree.body):
        segment = "\n".join(lines[node.lineno - 1 : node.end_lineno])
        if index == 0 and _is_docstring(node) or _keep(node, constants):
            kept.append(segment)
        else:
            first = lines[node.lineno - 1].strip()
            dropped.append(DroppedStatement(cell, node.lineno, first[:80], TOP_LEVEL_REASON))
    return "\n".join(kept), dropped


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)


def _keep(node: ast.stmt, constants: set[str]) -> bool:
    if isinstance(node, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.AsyncFunctionDef
                  | ast.ClassDef):  # fmt: skip
        if isinstance(node, ast.Import | ast.ImportFrom):
            constants.update((a.asname or a.name).split(".")[0] for a in node.names)
        return True
    if isinstance(node, ast.Assign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if node.value is not None and all(isinstance(t, ast.Name) for t in targets) and (
            _constant(node.value, constants)
        ):  # fmt: skip
            constants.update(t.id for t in targets if isinstance(t, ast.Name))
            return True
        return False
    if isinstance(node, ast.Try):
        body = node.body + [s for h in node.handlers for s in h.body] + node.orelse
        return all(isinstance(s, ast.Pass) or _keep(s, constants) for s in body)
    return False


def _constant(node: ast.expr, names: set[str]) -> bool:
    """Literals, containers of them, arithmetic on them, known names and their attributes."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return all(_constant(e, names) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is None or _constant(k, names) for k in node.keys) and all(
            _constant(v, names) for v in node.values
        )
    if isinstance(node, ast.UnaryOp):
        return _constant(node.operand, names)
    if isinstance(node, ast.BinOp):
        return _constant(node.left, names) and _constant(node.right, names)
    if isinstance(node, ast.Name):
        return node.id in names
    if isinstance(node, ast.Attribute):
        return _constant(node.value, names)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return (
            node.func.id in KEPT_CALLS
            and all(_constant(a, names) for a in node.args)
            and all(_constant(k.value, names) for k in node.keywords)
        )
    return False
