"""hierlib imports only downwards: no module imports, directly or through others, a module
that imports it back (CONTRIBUTING.md, "Layout"). Read from the source with ``ast``."""

from pathlib import Path
from textwrap import dedent

import pytest
from import_graph import cycles, module_graph

import hierlib

HIERLIB = Path(hierlib.__file__).resolve().parent


def test_hierlib_has_no_import_cycle():
    graph = module_graph(HIERLIB, "hierlib")
    assert len(graph) > 20 and "hierlib.gibbs" in graph  # the walk found the library
    found = cycles(graph)
    assert not found, "import cycles in hierlib: " + "; ".join(" -> ".join(c) for c in found)


def test_hierlib_is_layered_with_validate_at_the_bottom():
    graph = module_graph(HIERLIB, "hierlib")
    assert graph["hierlib._validate"] == set()
    assert "hierlib.predictive" not in graph["hierlib.gibbs"]
    assert "hierlib.gibbs" not in graph["hierlib.predictive"]


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b", "c"}, "b": {"c"}, "c": set()}, []),  # a diamond is no cycle
        ({"a": {"b"}, "b": {"a"}}, [["a", "b", "a"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c", "a"]]),
        ({"a": {"a"}}, [["a", "a"]]),
        (
            {"a": {"b"}, "b": {"a"}, "x": {"y"}, "y": {"z"}, "z": {"x"}, "q": {"a", "x"}},
            [["a", "b", "a"], ["x", "y", "z", "x"]],
        ),
    ],
    ids=["chain", "diamond", "pair", "three", "self", "two-cycles"],
)
def test_cycles_finds_every_cycle_not_only_pairs(graph, expected):
    assert sorted(cycles(graph)) == expected


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text))


def test_the_walk_sees_lazy_relative_and_subpackage_imports(tmp_path):
    """A synthetic package whose only cycle runs through a function-level import, a relative
    import and a subpackage: the walk must see all three for the test above to mean anything."""
    _write(
        tmp_path / "pkg",
        {
            "__init__.py": '"""nothing imported"""\n',
            "low.py": "import numpy as np\n",
            "mid.py": "from pkg import low\nfrom .sub import deep\n",
            "sub/__init__.py": "",
            "sub/deep.py": """
                from ..low import x
                def f():
                    from pkg.top import g  # lazy, but still a dependency
                    return g
            """,
            "top.py": "from pkg.mid import thing\nimport pkg.low\n",
        },
    )
    graph = module_graph(tmp_path / "pkg", "pkg")
    assert graph["pkg.low"] == set()
    assert graph["pkg.mid"] == {"pkg.low", "pkg.sub", "pkg.sub.deep"}
    assert graph["pkg.sub.deep"] == {"pkg.low", "pkg.top"}
    assert graph["pkg.top"] == {"pkg.mid", "pkg.low"}
    assert cycles(graph) == [["pkg.mid", "pkg.sub.deep", "pkg.top", "pkg.mid"]]


def test_a_flat_folder_of_scripts(tmp_path):
    _write(
        tmp_path,
        {"a.py": "import b\n", "b.py": "def f():\n    import a\n", "c.py": "import os\n"},
    )
    graph = module_graph(tmp_path)
    assert graph == {"a": {"b"}, "b": {"a"}, "c": set()}
    assert cycles(graph) == [["a", "b", "a"]]
