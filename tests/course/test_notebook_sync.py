"""Every notebook is a jupytext pair in sync, committed executed, with nothing on stderr."""

from pathlib import Path

import jupytext
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
EXECUTED = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def test_the_course_has_notebooks():
    assert SOURCES, f"no notebooks/NN_topic.py in {NOTEBOOKS}"
    assert [p.stem for p in SOURCES] == [p.stem for p in EXECUTED], (
        "every NN_topic.py needs its executed NN_topic.ipynb and vice versa (make notebooks)"
    )


@pytest.mark.parametrize("py", SOURCES, ids=lambda p: p.name)
def test_py_and_ipynb_are_in_sync(py):
    """The .py is exactly what jupytext writes from the .ipynb: same cells, sources, metadata."""
    ipynb = py.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} is missing: run `make notebooks`"
    expected = jupytext.writes(jupytext.read(ipynb), fmt="py:percent")
    actual = py.read_text(encoding="utf-8")
    if expected != actual:
        import difflib

        diff = "".join(
            difflib.unified_diff(
                actual.splitlines(True), expected.splitlines(True), py.name, ipynb.name, n=1
            )
        )
        pytest.fail(f"{py.name} and {ipynb.name} differ (run `make notebooks`):\n{diff[:3000]}")


@pytest.mark.parametrize("py", SOURCES, ids=lambda p: p.name)
def test_header_pairs_percent_format_and_python3(py):
    meta = jupytext.read(py).metadata
    assert meta["jupytext"]["formats"] == "ipynb,py:percent"
    assert meta["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("ipynb", EXECUTED, ids=lambda p: p.name)
def test_committed_notebook_is_executed_without_errors_or_stderr(ipynb):
    nb = nbformat.read(ipynb, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    not_run = [c.source.splitlines()[0] for c in code if c.get("execution_count") is None]
    assert not not_run, f"cells never executed (run `make notebooks`): {not_run[:3]}"
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), "cells were run out of order"
    for cell in code:
        for out in cell.outputs:
            assert out.output_type != "error", f"error output in: {cell.source.splitlines()[0]}"
            assert out.get("name") != "stderr", (
                f"stderr output (nbval compares it; keep it quiet) in: "
                f"{cell.source.splitlines()[0]}\n{out.get('text', '')[:300]}"
            )
