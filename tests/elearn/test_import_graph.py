"""No import cycle inside the carrier, live or parents (quizzes, courses and media have their own
checks as they are taken apart): a module never needs itself, through any chain of its package's
modules, function-level imports included."""

from __future__ import annotations

import grimp
import pytest

PACKAGES = ("elearn", "media", "courses", "quizzes", "live", "parents")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES)


def cycles_within(graph: grimp.ImportGraph, package: str) -> list[list[str]]:
    """The import cycles among the modules of ``package`` (Tarjan's strongly connected
    components of more than one module)."""

    def inside(module: str) -> bool:
        return module == package or module.startswith(package + ".")

    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if not inside(imported):
                continue
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(m for m in graph.modules if inside(m)):
        if module not in index:
            visit(module)
    return found


@pytest.mark.parametrize("package", ["elearn", "live", "parents"])
def test_no_import_cycle_inside(graph, package):
    assert cycles_within(graph, package) == []


def test_the_check_finds_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("pkg", "pkg.a", "pkg.b", "pkg.c"):
        graph.add_module(module)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.a")
    graph.add_import(importer="pkg.c", imported="pkg.a")
    assert cycles_within(graph, "pkg") == [["pkg.a", "pkg.b"]]
