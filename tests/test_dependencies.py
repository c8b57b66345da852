"""Dependencies point one way: no two apps import each other, and no module imports itself
back through others.

Read with ``ast`` from the source (migrations left out), counting every import, also those
inside functions: a late import hides a circle from Python, not from the design.
"""

import ast
from collections import defaultdict
from pathlib import Path

import vuoro
from vuoro.paging.escalation import find_cycles

ROOT = Path(vuoro.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(ROOT.rglob("*.py"))
            if "migrations" not in path.relative_to(ROOT).parts}


def _imported(tree: ast.AST, modules: dict[str, Path]) -> set[str]:
    """The project modules a module imports: ``from a.b import c`` names ``a.b.c`` when that is
    a module, else ``a.b``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                names.add(submodule if submodule in modules else node.module)
    return {name for name in names if name in modules}


def module_graph() -> dict[str, set[str]]:
    """Each project module and the project modules it imports (itself left out)."""
    modules = _sources()
    return {name: _imported(ast.parse(path.read_text(), str(path)), modules) - {name}
            for name, path in modules.items()}


def _app(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 else None


def app_graph(modules: dict[str, set[str]]) -> dict[str, set[str]]:
    """Each app and the other apps its modules import."""
    apps: dict[str, set[str]] = defaultdict(set)
    for module, targets in modules.items():
        source = _app(module)
        if source is None:
            continue
        apps[source].update(a for a in map(_app, targets) if a is not None and a != source)
    return apps


def mutual_pairs(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Pairs (a, b), a < b, where a imports b and b imports a."""
    return sorted((a, b) for a, targets in graph.items() for b in targets
                  if a < b and a in graph.get(b, set()))


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One loop per circle of imports, as its modules in order (``find_cycles``, pure Tarjan).

    The graph has no self-loops (``module_graph`` leaves them out), so every loop found has
    two modules or more.
    """
    return sorted(find_cycles({node: sorted(targets) for node, targets in sorted(graph.items())}))


def test_the_finders_see_a_circle_through_a_late_import():
    tree = ast.parse("def f():\n    from vuoro.tickets.models import Ticket\n")
    modules = {"vuoro.tickets.models": ROOT, "vuoro.sla.models": ROOT}
    assert _imported(tree, modules) == {"vuoro.tickets.models"}
    graph = {"vuoro.sla.models": {"vuoro.tickets.models"},
             "vuoro.tickets.models": {"vuoro.sla.models"}}
    assert [sorted(loop) for loop in cycles(graph)] == [["vuoro.sla.models", "vuoro.tickets.models"]]
    assert mutual_pairs(app_graph(graph)) == [("sla", "tickets")]


def test_the_graph_holds_the_project():
    graph = module_graph()
    assert "vuoro.tickets.services" in graph
    assert "vuoro.tickets.models" in graph["vuoro.tickets.services"]


def test_no_two_apps_import_each_other():
    assert mutual_pairs(app_graph(module_graph())) == []


def test_no_module_imports_itself_back():
    assert cycles(module_graph()) == []
