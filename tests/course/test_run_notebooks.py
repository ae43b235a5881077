"""tools/run_notebooks.py: a notebook is executed from its .py and the pair stays in sync."""

from pathlib import Path

import jupytext
import nbformat
import pytest

# tools/ holds scripts, not a package: conftest.py puts it on sys.path
import run_notebooks

REPO = Path(__file__).resolve().parents[2]


HEADER = """# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---
"""


def _write(folder: Path, body: str) -> Path:
    py = folder / "98_tiny.py"
    py.write_text(HEADER + body, encoding="utf-8")
    return py


def test_lecture_order_is_file_name_order(tmp_path):
    for name in ("10_summary.py", "02_b.py", "01_a.py", "notes.py", "1_bad.py"):
        (tmp_path / name).write_text("")
    assert [p.name for p in run_notebooks.lecture_order(tmp_path)] == [
        "01_a.py",
        "02_b.py",
        "10_summary.py",
    ]


def test_run_one_executes_and_syncs_the_pair(tmp_path):
    py = _write(
        tmp_path,
        '\n# %%\nprint(6 * 7)\n\n# %%\nimport sys\n\nprint("careful", file=sys.stderr)\n',
    )
    ok, seconds, noisy = run_notebooks.run_one(py)
    assert ok and seconds > 0
    assert noisy == ["import sys"]  # the cell that wrote to stderr, by its first line
    nb = nbformat.read(py.with_suffix(".ipynb"), as_version=4)
    assert nb.cells[0].outputs[0]["text"] == "42\n"
    assert [c.execution_count for c in nb.cells] == [1, 2]
    assert all("execution" not in c.metadata for c in nb.cells)  # no timing noise
    assert py.read_text() == jupytext.writes(jupytext.read(py.with_suffix(".ipynb")), "py:percent")


def test_timing_cells_run_but_are_saved_without_output(tmp_path):
    py = _write(
        tmp_path,
        '\n# %%\nimport time\n\nt = time.perf_counter()\nprint("kept")\n'
        '\n# %% tags=["timing"]\nprint(f"{time.perf_counter() - t:.9f} s")\n'
        '\n# %%\nprint("after")\n',
    )
    assert run_notebooks.run_one(py)[0]
    first = py.with_suffix(".ipynb").read_text()
    nb = nbformat.reads(first, as_version=4)
    assert nb.cells[0].outputs[0]["text"] == "kept\n"
    assert nb.cells[1].outputs == [] and nb.cells[1].execution_count == 2  # it did run
    assert nb.cells[2].outputs[0]["text"] == "after\n"  # the run went on past it
    assert run_notebooks.run_one(py)[0]
    assert py.with_suffix(".ipynb").read_text() == first  # a rerun changes nothing


def test_streams_flushed_in_pieces_are_stored_as_one_output(tmp_path):
    py = _write(
        tmp_path, '\n# %%\nimport time\n\nprint("a", flush=True)\ntime.sleep(0.2)\nprint("b")\n'
    )
    assert run_notebooks.run_one(py)[0]
    outputs = nbformat.read(py.with_suffix(".ipynb"), as_version=4).cells[0].outputs
    assert [(o["name"], o["text"]) for o in outputs] == [("stdout", "a\nb\n")]


def test_update_keeps_outputs_of_unchanged_cells(tmp_path):
    py = _write(tmp_path, "\n# %%\nprint(6 * 7)\n")
    assert run_notebooks.run_one(py)[0]
    py.write_text(HEADER + "\n# %% [markdown]\n# A new title\n\n# %%\nprint(6 * 7)\n")
    nb = nbformat.read(run_notebooks.update_ipynb(py), as_version=4)
    assert nb.cells[0].cell_type == "markdown"
    assert nb.cells[1].outputs[0]["text"] == "42\n"


def test_a_failing_cell_fails_the_notebook_and_keeps_the_traceback(tmp_path, capsys):
    py = _write(tmp_path, "\n# %%\nraise ValueError('bad input named here')\n")
    ok, _, _ = run_notebooks.run_one(py)
    assert not ok
    assert "ValueError" in capsys.readouterr().err
    nb = nbformat.read(py.with_suffix(".ipynb"), as_version=4)
    assert nb.cells[0].outputs[0]["ename"] == "ValueError"
    assert run_notebooks.main([str(py)]) == 1


@pytest.mark.parametrize("argv", [["--help"]])
def test_cli_help(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_notebooks.main(argv)
    assert exit_info.value.code == 0
    assert "lecture order" in capsys.readouterr().out


def test_notebooks_two_at_a_time_report_in_lecture_order(tmp_path, capsys):
    # the second notebook finishes first; the report still follows lecture order, and each
    # notebook holds its own outputs
    slow = tmp_path / "01_slow.py"
    fast = tmp_path / "02_fast.py"
    slow.write_text(HEADER + "\n# %%\nimport time\n\ntime.sleep(1.0)\nprint('slow')\n")
    fast.write_text(HEADER + "\n# %%\nprint(sum(range(10)))\n")
    assert run_notebooks.main(["--jobs", "2", str(slow), str(fast)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("executing 2 notebook(s), 2 at a time")
    assert [line.split(":")[0].split("/")[-1] for line in lines[1:3]] == [slow.name, fast.name]
    assert "2 notebook(s) in" in lines[-1]
    outputs = {
        p.name: nbformat.read(p.with_suffix(".ipynb"), as_version=4).cells[0].outputs[0]["text"]
        for p in (slow, fast)
    }
    assert outputs == {slow.name: "slow\n", fast.name: "45\n"}
    assert slow.read_text() == jupytext.writes(
        jupytext.read(slow.with_suffix(".ipynb")), "py:percent"
    )
    with pytest.raises(SystemExit):
        run_notebooks.main(["--jobs", "0", str(fast)])
