"""What a notebook's kept code uses, found before anything runs: the names it needs from
left-out lines, imports no kept code uses, and augmentation left outside the model."""

from __future__ import annotations

import ast
import builtins
import importlib.machinery
import importlib.util
import symtable
from dataclasses import dataclass, replace
from pathlib import Path

from grader.notebook.reasons import AUGMENTATION, NEEDED, UNUSED_IMPORT, dropped_line
from grader.notebook.statements import Statement

# Calls that make or feed Keras 2's image generators (`datagen.flow(...)`), and Keras 3's
# augmentation layers (`RandomFlip`, ... besides initializers named Random*).
GENERATOR_CALLS = frozenset({"ImageDataGenerator", "flow", "flow_from_directory",
                             "flow_from_dataframe"})  # fmt: skip
AUGMENTATION_LAYERS = frozenset({"RandAugment", "AugMix", "MixUp", "CutMix"})
NOT_AUGMENTATION = frozenset({"RandomNormal", "RandomUniform"})
TRAINING_CALLS = frozenset({"fit", "fit_generator", "train_on_batch", "evaluate", "predict"})
NEW_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp,
              ast.SetComp, ast.DictComp, ast.GeneratorExp)  # fmt: skip
MAX_USERS = 3  # functions named in a `needed` reason


@dataclass(frozen=True)
class Review:
    """The statements with the reasons found by looking at the whole notebook, and the names
    kept code needs that only left-out lines set: name -> (cell, line, code)."""

    statements: list[Statement]
    needed: dict[str, tuple[int, int, str]]


def review(statements: list[Statement], folder: Path | None = None) -> Review:
    """Give left-out lines their most useful reason, drop imports of missing modules nothing
    kept uses, and mark the other unused imports to be guarded (`Statement.guard`)."""
    kept = [s for s in statements if s.dropped is None]
    users: dict[str, list[str]] = {}
    for s in kept:
        if not isinstance(s.node, ast.Import | ast.ImportFrom):
            for name in global_uses("\n".join(s.text)):
                users.setdefault(name, []).append(_label(s))
    known = set().union(*(bound_names(s.node) for s in kept)) | set(dir(builtins))
    needed: dict[str, tuple[int, int, str]] = {}
    out = []
    for s in _with_augmentation(statements):
        if s.dropped is not None:
            taken = known | needed.keys()
            wanted = sorted(n for n in bound_names(s.node) if n in users and n not in taken)
            if wanted:
                needed.update((n, (s.cell, s.line, s.dropped.code)) for n in wanted)
                s = _needed(s, wanted, users)
        elif _unused_import(s, users):
            s = _unused(s, missing_module(s.node, folder))  # type: ignore[arg-type]
        out.append(s)
    return Review(out, needed)


def global_uses(text: str) -> set[str]:
    """Names a statement reads from the module's namespace, at any depth (symtable)."""
    found: set[str] = set()
    try:
        tables = [symtable.symtable(text, "cell", "exec")]
    except (SyntaxError, ValueError):  # compiled as part of its cell already: not expected
        return found
    while tables:
        table = tables.pop()
        symbols = table.get_symbols()
        found.update(s.get_name() for s in symbols if s.is_referenced() and s.is_global())
        tables += table.get_children()
    return found


