"""Instructor decks: every reveal.js deck fits a 1280x720 screen, offline, with speaker notes.

(The students' decks of build/site/ are the same slides without the notes.)

The decks are rendered from the committed notebooks by tools/build_site.py into a temporary
folder and opened in Debian's chromium with every non-file:// request aborted. Every slide
(vertical ones too, with all fragments shown) is visited; none may be taller than the window
or hold a code box, table or formula wider than it, and every formula on it must be typeset.
The speaker view (key ``s``, reveal's notes plugin served from the site) must show the notes,
each formula in them once.
Skips where chromium is absent (CI installs it).
"""

import re
from pathlib import Path

# tools/ holds scripts, not a package: conftest.py puts it on sys.path
import chromium
import course_notebooks
import decks
import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]

NOTEBOOKS = course_notebooks.notebook_paths()
DECKS = [f"{p.stem}.slides.html" for p in NOTEBOOKS]
pytestmark = pytest.mark.browser  # skipped where chromium is absent (conftest.py)


@pytest.fixture(scope="module")
def site(instructor_site):
    """The instructor site's folder (built once per run, shared with test_site.py: conftest)."""
    return instructor_site[0]


@pytest.fixture(scope="module")
def measured(site, browser):
    """``{deck: slides}`` for every deck (raises if a deck asked the network for anything)."""
    return decks.check_decks(site, browser=browser)


@pytest.mark.parametrize("deck", DECKS)
def test_no_slide_is_taller_than_the_screen(deck, measured):
    slides = measured[deck]
    assert len(slides) >= 5
    too_tall = [
        f"slide {s['h']}.{s['v']} '{s['heading']}' is {s['height']} px tall"
        for s in decks.overflowing(slides)
    ]
    assert not too_tall, f"{deck} at 1280x720: " + "; ".join(too_tall)


@pytest.mark.parametrize("deck", DECKS)
def test_every_formula_on_every_slide_is_typeset(deck, measured):
    untypeset = [f"{s['h']}.{s['v']} '{s['heading']}'" for s in measured[deck] if s["math_hidden"]]
    assert not untypeset, f"{deck}: formulas not shown on slides {untypeset}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_notes_cell_is_a_speaker_note_in_the_deck(path, site, measured):
    nb = nbformat.read(path, as_version=4)
    notes = [c for c in nb.cells if course_notebooks.is_speaker_note(c)]
    assert len(notes) >= 2, f"{path.name}: speaker notes (slide type 'notes') missing"
    html = (site / f"{path.stem}.slides.html").read_text(encoding="utf-8")
    assert html.count('<aside class="notes">') == len(notes)
    assert sum(s["notes"] for s in measured[f"{path.stem}.slides.html"]) >= 1


def test_speaker_view_shows_the_notes_offline(site, browser):
    deck = site / DECKS[0]
    page, blocked = chromium.offline_page(browser, *decks.DECK_VIEWPORT)
    try:
        chromium.open_offline(page, deck)
        page.wait_for_selector(".reveal.ready", state="attached", timeout=30_000)
        expected = page.evaluate(
            "() => document.querySelector('section aside.notes').innerText.trim()"
        )  # the notes of the first slide that has some
        index = page.evaluate(
            "() => { const s = document.querySelector('section aside.notes').parentElement;"
            f" return ({decks.REVEAL_JS}).getIndices(s); }}"
        )
        page.evaluate(f"([h, v]) => ({decks.REVEAL_JS}).slide(h, v)", [index["h"], index["v"]])
        shown = decks.speaker_view_notes(page)
        words = re.findall(r"[A-Za-z]{5,}", expected)[:8]
        assert len(words) >= 3 and all(w in shown for w in words), (expected[:80], shown[:80])
        assert blocked == []
    finally:
        page.context.close()


@pytest.mark.parametrize("deck", DECKS)
def test_no_code_table_or_formula_runs_off_the_screen(deck, measured):
    wide = [f"{s['h']}.{s['v']} '{s['heading']}'" for s in measured[deck] if s["wide"]]
    assert not wide, f"{deck}: code, tables or formulas wider than 1280 px on slides {wide}"


TEX = re.compile(r"\$\$.+?\$\$|\$[^$]+\$", re.S)


def test_speaker_view_shows_each_formula_of_the_notes_once(site, browser):
    path = next(p for p in NOTEBOOKS if p.stem.startswith("09_"))
    nb = nbformat.read(path, as_version=4)
    notes = [c.source for c in nb.cells if course_notebooks.is_speaker_note(c)]
    k, source = next((k, n) for k, n in enumerate(notes) if len(TEX.findall(n)) >= 5)
    page, blocked = chromium.offline_page(browser, *decks.DECK_VIEWPORT)
    try:
        chromium.open_offline(page, site / f"{path.stem}.slides.html")
        page.wait_for_selector(".reveal.ready", state="attached", timeout=30_000)
        index = page.evaluate(
            "(k) => { const s = document.querySelectorAll('aside.notes')[k].closest('section');"
            f" return ({decks.REVEAL_JS}).getIndices(s); }}",
            k,
        )
        page.evaluate(f"([h, v]) => ({decks.REVEAL_JS}).slide(h, v)", [index["h"], index["v"]])
        shown = decks.speaker_view(page)
        assert re.findall(r"[A-Za-z]{6,}", source)[0] in shown["text"]
        assert shown["math"] == len(TEX.findall(source)), (shown, source[:120])
        assert shown["mathjax"] == 0  # no second (hidden or unstyled) copy of any formula
        assert blocked == []
    finally:
        page.context.close()
