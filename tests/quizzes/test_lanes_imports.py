"""The lanes wing's imports: no cycle inside it, and nothing below it imports it.

``quizzes.lanes`` sits above ``quizzes.service`` and ``quizzes.rules`` (quizzes/lanes/README.md):
the services and the rules never import a lane, and the wing's modules import each other one
way only.
"""

from __future__ import annotations

import grimp

WING = "quizzes.lanes"


def test_the_lanes_wing_has_no_import_cycle_and_nothing_below_it_imports_it():
    graph = grimp.build_graph("quizzes")
    modules = {m for m in graph.modules if m == WING or m.startswith(WING + ".")}
    for module in modules - {WING}:
        for other in modules - {module, WING}:
            there = graph.chain_exists(module, other)
            back = graph.chain_exists(other, module)
            assert not (there and back), f"{module} and {other} import each other"
    for below in ("quizzes.service", "quizzes.rules", "quizzes.models", "quizzes.access"):
        assert not graph.chain_exists(below, WING, as_packages=True), f"{below} imports the lanes"
