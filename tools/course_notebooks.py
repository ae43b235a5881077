"""The course's notebook list and cell rules, shared by every build script in tools/.

Below :mod:`build_site`, :mod:`student_edition`, :mod:`handouts` and :mod:`decks` (it imports
none of them): what a course notebook is and what its cells are.

- **The notebook list.** The course is its paired sources ``notebooks/NN_topic.py``
  (jupytext), in lecture order = file-name order; each one's executed ``NN_topic.ipynb`` is
  returned (:func:`notebooks_in_order`, :func:`notebook_paths`). A stray
  ``NN_topic.nbconvert.ipynb`` is never part of it.
- **Cell rules.** Tags (:func:`cell_tags`): ``solution`` marks an exercise solution
  (:func:`is_solution`; :func:`solution_lines` are the lines nothing else shows); slide type
  ``notes`` a speaker note (:func:`is_speaker_note`); ``nbval-check-output`` marks the
  cells whose output nbval compares (:data:`NBVAL_CHECK_TAG`: a tag, not nbval's comment
  marker, so a reader of the notebook never sees it; the editions drop it too:
  :func:`drop_test_tags`); the ``## Exercises`` heading starts the exercises
  (:func:`exercises_index`). A notebook's title is its first level-1 heading
  (:func:`notebook_title`). A figure that moves (an
  interactive explorer) is tagged ``screen-only`` and its printable frame ``print-only``:
  pages and decks show the one, handouts the other (:data:`SCREEN_ONLY_TAG`,
  :data:`PRINT_ONLY_TAG`). A cell tagged ``answer-output`` runs a check on the student's
  answers: wherever the solutions are left out, so is its output, which came from them
  (:func:`clear_answer_outputs`).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
BUILD = REPO / "build"

NOTEBOOK_NAME = re.compile(r"\d\d_\w+")  # NN_topic: no dots, so no NN_topic.nbconvert
NBVAL_CHECK_TAG = "nbval-check-output"
"""nbval (``--nbval-lax``) compares the saved output of the cells with this tag."""
SOLUTION_TAG = "solution"
SCREEN_ONLY_TAG = "screen-only"
"""An interactive figure: shown in pages, decks and JupyterLab, left out of the handouts."""
PRINT_ONLY_TAG = "print-only"
"""Its still frame for paper: shown in the handouts (and notebooks), left off pages and decks."""
ANSWER_OUTPUT_TAG = "answer-output"
"""A cell that checks the student's answers: its saved output is that of the solutions."""
EXERCISES_HEADING = re.compile(r"^##\s+Exercises\b", re.MULTILINE)


# --------------------------------------------------------------------------- the list
def notebooks_in_order(folder: Path = NOTEBOOKS) -> list[Path]:
    """The course's executed notebooks in ``folder``, in lecture order.

    The course is its notebook sources ``NN_topic.py`` (jupytext pairs); each one's
    ``NN_topic.ipynb`` is returned. Other ``.ipynb`` files (``NN_topic.nbconvert.ipynb`` from
    ``jupyter nbconvert --execute``, copies) are not part of it.
    """
    return [
        py.with_suffix(".ipynb")
        for py in sorted(Path(folder).glob("[0-9][0-9]_*.py"))
        if NOTEBOOK_NAME.fullmatch(py.stem) and py.with_suffix(".ipynb").is_file()
    ]


def notebook_paths(nb_dir: Path = NOTEBOOKS) -> list[Path]:
    """The course notebooks ``NN_topic.ipynb`` of ``nb_dir`` in lecture order.

    :func:`notebooks_in_order`, refusing an empty list.

    Raises
    ------
    ValueError
        If there is none.
    """
    paths = notebooks_in_order(Path(nb_dir))
    if not paths:
        raise ValueError(f"no notebooks NN_topic.ipynb in {nb_dir}")
    return paths


def notebook_title(nb: nbformat.NotebookNode, fallback: str = "Untitled notebook") -> str:
    """The first level-1 markdown heading of ``nb`` (``# 01 · The data``), else ``fallback``."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+?)\s*$", cell.source, flags=re.MULTILINE)
            if match:
                return match.group(1)
    return fallback


# --------------------------------------------------------------------------- the cells
def cell_tags(cell: dict) -> set[str]:
    """The tags of a cell (``metadata.tags``), as a set."""
    return set(cell.get("metadata", {}).get("tags", []))


def is_solution(cell: dict) -> bool:
    """True for an exercise solution (a cell tagged ``solution``)."""
    return SOLUTION_TAG in cell_tags(cell)


def is_speaker_note(cell: dict) -> bool:
    """True for a cell of slide type ``notes`` (a speaker note in the deck)."""
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type") == "notes"


def drop_test_tags(nb: nbformat.NotebookNode) -> None:
    """Remove nbval's tag from every cell of ``nb`` in place (an edition's HTML would carry
    it as a CSS class, ``celltag_nbval-check-output``; the student edition in its metadata)."""
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags")
        if tags and NBVAL_CHECK_TAG in tags:
            tags.remove(NBVAL_CHECK_TAG)
            if not tags:
                del cell.metadata["tags"]


def clear_answer_outputs(nb: nbformat.NotebookNode) -> int:
    """Clear, in place, the outputs of the cells tagged ``answer-output``; return how many.

    Such a cell (``checks.check_all(updates, ...)``) is kept, so a reader sees what to run,
    but its saved output ("passed") was produced by the solution cells: where the solutions
    are left out, it would report on code the reader does not see.
    """
    cleared = 0
    for cell in nb.cells:
        if cell.cell_type == "code" and ANSWER_OUTPUT_TAG in cell_tags(cell):
            cell.outputs = []
            cell.execution_count = None
            cleared += 1
    return cleared


def solution_lines(nb: nbformat.NotebookNode, min_len: int = 4) -> set[str]:
    """Stripped lines of the solution cells that occur in no other cell of ``nb``.

    These are the lines a student edition must not contain (a line such as ``plt.show()`` that
    the lecture cells also use tells nothing about the solution). Lines shorter than
    ``min_len`` characters (``)``, ``else:``...) are ignored.
    """
    shared = {ln.strip() for c in nb.cells if not is_solution(c) for ln in c.source.splitlines()}
    return {
        ln.strip()
        for c in nb.cells
        if is_solution(c)
        for ln in c.source.splitlines()
        if len(ln.strip()) >= min_len and ln.strip() not in shared
    }


def notebook_text(nb: nbformat.NotebookNode) -> str:
    """Everything a reader of ``nb`` can see: cell sources and text outputs, one string."""
    return nbformat.writes(nb)


def exercises_index(nb: nbformat.NotebookNode) -> int:
    """Index of the first markdown cell with the ``## Exercises`` heading.

    Raises
    ------
    ValueError
        If the notebook has no such heading (CONTRIBUTING.md asks every notebook for one).
    """
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and EXERCISES_HEADING.search(cell.source):
            return i
    raise ValueError("notebook has no '## Exercises' markdown heading")


def cells_before_exercises(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` holding only the cells before the ``## Exercises`` heading."""
    out = copy.deepcopy(nb)
    out.cells = out.cells[: exercises_index(nb)]
    return out
