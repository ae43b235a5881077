"""The rendered site (tools/build_site.py): lecture order, tag handling, and fully offline.

The browser tests open a deck in Debian's chromium with every non-file:// request aborted and
check that reveal.js initialised and MathJax typeset the math; they skip where chromium is
absent (``.ci/run`` installs it, so CI always runs them).
"""

import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "build" / "test-artifacts"

CDN_HOSTS = (
    "unpkg.com",
    "cdnjs.cloudflare.com",
    "cdn.jsdelivr.net",
    "code.jquery.com",
    "ajax.googleapis.com",
    "fonts.googleapis.com",
    "fonts.gstatic.com",
    "cdn.mathjax.org",
)
# where a page would load something from: attributes, CSS url(), @import, JS import()/require
LOAD_SITES = re.compile(
    r"""(?:\b(?:src|href)\s*=\s*["']?|url\(\s*["']?|@import\s+["']|import\(\s*["']|from\s+["'])"""
    r"""(https?:)?//""",
    re.IGNORECASE,
)


sys.path.insert(0, str(REPO / "tools"))  # tools/ is scripts, not a package

import build_site  # noqa: E402
import editions  # noqa: E402  (the offline Chromium the handouts also use)


@pytest.fixture(scope="module")
def site(built_site):
    """The site of every committed notebook (built once per run: conftest.built_site)."""
    return built_site


def test_index_links_every_page_and_deck_in_lecture_order(site):
    out, _ = site
    stems = [p.stem for p in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))]
    assert stems and stems[0] == "01_data"
    index = (out / "index.html").read_text()
    # ../ links go to the editions built next to the site (tests/test_editions.py)
    links = [h for h in re.findall(r'href="([^"]+)"', index) if not h.startswith("../")]
    assert links == [name for s in stems for name in (f"{s}.html", f"{s}.slides.html")]
    for link in links:
        assert (out / link).stat().st_size > 10_000, link
    assert "01 · The data: 7185 students in 160 schools" in index


def test_no_page_loads_anything_from_the_network(site):
    out, _ = site
    files = [*out.glob("*.html"), *out.rglob("_static/**/*.css")]
    assert len(files) > 3
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        hits = [m.group(0) for m in LOAD_SITES.finditer(text)]
        assert not hits, f"{path.name} loads from the network: {hits[:3]}"
        if path.suffix == ".html":
            hosts = [h for h in CDN_HOSTS if h in text]
            assert not hosts, f"{path.name} mentions CDN host(s) {hosts}"


def test_every_local_asset_a_deck_loads_exists(site):
    out, entries = site
    text = (out / entries[0].slides).read_text()
    refs = re.findall(r'(?:src|href)="(_static/[^"?#]+)', text)
    refs += re.findall(r'"(_static/reveal\.js/[^"]+\.js)"', text)  # require()'d by the deck
    assert any("reveal.js/dist/reveal.js" in r for r in refs)
    assert any("mathjax/MathJax.js" in r for r in refs)
    assert "theme/white.css" in text
    missing = [r for r in refs if not (out / r).is_file()]
    assert not missing, f"missing assets: {missing}"