def bound_names(node: ast.stmt) -> set[str]:
    """Names a top-level statement binds in the module's namespace."""
    found: set[str] = set()
    todo: list[ast.AST] = [node]
    while todo:
        current = todo.pop()
        if isinstance(current, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found.add(current.name)
        if isinstance(current, NEW_SCOPES):
            continue  # what they bind is their own (decorators and defaults bind nothing)
        if isinstance(current, ast.Name) and isinstance(current.ctx, ast.Store):
            found.add(current.id)
        elif isinstance(current, ast.alias) and current.name != "*":
            found.add((current.asname or current.name).split(".")[0])
        elif isinstance(current, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and current.name:
            found.add(current.name)
        todo.extend(ast.iter_child_nodes(current))
    return found


def missing_module(node: ast.Import | ast.ImportFrom, folder: Path | None) -> str | None:
    """The first module an import names that is surely not installed here (nor one of the
    student's own files); None when each exists or cannot be told without running code."""
    if isinstance(node, ast.ImportFrom):
        modules = [node.module] if node.module and not node.level else []
    else:
        modules = [alias.name for alias in node.names]
    return next((m for m in modules if not _exists(m, folder)), None)


def _exists(name: str, folder: Path | None) -> bool:
    """Whether module `name` can be found: a file of the student's, else on this Python's path.
    Below a package only a namespace package's (no `__init__` that could make it) is looked up."""
    parts = name.split(".")
    if folder is not None and (
        (folder / parts[0]).exists() or (folder / f"{parts[0]}.py").exists()
    ):
        return True
    try:
        spec = importlib.util.find_spec(parts[0])  # a top-level name: nothing is imported
    except (ImportError, ValueError):
        return True
    for depth in range(2, len(parts) + 1):
        if spec is None:
            return False
        locations = spec.submodule_search_locations
        if spec.origin not in (None, "namespace") or locations is None:
            return True  # a regular package's __init__ may provide it: only running it tells
        spec = importlib.machinery.PathFinder.find_spec(".".join(parts[:depth]), list(locations))
    return spec is not None


def _unused_import(s: Statement, users: dict[str, list[str]]) -> bool:
    node = s.node
    if not isinstance(node, ast.Import | ast.ImportFrom) or s.late_future:
        return False
    if isinstance(node, ast.ImportFrom) and (node.module == "__future__" or
                                             any(a.name == "*" for a in node.names)):  # fmt: skip
        return False
    return not bound_names(node) & users.keys()


def _unused(s: Statement, missing: str | None) -> Statement:
    """An import nothing kept uses: guarded, or left out when its module is missing here."""
    if missing is None:
        return replace(s, guard=True)
    reason = dropped_line(s.cell, s.line, s.text[0], UNUSED_IMPORT, module=missing)
    return replace(s, dropped=reason)


def _label(s: Statement) -> str:
    if isinstance(s.node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return s.node.name
    return f"cell {s.cell}, line {s.line}"


def _needed(s: Statement, names: list[str], users: dict[str, list[str]]) -> Statement:
    who = sorted({u for n in names for u in users[n]})
    shown = ", ".join(who[:MAX_USERS]) + (", …" if len(who) > MAX_USERS else "")
    params = {"names": ", ".join(f"`{n}`" for n in names), "users": shown}
    return replace(s, dropped=dropped_line(s.cell, s.line, s.text[0], NEEDED, **params))


def _with_augmentation(statements: list[Statement]) -> list[Statement]:
    """Left-out lines that augment images outside the model get that reason: generator calls,
    augmentation layers, and lines using what an earlier such assignment made (`datagen`)."""
    made: set[str] = set()
    out = []
    for s in statements:
        if s.dropped is not None:
            called = _called(s.node)
            loaded = {n.id for n in ast.walk(s.node) if isinstance(n, ast.Name)
                      and isinstance(n.ctx, ast.Load)}  # fmt: skip
            if called & GENERATOR_CALLS or any(map(_is_layer, called)) or loaded & made:
                if isinstance(s.node, ast.Assign) and not called & TRAINING_CALLS:
                    made |= bound_names(s.node)  # `datagen = ...`, not `history = model.fit(...)`
                s = replace(s, dropped=dropped_line(s.cell, s.line, s.text[0], AUGMENTATION))
        out.append(s)
    return out


def _called(node: ast.AST) -> set[str]:
    calls = (n.func for n in ast.walk(node) if isinstance(n, ast.Call))
    return {str(getattr(f, "id", None) or getattr(f, "attr", "")) for f in calls}


def _is_layer(name: str) -> bool:
    random = name.startswith("Random") and name[6:7].isupper() and name not in NOT_AUGMENTATION
    return random or name in AUGMENTATION_LAYERS
