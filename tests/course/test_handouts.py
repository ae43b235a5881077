"""Printed handouts (tools/handouts.py): laid out as printed, offline, in Debian's chromium.

Each notebook's handout HTML is laid out with print media at the A4 printable width, with every
non-file:// request aborted: its math must be typeset and nothing may stick out of the page
(long code lines wrap, figures shrink to the page). One PDF is printed end to end. Skips where
chromium is absent (``make test`` installs it: tools/ensure_chromium.sh).
"""

import re
from pathlib import Path

# tools/ holds scripts, not a package: conftest.py puts it on sys.path
import chromium
import course_notebooks
import handouts
import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]

NOTEBOOKS = course_notebooks.notebook_paths()
IDS = [p.stem for p in NOTEBOOKS]
pytestmark = pytest.mark.browser  # skipped where chromium is absent (conftest.py)


@pytest.fixture(scope="module")
def print_page(browser):
    return chromium.offline_page(browser, width=handouts.A4_PRINT_WIDTH_PX)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_handout_is_typeset_and_fits_the_printed_page(path, print_page, tmp_path):
    page, blocked = print_page
    html = tmp_path / f"{path.stem}.html"
    mathjax = handouts.mathjax_url_for(html, handouts.mathjax_script())
    nb = handouts.handout_notebook(nbformat.read(path, as_version=4))
    html.write_text(handouts.handout_html(nb, mathjax), encoding="utf-8")
    state, overflows = handouts.print_overflows(page, html)
    assert state["typeset"] > 0 and state["errors"] == 0, state
    assert not overflows, f"{path.name}: wider than the A4 page: {overflows[:3]}"
    assert page.evaluate("document.querySelectorAll('img').length") >= 1
    # a code cell and its output stay on one page where they fit
    breaks = page.evaluate(
        "[...document.querySelectorAll('.jp-CodeCell')].map((c) => getComputedStyle(c).breakInside)"
    )
    assert breaks and set(breaks) == {"avoid"}
    assert blocked == []


def test_handout_pdf_is_printed_offline(browser, tmp_path):
    pdfs = handouts.write_handouts(NOTEBOOKS[:1], tmp_path, handouts.mathjax_script(), browser)
    assert [p.name for p in pdfs] == [f"{NOTEBOOKS[0].stem}.pdf", "course.pdf"]
    data = pdfs[0].read_bytes()
    assert data.startswith(b"%PDF-")
    n_pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", data))
    assert n_pages >= 2
