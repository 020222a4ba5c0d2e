"""The structure the architecture promises (docs/architecture.md): no import cycle inside a package.

A cycle among a package's modules is a knot: neither end can be read, tested or moved without
the other, and it is usually "patched" by an import inside a function, which hides it from the
reader but not from Python. The graph here counts every import, those inside functions too (only
``if TYPE_CHECKING:`` imports, which never run, are left out), so a patched cycle still fails;
and importing ``a.b.c`` from outside ``a.b`` counts as importing ``a.b`` too, since Python runs
``a/b/__init__.py`` first (a package that re-exports its modules hides a knot there).
An import inside a function stays allowed where a cycle *between* packages makes it necessary
(each says which); this test looks inside each package only.
"""

from __future__ import annotations

import grimp
import pytest

PACKAGES = ("elearn", "media", "courses", "quizzes", "live", "parents")

#: cycles allowed to stay for now, by package: each the sorted list of the modules of one knot.
#: Empty: a knot that appears fails the test.
EXPECTED_TO_BE_FIXED: dict[str, list[list[str]]] = {}


def _cycles(graph: grimp.ImportGraph, package: str) -> list[list[str]]:
    """The knots among ``package``'s modules: each strongly connected set of two or more modules
    (or one that imports itself), sorted, as found by Tarjan's algorithm."""
    modules = sorted(m for m in graph.modules if m == package or m.startswith(package + "."))
    inside = set(modules)
    edges = {
        m: sorted(
            {
                target
                for n in graph.find_modules_directly_imported_by(m)
                if n in inside
                for target in (n, *_parents_run_first(m, n))
                if target in inside
            }
        )
        for m in modules
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    knots: list[list[str]] = []

    def visit(start: str) -> None:
        # iterative Tarjan: a recursive one would go as deep as the longest import chain
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(edges[target])))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    knot = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        knot.append(member)
                        if member == node:
                            break
                    if len(knot) > 1 or node in edges[node]:
                        knots.append(sorted(knot))

    for module in modules:
        if module not in index:
            visit(module)
    return sorted(knots)


def _parents_run_first(importer: str, imported: str) -> list[str]:
    """The packages whose ``__init__`` Python runs to import ``imported`` from ``importer``: its
    ancestors, except those of the importer (already running). A package that re-exports its
    modules makes these real imports: ``a.x`` importing ``a.b.y`` runs ``a.b``, and with it
    every module ``a.b`` re-exports."""
    parts = imported.split(".")
    ancestors = [".".join(parts[:i]) for i in range(1, len(parts))]
    return [a for a in ancestors if not (importer == a or importer.startswith(a + "."))]


def _describe(graph: grimp.ImportGraph, knot: list[str]) -> str:
    """One knot as a reader needs it: its modules, and a loop through them with the lines."""
    first = knot[0]
    members = set(knot)
    loops = [
        chain
        for target in sorted(graph.find_modules_directly_imported_by(first))
        if target in members
        for chain in [graph.find_shortest_chain(importer=target, imported=first)]
        if chain
    ]
    loop = [first, *min(loops, key=len)] if loops else [first]
    steps = []
    for importer, imported in zip(loop, loop[1:], strict=False):
        lines = graph.get_import_details(importer=importer, imported=imported)
        where = ", ".join(str(d["line_number"]) for d in lines) or "?"
        steps.append(f"    {importer} → {imported} (line {where})")
    return f"  {len(knot)} modules: {', '.join(knot)}\n  a loop:\n" + "\n".join(steps)


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True, cache_dir=None)


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle_inside_the_package(graph: grimp.ImportGraph, package: str) -> None:
    knots = _cycles(graph, package)
    expected = sorted(EXPECTED_TO_BE_FIXED.get(package, []))
    new = [knot for knot in knots if knot not in expected]
    gone = [knot for knot in expected if knot not in knots]
    assert not new, f"import cycles inside {package}:\n" + "\n".join(
        _describe(graph, knot) for knot in new
    )
    assert not gone, (
        f"these knots of {package} are untangled (or changed): take them out of "
        f"EXPECTED_TO_BE_FIXED: {gone}"
    )


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The finder itself: a loop of three is one knot, a chain is none."""
    graph = grimp.ImportGraph()
    for name in ("p", "p.a", "p.b", "p.c", "p.d"):
        graph.add_module(name)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.c")
    graph.add_import(importer="p.c", imported="p.a")
    graph.add_import(importer="p.c", imported="p.d")
    assert _cycles(graph, "p") == [["p.a", "p.b", "p.c"]]
    assert "p.a → p.b" in _describe(graph, ["p.a", "p.b", "p.c"])
