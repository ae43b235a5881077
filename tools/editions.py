"""Course editions built from the executed notebooks (issue 6).

Three audiences, one source:

* **student edition** (``build/student/``): every notebook with the cells tagged ``solution``
  emptied (a placeholder comment kept) and every output cleared, next to what a student needs to
  run it (``hierlib``, ``data/``, the pins) and a README; also zipped as ``build/student.zip``,
  which unzips to one folder, ``bayesian-hierarchical-models-student/``;
* **handouts** (``build/handouts/``): one PDF per executed notebook and one for the whole course,
  printed by Debian's Chromium from nbconvert HTML with a local MathJax (no network);
* **instructor decks** are the reveal.js decks of ``build/instructor/`` (``tools/build_site.py
  --edition instructor``); their speaker notes are the notebook cells of slide type ``notes``
  (press ``S`` in a deck). The published site ``build/site/`` has neither notes nor solutions.

Every edition is built from the course's notebook list (the paired ``NN_topic.py`` sources, in
lecture order: :func:`notebook_paths`), never from whatever ``.ipynb`` files lie around.

Usage::

    python tools/editions.py student  [--notebooks notebooks] [--out build/student]
    python tools/editions.py handouts [--notebooks notebooks] [--out build/handouts]
    python tools/editions.py decks    [--site build/site] [--shots DIR]   # slides fit 1280x720?
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import re
import shutil
import sys
import zipfile
from collections.abc import Iterable
from html import escape as html_escape
from pathlib import Path

# build_site is tools/build_site.py: tools/ is on sys.path when this runs as a script
import build_site
import nbformat

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
BUILD = REPO / "build"

SOLUTION_TAG = "solution"
CODE_PLACEHOLDER = "# Your solution here"
MARKDOWN_PLACEHOLDER = "*Your answer here.*"
EXERCISES_HEADING = re.compile(r"^##\s+Exercises\b", re.MULTILINE)
# Cells a printed handout leaves out: solutions (students print it), the lecture-number checks and
# cells marked off pages; ``remove-input`` keeps the output only, as on the HTML pages.
HANDOUT_REMOVE_TAGS = frozenset({"solution", "check", "remove-cell"})
HANDOUT_REMOVE_INPUT_TAGS = frozenset({"remove-input"})
# What a student needs beside the notebooks to run them (copied into build/student/).
STUDENT_SUPPORT = ("hierlib", "data", "pyproject.toml", "requirements.lock", "environment.yml")
STUDENT_FOLDER = "bayesian-hierarchical-models-student"
"""The one folder ``student.zip`` unzips to."""


# --------------------------------------------------------------------------- notebook cells
def notebook_paths(nb_dir: Path = NOTEBOOKS) -> list[Path]:
    """The course notebooks ``NN_topic.ipynb`` of ``nb_dir`` in lecture order.

    The course's list is its paired sources ``NN_topic.py`` (``build_site.notebooks_in_order``):
    a stray ``NN_topic.nbconvert.ipynb`` is not a course notebook.

    Raises
    ------
    ValueError
        If there is none.
    """
    paths = build_site.notebooks_in_order(Path(nb_dir))
    if not paths:
        raise ValueError(f"no notebooks NN_topic.ipynb in {nb_dir}")
    return paths


def cell_tags(cell: dict) -> set[str]:
    """The tags of a cell (``metadata.tags``), as a set."""
    return set(cell.get("metadata", {}).get("tags", []))


def is_solution(cell: dict) -> bool:
    """True for an exercise solution (a cell tagged ``solution``)."""
    return SOLUTION_TAG in cell_tags(cell)


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


# --------------------------------------------------------------------------- student edition
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
    out.cells = [student_cell(c) for c in nb.cells if not build_site.is_speaker_note(c)]
    out.metadata.pop("jupytext", None)
    build_site.strip_test_markers(out)  # nbval's markers are not for students
    return out


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
    import tomllib

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


# --------------------------------------------------------------------------- handouts
HANDOUT_CSS = """
body { margin: 0; padding: 0; font-size: 10.5pt; }
main, .jp-Notebook { padding: 0 !important; margin: 0 !important; }
.jp-InputPrompt, .jp-OutputPrompt { display: none !important; }
.jp-Cell { padding: 2px 0 !important; }
/* long code lines wrap instead of running off the page */
pre, code, .highlight pre, .jp-OutputArea-output pre {
  white-space: pre-wrap !important; overflow-wrap: anywhere !important;
  word-break: break-word; overflow: visible !important;
}
.jp-CodeMirrorEditor, .jp-InputArea-editor, .highlight { overflow: visible !important; }
.jp-InputArea-editor { font-size: 8.5pt; }
.jp-OutputArea-output pre { font-size: 8.5pt; }
/* figures sized to the page, never split across two pages */
img { max-width: 100% !important; height: auto !important; }
.jp-OutputArea-output img, .jp-RenderedImage { break-inside: avoid; page-break-inside: avoid; }
/* a code cell and its output on one page where they fit (a taller cell still breaks) */
.jp-CodeCell { break-inside: avoid; page-break-inside: avoid; }
.jp-RenderedHTMLCommon table { font-size: 8pt; max-width: 100%; }
.jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th { padding: 1px 4px; }
.MathJax_Display, .MJXc-display { overflow: visible; }
h1, h2, h3 { break-after: avoid; page-break-after: avoid; }
.handout-break { break-before: page; page-break-before: always; height: 0; }
a.anchor-link { display: none; }
"""


# A display formula wider than the page is shrunk to fit (FIT_MATH_JS; the course templates
# turn MathJax's line breaking off); print_overflows catches anything still too wide.


def handout_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The executed notebook as printed: no solutions, checks, speaker notes or hidden cells.

    Cells tagged ``remove-input`` keep their output only (their tag stays for the exporter);
    nbval's ``# NBVAL_CHECK_OUTPUT`` marker lines are dropped.
    """
    out = copy.deepcopy(nb)
    out.cells = [c for c in out.cells if in_handout(c)]
    build_site.strip_test_markers(out)
    return out


