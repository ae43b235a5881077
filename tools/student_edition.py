"""The student edition: every notebook with its solutions emptied, its speaker notes dropped
and its outputs cleared, next to what a student needs to run it.

``build/student/`` holds the notebooks (``notebooks/NN_topic.ipynb``, lecture order),
``hierlib``, ``data/``, the pins and a README with the set-up commands; ``build/student.zip``
unzips to one folder, ``bayesian-hierarchical-models-student/``. The published site's
downloadable notebooks are these student notebooks too (:func:`student_notebook`, used by
``build_site.py``). Which cells are solutions or speaker notes: :mod:`course_notebooks`.

Usage: ``python tools/student_edition.py [--notebooks notebooks] [--out build/student]``.
"""

from __future__ import annotations

import argparse
import copy
import re
import shutil
import sys
import tomllib
import zipfile
from collections.abc import Iterable
from pathlib import Path

import nbformat

# course_notebooks is tools/course_notebooks.py: tools/ is on sys.path when this runs as a script
from course_notebooks import (
    BUILD,
    NOTEBOOKS,
    REPO,
    drop_test_tags,
    is_solution,
    is_speaker_note,
    notebook_paths,
)

CODE_PLACEHOLDER = "# Your solution here"
MARKDOWN_PLACEHOLDER = "*Your answer here.*"
# What a student needs beside the notebooks to run them (copied into build/student/).
STUDENT_SUPPORT = ("hierlib", "data", "pyproject.toml", "requirements.lock", "environment.yml")
STUDENT_FOLDER = "bayesian-hierarchical-models-student"
"""The one folder ``student.zip`` unzips to."""


def student_cell(cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``cell`` for students: a solution replaced by a placeholder, outputs cleared."""
    out = copy.deepcopy(cell)
    if is_solution(out):
        out.source = CODE_PLACEHOLDER if out.cell_type == "code" else MARKDOWN_PLACEHOLDER
        out.pop("attachments", None)
    if out.cell_type == "code":
        out.outputs = []
        out.execution_count = None
        out.metadata.pop("execution", None)
    return out


def student_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student edition of a notebook: solutions emptied, speaker notes dropped (they are
    the instructor's talking points), every output cleared.

    The jupytext pairing is dropped from the metadata so that opening the notebook does not
    write a ``.py`` twin next to it.
    """
    out = copy.deepcopy(nb)
    out.cells = [student_cell(c) for c in nb.cells if not is_speaker_note(c)]
    out.metadata.pop("jupytext", None)
    drop_test_tags(out)  # nbval's tag is not for students
    return out


def write_student_edition(
    nb_paths: Iterable[Path], out_dir: Path, support_root: Path | None = REPO
) -> list[Path]:
    """Write the student edition of ``nb_paths`` to ``out_dir/notebooks`` and return the paths.

    With ``support_root`` (the repository), also copy what a student needs to run the notebooks
    (``hierlib``, ``data``, the pins) and write a README with the set-up commands.
    """
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    (out_dir / "notebooks").mkdir(parents=True)
    written = []
    for path in nb_paths:
        nb = nbformat.read(path, as_version=4)
        target = out_dir / "notebooks" / Path(path).name
        nbformat.write(student_notebook(nb), target)
        written.append(target)
    if support_root is not None:
        copy_student_support(Path(support_root), out_dir)
        (out_dir / "README.md").write_text(student_readme([p.name for p in written]))
    return written


def copy_student_support(root: Path, out_dir: Path) -> None:
    """Copy ``STUDENT_SUPPORT`` from ``root`` into ``out_dir`` (no caches, no build files);
    ``pyproject.toml`` and ``environment.yml`` go in their student form (:func:`for_students`)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in STUDENT_SUPPORT:
        src = root / name
        if src.is_dir():
            shutil.copytree(src, out_dir / name, ignore=ignore)
        elif src.exists():
            shutil.copy2(src, out_dir / name)
    for name in ("pyproject.toml", "environment.yml"):
        if (out_dir / name).exists():
            (out_dir / name).write_text(for_students(name, (out_dir / name).read_text()))


DEVELOPER_EXTRAS = ("test", "dev")
"""pyproject extras for the course's own tests and tooling: not in the student edition."""


def for_students(name: str, text: str) -> str:
    """The student form of ``pyproject.toml`` or ``environment.yml``: comments (which speak of
    the course's testing) dropped, and with them the developers' extras and tool settings
    (pytest, ruff) and, in ``environment.yml``, the packages only those extras name."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    dev = {re.split(r"[<>=\[ ]", req)[0] for key in DEVELOPER_EXTRAS for req in extras[key]}
    kept, table_dev, extra_dev = [], False, False
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        line = re.sub(r"\s+#\s[^\"']*$", "", line)  # a trailing comment
        if name == "pyproject.toml":
            if line.startswith("["):
                table_dev = line.startswith(("[tool.pytest", "[tool.ruff"))
            if re.match(rf"({'|'.join(DEVELOPER_EXTRAS)}) = \[", line):
                extra_dev = True
            if table_dev or extra_dev:
                extra_dev = extra_dev and line != "]"
                continue
        else:
            pinned = re.match(r"\s+- ([A-Za-z0-9_.-]+)==", line)
            if pinned and pinned.group(1) in dev:
                continue
        kept.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept).strip() + "\n")


def student_readme(names: list[str]) -> str:
    """The README of the student edition: set-up commands and the notebooks in order."""
    listing = "\n".join(f"- `notebooks/{n}`" for n in names)
    return f"""# Bayesian hierarchical models: student edition

The course notebooks with every output cleared and the exercise solutions left for you to
write (look for `{CODE_PLACEHOLDER}`). Run them top to bottom in lecture order.

## Set up (Python 3.11)

```
python3 -m venv .venv
.venv/bin/pip install -c requirements.lock -e ".[course]"
.venv/bin/jupyter lab notebooks/
```

(with conda instead: `conda env create -f environment.yml`, then `pip install -e .`).

## Notebooks

{listing}
"""


def zip_dir(src: Path, archive: Path, folder: str = STUDENT_FOLDER) -> Path:
    """Zip ``src`` into ``archive`` under one top ``folder``; return ``archive``.

    Entries are sorted by path, so the notebooks ``NN_topic.ipynb`` come in lecture order.
    """
    src, archive = Path(src), Path(archive)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{folder}/", "")
        for path in sorted(src.rglob("*")):
            zf.write(path, f"{folder}/{path.relative_to(src).as_posix()}")
    return archive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS)
    parser.add_argument("--out", type=Path, default=BUILD / "student")
    args = parser.parse_args(argv)
    written = write_student_edition(notebook_paths(args.notebooks), args.out)
    archive = zip_dir(args.out, args.out.parent / f"{args.out.name}.zip")
    print(f"student edition: {len(written)} notebooks in {args.out}, archive {archive}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
