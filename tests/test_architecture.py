"""The shape of the code, checked: no import cycle, no private name used across modules, sample tooling apart, sizes.

The import graph counts every import of a module of etl/ or dags/, at top level or inside a function: a lazy import
still ties the two modules together. A private name (`_x`) is one module's business: another module neither imports
it (`from m import _x`) nor reaches it (`m._x`).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from etl.config import PROJECT_ROOT

PACKAGES = ("etl", "dags")
MAX_MODULE_LINES = 700
MAX_SUBMISSIONS_LINES = 3000  # the workbook kernel: the verdict model, the kit, the base checker, two thin kinds
# modules that may import the sample tooling: the command line (observatoire demo / bench / generate)
SAMPLES_USERS = {"etl.cli"}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            if "datadocs_assets" in path.parts:
                continue
            parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()
TREES = {name: ast.parse(path.read_text(encoding="utf-8"), str(path)) for name, path in MODULES.items()}


def _owner(dotted: str) -> str | None:
    """The project module that `dotted` (a module or a name in one) lives in, or None outside the project."""
    while dotted:
        if dotted in MODULES:
            return dotted
        dotted = dotted.rpartition(".")[0]
    return None


def _imports(tree: ast.AST):
    """(imported module or module.name, line) for every absolute import of the tree."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                yield f"{node.module}.{alias.name}", node.lineno


def _graph() -> dict[str, set[str]]:
    graph = {name: set() for name in MODULES}
    for name, tree in TREES.items():
        for imported, _ in _imports(tree):
            target = _owner(imported)
            if target and target != name and not name.startswith(target + "."):
                graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_etl_and_dags():
    cycles = _cycles(_graph())
    assert not cycles, "import cycle(s): " + "; ".join(" <-> ".join(cycle) for cycle in cycles)


def _private_uses(name: str, tree: ast.AST) -> list[str]:
    """`from m import _x` and `m._x` where m is another project module."""
    found = []
    where = MODULES[name].relative_to(PROJECT_ROOT)
    aliases: dict[str, str] = {}  # local name -> project module it names
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and _owner(node.module):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in MODULES:
                    aliases[alias.asname or alias.name] = full
                elif alias.name.startswith("_") and _owner(node.module) != name:
                    found.append(f"{where}:{node.lineno} imports {alias.name} from {node.module}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in MODULES and alias.asname:
                    aliases[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and aliases[node.value.id] != name
        ):
            found.append(f"{where}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    return found


def test_no_private_name_used_across_modules():
    found = [use for name, tree in TREES.items() for use in _private_uses(name, tree)]
    assert not found, "private names used outside their module:\n" + "\n".join(found)


def test_production_code_never_imports_the_sample_tooling():
    found = [
        f"{name} imports {imported} (line {line})"
        for name, tree in TREES.items()
        if not name.startswith("etl.samples") and name not in SAMPLES_USERS
        for imported, line in _imports(tree)
        if imported == "etl.samples" or imported.startswith("etl.samples.")
    ]
    assert not found, "\n".join(found)


def test_etl_logic_does_not_reach_airflow_connections():
    """Task bodies that need Airflow's connections live in etl/orchestration; logic modules take an engine."""
    found = [
        f"{name} imports {imported} (line {line})"
        for name, tree in TREES.items()
        if name.startswith("etl.") and not name.startswith(("etl.orchestration", "etl.samples")) and name != "etl.cli"
        for imported, line in _imports(tree)
        if imported.startswith("etl.orchestration")
    ]
    assert not found, "\n".join(found)


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_no_module_of_etl_is_too_long():
    long = {name: _lines(path) for name, path in MODULES.items() if name.startswith("etl")}
    over = {name: count for name, count in long.items() if count > MAX_MODULE_LINES}
    assert not over, f"modules over {MAX_MODULE_LINES} lines: {over}"


def test_the_workbook_kernel_stays_under_its_size():
    total = sum(_lines(path) for name, path in MODULES.items() if name.startswith("etl.submissions"))
    assert total < MAX_SUBMISSIONS_LINES, f"etl/submissions holds {total} lines (under {MAX_SUBMISSIONS_LINES} wanted)"


HISTORY = re.compile(r"\b(issue|ticket)\s*#?\d+", re.IGNORECASE)


@pytest.mark.parametrize("folder", ["etl", "dags", "tests", "sql"])
def test_docstrings_and_comments_do_not_cite_project_history(folder):
    """Readers need what the code does, not which issue asked for it."""
    found = []
    for path in sorted((PROJECT_ROOT / folder).rglob("*")):
        if path.suffix not in {".py", ".sql"} or "datadocs_assets" in path.parts or path.name == Path(__file__).name:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if HISTORY.search(line):
                found.append(f"{path.relative_to(PROJECT_ROOT)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)
