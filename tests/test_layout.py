"""The layout's rules, checked on the source itself: the map in ARCHITECTURE.md names every
module, there are no import cycles (between modules or between subpackages), the text
engine stands alone, files stay under 400 lines, and references point at real things.

The import graph is read with :mod:`ast`, as Python would resolve the imports: every import
counts, at module level or inside a function, except those under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from tests.fixtures import REPO

PACKAGES = ("bloombits", "chainindex", "rpc")
MAX_LINES = 400


def source_files() -> Iterator[Path]:
    """Every Python file of the three packages, relative to the repository."""
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            yield path.relative_to(REPO)


def module_name(path: Path) -> str:
    parts = list(path.with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The project modules ``path`` imports (outside ``if TYPE_CHECKING:``)."""
    tree = ast.parse((REPO / path).read_text())
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: set[str] = set()

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for inner in child.orelse:
                    visit(inner)
                continue
            if isinstance(child, ast.Import):
                found.update(r for a in child.names if (r := resolve(a.name)))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")
                    parts = parts[: len(parts) - child.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                for alias in child.names:
                    target = resolve(f"{base}.{alias.name}")
                    if target is None or target == here:
                        target = resolve(base)
                    if target:
                        found.add(target)
            visit(child)

    visit(tree)
    found.discard(here)
    return found


def import_graph() -> dict[str, set[str]]:
    paths = list(source_files())
    known = {module_name(p) for p in paths}
    return {module_name(p): imported_modules(p, known) for p in paths}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in graph:
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


def subpackage(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_no_module_cycles() -> None:
    assert cycles(import_graph()) == []


def test_no_subpackage_cycles() -> None:
    graph: dict[str, set[str]] = {}
    for module, targets in import_graph().items():
        top = subpackage(module)
        graph.setdefault(top, set()).update(subpackage(t) for t in targets if subpackage(t) != top)
    for top in list(graph):
        for target in graph[top]:
            graph.setdefault(target, set())
    assert cycles(graph) == []


def test_dependencies_point_one_way() -> None:
    """``rpc → chainindex → bloombits``: never the other way."""
    order = {"bloombits": 0, "chainindex": 1, "rpc": 2}
    upward = [
        (module, target)
        for module, targets in import_graph().items()
        for target in targets
        if order[target.split(".")[0]] > order[module.split(".")[0]]
    ]
    assert upward == []


def test_text_engine_stands_alone() -> None:
    """``chainindex.textindex`` imports nothing of the chain side but the root error."""
    foreign = {
        (module, target)
        for module, targets in import_graph().items()
        if module.startswith("chainindex.textindex")
        for target in targets
        if not target.startswith("chainindex.textindex") and target != "bloombits.errors"
    }
    assert foreign == set()


def test_root_error_is_a_leaf() -> None:
    graph = import_graph()
    assert graph["bloombits.errors"] == set()
    assert graph["bloombits"] == set()


def test_files_stay_under_the_limit() -> None:
    long = {
        str(path): n
        for path in source_files()
        if (n := len((REPO / path).read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_references_point_at_real_things() -> None:
    """No comment cites a document outside the repository ("seed 003", ``shared/``...)."""
    outside = re.compile(r"\bseeds?\s+0\d\d|shared/(fixtures|seeds|research)|\.\./shared\b", re.I)
    roots = [*PACKAGES, "tests", "bench"]
    hits = [
        f"{path.relative_to(REPO)}:{n}"
        for root in roots
        for path in sorted((REPO / root).rglob("*.py"))
        if path != Path(__file__).resolve()  # this file spells the pattern out
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if outside.search(line)
    ]
    assert hits == []


def test_architecture_maps_every_module() -> None:
    """Every module is listed in ARCHITECTURE.md by its path, and every path listed exists."""
    text = (REPO / "ARCHITECTURE.md").read_text()
    listed = set(re.findall(r"`((?:bloombits|chainindex|rpc)/[\w/]+\.py)`", text))
    modules = {str(p) for p in source_files() if p.name != "__init__.py"}
    packages = {str(p.parent) + "/" for p in source_files() if p.name == "__init__.py"}
    listed_packages = set(re.findall(r"`((?:bloombits|chainindex|rpc)(?:/\w+)*/)`", text))
    assert sorted(modules - listed) == []
    assert sorted(listed - {str(p) for p in source_files()}) == []
    assert sorted(packages - listed_packages) == []
    assert "```mermaid" in text
