"""Course editions: the student edition (tools/student_edition.py), the cell rules every edition
follows (tools/course_notebooks.py) and the handouts' notebook transforms (tools/handouts.py).

The student edition must hold no solution text (checked line by line against the committed
notebooks) and must still run up to the first exercise: the cells before ``## Exercises`` of
every student notebook run in one kernel (``%reset -f`` between notebooks). Handouts:
tests/course/test_handouts.py; decks: tests/course/test_decks.py.
"""

import zipfile
from pathlib import Path

# tools/ holds scripts, not a package: conftest.py puts it on sys.path
import build_site
import course_notebooks
import handouts
import nbformat
import pytest
import student_edition
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

REPO = Path(__file__).resolve().parents[2]


NOTEBOOKS = course_notebooks.notebook_paths()
IDS = [p.stem for p in NOTEBOOKS]


def _code(src, tags=(), text="out\n"):
    cell = new_code_cell(src, metadata={"tags": list(tags)} if tags else {})
    cell.execution_count = 3
    cell.outputs = [new_output("stream", name="stdout", text=text)]
    return cell


def _toy() -> nbformat.NotebookNode:
    slide = {"slideshow": {"slide_type": "slide"}}
    nb = new_notebook(
        cells=[
            new_markdown_cell(
                "# 99 · Toy notebook\n\nWhat you will learn: $\\theta_j$", metadata=slide
            ),
            _code("x = 2\nprint(x)", text="2\n"),
            _code("print(f'{x:.3f}')", ["nbval-check-output"], "2.000\n"),
            _code("assert x == 2", ["check"]),
            new_markdown_cell("Say 2.", metadata={"slideshow": {"slide_type": "notes"}}),
            new_markdown_cell("## Exercises\n\n1. Square x.", metadata=slide),
            _code("SECRET_SQUARE = x**2\nprint(x)", ["solution"], "4\n"),
            new_markdown_cell("The answer is SECRET_WORDS.", metadata={"tags": ["solution"]}),
            _code("from hierlib.versions import show_versions"),
        ]
    )
    nb.metadata["jupytext"] = {"formats": "ipynb,py:percent"}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    return nb


