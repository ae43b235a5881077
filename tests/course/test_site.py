"""The rendered site (tools/build_site.py): lecture order, tag handling, and fully offline.

The published site (students' edition) is self-contained (every local link resolves inside
it, once copied alone) and holds no solution and no speaker note; the instructor edition keeps
both.

The browser tests open a deck in Debian's chromium with every non-file:// request aborted and
check that reveal.js initialised and MathJax typeset the math; they skip where chromium is
absent (``make test`` installs it, so CI always runs them).
"""

import html as html_lib
import json
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

# tools/ holds scripts, not a package: conftest.py puts it on sys.path
import build_site
import chromium  # the offline Chromium the handouts also use
import course_notebooks
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

REPO = Path(__file__).resolve().parents[2]
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


@pytest.fixture(scope="module")
def editions_dir(tmp_path_factory, student_build):
    """What `make all` builds before the site: student.zip (the student edition, built once
    per run: conftest) and stand-in handout PDFs."""
    built = tmp_path_factory.mktemp("editions")
    shutil.copy2(student_build[0] / "student.zip", built / "student.zip")
    (built / "handouts").mkdir()
    for stem in [p.stem for p in course_notebooks.notebook_paths()] + ["course"]:
        (built / "handouts" / f"{stem}.pdf").write_bytes(b"%PDF-1.4 stand-in\n")
    return built


@pytest.fixture(scope="module")
def site(tmp_path_factory, editions_dir):
    """The published site of every course notebook, built as `make all` does, then moved
    alone to a fresh folder (as when it is copied to a web server or a laptop)."""
    if not (REPO / "node_modules" / "reveal.js").exists():
        pytest.fail("node_modules/ is missing: run `make setup` (npm ci) first")
    built = tmp_path_factory.mktemp("build") / "site"
    entries = build_site.build(
        built,
        REPO / "node_modules",
        course_notebooks.notebooks_in_order(),
        editions_dir=editions_dir,
    )
    out = tmp_path_factory.mktemp("copied") / "site"
    shutil.move(built, out)
    return out, entries


@pytest.fixture(scope="module")
def instructor(instructor_site):
    """The instructor edition (built once per run, shared with test_decks.py: conftest)."""
    return instructor_site