def in_handout(cell: dict) -> bool:
    """False for the cells a handout leaves out (``HANDOUT_REMOVE_TAGS``, speaker notes)."""
    return not (cell_tags(cell) & HANDOUT_REMOVE_TAGS) and not build_site.is_speaker_note(cell)


def course_notebook(notebooks: list[nbformat.NotebookNode], title: str) -> nbformat.NotebookNode:
    """One notebook of all handout notebooks in order, each starting on a new page.

    Cell ids are prefixed with the notebook's position so that they stay unique.
    """
    cover = nbformat.v4.new_markdown_cell(f"# {title}\n\n" + course_contents(notebooks))
    cells = [cover]
    for k, nb in enumerate(notebooks):
        cells.append(nbformat.v4.new_markdown_cell('<div class="handout-break"></div>'))
        for cell in handout_notebook(nb).cells:
            cell = copy.deepcopy(cell)
            if "id" in cell:
                cell.id = f"nb{k:02d}-{cell.id}"[:64]
            cells.append(cell)
    out = nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(notebooks[0].metadata))
    out.metadata.pop("jupytext", None)
    return out


def notebook_title(nb: nbformat.NotebookNode) -> str:
    """The title of a notebook: its first ``# `` heading (its title slide)."""
    return build_site.notebook_title(nb, fallback="Untitled notebook")


def course_contents(notebooks: list[nbformat.NotebookNode]) -> str:
    """A markdown list of the notebooks' titles (the whole-course handout's contents)."""
    return "\n".join(f"- {notebook_title(nb)}" for nb in notebooks)  # titles carry numbers


def handout_html(nb: nbformat.NotebookNode, mathjax_url: str, title: str | None = None) -> str:
    """The site's page HTML (``build_site.page_exporter``) with a local MathJax and print CSS."""
    exporter = build_site.page_exporter()
    exporter.mathjax_url = mathjax_url
    # require.js is only needed for widgets; an empty script keeps the page self-contained
    exporter.require_js_url = "data:text/javascript,"
    nb = copy.deepcopy(nb)
    nb.metadata["title"] = title or notebook_title(nb)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": nb.metadata.title}})
    return body.replace("</head>", f"<style>{HANDOUT_CSS}</style>\n</head>", 1)


