"""The printed handouts: one A4 PDF per executed notebook and one for the whole course.

``build/handouts/NN_topic.pdf`` and ``build/handouts/course.pdf``, printed by Debian's
Chromium (:mod:`chromium`, offline) from the site's page HTML (``build_site.page_exporter``)
with a local MathJax and print CSS. A handout has the outputs but no solutions, checks,
speaker notes, hidden cells or interactive figures (:func:`handout_notebook`; the
figure's ``print-only`` still frame is printed instead); a code cell and its output stay on
one page where they fit, and a page whose content is wider than the paper is refused.

Usage: ``python tools/handouts.py [--notebooks notebooks] [--out build/handouts]``.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
from html import escape as html_escape
from pathlib import Path

# tools/ is on sys.path when this runs as a script
import build_site
import nbformat
from chromium import offline_browser, offline_page, open_offline
from course_notebooks import (
    BUILD,
    NOTEBOOKS,
    REPO,
    SCREEN_ONLY_TAG,
    cell_tags,
    clear_answer_outputs,
    drop_test_tags,
    is_speaker_note,
    notebook_paths,
    notebook_title,
)

# Cells a printed handout leaves out: solutions (students print it), the lecture-number checks,
# cells marked off pages and interactive figures (``screen-only``: their ``print-only`` still
# frame is printed instead); ``remove-input`` keeps the output only, as on the HTML pages.
HANDOUT_REMOVE_TAGS = frozenset({"solution", "check", "remove-cell", SCREEN_ONLY_TAG})
A4_PRINT_WIDTH_PX = 695  # 210 mm - 2 x 13 mm margins at 96 px per inch
PDF_MARGINS = {"top": "14mm", "bottom": "16mm", "left": "13mm", "right": "13mm"}

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


def handout_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The executed notebook as printed: no solutions, checks, speaker notes or hidden cells.

    Cells tagged ``remove-input`` keep their output only (their tag stays for the exporter);
    the cells tagged ``answer-output`` lose theirs (it came from the solutions).
    """
    out = copy.deepcopy(nb)
    out.cells = [c for c in out.cells if in_handout(c)]
    drop_test_tags(out)
    clear_answer_outputs(out)
    return out


def in_handout(cell: dict) -> bool:
    """False for the cells a handout leaves out (``HANDOUT_REMOVE_TAGS``, speaker notes)."""
    return not (cell_tags(cell) & HANDOUT_REMOVE_TAGS) and not is_speaker_note(cell)


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


def course_contents(notebooks: list[nbformat.NotebookNode]) -> str:
    """A markdown list of the notebooks' titles (the whole-course handout's contents)."""
    return "\n".join(f"- {notebook_title(nb)}" for nb in notebooks)  # titles carry numbers


def handout_html(nb: nbformat.NotebookNode, mathjax_url: str, title: str | None = None) -> str:
    """The site's page HTML (``build_site.page_exporter``) with a local MathJax and print CSS."""
    # the handout's own rule (a page drops print-only frames, which a handout prints)
    exporter = build_site.page_exporter(tuple(sorted(HANDOUT_REMOVE_TAGS)))
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


# --------------------------------------------------------------------------- printing
# A display formula wider than the page is shrunk to fit (FIT_MATH_JS; the course templates
# turn MathJax's line breaking off); print_overflows catches anything still too wide.
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS)
    parser.add_argument("--out", type=Path, default=BUILD / "handouts")
    args = parser.parse_args(argv)
    pdfs = write_handouts(notebook_paths(args.notebooks), args.out, mathjax_script())
    print(f"handouts: {len(pdfs)} PDFs in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