def test_index_links_every_page_and_deck_in_lecture_order(site):
    out, _ = site
    stems = [p.stem for p in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.py"))]
    assert stems and stems[0] == "01_data"
    index = (out / "index.html").read_text()
    links = [h for h in re.findall(r'class="(?:page|deck)" href="([^"]+)"', index)]
    per_notebook = ("{}.html", "{}.slides.html", "{}.ipynb", "handouts/{}.pdf")
    assert links == [form.format(s) for s in stems for form in per_notebook]
    for link in links[::4] + links[1::4]:
        assert (out / link).stat().st_size > 10_000, link
    assert "01 · The data: 7185 students in 160 schools" in index
    assert 'href="student.zip"' in index and 'href="handouts/course.pdf"' in index


# href="..." / src="..." in HTML, url(...) in CSS: the local ones must resolve inside the site
LOCAL_REF = re.compile(r"""(?:\b(?:href|src)\s*=\s*["']([^"']*)["']|url\(\s*["']?([^"')]+))""")


def local_refs(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    refs = [html_lib.unescape(a or b).strip() for a, b in LOCAL_REF.findall(text)]
    return [r for r in refs if r and not re.match(r"^(?:[a-z][a-z0-9+.-]*:|#|//)", r, re.I)]


def test_every_local_link_resolves_inside_the_site(site):
    out, _ = site
    files = [*out.glob("*.html"), *out.rglob("_static/**/*.css")]
    checked, broken = 0, []
    for path in files:
        for ref in local_refs(path):
            target = (path.parent / unquote(urlsplit(ref).path)).resolve()
            checked += 1
            if not target.is_relative_to(out.resolve()) or not target.exists():
                broken.append(f"{path.relative_to(out)} -> {ref}")
    assert checked > 100
    assert not broken, f"{len(broken)} broken links, e.g. {broken[:5]}"


def test_a_link_leaving_the_site_is_caught(tmp_path):
    (tmp_path / "index.html").write_text('<a href="../student.zip">x</a><a href="#top">y</a>')
    assert local_refs(tmp_path / "index.html") == ["../student.zip"]


def visible_text(path: Path) -> str:
    """What a reader of an HTML file can see (tags dropped, entities decoded)."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S | re.I)
    return html_lib.unescape(re.sub(r"<[^>]+>", "", text))


def test_the_published_site_has_no_solution_and_no_speaker_note(site, instructor):
    out, entries = site
    instructor_out, _ = instructor
    leaks, kept = [], 0
    for entry in entries:
        nb = nbformat.read(REPO / "notebooks" / f"{entry.stem}.ipynb", as_version=4)
        # solution lines the lecture itself does not show (in another cell or an output)
        shown_anyway = course_notebooks.notebook_text(
            nbformat.v4.new_notebook(
                cells=[c for c in nb.cells if not course_notebooks.is_solution(c)]
            )
        )
        secret = {ln for ln in course_notebooks.solution_lines(nb) if ln not in shown_anyway}
        notes = [c.source for c in nb.cells if course_notebooks.is_speaker_note(c)]
        assert secret and notes, entry.stem
        for name in (entry.page, entry.slides):
            shown = visible_text(out / name)
            leaks += [f"{name}: {ln}" for ln in secret if ln in shown]
            assert '<aside class="notes">' not in (out / name).read_text(), name
        student_nb = nbformat.read(out / f"{entry.stem}.ipynb", 4)
        student_text = course_notebooks.notebook_text(student_nb)
        leaks += [f"{entry.stem}.ipynb: {ln}" for ln in secret if ln in student_text]
        leaks += [f"{entry.stem}.ipynb: a speaker note" for c in student_nb.cells
                  if course_notebooks.is_speaker_note(c)]  # fmt: skip
        # the instructor's pages keep the solutions (so the check above can fail)
        kept += sum(ln in visible_text(instructor_out / entry.page) for ln in secret)
    assert not leaks, leaks[:5]
    assert kept > 10


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
            code("MARKED_CODE = 1", ["nbval-check-output"], "MARKED_OUTPUT\n"),
            code("ANSWER_CHECK = 1", ["answer-output"], "ANSWER_PASSED\n"),
            new_markdown_cell("SPEAKER_NOTE", metadata={"slideshow": {"slide_type": "notes"}}),
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    return nb


@pytest.mark.parametrize("edition", [build_site.STUDENTS, build_site.INSTRUCTOR])
def test_tags_decide_what_pages_and_slides_show(tmp_path, edition):
    src = tmp_path / "src"
    src.mkdir()
    ipynb = src / "99_tags.ipynb"
    nbformat.write(_tagged_notebook(), ipynb)
    rendered = build_site.render(ipynb, tmp_path, edition)
    assert rendered.title == "99 · Tag test"
    page = (tmp_path / rendered.page).read_text()
    slides = (tmp_path / rendered.slides).read_text()
    for shown in ("KEEP_ME", "KEPT_OUTPUT", "HIDDEN_INPUT_OUTPUT", "MARKED_CODE"):
        assert shown in page and shown in slides, shown
    for hidden in ("REMOVED_CODE", "REMOVED_OUTPUT", "HIDDEN_CODE", "nbval"):
        assert hidden not in page and hidden not in slides, hidden
    for page_only in ("CHECK_CODE", "CHECK_OUTPUT"):
        assert page_only in page and page_only not in slides, page_only
    # a check of the answers: always shown, its output (the solutions') only beside them
    assert "ANSWER_CHECK" in page and "ANSWER_CHECK" in slides
    assert "ANSWER_PASSED" not in slides
    assert ("ANSWER_PASSED" in page) == (edition is build_site.INSTRUCTOR)
    notebook = (tmp_path / ipynb.name).read_text()
    if edition is build_site.INSTRUCTOR:  # the answer key and the speaker's notes
        assert "SOLUTION_CODE" in page and "SOLUTION_OUTPUT" in page
        assert re.search(r'<aside class="notes">.*SPEAKER_NOTE', slides, re.DOTALL)
        assert "SOLUTION_CODE" in notebook
    else:  # what students may see
        for text in (page, slides):
            assert "SOLUTION" not in text and "SPEAKER_NOTE" not in text
        assert "SOLUTION_CODE" not in notebook and "KEPT_OUTPUT" not in notebook
    assert "SOLUTION" not in slides or edition is build_site.INSTRUCTOR


def test_print_only_cells_stay_off_pages_and_decks(tmp_path):
    nb = _tagged_notebook()
    cell = new_code_cell("FRAME_CODE = 1", metadata={"tags": ["print-only"]})
    cell.execution_count, cell.outputs = 1, [new_output("stream", name="stdout", text="FRAME\n")]
    nb.cells.append(cell)
    (tmp_path / "src").mkdir()
    nbformat.write(nb, tmp_path / "src" / "99_tags.ipynb")
    src = tmp_path / "src" / "99_tags.ipynb"
    rendered = build_site.render(src, tmp_path, build_site.INSTRUCTOR)
    for name in (rendered.page, rendered.slides):
        text = (tmp_path / name).read_text()
        assert "FRAME" not in text and "KEPT_OUTPUT" in text, name


def _chart_output(spec: dict) -> nbformat.NotebookNode:
    return new_output(
        "display_data", data={build_site.VEGALITE_MIME: spec, "text/plain": "a chart"}
    )


def test_a_vega_lite_output_becomes_a_chart_drawn_from_static(tmp_path):
    spec = {"mark": "point", "description": "</script><script>alert(1)</script>"}
    nb = new_notebook(cells=[new_markdown_cell("# 99 · Charts")])
    for _ in range(2):
        cell = new_code_cell("chart")
        cell.execution_count, cell.outputs = 1, [_chart_output(spec)]
        nb.cells.append(cell)
    assert build_site.embed_charts(nb, "99_charts") == 2
    html = [c.outputs[0].data["text/html"] for c in nb.cells[1:]]
    assert 'id="chart-99_charts-1"' in html[0] and 'id="chart-99_charts-2"' in html[1]
    assert all(set(c.outputs[0].data) == {"text/html"} for c in nb.cells[1:])
    # the specification as JSON the page parses, with no way to close its <script> early
    body = re.search(r'<script type="application/json" id="[^"]+">(.*?)</script>', html[0], re.S)
    assert json.loads(body.group(1)) == spec and "</script><script>alert" not in html[0]
    for module in build_site.VEGA_MODULES.values():
        assert f'"{module}"' in html[0] and module.startswith("_static/")
    # the same notebook gives the same page (no random ids)
    again = new_notebook(cells=[new_markdown_cell("# 99 · Charts"), new_code_cell("chart")])
    again.cells[1].outputs = [_chart_output(spec)]
    build_site.embed_charts(again, "99_charts")
    assert again.cells[1].outputs[0].data["text/html"] == html[0]


def test_only_pages_with_a_chart_load_vega(site):
    out, entries = site
    with_chart = []
    for entry in entries:
        nb = nbformat.read(REPO / "notebooks" / f"{entry.stem}.ipynb", as_version=4)
        charts = sum(build_site.VEGALITE_MIME in o.get("data", {})
                     for c in nb.cells for o in c.get("outputs", []))  # fmt: skip
        for name in (entry.page, entry.slides):
            text = (out / name).read_text()
            assert text.count("_static/vega-embed/") == (1 if charts else 0), name
            assert text.count('class="course-chart"') == charts, name
        with_chart += [entry.stem] * bool(charts)
    assert with_chart == ["07_shrinkage"]
    sizes = {p.name: p.stat().st_size for p in (out / "_static").rglob("*.min.js")}
    assert 700_000 < sum(v for k, v in sizes.items() if k.startswith("vega")) < 1_000_000


def test_stray_notebooks_are_not_course_notebooks(tmp_path):
    for name in ("01_a.py", "01_a.ipynb", "02_b.py", "02_b.ipynb", "02_b.nbconvert.ipynb"):
        (tmp_path / name).write_text("")
    (tmp_path / "03_c.ipynb").write_text("")  # no paired source
    (tmp_path / "04_d.py").write_text("")  # never executed
    assert [p.name for p in course_notebooks.notebooks_in_order(tmp_path)] == [
        "01_a.ipynb",
        "02_b.ipynb",
    ]


def test_missing_node_modules_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="npm ci"):
        build_site.copy_assets(tmp_path / "no_node_modules", tmp_path / "static")


def _open_offline(browser, path: Path, fragment: str = ""):
    """Open ``path`` at 1280x720, every non-local request aborted (``page.blocked``), failed
    requests and script errors recorded (``page.failed``, ``page.errors``)."""
    page, blocked = chromium.offline_page(browser, 1280, 720)
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
