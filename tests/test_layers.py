"""The import rules of grader/'s layers, checked on the syntax tree (see ARCHITECTURE.md)."""

from __future__ import annotations

import ast
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "grader"
MAX_LINES = 300
HEAVY = ["numpy", "keras", "tensorflow"]
WORKER_MAY_IMPORT = {"grader.protocol", "grader.checkreport", "grader.redact", "grader.codec",
                     "grader.errors", "grader.labels", "grader.scoring", "grader.stats",
                     "grader.sandbox.landlock"}  # fmt: skip
WORKER_MAY = WORKER_MAY_IMPORT | {"grader"}  # the root package holds only __version__
WORKER_LOADS = WORKER_MAY_IMPORT | {"grader", "grader.sandbox"}  # with their parent packages
SANDBOX_MUST_NOT = ["grader.pipeline", "grader.report", "grader.spec", "grader.records",
                    "grader.checks"]  # fmt: skip
REPORT_MAY_IMPORT = ["grader.records", "grader.errors", "grader.checks", "grader.messages",
                     "grader.layout", "grader.report", "grader.resources",
                     "grader.atomic", "grader.outlock", "grader.safetext"]  # fmt: skip
PURE = {"grader.protocol", "grader.checkreport", "grader.redact", "grader.errors", "grader.codec"}


@dataclass(frozen=True)
class Module:
    """One module's source, by dotted name."""

    name: str
    path: str  # relative to the folder holding grader/
    source: str
    is_package: bool = False


def module(path: str, source: str) -> Module:
    """The module at `path` (e.g. `grader/worker/train.py`)."""
    parts = path.removesuffix(".py").split("/")
    package = parts[-1] == "__init__"
    return Module(".".join(parts[:-1] if package else parts), path, source, package)


def load_modules(root: Path = PACKAGE) -> dict[str, Module]:
    """Every module under `root`, keyed by its dotted name."""
    found = [
        module(str(p.relative_to(root.parent)), p.read_bytes().decode()) for p in root.rglob("*.py")
    ]
    return {m.name: m for m in sorted(found, key=lambda m: m.name)}


def imports_of(mod: Module, known: Container[str], runtime: bool = False) -> list[tuple[int, str]]:
    """(line, target) of every import in `mod`, function-level ones too (`runtime`: not those
    under `if TYPE_CHECKING:`); `from a import b` names `a.b` if that is a module, else `a`."""
    found, tree = [], ast.parse(mod.source, mod.path)
    guards = [n for n in ast.walk(tree) if isinstance(n, ast.If) and runtime]
    blocks = [g.body for g in guards if "TYPE_CHECKING" in ast.unparse(g.test)]
    skip = {node for body in blocks for stmt in body for node in ast.walk(stmt)}
    for node in (n for n in ast.walk(tree) if n not in skip):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(mod, node)
            for alias in node.names:
                target = f"{base}.{alias.name}"
                found.append((node.lineno, target if target in known else base))
    return sorted(set(found))