def _tagged_notebook() -> nbformat.NotebookNode:
    def code(src, tags=(), text="out\n"):
        cell = new_code_cell(src, metadata={"tags": list(tags)} if tags else {})
        cell.execution_count = 1
        cell.outputs = [new_output("stream", name="stdout", text=text)]
        return cell

    nb = new_notebook(
        cells=[
            new_markdown_cell("# 99 · Tag test", metadata={"slideshow": {"slide_type": "slide"}}),
            code("KEEP_ME = 1", text="KEPT_OUTPUT\n"),
            code("SOLUTION_CODE = 1", ["solution"], "SOLUTION_OUTPUT\n"),
            code("CHECK_CODE = 1", ["check"], "CHECK_OUTPUT\n"),
            code("REMOVED_CODE = 1", ["remove-cell"], "REMOVED_OUTPUT\n"),
            code("HIDDEN_CODE = 1", ["remove-input"], "HIDDEN_INPUT_OUTPUT\n"),
            code("# NBVAL_CHECK_OUTPUT\nMARKED_CODE = 1", text="MARKED_OUTPUT\n"),
            new_markdown_cell("SPEAKER_NOTE", metadata={"slideshow": {"slide_type": "notes"}}),
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    return nb


def test_tags_decide_what_pages_and_slides_show(tmp_path):
    ipynb = tmp_path / "99_tags.ipynb"
    nbformat.write(_tagged_notebook(), ipynb)
    rendered = build_site.render(ipynb, tmp_path)
    assert rendered.title == "99 · Tag test"
    page = (tmp_path / rendered.page).read_text()
    slides = (tmp_path / rendered.slides).read_text()
    for shown in ("KEEP_ME", "KEPT_OUTPUT", "HIDDEN_INPUT_OUTPUT", "MARKED_CODE"):
        assert shown in page and shown in slides, shown
    for hidden in ("REMOVED_CODE", "REMOVED_OUTPUT", "HIDDEN_CODE", "NBVAL_CHECK_OUTPUT"):
        assert hidden not in page and hidden not in slides, hidden
    for page_only in ("SOLUTION_CODE", "SOLUTION_OUTPUT", "CHECK_CODE", "CHECK_OUTPUT"):
        assert page_only in page and page_only not in slides, page_only
    assert re.search(r'<aside class="notes">.*SPEAKER_NOTE', slides, re.DOTALL)


def test_missing_node_modules_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="npm ci"):
        build_site.copy_assets(tmp_path / "no_node_modules", tmp_path / "static")


def _open_offline(browser, path: Path, fragment: str = ""):
    """Open ``path`` at 1280x720, every non-local request aborted (``page.blocked``), failed
    requests and script errors recorded (``page.failed``, ``page.errors``)."""
    page, blocked = editions.offline_page(browser, 1280, 720)
    page.blocked, page.failed, page.errors = blocked, [], []
    page.on("requestfailed", lambda r: page.failed.append(r.url))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(path.as_uri() + fragment)
    return page


@pytest.mark.browser
def test_deck_renders_offline_with_reveal_and_typeset_math(site, browser):
    out, entries = site
    deck = next(e for e in entries if e.stem == "01_data")
    page = _open_offline(browser, out / deck.slides, "#/2")
    try:
        page.wait_for_selector(".reveal.ready", state="attached", timeout=30_000)
        page.wait_for_function(
            "window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0"
            " && document.querySelectorAll('.MathJax_CHTML').length > 0",
            timeout=30_000,
        )
        n_slides = page.evaluate("document.querySelectorAll('.reveal .slides section').length")
        n_math = page.evaluate("document.querySelectorAll('.MathJax_CHTML').length")
        n_errors = page.evaluate("document.querySelectorAll('.MathJax_Error, merror').length")
        font = page.evaluate("getComputedStyle(document.querySelector('.reveal h2')).fontFamily")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "01_data.slides.png"))
        assert n_slides >= 8
        assert n_math >= 10 and n_errors == 0
        assert "Source Sans Pro" in font  # the white theme's font, served from _static
        assert page.evaluate("document.querySelector('.reveal .controls') !== null")
        assert page.blocked == [] and page.failed == [] and page.errors == []
    finally:
        page.close()


@pytest.mark.browser
def test_page_renders_offline_with_typeset_math(site, browser):
    out, entries = site
    page = _open_offline(browser, out / entries[0].page)
    try:
        page.wait_for_function(
            "window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0"
            " && document.querySelectorAll('.MathJax_CHTML').length > 0",
            timeout=30_000,
        )
        assert page.evaluate("document.querySelectorAll('img').length") >= 3
        assert page.blocked == [] and page.failed == [] and page.errors == []
    finally:
        page.close()