def mathjax_script(root: Path = REPO) -> Path:
    """The local MathJax 2.7 entry script (``node_modules/mathjax/MathJax.js``, from npm)."""
    path = root / "node_modules" / "mathjax" / "MathJax.js"
    if not path.exists():
        raise ValueError(f"local MathJax not found at {path}: run `npm ci` (make all does)")
    return path


def mathjax_url_for(html_path: Path, mathjax_js: Path) -> str:
    """The MathJax URL relative to the page ``html_path`` (the site's MathJax configuration)."""
    import os

    rel = os.path.relpath(mathjax_js, Path(html_path).parent)
    return Path(rel).as_posix() + "?" + build_site.MATHJAX_URL.split("?", 1)[1]


def write_handouts(
    nb_paths: list[Path],
    out_dir: Path,
    mathjax_js: Path,
    browser=None,
    course_title: str = "Bayesian hierarchical models: the course",
    course_name: str = "course",
) -> list[Path]:
    """Render one PDF per notebook and one for the whole course into ``out_dir``.

    The HTML pages the PDFs are printed from stay in ``out_dir/html``. Returns the PDF paths,
    the whole-course PDF last. ``browser``: a playwright browser to print with (default: a new
    :func:`offline_browser`).
    """
    out_dir = Path(out_dir)
    html_dir = out_dir / "html"
    html_dir.mkdir(parents=True, exist_ok=True)
    notebooks = [nbformat.read(p, as_version=4) for p in nb_paths]
    jobs = []
    for path, nb in zip(nb_paths, notebooks, strict=True):
        html = html_dir / f"{Path(path).stem}.html"
        url = mathjax_url_for(html, mathjax_js)
        html.write_text(handout_html(handout_notebook(nb), url), encoding="utf-8")
        jobs.append((html, out_dir / f"{Path(path).stem}.pdf", notebook_title(nb)))
    course = course_notebook(notebooks, course_title)
    html = html_dir / f"{course_name}.html"
    html.write_text(
        handout_html(course, mathjax_url_for(html, mathjax_js), course_title), encoding="utf-8"
    )
    jobs.append((html, out_dir / f"{course_name}.pdf", course_title))
    if browser is None:
        with offline_browser() as browser:
            print_pdfs(jobs, browser)
    else:
        print_pdfs(jobs, browser)
    return [pdf for _, pdf, _ in jobs]


# --------------------------------------------------------------------------- headless Chromium
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
A4_PRINT_WIDTH_PX = 695  # 210 mm - 2 x 13 mm margins at 96 px per inch
PDF_MARGINS = {"top": "14mm", "bottom": "16mm", "left": "13mm", "right": "13mm"}