def _absolute(mod: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = mod.name.split(".")[: None if mod.is_package else -1]
    package = package[: len(package) - node.level + 1]
    return ".".join(package + ([node.module] if node.module else []))


def within(name: str, prefixes: Iterable[str]) -> bool:
    """`name` is one of `prefixes` or a submodule of one."""
    return any(name == p or name.startswith(p + ".") for p in prefixes)


Rule = Callable[[dict[str, Module]], list[str]]


def import_rule(
    name: str, doc: str, importers: Callable[[str], bool], allowed: Callable[[str], bool]
) -> Rule:
    """A rule: each module `importers` accepts may import only targets `allowed` accepts."""

    def rule(modules: dict[str, Module]) -> list[str]:
        return [
            f"{mod.path}:{line}: {mod.name} imports {target}"
            for mod in modules.values()
            if importers(mod.name)
            for line, target in imports_of(mod, modules)
            if not allowed(target)
        ]

    rule.__name__, rule.__doc__ = name, doc
    return rule


rule_worker = import_rule(
    "rule_worker",
    "grader.worker.* imports from the grader only what a sandboxed child may see.",
    lambda name: within(name, ["grader.worker"]),
    lambda t: not within(t, ["grader"]) or within(t, ["grader.worker"]) or t in WORKER_MAY,
)
rule_sandbox = import_rule(
    "rule_sandbox",
    "grader.sandbox.* knows nothing of grading: no pipeline, report, spec, records, checks.",
    lambda name: within(name, ["grader.sandbox"]),
    lambda target: not within(target, SANDBOX_MUST_NOT),
)
rule_report = import_rule(
    "rule_report",
    "grader.report.* reads result records only.",
    lambda name: within(name, ["grader.report"]),
    lambda target: not within(target, ["grader"]) or within(target, REPORT_MAY_IMPORT),
)
rule_pure = import_rule(
    "rule_pure",
    "protocol, errors, codec: no numpy/keras/tensorflow, and of the grader only each other.",
    lambda name: name in PURE,
    lambda target: not within(target, HEAVY) and (not within(target, ["grader"]) or target in PURE),
)
rule_pipeline_private = import_rule(
    "rule_pipeline_private",
    "Only grader.pipeline.* and grader.cli import grader.pipeline.",
    lambda name: not within(name, ["grader.pipeline", "grader.cli"]),
    lambda target: not within(target, ["grader.pipeline"]),
)


def graph(modules: dict[str, Module]) -> dict[str, set[str]]:
    """Each module's direct grader imports, when it runs (type-checking ones left out)."""
    edges = {n: {t for _, t in imports_of(m, modules, runtime=True)} for n, m in modules.items()}
    return {n: (targets & set(modules)) - {n} for n, targets in edges.items()}


def reachable(edges: dict[str, set[str]], start: str) -> dict[str, str]:
    """Modules reachable from `start`, each with the module that imports it."""
    seen: dict[str, str] = {}
    todo = [start]
    while todo:
        name = todo.pop()
        for target in sorted(edges[name] - set(seen)):
            seen[target] = name
            todo.append(target)
    return seen


def rule_worker_closure(modules: dict[str, Module]) -> list[str]:
    """What importing a worker loads stays allowed; parent packages' __init__ count too (it
    runs first), since all of it is loaded next to student code."""
    edges = graph(modules)
    for name in edges:  # importing a.b.c runs a/__init__ and a/b/__init__ first
        parents = {".".join(name.split(".")[:n]) for n in range(1, name.count(".") + 1)}
        edges[name] |= parents & set(modules)
    return [
        f"{name} loads {loaded} (via {via})"
        for name in edges
        if within(name, ["grader.worker"])
        for loaded, via in sorted(reachable(edges, name).items())
        if loaded not in WORKER_LOADS and not within(loaded, ["grader.worker"])
    ]


def rule_no_cycles(modules: dict[str, Module]) -> list[str]:
    """No import cycles between grader modules (function-level imports included)."""
    edges = graph(modules)
    reach = {name: set(reachable(edges, name)) for name in edges}
    cycles = {
        frozenset({n} | {m for m in reach[n] if n in reach[m]}) for n in edges if n in reach[n]
    }
    out = []
    for cycle in sorted(sorted(c) for c in cycles):
        links = [
            f"{modules[a].path}:{line} imports {t}"
            for a in cycle
            for line, t in imports_of(modules[a], modules)
            if t in cycle and t != a
        ]
        out.append(f"cycle {' <-> '.join(cycle)}: " + "; ".join(links))
    return out


def rule_module_size(modules: dict[str, Module]) -> list[str]:
    """Every module is at most MAX_LINES lines."""
    sizes = {m.path: len(m.source.splitlines()) for m in modules.values()}
    return [
        f"{path}: {n} lines (at most {MAX_LINES})" for path, n in sizes.items() if n > MAX_LINES
    ]


RULES = [rule_worker, rule_worker_closure, rule_sandbox, rule_report, rule_pure]
RULES += [rule_pipeline_private, rule_no_cycles, rule_module_size]


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_layer_rule(rule: Rule) -> None:
    violations = rule(load_modules())
    print("\n".join(violations))
    assert not violations, f"{rule.__doc__}\n" + "\n".join(violations)


# The checker itself, on synthetic packages: each rule catches what it is for.


def synthetic(text: str) -> dict[str, Module]:
    """Modules from `== path` headers, each followed by that file's source."""
    chunks = [chunk.partition("\n") for chunk in text.split("== ")[1:]]
    return {m.name: m for m in (module(path.strip(), source) for path, _, source in chunks)}


OLD_CYCLE = """
== grader/__init__.py
== grader/worker/__init__.py
== grader/worker/train.py
from grader import labels
def build():
    from grader.worker.evaluate import count_reused
== grader/worker/evaluate.py
from grader.worker.train import confine
== grader/labels.py
if TYPE_CHECKING:  # not run: no cycle
    from grader.worker.train import confine
"""


def test_catches_the_old_worker_cycle() -> None:
    modules = synthetic(OLD_CYCLE)
    assert rule_worker(modules) == []  # both are worker modules: the imports are allowed
    assert rule_no_cycles(modules) == [
        "cycle grader.worker.evaluate <-> grader.worker.train: "
        "grader/worker/evaluate.py:1 imports grader.worker.train; "
        "grader/worker/train.py:3 imports grader.worker.evaluate"
    ]


WORKER = """
== grader/__init__.py
== grader/spec.py
== grader/worker/__init__.py
from . import train
== grader/worker/train.py
from .. import spec
def f():
    from grader.pipeline.training import y
    from grader.sandbox import landlock
== grader/pipeline/training.py
from ..worker import train
== grader/sandbox/__init__.py
from grader.sandbox import memcap
== grader/sandbox/memcap.py
== grader/sandbox/landlock.py
"""


def test_worker_rules() -> None:
    modules = synthetic(WORKER)
    host = "grader/worker/train.py:3: grader.worker.train imports grader.pipeline.training"
    spec = "grader/worker/train.py:1: grader.worker.train imports grader.spec"
    assert rule_worker(modules) == [spec, host]  # relative and function-level imports
    assert rule_pipeline_private(modules) == [host]
    assert len(rule_no_cycles(modules)) == 1
    loaded = rule_worker_closure(modules)
    assert "grader.worker.train loads grader.sandbox.memcap (via grader.sandbox)" in loaded


OTHERS = """
== grader/sandbox/__init__.py
import grader.records
== grader/report/render.py
from grader import spec, records, resources
== grader/records.py
== grader/spec.py
== grader/resources.py
== grader/errors.py
import numpy as np
from .codec import to_json
== grader/codec.py
== grader/checks.py
from grader.pipeline import grading
== grader/pipeline/grading.py
"""


def test_sandbox_report_pure_pipeline_and_size_rules() -> None:
    modules = synthetic(OTHERS)
    expected = {
        rule_sandbox: "grader/sandbox/__init__.py:1: grader.sandbox imports grader.records",
        rule_report: "grader/report/render.py:1: grader.report.render imports grader.spec",
        rule_pure: "grader/errors.py:1: grader.errors imports numpy",
        rule_pipeline_private: "grader/checks.py:1: grader.checks imports grader.pipeline.grading",
    }
    for rule, line in expected.items():
        assert rule(modules) == [line]
    modules = synthetic("== grader/big.py\n" + "x = 1\n" * (MAX_LINES + 1) + "== grader/ok.py\n")
    assert rule_module_size(modules) == [f"grader/big.py: {MAX_LINES + 1} lines (at most 300)"]
