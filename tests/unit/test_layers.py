"""The house's layers: product code never reaches into benchmarks, the demo or evaluations,
and no two modules of skills/ import each other (directly or round a longer circle)."""

import ast
import os

from tests.fixtures.scripts import ROOT

APART = ("skills.bench", "skills.demo", "skills.evaluation")


def _modules() -> dict[str, str]:
    found = {}
    for folder, _, files in os.walk(os.path.join(ROOT, "skills")):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                module = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
                found[module.removesuffix(".__init__")] = path
    return found


def _imports(path: str, modules: dict[str, str]) -> set[str]:
    """The skills modules a file imports, at any depth of the file (function-level imports too)."""
    with open(path) as handle:
        tree = ast.parse(handle.read())
    named = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            named.add(node.module)
            named.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            named.update(alias.name for alias in node.names)
    return {name for name in named if name in modules and name != "skills"}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {module: _imports(path, modules) for module, path in modules.items()}


def test_no_product_module_imports_benchmarks_demo_or_evaluations():
    offenders = [
        f"{module} imports {target}"
        for module, targets in _graph().items()
        if not module.startswith(APART)
        for target in targets
        if target.startswith(APART)
    ]
    assert offenders == []


def test_agents_tools_import_no_benchmarks_demo_or_evaluations():
    modules = _modules()
    agents = os.path.join(ROOT, "agents")
    offenders = []
    for agent in sorted(os.listdir(agents)):
        path = os.path.join(agents, agent, "tools.py")
        if os.path.exists(path):
            offenders += [f"{agent} imports {t}" for t in _imports(path, modules) if t.startswith(APART)]
    assert offenders == []


def test_skills_import_graph_has_no_circle():
    graph = _graph()
    # a package's __init__ that re-exports its own modules is not a circle with them
    edges = {
        m: {t for t in ts if not (m == t.rsplit(".", 1)[0] or t == m.rsplit(".", 1)[0])} for m, ts in graph.items()
    }
    circles, state = [], {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(edges.get(module, ())):
            if state.get(target) == "open":
                circles.append(" -> ".join(path[path.index(target) :] + [target]))
            elif target not in state:
                visit(target, path + [target])
        state[module] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert circles == []


def _reaching(lower: tuple[str, ...], higher: tuple[str, ...]) -> list[str]:
    """`module imports target` for each import from a package in `lower` into one in `higher`."""

    def inside(module: str, packages: tuple[str, ...]) -> bool:
        return any(module == p or module.startswith(p + ".") for p in packages)

    return [
        f"{module} imports {target}"
        for module, targets in sorted(_graph().items())
        if inside(module, lower)
        for target in sorted(targets)
        if inside(target, higher)
    ]


def test_store_and_ledger_do_not_import_routing():
    # the ledger keys rows by skills.text.task_key; reaching up into routing for it made a back-up arrow
    assert _reaching(("skills.store", "skills.ledger"), ("skills.routing",)) == []


def test_backends_do_not_import_execution_gateway_or_server():
    higher = ("skills.execution", "skills.gateway", "skills.server", "skills.mcp", "skills.commands")
    assert _reaching(("skills.backends",), higher) == []
