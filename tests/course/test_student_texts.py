"""What students receive speaks to students.

- No exercise answer anywhere a student looks: no line of a solution cell appears in another
  cell of the notebook, its source or its output (the textbook sampler's printed source
  included), so neither the published site nor the student edition can show one.
- The student edition's pyproject.toml, environment.yml, data/README.md, README and hierlib
  sources say nothing of the course's own machinery (its CI, nbval, test files), and its
  notebooks' cells neither.
"""

import re
import tomllib
from pathlib import Path

# tools/ holds scripts, not a package: conftest.py puts it on sys.path
import course_notebooks
import nbformat
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = course_notebooks.notebook_paths()
MACHINERY = re.compile(
    r"\bnbval\b|NBVAL|\bCI\b|\.ci/run|\btests?/|\btest_\w+\.py|\bbenchmarks/|\bpytest\b"
)
# in a notebook's cells, also the wording of the course's own checks of its numbers
CELL_MACHINERY = re.compile(MACHINERY.pattern + r"|false alarm", re.IGNORECASE)
MIN_LEN = 12  # shorter lines (`plt.show()`, `print(`) say nothing about an answer


def _visible_lines(nb: nbformat.NotebookNode) -> str:
    """Sources and outputs of every cell that is not a solution."""
    parts = []
    for cell in nb.cells:
        if course_notebooks.is_solution(cell):
            continue
        parts.append(cell.source)
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            for value in out.get("data", {}).values():
                parts.append(value if isinstance(value, str) else "")
    return "\n".join(parts)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_solution_line_is_shown_outside_its_solution_cell(path):
    nb = nbformat.read(path, as_version=4)
    shown = _visible_lines(nb)
    lines = {
        ln.strip()
        for cell in nb.cells
        if course_notebooks.is_solution(cell)
        for ln in cell.source.splitlines()
        if len(ln.strip()) >= MIN_LEN
    }
    assert lines, path.name
    leaked = sorted(ln for ln in lines if ln in shown)
    assert not leaked, f"{path.name}: solution lines shown elsewhere: {leaked[:3]}"


def test_the_check_catches_a_printed_solution_line():
    """The test above can fail: a solution line printed by another cell is found."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("x = 2", metadata={"tags": ["solution"]}),
        nbformat.v4.new_code_cell("show()"),
    ]
    nb.cells[0].source = "precision = n / sigma2 + 1 / tau2"
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text=nb.cells[0].source + "\n")]
    assert nb.cells[0].source in _visible_lines(nb)


@pytest.fixture(scope="module")
def student(student_build):
    """The student edition's folder (built once per run: conftest)."""
    return student_build[0] / "student"


def test_the_student_editions_texts_say_nothing_of_the_course_machinery(student):
    files = [student / name for name in ("pyproject.toml", "environment.yml", "README.md")]
    files += [student / "data" / "README.md", *sorted((student / "hierlib").glob("*.py"))]
    said = []
    for path in files:
        for k, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if MACHINERY.search(line):
                said.append(f"{path.relative_to(student)}:{k}: {line.strip()[:80]}")
    assert not said, said[:5]


def test_the_student_notebooks_say_nothing_of_it_either(student):
    said = []
    for path in sorted((student / "notebooks").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            said += [f"{path.name}: {m.group(0)}" for m in CELL_MACHINERY.finditer(cell.source)]
    assert not said, said[:5]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_notebooks_a_clone_opens_say_nothing_of_it(path):
    """The committed notebooks (what `make lab` opens), solutions and notes included: the
    cells whose output nbval compares carry a tag, not nbval's comment marker."""
    nb = nbformat.read(path, as_version=4)
    said = [m.group(0) for cell in nb.cells for m in CELL_MACHINERY.finditer(cell.source)]
    assert not said, f"{path.name}: {said[:5]}"
    tag = course_notebooks.NBVAL_CHECK_TAG
    assert any(tag in course_notebooks.cell_tags(c) for c in nb.cells), path.name


def test_the_check_catches_nbvals_comment_marker():
    assert CELL_MACHINERY.search("# NBVAL_CHECK_OUTPUT\nprint(x)")


def test_the_student_pins_still_install_the_course(student):
    mine = tomllib.loads((REPO / "pyproject.toml").read_text())
    theirs = tomllib.loads((student / "pyproject.toml").read_text())
    assert theirs["project"]["dependencies"] == mine["project"]["dependencies"]
    assert theirs["project"]["optional-dependencies"] == {
        "course": mine["project"]["optional-dependencies"]["course"]
    }
    assert theirs["tool"]["setuptools"] == mine["tool"]["setuptools"]  # the data ship
    env = yaml.safe_load((student / "environment.yml").read_text())
    pip = next(d for d in env["dependencies"] if isinstance(d, dict))["pip"]
    names = {p.split("==")[0] for p in pip}
    assert {"pandas", "arviz", "jupyter", "nbclient", "-e ."} <= names
    assert not names & {"pytest", "nbval", "ruff", "playwright", "hypothesis"}
