"""Who imports whom, read from the source with ``ast`` (nothing is imported), and the import
cycles in that graph. Used by the tests that keep hierlib (and tools/) free of cycles.

Every ``import`` and ``from ... import`` counts, wherever it stands: at the top of a module,
inside a function (a lazy import is still a dependency) or under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from pathlib import Path


def module_names(root: Path, package: str | None) -> dict[str, Path]:
    """``{dotted name: file}`` of the modules under ``root``.

    ``package``: the name ``root`` is imported as (``"hierlib"``; its subfolders are
    subpackages, ``__init__.py`` is the package itself), or ``None`` for a folder of scripts
    that import one another by bare name (``tools/``: no subfolders).
    """
    root = Path(root)
    if package is None:
        return {p.stem: p for p in sorted(root.glob("*.py"))}
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _ancestors(name: str) -> list[str]:
    """``a.b.c`` -> ``["a", "a.b"]``: the packages whose ``__init__`` runs first."""
    parts = name.split(".")
    return [".".join(parts[:k]) for k in range(1, len(parts))]


def _resolve(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    """The absolute module name of ``from <module> import ...`` (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def module_graph(root: Path, package: str | None = None) -> dict[str, set[str]]:
    """``{module: the modules of root it imports}``.

    Importing ``a.b.c`` depends on ``a.b.c`` and on the packages ``a`` and ``a.b`` whose
    ``__init__`` runs first (except the importer's own packages, which are already running);
    ``from a.b import c`` depends on the module ``a.b.c`` if there is one, else on ``a.b``
    (``c`` is a name defined there).
    """
    modules = module_names(root, package)

    def targets(dotted: str) -> set[str]:
        found = {a for a in _ancestors(dotted) if a in modules}
        while dotted and dotted not in modules:
            dotted = dotted.rpartition(".")[0]
        return found | ({dotted} if dotted else set())

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges: set[str] = set()
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    edges |= targets(alias.name)
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(node, name, is_package)
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    edges |= targets(full if full in modules else base)
        graph[name] = edges - set(_ancestors(name)) - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle ``[a, b, ..., a]`` through every strongly connected component of ``graph``
    that has more than one module (Tarjan's algorithm, iterative), or a module that imports
    itself. ``[]`` when the graph is acyclic, i.e. the modules can be layered so that each
    imports only modules below it."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1 or node in graph.get(node, ()):
                    components.append(sorted(component))
    return [_cycle_through(graph, c) for c in components]


def _cycle_through(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest cycle from the first module of ``component`` back to itself, inside it."""
    start, inside = component[0], set(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for child in sorted(graph.get(node, ())):
                if child == start:
                    return paths[node] + [start]
                if child in inside and child not in paths:
                    paths[child] = paths[node] + [child]
                    nxt.append(child)
        frontier = nxt
    raise AssertionError(f"{component} is not strongly connected")  # pragma: no cover