# --------------------------------------------------------------------------- unit
def test_student_notebook_empties_solutions_and_clears_every_output():
    nb = _toy()
    student = student_edition.student_notebook(nb)
    assert [c.source for c in student.cells if course_notebooks.is_solution(c)] == [
        student_edition.CODE_PLACEHOLDER,
        student_edition.MARKDOWN_PLACEHOLDER,
    ]
    code = [c for c in student.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    # the speaker note is dropped, every other source is unchanged, and the source notebook
    # is untouched
    lecture = [c for c in nb.cells if not course_notebooks.is_speaker_note(c)]
    assert len(lecture) == len(nb.cells) - 1 and len(student.cells) == len(lecture)
    assert student.cells[2].source == "print(f'{x:.3f}')"
    assert [c.source for c in student.cells][:5] == [c.source for c in lecture][:5]
    assert nb.cells[6].outputs[0].text == "4\n" and "SECRET_SQUARE" in nb.cells[6].source
    assert "jupytext" not in student.metadata and "jupytext" in nb.metadata
    text = course_notebooks.notebook_text(student)
    assert "SECRET_SQUARE" not in text and "SECRET_WORDS" not in text
    nbformat.validate(student)


def test_solution_lines_skip_lines_the_lecture_cells_share():
    lines = course_notebooks.solution_lines(_toy())
    assert lines == {"SECRET_SQUARE = x**2", "The answer is SECRET_WORDS."}  # not print(x)


def test_cells_before_exercises_stop_at_the_heading():
    nb = _toy()
    assert course_notebooks.exercises_index(nb) == 5
    assert len(course_notebooks.cells_before_exercises(nb).cells) == 5
    nb.cells[5].source = "## Practice"
    with pytest.raises(ValueError, match="Exercises"):
        course_notebooks.exercises_index(nb)


def test_handout_drops_solutions_checks_notes_and_test_markers():
    handout = handouts.handout_notebook(_toy())
    sources = "\n".join(c.source for c in handout.cells)
    for gone in ("SECRET", "assert x == 2", "Say 2."):
        assert gone not in sources, gone
    assert "print(f'{x:.3f}')" in sources and "## Exercises" in sources
    assert not any("nbval-check-output" in c.metadata.get("tags", []) for c in handout.cells)
    assert len(handout.cells) == 5


def test_handout_prints_an_interactive_figures_frame_instead_of_the_figure():
    nb = _toy()
    live = nbformat.v4.new_code_cell("LIVE_FIGURE", metadata={"tags": ["screen-only"]})
    still = nbformat.v4.new_code_cell("STILL_FRAME", metadata={"tags": ["print-only"]})
    nb.cells += [live, still]
    sources = [c.source for c in handouts.handout_notebook(nb).cells]
    assert "STILL_FRAME" in sources and "LIVE_FIGURE" not in sources


def test_handout_prints_an_answer_check_without_the_solutions_output():
    nb = _toy()
    check = nbformat.v4.new_code_cell("RUN_THE_CHECK", metadata={"tags": ["answer-output"]})
    check.outputs = [nbformat.v4.new_output("stream", name="stdout", text="PASSED\n")]
    nb.cells.append(check)
    (printed,) = [c for c in handouts.handout_notebook(nb).cells if c.source == "RUN_THE_CHECK"]
    assert printed.outputs == []
    assert check.outputs  # the notebook itself keeps it


def test_every_answer_check_of_the_course_follows_a_solution():
    """The tag sits on the cells that run hierlib.checks on a student's answers (05, 12),
    after the solutions they check, and nowhere else."""
    tagged = {}
    for path in course_notebooks.notebook_paths():
        nb = nbformat.read(path, as_version=4)
        for k, cell in enumerate(nb.cells):
            if course_notebooks.ANSWER_OUTPUT_TAG in course_notebooks.cell_tags(cell):
                assert "checks.check_" in cell.source, (path.name, cell.source)
                assert any(course_notebooks.is_solution(c) for c in nb.cells[:k]), path.name
                tagged[path.stem] = tagged.get(path.stem, 0) + 1
    assert tagged == {"05_gibbs": 2, "12_hierarchical_regression": 1}


def test_notebook_07_has_its_explorer_for_screens_and_a_frame_for_paper():
    nb = nbformat.read(REPO / "notebooks" / "07_shrinkage.ipynb", as_version=4)
    tags = (course_notebooks.SCREEN_ONLY_TAG, course_notebooks.PRINT_ONLY_TAG)
    live, still = ([c for c in nb.cells if t in course_notebooks.cell_tags(c)] for t in tags)
    (live,), (still,) = live, still
    assert any("application/vnd.vegalite.v5+json" in o.get("data", {}) for o in live.outputs)
    assert any("image/png" in o.get("data", {}) for o in still.outputs)
    handout = handouts.handout_notebook(nb)
    sources = [c.source for c in handout.cells]
    assert still.source in sources and live.source not in sources
    # and the printed page shows the frame's picture, not the explorer's stand-in text
    html = handouts.handout_html(handout, "MathJax.js")
    frame = next(o.data["image/png"] for o in still.outputs if "image/png" in o.get("data", {}))
    assert frame[:200] in html and "Shrinkage explorer for 160 schools" not in html


def test_course_notebook_starts_each_notebook_on_a_new_page_with_unique_ids():
    a, b = _toy(), _toy()
    b.cells[0].source = "# 98 · Second toy"
    course = handouts.course_notebook([a, b], "The course")
    assert course.cells[0].source.startswith("# The course")
    assert "- 99 · Toy notebook\n- 98 · Second toy" in course.cells[0].source
    breaks = [c for c in course.cells if "handout-break" in c.source]
    assert len(breaks) == 2
    ids = [c.id for c in course.cells]
    assert len(ids) == len(set(ids)) == 1 + 2 * (1 + 5)
    nbformat.validate(course)


def test_student_edition_folder_runs_on_its_own(tmp_path):
    src = tmp_path / "99_toy.ipynb"
    nbformat.write(_toy(), src)
    written = student_edition.write_student_edition([src], tmp_path / "student")
    assert written == [tmp_path / "student" / "notebooks" / "99_toy.ipynb"]
    for name in ("hierlib/data.py", "data/hsb_students.csv", "pyproject.toml", "README.md"):
        assert (tmp_path / "student" / name).is_file(), name
    assert not list((tmp_path / "student").rglob("__pycache__"))
    assert "requirements.lock" in (tmp_path / "student" / "README.md").read_text()
    archive = student_edition.zip_dir(tmp_path / "student", tmp_path / "student.zip")
    assert archive.stat().st_size > 100_000


def test_student_zip_unzips_to_one_named_folder_with_the_notebooks_in_lecture_order(tmp_path):
    src = tmp_path / "student" / "notebooks"
    src.mkdir(parents=True)
    for name in ("10_summary.ipynb", "02_b.ipynb", "01_a.ipynb"):
        (src / name).write_text("{}")
    (tmp_path / "student" / "README.md").write_text("read me")
    archive = student_edition.zip_dir(tmp_path / "student", tmp_path / "student.zip")
    names = zipfile.ZipFile(archive).namelist()
    top = {n.split("/")[0] for n in names}
    assert top == {student_edition.STUDENT_FOLDER} == {"bayesian-hierarchical-models-student"}
    notebooks = [n.rsplit("/", 1)[-1] for n in names if n.endswith(".ipynb")]
    assert notebooks == ["01_a.ipynb", "02_b.ipynb", "10_summary.ipynb"]
    zipfile.ZipFile(archive).extractall(tmp_path / "unzipped")
    assert (
        tmp_path / "unzipped" / student_edition.STUDENT_FOLDER / "README.md"
    ).read_text() == "read me"


def test_no_notebooks_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no notebooks"):
        course_notebooks.notebook_paths(tmp_path)


# --------------------------------------------------------------------------- the real notebooks
@pytest.fixture(scope="module")
def student_notebooks(student_build):
    """``{stem: path}`` of the student notebooks (the edition built once per run: conftest)."""
    return student_build[1]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_solution_text_survives_in_the_student_edition(path, student_notebooks):
    source = nbformat.read(path, as_version=4)
    student = nbformat.read(student_notebooks[path.stem], as_version=4)
    solutions = [c for c in source.cells if course_notebooks.is_solution(c)]
    assert solutions, f"{path.name} has no cell tagged 'solution' (CONTRIBUTING.md)"
    notes = [c for c in source.cells if course_notebooks.is_speaker_note(c)]
    assert len(student.cells) == len(source.cells) - len(notes)  # speaker notes dropped
    assert not any(course_notebooks.is_speaker_note(c) for c in student.cells)
    emptied = [c.source for c in student.cells if course_notebooks.is_solution(c)]
    assert set(emptied) <= {student_edition.CODE_PLACEHOLDER, student_edition.MARKDOWN_PLACEHOLDER}
    assert len(emptied) == len(solutions)
    text = course_notebooks.notebook_text(student)
    leaked = [ln for ln in course_notebooks.solution_lines(source) if ln in text]
    assert not leaked, f"solution lines in the student {path.name}: {leaked[:3]}"
    assert all(not c.get("outputs") for c in student.cells)


@pytest.fixture(scope="module")
def kernel(student_notebooks):
    """One kernel for every student notebook (imports and compiled samplers load once).

    Each notebook starts with ``%reset -f``, so it sees none of the previous one's names.
    """
    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(next(iter(student_notebooks.values())).parent))
    yield km
    km.shutdown_kernel(now=True)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_student_notebook_runs_to_the_end_with_empty_solutions(path, student_notebooks, kernel):
    """Every cell runs, the exercises' too: a cell that needs a student's answer must say so
    (e.g. "not written yet") instead of failing."""
    student = nbformat.read(student_notebooks[path.stem], as_version=4)
    head = course_notebooks.cells_before_exercises(student)
    assert sum(c.cell_type == "code" for c in head.cells) >= 2
    assert "nbval" not in course_notebooks.notebook_text(student).lower()
    student.cells.insert(0, new_code_cell("%reset -f"))
    client = NotebookClient(student, km=kernel, timeout=120)
    try:
        client.execute()  # raises CellExecutionError naming the cell on any error
    finally:
        client.kc.stop_channels()
    start = course_notebooks.exercises_index(student)
    printed = [o for c in student.cells[:start] for o in c.get("outputs", [])]
    assert printed, "the cells before the exercises printed or plotted nothing"
    errors = [o for c in student.cells for o in c.get("outputs", []) if o.get("name") == "stderr"]
    assert not errors, errors[0].get("text", "")[:300]
    if path.stem == "05_gibbs":  # the check cell ran on the empty placeholders
        said = "".join(o.get("text", "") for c in student.cells for o in c.get("outputs", []))
        for name in ("theta", "sigma2", "mu", "tau2"):
            assert f"draw_{name} is not written yet" in said


def test_site_index_links_the_editions_by_the_names_they_are_built_with(tmp_path):
    entries = [build_site.Rendered(p.stem, p.stem, f"{p.stem}.html", "x") for p in NOTEBOOKS]
    built = tmp_path / "build"
    pdfs = [f"{p.stem}.pdf" for p in NOTEBOOKS] + ["course.pdf"]  # write_handouts' names
    (built / "handouts").mkdir(parents=True)
    for name in pdfs:
        (built / "handouts" / name).write_bytes(b"%PDF-")
    (built / "student.zip").write_bytes(b"PK")
    site = tmp_path / "site"
    site.mkdir()
    index = build_site.write_index(entries, site).read_text()
    assert "handouts/" not in index and "student.zip" not in index  # nothing copied yet
    copied = build_site.copy_editions(built, site)
    assert len(copied) == len(pdfs) + 1
    index = build_site.write_index(entries, site).read_text()
    for name in pdfs:
        assert f'href="handouts/{name}"' in index, name
    assert 'href="student.zip"' in index and "../" not in index