def chromium_path() -> str | None:
    """Debian's Chromium (``/usr/bin/chromium``) or ``None`` where it is not installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


@contextlib.contextmanager
def offline_browser():
    """Headless Chromium (Debian's, never a downloaded one) driven by playwright."""
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    if exe is None:
        raise ValueError(
            "Debian's chromium is not installed: `make chromium` installs it "
            "(apt-get install chromium, as root or with sudo)"
        )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()


def offline_page(browser, width: int = 1280, height: int = 720):
    """A page whose every request other than ``file://`` and ``data:`` is aborted.

    Returns ``(page, blocked)``: ``blocked`` collects the URLs the page tried to fetch.
    """
    context = browser.new_context(viewport={"width": width, "height": height})
    blocked: list[str] = []

    def route(r):
        url = r.request.url
        if url.startswith(("file:", "data:", "blob:", "about:")):
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    context.route("**/*", route)
    return context.new_page(), blocked


# Resolves once MathJax has typeset the page (its hub queue runs callbacks after the startup
# typeset), or with "timeout" so that a broken page fails instead of hanging.
WAIT_MATHJAX_JS = """(ms) => new Promise((resolve) => {
  if (!window.MathJax || !window.MathJax.Hub) { resolve("no MathJax"); return; }
  setTimeout(() => resolve("timeout"), ms);
  MathJax.Hub.Queue(() => resolve("done"));
})"""

MATH_STATE_JS = """() => ({
  typeset: document.querySelectorAll('.MathJax_CHTML, .MathJax, .MathJax_Display').length,
  errors: document.querySelectorAll('.MathJax_Error, merror').length,
})"""


def open_offline(page, path: Path, timeout_ms: int = 30_000) -> dict:
    """Open ``path`` as ``file://``, wait for MathJax and fonts; return the math state."""
    page.goto(Path(path).resolve().as_uri(), wait_until="load", timeout=timeout_ms)
    page.wait_for_function("() => !!window.MathJax && !!window.MathJax.Hub", timeout=timeout_ms)
    status = page.evaluate(WAIT_MATHJAX_JS, timeout_ms)
    if status != "done":
        raise ValueError(f"{path}: MathJax did not finish typesetting ({status})")
    page.evaluate("() => document.fonts.ready.then(() => true)")
    return page.evaluate(MATH_STATE_JS)


# Elements of a printed page that must stay inside the printable width.
OVERFLOW_JS = """(width) => {
  const sel = 'pre, img, table, svg, .jp-Cell, .jp-OutputArea-output, .MathJax_CHTML, '
            + '.MathJax_Display, p, li, h1, h2, h3';
  const out = [];
  for (const el of document.querySelectorAll(sel)) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || getComputedStyle(el).visibility === 'hidden') continue;
    if (r.right > width + 1 || el.scrollWidth > el.clientWidth + 1 && el.tagName === 'PRE') {
      out.push({tag: el.tagName, cls: el.className && String(el.className).slice(0, 40),
                right: Math.round(r.right), text: el.textContent.trim().slice(0, 60)});
    }
  }
  return out;
}"""


FIT_MATH_JS = """() => {
  let n = 0;
  for (const d of document.querySelectorAll('.MJXc-display, .MathJax_Display')) {
    const m = d.querySelector('.MathJax_CHTML');
    const w = m ? m.getBoundingClientRect().width : 0;
    if (w > d.clientWidth + 1) { m.style.zoom = (d.clientWidth - 2) / w; n++; }
  }
  return n;
}"""


def print_overflows(page, path: Path, width: int = A4_PRINT_WIDTH_PX) -> tuple[dict, list]:
    """Lay ``path`` out as printed (print media, A4 printable width) and list what sticks out.

    Display formulas wider than the page are shrunk to fit first (``math_state["shrunk"]``
    counts them). Returns ``(math_state, overflows)``; an overflow names the element, its right
    edge in CSS px and the start of its text.
    """
    page.set_viewport_size({"width": width, "height": 1000})
    page.emulate_media(media="print")
    state = open_offline(page, path)
    state["shrunk"] = page.evaluate(FIT_MATH_JS)
    return state, page.evaluate(OVERFLOW_JS, width)


def footer_template(title: str) -> str:
    """The PDF page footer: the title and ``page / pages``."""
    title = html_escape(title)
    return (
        '<div style="font-size:7.5pt;color:#555;width:100%;text-align:center;">'
        f'{title} &middot; <span class="pageNumber"></span> / '
        '<span class="totalPages"></span></div>'
    )


def print_pdfs(jobs: list[tuple[Path, Path, str]], browser) -> None:
    """Print each ``(html, pdf, title)`` job to A4 PDF in ``browser``, offline.

    Raises ``ValueError`` if a page fetched from the network, left math untypeset or has
    content wider than the printable width.
    """
    page, blocked = offline_page(browser, width=A4_PRINT_WIDTH_PX, height=1000)
    try:
        for html, pdf, title in jobs:
            state, overflows = print_overflows(page, html)
            if blocked:
                raise ValueError(f"{html} fetched from the network: {blocked[:3]}")
            if state["errors"]:
                raise ValueError(f"{html}: {state['errors']} MathJax errors")
            if overflows:
                raise ValueError(f"{html}: content wider than the page: {overflows[:3]}")
            page.pdf(
                path=str(pdf),
                format="A4",
                margin=PDF_MARGINS,
                print_background=True,
                display_header_footer=True,
                header_template="<span></span>",
                footer_template=footer_template(title),
            )
    finally:
        page.context.close()


# --------------------------------------------------------------------------- instructor decks
DECK_VIEWPORT = (1280, 720)

# Visit every slide (vertical ones too) with transitions off and measure the laid-out slide in
# screen pixels: reveal.js scales the logical slide to the window, and a slide whose content is
# taller than the window is cut off at the bottom (or pushed above the top).
# The decks load reveal.js through require.js (no global): take it from require's registry.
REVEAL_JS = """window.Reveal || require(Object.keys(require.s.contexts._.defined)
  .find((k) => k.endsWith('dist/reveal.js')))"""
SLIDE_INDICES_JS = (
    "() => { const Reveal = " + REVEAL_JS + ";"
    " Reveal.configure({transition: 'none', backgroundTransition: 'none'});"
    " return Reveal.getSlides().map((s) => { const i = Reveal.getIndices(s);"
    " return [i.h, i.v || 0]; }); }"
)
MEASURE_SLIDE_JS = (
    "async ([h, v]) => { const Reveal = " + REVEAL_JS + ";"
    """
  Reveal.slide(h, v);
  while (Reveal.nextFragment()) { /* show every fragment: the slide's final state */ }
  const s = Reveal.getCurrentSlide();
  // the deck re-renders a slide's math on arrival: wait until every formula shows again
  const shown = (el) => !el.closest('aside.notes');
  const hiddenMath = () => {
    const scripts = [...s.querySelectorAll('script[type^="math/tex"]')].filter(shown);
    const frames = [...s.querySelectorAll('.MathJax_CHTML')].filter(shown)
      .filter((m) => m.getBoundingClientRect().width > 0
                     && getComputedStyle(m).visibility !== 'hidden');
    return scripts.length - frames.length;
  };
  for (let i = 0; i < 300; i++) {
    await new Promise((r) => setTimeout(r, 10));
    if (hiddenMath() === 0 && MathJax.Hub.queue.pending === 0) break;
  }
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const scale = Reveal.getScale();
  const r = s.getBoundingClientRect();
  const head = s.querySelector('h1, h2, h3, h4');
  const text = (head ? head.innerText : s.innerText).replace(/[\\s\u00b6]+/g, ' ').trim();
  // code, tables, figures or formulas wider than the window (cut off, or scrolled in a box)
  const wide = [...s.querySelectorAll('pre, table, img, .MathJax_CHTML')]
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1
                   || (e.tagName === 'PRE' && e.scrollWidth > e.clientWidth + 1)).length;
  return {h: h, v: v, heading: text.slice(0, 80), top: Math.round(r.top),
          bottom: Math.round(r.top + s.scrollHeight * scale),
          height: Math.round(s.scrollHeight * scale),
          notes: !!s.querySelector('aside.notes'), math_hidden: hiddenMath(), wide: wide};
}"""
)


def deck_slides(page, deck: Path, shots: Path | None = None) -> list[dict]:
    """Open ``deck`` offline and measure every slide at the page's viewport.

    Returns one dict per slide: ``h``, ``v`` (reveal indices), ``heading``, ``top``/``bottom``
    (screen px of the slide's content), ``height``, ``notes`` (has speaker notes),
    ``math_hidden`` (formulas not shown; 0 once typeset) and ``wide`` (code boxes, tables or
    figures wider than the window). With ``shots``, also save a
    screenshot of every slide there as ``<deck>-<h>-<v>.png``.
    """
    open_offline(page, deck)
    page.wait_for_selector(".reveal.ready", state="attached", timeout=30_000)
    stem = Path(deck).name.removesuffix(".slides.html")
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
    slides = []
    for h, v in page.evaluate(SLIDE_INDICES_JS):
        slides.append(page.evaluate(MEASURE_SLIDE_JS, [h, v]))
        if shots is not None:
            page.screenshot(path=str(shots / f"{stem}-{h:02d}-{v:02d}.png"))
    return slides


def overflowing(slides: list[dict], height: int = DECK_VIEWPORT[1]) -> list[dict]:
    """The slides whose content runs below the window or above its top."""
    return [s for s in slides if s["bottom"] > height + 1 or s["top"] < -1]


SPEAKER_NOTES_JS = """() => {
  const n = document.querySelector('.speaker-controls-notes .value');
  const shown = (e) => e.getBoundingClientRect().width > 0;
  return {text: n.innerText,
          math: [...n.querySelectorAll('math')].filter(shown).length,
          mathjax: n.querySelectorAll('.MathJax_CHTML, .MJX_Assistive_MathML, script').length};
}"""


def speaker_view(page) -> dict:
    """Open the speaker view (key ``s``) of the deck shown in ``page``; describe its notes.

    Returns ``text`` (the notes as shown), ``math`` (formulas shown, as MathML) and
    ``mathjax`` (MathJax output or TeX scripts left in the notes: 0 when each formula shows
    once).
    """
    with page.context.expect_page(timeout=15_000) as popup_info:
        page.keyboard.press("s")
    popup = popup_info.value
    try:
        popup.wait_for_function(
            "() => { const n = document.querySelector('.speaker-controls-notes .value');"
            " return n && n.textContent.trim().length > 0; }",
            timeout=15_000,
        )
        return popup.evaluate(SPEAKER_NOTES_JS)
    finally:
        popup.close()


def speaker_view_notes(page) -> str:
    """Open the speaker view (key ``s``) of the deck shown in ``page``; return its notes text."""
    return speaker_view(page)["text"]


def contact_sheet(pngs: list[Path], out: Path, cols: int = 4) -> Path:
    """Tile screenshots into one image (for looking at a whole deck at once)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = max(1, -(-len(pngs) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.4 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, png in zip(axes.flat, pngs, strict=False):
        ax.imshow(plt.imread(png))
        ax.set_title(png.stem, fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def check_decks(site: Path, shots: Path | None = None, browser=None) -> dict[str, list[dict]]:
    """Measure every deck of ``site`` at 1280x720 offline; return ``{deck name: slides}``.

    Raises ``ValueError`` if there is no deck or a deck fetched anything from the network.
    """
    decks = sorted(Path(site).glob("[0-9][0-9]_*.slides.html"))
    if not decks:
        raise ValueError(f"no decks NN_topic.slides.html in {site}: run `make site` first")
    if browser is None:
        with offline_browser() as browser:
            return check_decks(site, shots, browser)
    page, blocked = offline_page(browser, *DECK_VIEWPORT)
    try:
        result = {}
        for deck in decks:
            result[deck.name] = deck_slides(page, deck, shots)
            if blocked:
                raise ValueError(f"{deck.name} fetched from the network: {blocked[:3]}")
        return result
    finally:
        page.context.close()


# --------------------------------------------------------------------------- command line
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("edition", choices=["student", "handouts", "decks"])
    parser.add_argument("--site", type=Path, default=BUILD / "site", help="decks: the built site")
    parser.add_argument("--shots", type=Path, default=None, help="decks: save slide screenshots")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    paths = notebook_paths(args.notebooks)
    if args.edition == "student":
        out = args.out or BUILD / "student"
        written = write_student_edition(paths, out)
        archive = zip_dir(out, out.parent / f"{out.name}.zip")
        print(f"student edition: {len(written)} notebooks in {out}, archive {archive}")
    elif args.edition == "handouts":
        out = args.out or BUILD / "handouts"
        pdfs = write_handouts(paths, out, mathjax_script())
        print(f"handouts: {len(pdfs)} PDFs in {out}")
    else:
        return report_decks(check_decks(args.site, args.shots))
    return 0


def report_decks(decks: dict[str, list[dict]]) -> int:
    """Print each deck's slides, notes and overflowing slides; return 1 if any is too tall."""
    bad = 0
    for name, slides in decks.items():
        over = overflowing(slides)
        bad += len(over)
        n_notes = sum(s["notes"] for s in slides)
        print(f"{name}: {len(slides)} slides, {n_notes} with speaker notes, {len(over)} too tall")
        for s in over:
            print(
                f"  TOO TALL slide {s['h']}.{s['v']} '{s['heading']}': {s['height']} px "
                f"(bottom at {s['bottom']} px in a {DECK_VIEWPORT[1]} px window)"
            )
        for s in slides:
            if s["wide"] or s["math_hidden"]:
                print(
                    f"  note: slide {s['h']}.{s['v']} '{s['heading']}': {s['wide']} wide "
                    f"code/table/figure(s), {s['math_hidden']} formula(s) not shown"
                )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
