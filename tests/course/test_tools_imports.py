"""tools/ imports only downwards too: the build scripts import one another by bare name, and
none imports, directly or through others, a script that imports it back."""

from pathlib import Path

from import_graph import cycles, module_graph

TOOLS = Path(__file__).resolve().parents[2] / "tools"


def test_tools_have_no_import_cycle():
    graph = module_graph(TOOLS)
    assert {"build_site", "student_edition", "handouts", "decks", "chromium"} <= set(graph)
    assert not cycles(graph), cycles(graph)


def test_the_notebook_list_and_cell_rules_sit_below_every_build_script():
    graph = module_graph(TOOLS)
    assert graph["course_notebooks"] == set() and graph["chromium"] == set()
    for script in ("build_site", "student_edition", "handouts"):
        assert "course_notebooks" in graph[script], script
